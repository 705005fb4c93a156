// zones::servedPool — what dnsd answers for a pool right now, computed one way for everyone.
//
// Contract: dnsd's state loader builds its pool table from `servedPool`, and every writer that
// journals a change to what a zone serves (dnsd-probe's decisions) reads the same answer
// through `ServedPools`, so an IXFR difference is exactly the difference between two of
// dnsd's answers. A decided pool serves its decision (set and TTL); an undecided one serves
// its all-down rule (zones::allDownAnswer).
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "zones/pool_store.hpp"
#include "zones/record.hpp"

namespace zones {

struct PoolDecisionServed {
    std::string served;  // member values separated by spaces
    uint32_t ttl = 0;
};

struct ServedPool {
    uint32_t ttl = 0;
    std::vector<std::string> values;  // serving order; empty = NODATA
};

ServedPool servedPool(const PoolDef& def, const std::optional<PoolDecisionServed>& decision,
                      const std::vector<MemberStanding>& members);

// A pool value ("192.0.2.1", "2001:db8::1", "target.example.") as RDATA of the pool's type.
bool poolValueToRdata(uint16_t type, const std::string& text, std::vector<uint8_t>& out);

// Every pool's served answer as records, read from the database at one moment.
class ServedPools {
  public:
    ServedPools(SQLite::Database& db, int64_t nowMs);
    // The pool's served RRs (owner, type, TTL, RDATA); empty if NODATA or no such pool.
    std::vector<Record> records(int64_t poolId) const;
    std::optional<int64_t> zoneOf(int64_t poolId) const;
    std::vector<int64_t> poolIds() const;

  private:
    std::map<int64_t, PoolDef> defs_;
    std::map<int64_t, std::vector<MemberStanding>> standings_;
    std::map<int64_t, PoolDecisionServed> decisions_;
};

// Journals (zones::Journal::record: serial advanced, difference appended), zone by zone, how
// what the pools serve differs between two readings; pools created or deleted in between
// count as all added or all removed.
void journalServedChanges(SQLite::Database& db, const ServedPools& before,
                          const ServedPools& after);

// A write transaction (IMMEDIATE) for commands that change pools or members: commit()
// journals what the change did to the served answers first, so dnsctl's pool edits reach
// secondaries like dnsd-probe's decisions do.
class JournaledTransaction {
  public:
    explicit JournaledTransaction(SQLite::Database& db);
    void commit();

  private:
    SQLite::Database& db_;
    SQLite::Transaction tx_;
    ServedPools before_;
};

}  // namespace zones
