// zones::UpdatePolicyStore — who may change what in a zone by RFC 2136 UPDATE.
//
// Contract: a policy names a zone, a TSIG key (zones::XfrStore's tsig_keys), a name pattern
// relative to the zone and optionally a list of types. Nothing is allowed without a policy: a
// zone with no policy refuses every UPDATE, and an update RR is allowed only when some policy
// of the zone for the signing key matches its owner and type. Patterns:
//   @                  the apex only
//   www, a.b           exactly that name (relative to the zone)
//   *.dyn              any name strictly below dyn (one or more labels in place of *)
//   _acme-challenge.*  _acme-challenge, then any labels (none included) down to the apex:
//                      _acme-challenge.zone. and _acme-challenge.www.zone. both match
//   *                  every name of the zone, the apex included (the default)
// A `*` may stand only as the first or the last label. Two things need the policy to name them
// explicitly, never through a `*` or an empty type list: the apex SOA and NS (pattern `@` with
// SOA or NS among its types), and the owner name of a failover pool (the exact name; records of
// the pool's own type there are never allowed: dnsd serves them from the pool). What reaches
// the table was validated here (zone and key exist, pattern and types parse); every failure
// throws std::runtime_error naming the bad value. Callers own the transaction.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zones/name.hpp"

namespace zones {

struct UpdatePolicyRow {
    int64_t id = 0;
    std::string zone;                // absolute, lower case
    std::string key;                 // absolute, lower case
    std::string name;                // the pattern, relative: @, www, *.dyn, _acme-challenge.*, *
    std::vector<std::string> types;  // mnemonics; empty = every type
    int64_t createdAt = 0;
};

// One policy, parsed for matching.
struct UpdatePolicy {
    Name key;
    std::vector<std::string> labels;  // pattern labels, leftmost first, lower case; {} = @
    std::vector<uint16_t> types;      // empty = every type

    // Does this policy let `key` change `owner`'s RRset of `type` (ANY: every RRset of the
    // name) in zone `apex`? `poolType` is the type of the failover pool at `owner`, if any.
    bool allows(const Name& signer, const Name& apex, const Name& owner, uint16_t type,
                std::optional<uint16_t> poolType) const;
    bool explicitName() const;  // no `*` in the pattern
};

class UpdatePolicyStore {
  public:
    explicit UpdatePolicyStore(SQLite::Database& db) : db_(db) {}

    // `pattern` empty means `*`. Throws if the zone or key does not exist, the pattern or a
    // type does not parse, or the same policy exists.
    UpdatePolicyRow add(const std::string& zone, const std::string& key, const std::string& pattern,
                        const std::vector<std::string>& types);
    // Deletes policy `id` (as `list` shows it); throws if there is none.
    void remove(int64_t id);
    // All policies, or those of one zone, by zone then id.
    std::vector<UpdatePolicyRow> list(const std::string& zone = "");
    // The zone's policies, parsed (the update path). Empty when the table does not exist.
    std::vector<UpdatePolicy> forZone(int64_t zoneId);

    // Checks and normalises a pattern ("" -> "*", lower case); throws naming what is wrong.
    static std::string normalisePattern(const std::string& pattern, const Name& zone);
    // Checks and normalises types as `add` stores them (mnemonics, words split, duplicates
    // dropped, order kept); throws naming a word that is not a record type.
    static std::vector<std::string> normaliseTypes(const std::vector<std::string>& types);
    static UpdatePolicy parse(const std::string& key, const std::string& pattern,
                              const std::string& types);

  private:
    SQLite::Database& db_;
};

}  // namespace zones
