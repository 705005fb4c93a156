// dnsd::signAnswer — the TSIG side of answering a signed query (an SOA check before a
// transfer, any signed query): RFC 8945 §5.3.
//
// Contract: called by the transports on an answer the engine wrote for a query carrying a
// TSIG (AnswerResult::tsig; the engine kept room for the record). Verifies the query with
// the keys of the state in force; a valid query's answer gets a TSIG over the query's MAC;
// otherwise the answer is cut back to header and question and becomes NOTAUTH with the TSIG
// error (BADKEY, BADSIG unsigned; BADTIME, BADTRUNC signed) or FORMERR for a malformed TSIG.
// Returns the new size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dnsd/xfr/xfr_acl.hpp"

namespace dnsd {

size_t signAnswer(const XfrAcl* acl, std::span<const uint8_t> query, std::span<uint8_t> out,
                  size_t size, size_t questionSize, uint64_t nowSeconds);

}  // namespace dnsd
