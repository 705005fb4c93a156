#include "zones/status_report.hpp"

#include "zones/xfr_store.hpp"

#include <SQLiteCpp/Transaction.h>

#include <ctime>
#include <map>
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

Json vantageJson(const VantageInfo& v, int64_t now) {
    Json j;
    j["name"] = v.name;
    j["local"] = v.local;
    VantageState state = vantageState(v, now);
    j["state"] = toText(state);
    j["silent_since"] = state == VantageState::Silent ? opt(silentSince(v)) : Json(nullptr);
    j["created_at"] = v.createdAt;
    j["last_report_at"] = opt(v.lastReportAt);
    j["last_report_age_ms"] =
        v.lastReportAt ? Json(std::max<int64_t>(0, now - *v.lastReportAt)) : Json(nullptr);
    j["last_address"] = v.lastAddress;
    j["last_agent_time"] = opt(v.lastAgentTime);
    j["offset_ms"] = v.offsetMs;
    j["lag_ms"] = v.lagMs;
    j["checks_per_s"] = v.checksPerS;
    j["reports"] = v.reports;
    j["results"] = v.results;
    j["dropped"] = v.dropped;
    j["refused"] = v.refused;
    j["last_refusal"] = v.lastRefusal;
    j["version"] = v.version;
    j["host"] = v.host;
    return j;
}

// The vantages the controller marked silent: their views are out of the count.
std::set<std::string> silentVantages(const std::vector<VantageInfo>& vantages) {
    std::set<std::string> out;
    for (const auto& v : vantages)
        if (v.silentSince) out.insert(v.name);
    return out;
}

Json memberJson(const MemberDef& m, int64_t now, const std::vector<MemberView>& views,
                const std::set<std::string>& silent, Quorum quorum, int vantages) {
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
    // Each vantage's view (schema v8); a single prober has at most its own 'local' one.
    Json list = Json::array();
    for (const MemberView& v : views)
        list.push_back({{"vantage", v.vantage},
                        {"health", v.health},
                        {"since", opt(v.healthSince)},
                        {"last_ok", opt(v.lastOk)},
                        {"message", v.lastMessage},
                        {"checked_at", opt(v.checkedAt)},
                        {"counted", !silent.count(v.vantage)}});
    j["views"] = std::move(list);
    if (views.empty()) {
        j["quorum"] = nullptr;
    } else {
        ViewTally t = tallyViews(views, silent, quorum, vantages);
        // The line dnsctl status prints, so that the status page says it the same way.
        j["quorum"] = {{"up", t.up},
                       {"of", t.of},
                       {"needed", t.needed},
                       {"summary", viewsText(views, silent, t, now)}};
    }
    return j;
}

}  // namespace

VantageState vantageState(const VantageInfo& v, int64_t now) {
    if (!v.lastReportAt) return v.silentSince ? VantageState::Silent : VantageState::NeverReported;
    if (v.silentSince || now - *v.lastReportAt > kVantageStaleMs) return VantageState::Silent;
    return VantageState::Reporting;
}

std::string toText(VantageState state) {
    switch (state) {
        case VantageState::Reporting:
            return "reporting";
        case VantageState::Silent:
            return "silent";
        case VantageState::NeverReported:
            return "never-reported";
    }
    return "silent";
}

std::optional<int64_t> silentSince(const VantageInfo& v) {
    return v.silentSince ? v.silentSince : v.lastReportAt;
}

ViewTally tallyViews(const std::vector<MemberView>& views, const std::set<std::string>& silent,
                     Quorum quorum, int vantages) {
    ViewTally t;
    for (const MemberView& v : views) {
        if (silent.count(v.vantage)) continue;
        ++t.of;
        t.up += v.health == "up";
    }
    t.needed = quorumNeeded(quorum, vantages > 0 ? vantages : int(views.size()));
    return t;
}

std::string clockTime(int64_t at, int64_t now) {
    std::time_t t = std::time_t(at / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, now - at >= 20 * 3600 * 1000 ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S",
                  &tm);
    return buf;
}

std::string viewsText(const std::vector<MemberView>& views, const std::set<std::string>& silent,
                      const ViewTally& tally, int64_t now) {
    std::string out = "up " + std::to_string(tally.up) + "/" + std::to_string(tally.of) + ":";
    for (size_t i = 0; i < views.size(); ++i) {
        const MemberView& v = views[i];
        out += (i ? ", " : " ") + v.vantage + " ";
        // Up is the usual case: only the views that are not up say since when.
        if (v.health == "up") {
            out += "up";
        } else {
            out += v.health == "down" ? "DOWN" : "unknown";
            if (v.healthSince) out += " since " + clockTime(*v.healthSince, now);
        }
        if (silent.count(v.vantage)) out += " (silent, not counted)";
    }
    return out;
}

std::string vantagesJson(SQLite::Database& db, int64_t now) {
    Json out = Json::array();
    for (const auto& v : VantageStore(db).list()) out.push_back(vantageJson(v, now));
    return out.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string statusJson(SQLite::Database& db, int64_t now,
                       const std::optional<std::string>& onlyPool) {
    SQLite::Transaction tx(db);  // one consistent read
    PoolStore store(db);
    int64_t pid = 0;
    auto hb = store.heartbeat(&pid);
    auto pools = store.listPools();
    if (onlyPool) pools = {store.getPool(*onlyPool)};
    std::map<int64_t, std::vector<MemberStanding>> standings;
    VantageStore vantageStore(db);
    auto vantages = vantageStore.list();
    auto silent = silentVantages(vantages);
    std::map<int64_t, std::vector<MemberView>> views;
    for (auto& v : vantageStore.views()) views[v.memberId].push_back(std::move(v));
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
        for (const auto& m : store.members(p.id))
            members.push_back(
                memberJson(m, now, views[m.id], silent, p.quorum, int(vantages.size())));
        j["members"] = std::move(members);
        j["quorum"] = toText(p.quorum);
        j["quorum_lost"] = d && d->quorumLost;
        j["quorum_lost_since"] = d && d->quorumLost ? opt(d->quorumLostSince) : Json(nullptr);
        list.push_back(std::move(j));
    }
    doc["pools"] = std::move(list);
    Json vantageList = Json::array();
    for (const auto& v : vantages) vantageList.push_back(vantageJson(v, now));
    doc["vantages"] = std::move(vantageList);
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
