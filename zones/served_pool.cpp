#include "zones/served_pool.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "zones/journal.hpp"
#include "zones/schema.hpp"

namespace zones {

ServedPool servedPool(const PoolDef& def, const std::optional<PoolDecisionServed>& decision,
                      const std::vector<MemberStanding>& members) {
    ServedPool out;
    if (decision) {
        out.ttl = decision->ttl;
        std::istringstream in(decision->served);
        for (std::string v; in >> v;) out.values.push_back(v);
        return out;
    }
    // No decision yet (dnsd-probe never ran, or has not finished its first round): the
    // pool's all-down rule, the very function dnsd-probe applies when every member is down,
    // so the answer does not change when its first decision lands on "all down".
    auto undecided = allDownAnswer(def.allDown, def.fallback, def.ttl, def.degradedTtl, members);
    out.ttl = uint32_t(undecided.ttl);
    out.values = std::move(undecided.served);
    return out;
}

bool poolValueToRdata(uint16_t type, const std::string& text, std::vector<uint8_t>& out) {
    if (type == rrtype::A) {
        in_addr a;
        if (inet_pton(AF_INET, text.c_str(), &a) != 1) return false;
        auto* p = reinterpret_cast<const uint8_t*>(&a);
        out.assign(p, p + 4);
        return true;
    }
    if (type == rrtype::AAAA) {
        in6_addr a;
        if (inet_pton(AF_INET6, text.c_str(), &a) != 1) return false;
        auto* p = reinterpret_cast<const uint8_t*>(&a);
        out.assign(p, p + 16);
        return true;
    }
    if (type == rrtype::CNAME) {
        std::string absolute = text;
        if (absolute.empty()) return false;
        if (absolute.back() != '.') absolute.push_back('.');
        auto n = Name::fromText(absolute);
        if (!n) return false;
        out.assign(n->wire().begin(), n->wire().end());
        return true;
    }
    return false;
}

ServedPools::ServedPools(SQLite::Database& db, int64_t nowMs) {
    PoolStore store(db);
    for (PoolDef& d : store.listPools()) defs_[d.id] = std::move(d);
    standings_ = store.standings(nowMs);
    SQLite::Statement q(db, "SELECT pool_id, served, ttl FROM pool_decisions");
    while (q.executeStep())
        decisions_[q.getColumn(0).getInt64()] = {q.getColumn(1).getString(),
                                                 uint32_t(q.getColumn(2).getInt64())};
}

std::vector<Record> ServedPools::records(int64_t poolId) const {
    std::vector<Record> out;
    auto def = defs_.find(poolId);
    if (def == defs_.end()) return out;
    std::optional<PoolDecisionServed> decision;
    if (auto d = decisions_.find(poolId); d != decisions_.end()) decision = d->second;
    static const std::vector<MemberStanding> kNone;
    auto st = standings_.find(poolId);
    ServedPool served =
        servedPool(def->second, decision, st == standings_.end() ? kNone : st->second);
    auto owner = Name::fromText(def->second.owner);
    if (!owner) return out;
    const uint16_t type = uint16_t(def->second.rtype);
    // A CNAME pool answers with its first value only (a name has one CNAME).
    size_t count =
        type == rrtype::CNAME ? std::min<size_t>(1, served.values.size()) : served.values.size();
    for (size_t i = 0; i < count; ++i) {
        Record r;
        r.owner = *owner;
        r.type = type;
        r.ttl = served.ttl;
        if (poolValueToRdata(type, served.values[i], r.rdata)) out.push_back(std::move(r));
    }
    return out;
}

std::vector<int64_t> ServedPools::poolIds() const {
    std::vector<int64_t> out;
    for (const auto& [id, def] : defs_) out.push_back(id);
    return out;
}

void journalServedChanges(SQLite::Database& db, const ServedPools& before,
                          const ServedPools& after) {
    std::set<int64_t> pools;
    for (int64_t id : before.poolIds()) pools.insert(id);
    for (int64_t id : after.poolIds()) pools.insert(id);
    std::map<int64_t, std::pair<std::vector<Record>, std::vector<Record>>> diff;
    for (int64_t id : pools) {
        auto zone = after.zoneOf(id);
        if (!zone) zone = before.zoneOf(id);
        auto was = before.records(id), is = after.records(id);
        if (std::equal(was.begin(), was.end(), is.begin(), is.end(), sameRR)) continue;
        auto& [removed, added] = diff[*zone];
        removed.insert(removed.end(), was.begin(), was.end());
        added.insert(added.end(), is.begin(), is.end());
    }
    for (auto& [zone, change] : diff)
        Journal::record(db, zone, std::move(change.first), std::move(change.second));
}

JournaledTransaction::JournaledTransaction(SQLite::Database& db)
    : db_(db), tx_(db, SQLite::TransactionBehavior::IMMEDIATE), before_(db, nowMs()) {}

void JournaledTransaction::commit() {
    journalServedChanges(db_, before_, ServedPools(db_, nowMs()));
    tx_.commit();
}

std::optional<int64_t> ServedPools::zoneOf(int64_t poolId) const {
    auto def = defs_.find(poolId);
    if (def == defs_.end()) return std::nullopt;
    return def->second.zoneId;
}

}  // namespace zones
