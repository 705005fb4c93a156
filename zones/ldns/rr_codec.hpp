// zones::ldnsw::RrCodec — the one place that turns presentation text into zones::Record and
// back, using ldns's per-type RDATA grammar.
//
// Contract: `parse` takes one resource record whose owner is already absolute and whose TTL and
// class are explicit ("www.example.com. 300 IN A 192.0.2.1"); relative names inside the RDATA
// are completed with `origin`. It returns the record (owner canonical, RDATA uncompressed wire
// with names in the case written) or an error message (never throws for bad input). `format`
// renders a record so that NSD, Knot and ldns all read it back to the same wire RDATA: types
// every one of them knows are written in their usual form, everything else in the RFC 3597
// generic form (TYPEnnn \# len hex). Nothing here keeps state between calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zones/name.hpp"
#include "zones/record.hpp"

namespace zones::ldnsw {

struct ParseResult {
    std::optional<Record> record;
    std::string error;  // set when record is empty
    // True when a name in the RDATA was relative and `origin` was not given.
    bool usedMissingOrigin = false;
};

// `origin` is absolute presentation text, kept as written so that names completed with it keep
// their case the way NSD keeps it; null means no origin is known: relative RDATA names are
// then an error the caller reports.
ParseResult parseRr(const std::string& text, const std::string* origin);

// One line, no trailing newline: "owner TTL IN TYPE RDATA" with the owner absolute.
// `portable` false: every type ldns knows in its own form (for people reading `record list`);
// true: only the types all three servers agree on, the rest generic (for files).
std::string formatRr(const Record& record, bool portable = true);

// RR type mnemonic ("A", "TYPE65534") and back. Types ldns knows by name, plus TYPEnnn.
std::optional<uint16_t> typeFromText(std::string_view text);
std::string typeToText(uint16_t type);

// The RDATA with the names RFC 4034 §6.2 lists folded to lower case: two records are the same
// RR exactly when owner, type and this are equal. Falls back to the bytes as stored if ldns
// cannot decode them.
std::vector<uint8_t> canonicalRdata(const Record& record);

// False when ldns knows the type and the RDATA is not a complete, exact instance of it (too
// short, fields missing, bytes left over). Unknown types accept any RDATA.
bool rdataMatchesType(const Record& record);

// The RDATA in presentation form only (what `formatRr` prints after the type).
std::string formatRdata(const Record& record, bool portable = true);

}  // namespace zones::ldnsw
