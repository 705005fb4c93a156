// zones::ZoneValidator — the rules a zone must satisfy before dnsctl writes it anywhere.
//
// Contract: `findProblems` checks a complete zone (apex + every record) and returns every
// problem found, ordered by line, each as "SOURCE:LINE: message" (or "SOURCE: message" when
// the problem has no line, e.g. a missing SOA, or the record came from the database). The
// rules: class IN only; every owner at or below the apex; exactly one SOA, at the apex; NS
// records at the apex; an A or AAAA record for every NS target inside the zone (glue for
// delegations, addresses for the apex); at most one CNAME per owner and no other data beside
// it except RRSIG and NSEC (RFC 1034 §3.6.2, RFC 2181 §10.1, RFC 4035 §2.5); one TTL per
// RRset (RFC 2181 §5.2; RRSIG excepted). `validate` throws std::runtime_error with the first
// problem (and how many more there are). `check` returns the records sealed in a ValidZone
// when there is none. Pure functions: no I/O, no state.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "zones/name.hpp"
#include "zones/record.hpp"

namespace zones {

// A zone that passed every rule: only ZoneValidator::check makes one, and its records can only
// be read or moved out whole, so they are the records that were checked. ZoneStore::importZone
// takes one without checking again (a million-record zone takes 0.1 s to check, and dnsctl must
// check a file itself before it opens the database, to name every problem).
class ValidZone {
  public:
    const Name& apex() const { return apex_; }
    const std::vector<Record>& records() const { return records_; }
    std::vector<Record> takeRecords() && { return std::move(records_); }

  private:
    friend class ZoneValidator;
    ValidZone(Name apex, std::vector<Record> records)
        : apex_(std::move(apex)), records_(std::move(records)) {}
    Name apex_;
    std::vector<Record> records_;
};

class ZoneValidator {
  public:
    // The zone sealed if it has no problem, else every problem as findProblems words them.
    static std::variant<ValidZone, std::vector<std::string>> check(Name apex,
                                                                   std::vector<Record> records,
                                                                   const std::string& source);
    // `source` names where the records came from: a file name, or "zone example.com.".
    static std::vector<std::string> findProblems(const Name& apex,
                                                 const std::vector<Record>& records,
                                                 const std::string& source);
    static void validate(const Name& apex, const std::vector<Record>& records,
                         const std::string& source);
};

}  // namespace zones
