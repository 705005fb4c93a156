// zones::ZoneFile — an RFC 1035 master file read into records, and records written back out.
//
// Contract: `loadZoneFile` / `parseZoneText` accept the master-file syntax NSD and BIND accept
// for one zone: $ORIGIN (relative to the current origin), $TTL, `@`, relative names, omitted
// owners (the previous owner), TTL and class in either order, multi-line records in
// parentheses, `;` comments, quoted strings, and every RR type ldns can parse, including
// unknown types in RFC 3597 form (TYPE65534 \# 2 abcd). $INCLUDE and $GENERATE are refused.
// A record without a TTL takes $TTL, else the last explicit TTL (RFC 1035 §5.1). Exact
// duplicate records are dropped (RFC 2181 §5). The zone name is `zone` if given, else the
// owner of the first SOA record. Syntax problems throw ZoneFileError, which lists every bad
// entry of the file in line order ("FILE:LINE: message" each; the parser skips a bad entry and
// goes on), so one run shows them all; syntax only — zone rules are ZoneValidator's job.
//
// `formatZoneFile` writes a file NSD, Knot and this parser all load unchanged ($ORIGIN, then
// the SOA, then every record in canonical order with absolute owners and explicit TTLs).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "zones/name.hpp"
#include "zones/record.hpp"

namespace zones {

struct ZoneFile {
    std::string fileName;         // as given, for messages
    Name origin;                  // the zone apex
    std::vector<Record> records;  // in file order; Record::line is the record's first line
};

// Every syntax problem of a file. what() is the problems joined by newlines.
class ZoneFileError : public std::runtime_error {
  public:
    explicit ZoneFileError(std::vector<std::string> problems);
    const std::vector<std::string>& problems() const { return problems_; }

  private:
    std::vector<std::string> problems_;
};

// Throws ZoneFileError for syntax, std::runtime_error if the file cannot be read.
ZoneFile loadZoneFile(const std::string& path, const std::optional<Name>& zone = std::nullopt);
ZoneFile parseZoneText(std::string_view text, const std::string& fileName,
                       const std::optional<Name>& zone = std::nullopt);

// One record in presentation format ("www 300 IN A 192.0.2.1", owner relative to `origin`,
// TTL and class optional), as `dnsctl record add` takes it. Throws std::runtime_error.
struct RecordText {
    Record record;
    bool ttlGiven = false;  // false: record.ttl is 0 and the caller picks the default
};
RecordText parseRecordText(std::string_view text, const Name& origin);

// RDATA of `type` in presentation format, names relative to `origin`. Throws on bad syntax.
std::vector<uint8_t> parseRdataText(uint16_t type, std::string_view rdata, const Name& origin);

// RR type mnemonics ("AAAA", "TYPE65534", case-insensitive) and back.
std::optional<uint16_t> rrTypeFromText(std::string_view text);
std::string rrTypeToText(uint16_t type);

// "owner<TAB>ttl<TAB>IN<TAB>TYPE<TAB>rdata" (owner absolute), and the RDATA part alone.
// `portable` (the default, used for files) writes types that NSD, Knot and ldns do not all
// present alike in RFC 3597 form; false shows every type ldns knows in its own form.
std::string formatRecord(const Record& record, bool portable = true);
std::string formatRdata(const Record& record, bool portable = true);

// A whole master file for `origin` (records need not be sorted). `writeZoneFile` streams it
// record by record, so a big zone's text is never held in memory beside its records.
std::string formatZoneFile(const Name& origin, const std::vector<Record>& records);
void writeZoneFile(std::ostream& out, const Name& origin, const std::vector<Record>& records);

// Canonical RR order: owner (RFC 4034 §6.1), then type, then RDATA bytes. Used for export and
// for comparing record sets.
bool canonicalRecordLess(const Record& a, const Record& b);

}  // namespace zones
