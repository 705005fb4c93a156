// testsupport::diffResponses — every observable way two DNS responses to one query differ.
//
// Contract: compares a reference response (NSD) with a candidate (dnsd) for the same query
// and returns one Difference per field that differs, in a fixed order: presence (one side
// did not answer), parse (ldns could not parse one side), id, question (qdcount, exact
// owner bytes incl. case, type, class), each header flag (qr opcode aa tc rd ra z ad cd),
// rcode (12-bit, with the EDNS extended bits), edns presence, edns version, edns DO, then
// answer/authority/additional compared as multisets of canonical RRs (names case-insensitive,
// TTL and RDATA exact). The EDNS UDP payload size is each server's own choice (RFC 6891
// §6.2.3) and is not compared. An empty result means "identical".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tests/support/dns_message.hpp"

namespace testsupport {

struct Difference {
    std::string field;      // "rcode", "flag.aa", "answer", ...
    std::string reference;  // what the reference sent (for sections: RRs only it had)
    std::string candidate;  // what the candidate sent (for sections: RRs only it had)
};

std::vector<Difference> diffResponses(const std::optional<DnsMessage>& reference,
                                      const std::optional<DnsMessage>& candidate);

std::string formatDifference(const Difference& d);

}  // namespace testsupport
