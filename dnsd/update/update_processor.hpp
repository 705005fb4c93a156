// dnsd::UpdateProcessor — one RFC 2136 UPDATE in, its answer out, the database changed or not.
//
// Contract: runs on the update thread only, with that thread's own read-write connection. For
// each message: parse (FORMERR, or no answer for what is not an UPDATE request); TSIG
// (RFC 8945) checked against the keys in the database (NOTAUTH with BADKEY/BADSIG unsigned,
// BADTIME signed; FORMERR if malformed); then in ONE write transaction: the zone (NOTAUTH
// if dnsd does not serve it), the zone's update policies (REFUSED when the zone has none,
// the update is unsigned, or its key has no policy there), the prerequisites (§3.2: NXDOMAIN,
// YXDOMAIN, NXRRSET, YXRRSET, NOTZONE), the update prescan (NOTZONE), the policy for every
// update RR (REFUSED), then zones::ZoneStore::applyEdits (the zone validator: a change that
// breaks the zone is REFUSED). A change is committed with its serial, journal entry and an
// `update` event (key, client, what changed) in the same transaction; anything refused or
// failed writes nothing at all. A database error is SERVFAIL. The answer echoes the zone
// section and, for a signed request, is signed over the request's MAC (dnsd::signAnswer).
// Never throws.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace dnsd {

struct UpdateResult {
    size_t size = 0;    // answer bytes written; 0: no answer
    uint8_t rcode = 0;  // of the answer
    bool changed = false;
    std::string detail;  // why it was refused or what changed, for the log
};

class UpdateProcessor {
  public:
    explicit UpdateProcessor(SQLite::Database& db) : db_(db) {}
    // `client` is the sender's address as text (events, logs); `now` Unix seconds (TSIG).
    UpdateResult process(std::span<const uint8_t> message, const std::string& client, uint64_t now,
                         std::span<uint8_t> out) noexcept;

  private:
    SQLite::Database& db_;
};

}  // namespace dnsd
