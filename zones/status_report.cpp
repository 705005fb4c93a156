#include "zones/status_report.hpp"

#include "zones/xfr_store.hpp"

#include <SQLiteCpp/Transaction.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "zones/pool_model.hpp"
#include "zones/pool_store.hpp"

namespace zones {
namespace {

// Keys in the order they are written, so the document reads as before and `grep` and the
// tests see "pending":{"tier":2,...} with the tier first.
using Json = nlohmann::ordered_json;

template <typename T>
Json opt(const std::optional<T>& v) {
    return v ? Json(*v) : Json(nullptr);
}

std::vector<std::string> split(const std::string& served) {
    std::vector<std::string> out;
    std::istringstream in(served);
    for (std::string v; in >> v;) out.push_back(v);
    return out;
}

Json decisionJson(const DecisionRow& d, int64_t now) {
    Json j;
    j["served"] = split(d.served);
    j["ttl"] = d.ttl;
    j["decided_at"] = d.decidedAt;
    j["reason"] = d.reason;
    j["active_tier"] = opt(d.activeTier);
    j["all_down"] = d.allDown;
    j["degraded"] = d.degraded;
    if (d.pendingTier)
        j["pending"] = {
            {"tier", *d.pendingTier}, {"since", d.pendingSince}, {"reason", d.pendingReason}};
    else
        j["pending"] = nullptr;
    // A better tier is healthy again: `at` is when an automatic failback happens (null with
    // failback manual: it waits for `dnsctl pool failback`).
    if (d.failbackTier)
        j["failback"] = {{"tier", *d.failbackTier},
                         {"at", opt(d.failbackAt)},
                         {"left_ms", d.failbackAt ? Json(std::max<int64_t>(0, *d.failbackAt - now))
                                                  : Json(nullptr)},
                         {"manual", !d.failbackAt}};
    else
        j["failback"] = nullptr;
    return j;
}

Json memberJson(const MemberDef& m, int64_t now) {
    Json j;
    j["value"] = m.value;
    j["priority"] = m.priority;
    j["weight"] = m.weight;
    j["admin"] = toText(m.admin);
    j["drained"] = drainActive(m.drained, m.drainStart, m.drainEnd, now);
    j["drain_start"] = opt(m.drainStart);
    j["drain_end"] = opt(m.drainEnd);
    j["health"] = m.health;
    j["health_since"] = opt(m.healthSince);
    j["last_ok"] = opt(m.lastOk);
    j["last_message"] = m.lastMessage;
    j["last_latency_us"] = opt(m.lastLatencyUs);
    j["last_checked_at"] = opt(m.lastCheckedAt);
    j["probes"] = m.probes;
    // Each probe's own last result: a member with two probes can be down because of one.
    Json checks = Json::array();
    for (const ProbeResult& r : m.checks)
        checks.push_back({{"probe", r.probe},
                          {"last_ok", opt(r.lastOk)},
                          {"last_message", r.lastMessage},
                          {"last_latency_us", opt(r.lastLatencyUs)},
                          {"last_checked_at", opt(r.lastCheckedAt)}});
    j["checks"] = std::move(checks);
    return j;
}

}  // namespace

std::string statusJson(SQLite::Database& db, int64_t now,
                       const std::optional<std::string>& onlyPool) {
    SQLite::Transaction tx(db);  // one consistent read
    PoolStore store(db);
    int64_t pid = 0;
    auto hb = store.heartbeat(&pid);
    auto pools = store.listPools();
    if (onlyPool) pools = {store.getPool(*onlyPool)};
    std::map<int64_t, std::vector<MemberStanding>> standings;
    Json doc;
    doc["now"] = now;
    doc["controller"] = {{"pid", hb ? Json(pid) : Json(nullptr)},
                         {"heartbeat_at", opt(hb)},
                         {"stale", !hb || now - *hb > kControllerStaleMs},
                         {"never_ran", !hb}};
    Json list = Json::array();
    for (const auto& p : pools) {
        Json j;
        j["name"] = p.name;
        j["zone"] = p.zone;
        j["owner"] = p.owner;
        j["type"] = toText(p.rtype);
        j["ttl"] = p.ttl;
        j["degraded_ttl"] = p.degradedTtl;
        j["max_answers"] = p.maxAnswers;
        j["all_down"] = toText(p.allDown);
        j["fallback"] = p.fallback;
        j["failback"] = toText(p.failback);
        j["hold_down_ms"] = p.holdDownMs;
        j["approval"] = toText(p.approval);
        auto d = store.decision(p.id);
        j["decision"] = d ? decisionJson(*d, now) : Json(nullptr);
        if (!d) {
            // What dnsd answers until dnsd-probe decides: the pool's all-down rule.
            if (standings.empty()) standings = store.standings(now);
            auto a = allDownAnswer(p.allDown, p.fallback, p.ttl, p.degradedTtl, standings[p.id]);
            j["undecided"] = {{"served", a.served}, {"ttl", a.ttl}};
        }
        Json members = Json::array();
        for (const auto& m : store.members(p.id)) members.push_back(memberJson(m, now));
        j["members"] = std::move(members);
        list.push_back(std::move(j));
    }
    doc["pools"] = std::move(list);
    Json secondaries = Json::array();
    for (const auto& s : XfrStore(db).states()) {
        auto o32 = [](const std::optional<uint32_t>& v) { return v ? Json(*v) : Json(nullptr); };
        secondaries.push_back(
            {{"zone", s.zone},
             {"endpoint", s.endpoint},
             {"serial", s.serial},
             {"confirmed_serial", o32(s.confirmedSerial)},
             {"behind_serials",
              s.confirmedSerial ? Json(uint32_t(s.serial - *s.confirmedSerial)) : Json(nullptr)},
             {"behind_since", opt(s.behindSince)},
             {"last_notify_at", opt(s.lastNotifyAt)},
             {"acked_serial", o32(s.ackedSerial)},
             {"acked_at", opt(s.ackedAt)},
             {"notifies", s.notifies},
             {"retries", s.retries},
             {"errors", s.errors},
             {"last_error", s.lastError},
             {"last_transfer", s.lastTransferAt ? Json{{"kind", s.lastTransferKind},
                                                       {"at", *s.lastTransferAt},
                                                       {"bytes", *s.lastTransferBytes},
                                                       {"ms", *s.lastTransferMs}}
                                                : Json(nullptr)},
             {"updated_at", s.updatedAt}});
    }
    doc["secondaries"] = std::move(secondaries);
    tx.commit();
    // A probe message may hold bytes that are not UTF-8 (an HTTP body excerpt): replace them
    // rather than throw.
    return doc.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string eventsJson(SQLite::Database& db, int limit) {
    int64_t after = 0;
    {
        SQLite::Statement last(db, "SELECT coalesce(max(id), 0) FROM events");
        if (last.executeStep()) after = std::max<int64_t>(0, last.getColumn(0).getInt64() - limit);
    }
    Json out = Json::array();
    for (const auto& e : readEvents(db, after, 0, limit))
        out.push_back({{"id", e.id},
                       {"at", e.at},
                       {"pool", e.pool},
                       {"member", e.member},
                       {"kind", e.kind},
                       {"message", e.message}});
    return out.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace zones
