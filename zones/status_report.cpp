#include "zones/status_report.hpp"

#include <SQLiteCpp/Transaction.h>

#include <sstream>

#include "zones/pool_store.hpp"

namespace zones {
namespace {

std::string q(const std::string& s) {
    return jsonString(s);
}
std::string optNum(const std::optional<int64_t>& v) {
    return v ? std::to_string(*v) : "null";
}

std::vector<std::string> split(const std::string& served) {
    std::vector<std::string> out;
    std::istringstream in(served);
    for (std::string v; in >> v;) out.push_back(v);
    return out;
}

}  // namespace

std::string statusJson(SQLite::Database& db, int64_t now,
                       const std::optional<std::string>& onlyPool) {
    SQLite::Transaction tx(db);  // one consistent read
    PoolStore store(db);
    int64_t pid = 0;
    auto hb = store.heartbeat(&pid);
    bool stale = !hb || now - *hb > kControllerStaleMs;
    auto pools = store.listPools();
    if (onlyPool) {
        pools.clear();
        pools.push_back(store.getPool(*onlyPool));
    }
    std::ostringstream out;
    out << "{\"now\":" << now << ",\"controller\":{\"pid\":" << (hb ? std::to_string(pid) : "null")
        << ",\"heartbeat_at\":" << optNum(hb) << ",\"stale\":" << (stale ? "true" : "false")
        << "},\"pools\":[";
    for (size_t i = 0; i < pools.size(); ++i) {
        const auto& p = pools[i];
        auto d = store.decision(p.id);
        auto members = store.members(p.id);
        out << (i ? "," : "") << "\n {\"name\":" << q(p.name) << ",\"zone\":" << q(p.zone)
            << ",\"owner\":" << q(p.owner) << ",\"type\":\"" << zones::toText(p.rtype)
            << "\",\"ttl\":" << p.ttl << ",\"degraded_ttl\":" << p.degradedTtl
            << ",\"max_answers\":" << p.maxAnswers << ",\"all_down\":" << q(toText(p.allDown))
            << ",\"fallback\":" << q(p.fallback) << ",\"failback\":" << q(toText(p.failback))
            << ",\"hold_down_ms\":" << p.holdDownMs << ",\"approval\":" << q(toText(p.approval))
            << ",\"decision\":";
        if (!d) {
            out << "null";
        } else {
            out << "{\"served\":[";
            auto values = split(d->served);
            for (size_t k = 0; k < values.size(); ++k) out << (k ? "," : "") << q(values[k]);
            out << "],\"ttl\":" << d->ttl << ",\"decided_at\":" << d->decidedAt
                << ",\"reason\":" << q(d->reason) << ",\"active_tier\":"
                << optNum(d->activeTier ? std::optional<int64_t>(*d->activeTier) : std::nullopt)
                << ",\"all_down\":" << (d->allDown ? "true" : "false")
                << ",\"degraded\":" << (d->degraded ? "true" : "false") << ",\"pending\":";
            if (d->pendingTier)
                out << "{\"tier\":" << *d->pendingTier << ",\"since\":" << d->pendingSince
                    << ",\"reason\":" << q(d->pendingReason) << "}";
            else
                out << "null";
            out << "}";
        }
        out << ",\"members\":[";
        for (size_t k = 0; k < members.size(); ++k) {
            const auto& m = members[k];
            bool drainingNow = drainActive(m.drained, m.drainStart, m.drainEnd, now);
            out << (k ? "," : "") << "\n  {\"value\":" << q(m.value)
                << ",\"priority\":" << m.priority << ",\"weight\":" << m.weight
                << ",\"admin\":" << q(toText(m.admin))
                << ",\"drained\":" << (drainingNow ? "true" : "false")
                << ",\"drain_start\":" << optNum(m.drainStart)
                << ",\"drain_end\":" << optNum(m.drainEnd) << ",\"health\":" << q(m.health)
                << ",\"health_since\":" << optNum(m.healthSince)
                << ",\"last_ok\":" << (m.lastOk ? (*m.lastOk ? "true" : "false") : "null")
                << ",\"last_message\":" << q(m.lastMessage)
                << ",\"last_latency_us\":" << optNum(m.lastLatencyUs)
                << ",\"last_checked_at\":" << optNum(m.lastCheckedAt) << ",\"probes\":[";
            for (size_t j = 0; j < m.probes.size(); ++j) out << (j ? "," : "") << q(m.probes[j]);
            out << "]}";
        }
        out << "]}";
    }
    out << (pools.empty() ? "]}\n" : "\n]}\n");
    tx.commit();
    return out.str();
}

std::string eventsJson(SQLite::Database& db, int limit) {
    int64_t after = 0;
    {
        SQLite::Statement last(db, "SELECT coalesce(max(id), 0) FROM events");
        if (last.executeStep()) after = std::max<int64_t>(0, last.getColumn(0).getInt64() - limit);
    }
    auto events = readEvents(db, after, 0, limit);
    std::ostringstream out;
    out << "[";
    for (size_t i = 0; i < events.size(); ++i) {
        const auto& e = events[i];
        out << (i ? "," : "") << "\n {\"id\":" << e.id << ",\"at\":" << e.at
            << ",\"pool\":" << q(e.pool) << ",\"member\":" << q(e.member)
            << ",\"kind\":" << q(e.kind) << ",\"message\":" << q(e.message) << "}";
    }
    out << (events.empty() ? "]\n" : "\n]\n");
    return out.str();
}

}  // namespace zones
