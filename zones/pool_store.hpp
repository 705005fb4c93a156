// zones::PoolStore — failover pools, their members, decisions, requests and the event log.
//
// Contract: shared by dnsctl (definitions, admin actions) and dnsd-probe (loading, state).
// Every definition written went through validation that throws std::runtime_error with one
// message naming the problem: a pool outside every zone or on a name that has static records
// of its type, a member of the wrong address family, an unknown probe, ... Every admin write
// also appends an event. Callers own the transaction, so a throw leaves the file unchanged.
// Member values are stored canonical (inet_ntop form, or an absolute lower-case name), which
// is the form pool_decisions.served uses and dnsd parses.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "zones/pool_model.hpp"

namespace zones {

struct PoolDef {
    int64_t id = 0;
    std::string name;
    int64_t zoneId = 0;
    std::string zone;   // zone name, absolute
    std::string owner;  // absolute, lower case, trailing dot
    PoolType rtype = PoolType::A;
    int ttl = 30;
    int maxAnswers = 0;
    AllDownMode allDown = AllDownMode::ServeAll;
    std::string fallback;
    FailbackMode failback = FailbackMode::Auto;
    int64_t holdDownMs = 60000;
    ApprovalMode approval = ApprovalMode::Auto;
    int degradedTtl = 5;
    Quorum quorum;  // of the vantages reporting (one vantage: always that one)
};

// One probe's last result for one member (member_probes.last_*).
struct ProbeResult {
    std::string probe;
    std::optional<bool> lastOk;
    std::string lastMessage;
    std::optional<int64_t> lastLatencyUs, lastCheckedAt;
};

struct MemberDef {
    int64_t id = 0;
    int64_t poolId = 0;
    std::string value;
    int priority = 1;
    int weight = 1;
    AdminState admin = AdminState::Auto;
    bool drained = false;
    std::optional<int64_t> drainStart, drainEnd;
    // Written by dnsd-probe.
    std::string health = "unknown";
    std::optional<int64_t> healthSince;
    std::optional<bool> lastOk;
    std::string lastMessage;
    std::optional<int64_t> lastLatencyUs, lastCheckedAt;
    std::vector<std::string> probes;  // names; all must pass
    std::vector<ProbeResult> checks;  // per probe, same order as `probes` (read by members())
};

struct DecisionRow {
    std::string served;
    int ttl = 0;
    int64_t decidedAt = 0;
    std::string reason;
    std::optional<int> activeTier;
    bool allDown = false;
    bool degraded = false;
    std::optional<int> pendingTier;
    int64_t pendingSince = 0;
    std::string pendingReason;
    std::optional<int> failbackTier;    // a better tier usable again, not yet served
    std::optional<int64_t> failbackAt;  // when the auto failback happens; nullopt = manual
    // Too few vantages reporting for the pool's quorum: the decision above is kept as it was.
    bool quorumLost = false;
    std::optional<int64_t> quorumLostSince;
};

struct EventRow {
    int64_t id = 0;
    int64_t at = 0;
    std::string pool, member, kind, message, details;
};

class PoolStore {
  public:
    explicit PoolStore(SQLite::Database& db) : db_(db) {}

    // Resolves `name` (relative to `zone`, "@" for the apex, or absolute with `zone` empty)
    // into pool.zoneId/zone/owner, validates and inserts.
    int64_t createPool(PoolDef& pool, const std::string& zone, const std::string& name);
    void updatePool(const PoolDef& pool);  // policy fields only, by id
    void deletePool(const std::string& name);
    std::optional<PoolDef> findPool(const std::string& name);
    PoolDef getPool(const std::string& name);  // throws "no pool named X"
    std::vector<PoolDef> listPools();
    static void validatePool(const PoolDef& pool);
    // Canonical form of a member or fallback value for the pool type, or throws.
    static std::string canonicalValue(const PoolDef& pool, const std::string& value);

    int64_t addMember(const PoolDef& pool, MemberDef& member);
    // Adds many members with the checks and events of addMember, using one prepared statement
    // per table (the existing values of the pool are read once, so 10,000 members take well
    // under a second). A bad member throws "<where(i)>: <problem>" (just the problem when
    // `where` is empty, as addMember does) and, since the caller owns the transaction, nothing
    // is added. Values are canonicalised in place and ids filled in.
    void addMembers(const PoolDef& pool, std::vector<MemberDef>& members,
                    const std::function<std::string(size_t)>& where);
    // Writes priority, weight, admin and drain state and the probe list, with an event.
    void updateMember(const PoolDef& pool, const MemberDef& member, const std::string& eventKind,
                      const std::string& eventMessage);
    void removeMember(const PoolDef& pool, const std::string& value);
    std::optional<MemberDef> findMember(const PoolDef& pool, const std::string& value);
    std::vector<MemberDef> members(int64_t poolId);
    // Every pool's members (pool id -> members) as the serving rules see them at `now`, in one
    // query: what dnsd needs to answer a pool the controller has not decided yet.
    std::map<int64_t, std::vector<MemberStanding>> standings(int64_t now);

    std::optional<DecisionRow> decision(int64_t poolId);
    // Queues an operator request ("approve" | "failback") for dnsd-probe; returns its id.
    int64_t addRequest(const PoolDef& pool, const std::string& kind);
    // The result text once dnsd-probe handled the request.
    std::optional<std::string> requestResult(int64_t id);
    // Last controller heartbeat (ms) and pid, if dnsd-probe ever ran.
    std::optional<int64_t> heartbeat(int64_t* pid = nullptr);

  private:
    void checkOwnerFree(const PoolDef& pool);
    SQLite::Database& db_;
};

void appendEvent(SQLite::Database& db, const std::string& pool, const std::string& member,
                 const std::string& kind, const std::string& message,
                 const std::string& detailsJson = "{}");
// Events with id > afterId and at >= sinceMs, oldest first, at most `limit` (0 = all).
std::vector<EventRow> readEvents(SQLite::Database& db, int64_t afterId, int64_t sinceMs,
                                 int limit = 0);
// A JSON string literal, quotes included.

}  // namespace zones
