#include "zones/pool_store.hpp"

#include <SQLiteCpp/Statement.h>
#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>

#include "zones/event_writer.hpp"
#include "zones/name.hpp"
#include "zones/schema.hpp"

namespace zones {
namespace {

std::string text(SQLite::Statement& q, int i) {
    return q.getColumn(i).isNull() ? std::string() : q.getColumn(i).getString();
}
std::optional<int64_t> optInt(SQLite::Statement& q, int i) {
    if (q.getColumn(i).isNull()) return std::nullopt;
    return q.getColumn(i).getInt64();
}
template <typename T>
void bindOpt(SQLite::Statement& q, int i, const std::optional<T>& v) {
    if (v)
        q.bind(i, int64_t(*v));
    else
        q.bind(i);
}

const char* kPoolColumns =
    "p.id, p.name, p.zone_id, z.name, p.owner, p.rtype, p.ttl, p.max_answers, p.all_down, "
    "p.fallback, p.failback, p.hold_down_ms, p.approval, p.degraded_ttl, p.quorum";

PoolDef readPool(SQLite::Statement& q) {
    PoolDef p;
    p.id = q.getColumn(0).getInt64();
    p.name = q.getColumn(1).getString();
    p.zoneId = q.getColumn(2).getInt64();
    p.zone = q.getColumn(3).getString();
    p.owner = q.getColumn(4).getString();
    p.rtype = poolTypeFromCode(q.getColumn(5).getInt64());
    p.ttl = q.getColumn(6).getInt();
    p.maxAnswers = q.getColumn(7).getInt();
    p.allDown = parseAllDownMode(q.getColumn(8).getText());
    p.fallback = text(q, 9);
    p.failback = parseFailbackMode(q.getColumn(10).getText());
    p.holdDownMs = q.getColumn(11).getInt64();
    p.approval = parseApprovalMode(q.getColumn(12).getText());
    p.degradedTtl = q.getColumn(13).getInt();
    p.quorum = parseQuorum(q.getColumn(14).getText());
    return p;
}

}  // namespace

void appendEvent(SQLite::Database& db, const std::string& pool, const std::string& member,
                 const std::string& kind, const std::string& message, const std::string& details) {
    EventWriter(db).write({nowMs(), pool, member, kind, message, details});
}

std::vector<EventRow> readEvents(SQLite::Database& db, int64_t afterId, int64_t sinceMs,
                                 int limit) {
    std::string sql =
        "SELECT id, at, pool, member, kind, message, details FROM events WHERE id > ? AND at >= ? "
        "ORDER BY id";
    if (limit > 0) {
        // The newest `limit`, still printed oldest first.
        sql =
            "SELECT * FROM (SELECT id, at, pool, member, kind, message, details FROM events WHERE "
            "id > ? AND at >= ? ORDER BY id DESC LIMIT " +
            std::to_string(limit) + ") ORDER BY id";
    }
    SQLite::Statement q(db, sql);
    q.bind(1, afterId);
    q.bind(2, sinceMs);
    std::vector<EventRow> out;
    while (q.executeStep()) {
        EventRow e;
        e.id = q.getColumn(0).getInt64();
        e.at = q.getColumn(1).getInt64();
        e.pool = text(q, 2);
        e.member = text(q, 3);
        e.kind = q.getColumn(4).getString();
        e.message = q.getColumn(5).getString();
        e.details = q.getColumn(6).getString();
        out.push_back(std::move(e));
    }
    return out;
}

void PoolStore::validatePool(const PoolDef& p) {
    auto fail = [&](const std::string& what) {
        throw std::runtime_error("pool " + p.name + ": " + what);
    };
    if (p.name.empty() || p.name.find_first_of(" \t\n") != std::string::npos)
        throw std::runtime_error("pool name must be non-empty without spaces");
    if (p.ttl < 0 || p.ttl > 86400) fail("ttl must be 0..86400 seconds");
    if (p.degradedTtl < 0 || p.degradedTtl > 86400) fail("degraded ttl must be 0..86400 seconds");
    if (p.maxAnswers < 0 || p.maxAnswers > 64) fail("max-answers must be 0 (all) .. 64");
    if (p.allDown == AllDownMode::Fallback && p.fallback.empty())
        fail("all-down fallback needs --fallback VALUE");
    if (!p.fallback.empty()) canonicalValue(p, p.fallback);
    if (p.holdDownMs < 0) fail("hold-down must not be negative");
}

std::string PoolStore::canonicalValue(const PoolDef& pool, const std::string& value) {
    auto fail = [&](const std::string& want) {
        throw std::runtime_error("'" + value + "' is not " + want + " (pool " + pool.name +
                                 " is type " + toText(pool.rtype) + ")");
    };
    if (pool.rtype == PoolType::A || pool.rtype == PoolType::AAAA) {
        bool v4 = pool.rtype == PoolType::A;
        int af = v4 ? AF_INET : AF_INET6;
        unsigned char buf[16];
        if (inet_pton(af, value.c_str(), buf) != 1)
            fail(v4 ? "an IPv4 address" : "an IPv6 address");
        char out[INET6_ADDRSTRLEN];
        inet_ntop(af, buf, out, sizeof out);
        return out;
    }
    unsigned char buf[16];
    if (inet_pton(AF_INET, value.c_str(), buf) == 1 || inet_pton(AF_INET6, value.c_str(), buf) == 1)
        fail("a host name");
    auto name = Name::fromText(value);
    if (!name || name->isRoot()) fail("a valid host name");
    return name->toText();
}

void PoolStore::checkOwnerFree(const PoolDef& p) {
    // A name is served either by a pool or by static data of that type, never both; CNAME
    // cannot coexist with anything.
    SQLite::Statement r(db_,
                        "SELECT type FROM records WHERE zone_id=? AND owner=? AND (type=? OR "
                        "type=5 OR ?=5) LIMIT 1");
    r.bind(1, p.zoneId);
    r.bind(2, p.owner);
    r.bind(3, int(p.rtype));
    r.bind(4, int(p.rtype));
    if (r.executeStep()) {
        int t = r.getColumn(0).getInt();
        throw std::runtime_error(
            p.owner + " already has static " +
            (t == 1 || t == 28 || t == 5 ? toText(PoolType(t)) : "type " + std::to_string(t)) +
            " records; remove them before binding pool " + p.name + " to it");
    }
    SQLite::Statement o(db_,
                        "SELECT name, rtype FROM pools WHERE owner=? AND (rtype=? OR rtype=5 OR "
                        "?=5) AND id<>? LIMIT 1");
    o.bind(1, p.owner);
    o.bind(2, int(p.rtype));
    o.bind(3, int(p.rtype));
    o.bind(4, p.id);
    if (o.executeStep())
        throw std::runtime_error(p.owner + " " + toText(poolTypeFromCode(o.getColumn(1).getInt())) +
                                 " is already bound to pool " + o.getColumn(0).getString());
}

int64_t PoolStore::createPool(PoolDef& p, const std::string& zone, const std::string& name) {
    validatePool(p);
    if (findPool(p.name)) throw std::runtime_error("pool " + p.name + " already exists");
    std::optional<Name> owner;
    if (!zone.empty()) {
        auto z = Name::fromText(zone);
        if (!z) throw std::runtime_error("'" + zone + "' is not a valid zone name");
        SQLite::Statement q(db_, "SELECT id, name FROM zones WHERE name=?");
        q.bind(1, z->toText());
        if (!q.executeStep())
            throw std::runtime_error("no zone " + z->toText() +
                                     " in the database (pools live inside a zone dnsd serves)");
        p.zoneId = q.getColumn(0).getInt64();
        p.zone = q.getColumn(1).getString();
        owner = Name::fromText(name.empty() ? "@" : name, &*z);
        if (!owner) throw std::runtime_error("'" + name + "' is not a valid name");
        if (!owner->isSubdomainOf(*z))
            throw std::runtime_error(owner->toText() + " is outside zone " + z->toText());
    } else {
        owner = Name::fromText(name);
        if (!owner || name.empty()) throw std::runtime_error("'" + name + "' is not a valid name");
        SQLite::Statement q(db_, "SELECT id, name FROM zones");
        size_t bestLabels = 0;
        while (q.executeStep()) {
            auto z = Name::fromText(q.getColumn(1).getString());
            if (z && owner->isSubdomainOf(*z) && (p.zoneId == 0 || z->labelCount() > bestLabels)) {
                p.zoneId = q.getColumn(0).getInt64();
                p.zone = z->toText();
                bestLabels = z->labelCount();
            }
        }
        if (p.zoneId == 0)
            throw std::runtime_error(owner->toText() + " is outside every zone in the database");
    }
    p.owner = owner->toText();
    checkOwnerFree(p);
    SQLite::Statement ins(
        db_,
        "INSERT INTO pools (name, zone_id, owner, rtype, ttl, max_answers, all_down, fallback, "
        "failback, hold_down_ms, approval, degraded_ttl, created_at, updated_at, quorum) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?13,?)");
    ins.bind(1, p.name);
    ins.bind(2, p.zoneId);
    ins.bind(3, p.owner);
    ins.bind(4, int(p.rtype));
    ins.bind(5, p.ttl);
    ins.bind(6, p.maxAnswers);
    ins.bind(7, toText(p.allDown));
    if (p.fallback.empty())
        ins.bind(8);
    else
        ins.bind(8, canonicalValue(p, p.fallback));
    ins.bind(9, toText(p.failback));
    ins.bind(10, p.holdDownMs);
    ins.bind(11, toText(p.approval));
    ins.bind(12, p.degradedTtl);
    ins.bind(13, nowMs());
    ins.bind(14, toText(p.quorum));
    ins.exec();
    p.id = db_.getLastInsertRowid();
    appendEvent(db_, p.name, "", "admin-pool-create",
                "pool " + p.name + " created for " + p.owner + " " + toText(p.rtype));
    return p.id;
}

void PoolStore::updatePool(const PoolDef& p) {
    validatePool(p);
    SQLite::Statement q(
        db_,
        "UPDATE pools SET ttl=?, max_answers=?, all_down=?, fallback=?, failback=?, "
        "hold_down_ms=?, approval=?, degraded_ttl=?, updated_at=?, quorum=? WHERE id=?");
    q.bind(1, p.ttl);
    q.bind(2, p.maxAnswers);
    q.bind(3, toText(p.allDown));
    if (p.fallback.empty())
        q.bind(4);
    else
        q.bind(4, canonicalValue(p, p.fallback));
    q.bind(5, toText(p.failback));
    q.bind(6, p.holdDownMs);
    q.bind(7, toText(p.approval));
    q.bind(8, p.degradedTtl);
    q.bind(9, nowMs());
    q.bind(10, toText(p.quorum));
    q.bind(11, p.id);
    if (q.exec() != 1) throw std::runtime_error("no pool named " + p.name);
    appendEvent(db_, p.name, "", "admin-pool-set", "pool " + p.name + " settings changed");
}

void PoolStore::deletePool(const std::string& name) {
    SQLite::Statement q(db_, "DELETE FROM pools WHERE name=?");
    q.bind(1, name);
    if (q.exec() != 1) throw std::runtime_error("no pool named " + name);
    appendEvent(db_, name, "", "admin-pool-delete", "pool " + name + " deleted");
}

std::optional<PoolDef> PoolStore::findPool(const std::string& name) {
    SQLite::Statement q(db_, std::string("SELECT ") + kPoolColumns +
                                 " FROM pools p JOIN zones z ON z.id = p.zone_id WHERE p.name=?");
    q.bind(1, name);
    if (!q.executeStep()) return std::nullopt;
    return readPool(q);
}

PoolDef PoolStore::getPool(const std::string& name) {
    auto p = findPool(name);
    if (!p) throw std::runtime_error("no pool named " + name);
    return *p;
}

std::vector<PoolDef> PoolStore::listPools() {
    SQLite::Statement q(db_, std::string("SELECT ") + kPoolColumns +
                                 " FROM pools p JOIN zones z ON z.id = p.zone_id ORDER BY p.name");
    std::vector<PoolDef> out;
    while (q.executeStep()) out.push_back(readPool(q));
    return out;
}

namespace {
void linkProbes(SQLite::Database& db, int64_t memberId, const std::vector<std::string>& probes) {
    SQLite::Statement del(db, "DELETE FROM member_probes WHERE member_id=?");
    del.bind(1, memberId);
    del.exec();
    for (const auto& name : probes) {
        SQLite::Statement find(db, "SELECT id FROM probes WHERE name=?");
        find.bind(1, name);
        if (!find.executeStep())
            throw std::runtime_error("no probe named " + name +
                                     " (create it with dnsctl probe add)");
        SQLite::Statement ins(
            db, "INSERT OR IGNORE INTO member_probes (member_id, probe_id) VALUES (?,?)");
        ins.bind(1, memberId);
        ins.bind(2, find.getColumn(0).getInt64());
        ins.exec();
    }
}

void validateMember(const MemberDef& m) {
    if (m.priority < 1 || m.priority > 1000) throw std::runtime_error("priority must be 1..1000");
    if (m.weight < 1 || m.weight > 1000) throw std::runtime_error("weight must be 1..1000");
    if (m.drainStart && m.drainEnd && *m.drainEnd <= *m.drainStart)
        throw std::runtime_error("drain window ends before it starts");
}
}  // namespace

int64_t PoolStore::addMember(const PoolDef& pool, MemberDef& m) {
    std::vector<MemberDef> one{m};
    addMembers(pool, one, nullptr);
    m = one.front();
    return m.id;
}

void PoolStore::addMembers(const PoolDef& pool, std::vector<MemberDef>& members,
                           const std::function<std::string(size_t)>& where) {
    std::set<std::string> taken;
    {
        SQLite::Statement q(db_, "SELECT value FROM members WHERE pool_id=?");
        q.bind(1, pool.id);
        while (q.executeStep()) taken.insert(q.getColumn(0).getString());
    }
    std::map<std::string, int64_t> probeIds;
    {
        SQLite::Statement q(db_, "SELECT name, id FROM probes");
        while (q.executeStep()) probeIds[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
    }
    // Validate everything before the first write, so the message names the first bad line.
    for (size_t i = 0; i < members.size(); ++i) {
        MemberDef& m = members[i];
        try {
            m.value = canonicalValue(pool, m.value);
            validateMember(m);
            for (const auto& name : m.probes)
                if (!probeIds.count(name))
                    throw std::runtime_error("no probe named " + name +
                                             " (create it with dnsctl probe add)");
            if (!taken.insert(m.value).second)
                throw std::runtime_error(m.value + " is already a member of pool " + pool.name);
        } catch (const std::exception& e) {
            if (!where) throw;
            throw std::runtime_error(where(i) + ": " + e.what());
        }
    }
    SQLite::Statement ins(db_,
                          "INSERT INTO members (pool_id, value, priority, weight, admin, drained, "
                          "created_at) VALUES (?,?,?,?,?,?,?)");
    SQLite::Statement link(
        db_, "INSERT OR IGNORE INTO member_probes (member_id, probe_id) VALUES (?,?)");
    EventWriter events(db_);
    int64_t at = nowMs();
    for (MemberDef& m : members) {
        ins.bind(1, pool.id);
        ins.bind(2, m.value);
        ins.bind(3, m.priority);
        ins.bind(4, m.weight);
        ins.bind(5, toText(m.admin));
        ins.bind(6, m.drained ? 1 : 0);
        ins.bind(7, at);
        ins.exec();
        ins.reset();
        m.id = db_.getLastInsertRowid();
        m.poolId = pool.id;
        for (const auto& name : m.probes) {
            link.bind(1, m.id);
            link.bind(2, probeIds[name]);
            link.exec();
            link.reset();
        }
        std::string probes;
        for (const auto& p : m.probes) probes += (probes.empty() ? "" : ", ") + p;
        events.write({at, pool.name, m.value, "admin-member-add",
                      "member " + m.value + " added to pool " + pool.name + " (priority " +
                          std::to_string(m.priority) +
                          (probes.empty() ? ", no probes: always up" : ", probes " + probes) +
                          ")"});
    }
}

void PoolStore::updateMember(const PoolDef& pool, const MemberDef& m, const std::string& kind,
                             const std::string& message) {
    validateMember(m);
    SQLite::Statement q(db_,
                        "UPDATE members SET priority=?, weight=?, admin=?, drained=?, "
                        "drain_start=?, drain_end=? WHERE id=?");
    q.bind(1, m.priority);
    q.bind(2, m.weight);
    q.bind(3, toText(m.admin));
    q.bind(4, m.drained ? 1 : 0);
    bindOpt(q, 5, m.drainStart);
    bindOpt(q, 6, m.drainEnd);
    q.bind(7, m.id);
    if (q.exec() != 1) throw std::runtime_error(m.value + " is not a member of pool " + pool.name);
    linkProbes(db_, m.id, m.probes);
    // Touch the pool so that watchers keyed on pools.updated_at see the change too.
    SQLite::Statement t(db_, "UPDATE pools SET updated_at=? WHERE id=?");
    t.bind(1, nowMs());
    t.bind(2, pool.id);
    t.exec();
    appendEvent(db_, pool.name, m.value, kind, message);
}

void PoolStore::removeMember(const PoolDef& pool, const std::string& value) {
    std::string canonical = canonicalValue(pool, value);
    SQLite::Statement q(db_, "DELETE FROM members WHERE pool_id=? AND value=?");
    q.bind(1, pool.id);
    q.bind(2, canonical);
    if (q.exec() != 1)
        throw std::runtime_error(canonical + " is not a member of pool " + pool.name);
    appendEvent(db_, pool.name, canonical, "admin-member-remove",
                "member " + canonical + " removed from pool " + pool.name);
}

std::optional<MemberDef> PoolStore::findMember(const PoolDef& pool, const std::string& value) {
    std::string canonical = canonicalValue(pool, value);
    for (auto& m : members(pool.id))
        if (m.value == canonical) return m;
    return std::nullopt;
}

std::vector<MemberDef> PoolStore::members(int64_t poolId) {
    SQLite::Statement q(
        db_,
        "SELECT id, pool_id, value, priority, weight, admin, drained, drain_start, drain_end, "
        "health, health_since, last_ok, last_message, last_latency_us, last_checked_at "
        "FROM members WHERE pool_id=? ORDER BY priority, value");
    q.bind(1, poolId);
    std::vector<MemberDef> out;
    while (q.executeStep()) {
        MemberDef m;
        m.id = q.getColumn(0).getInt64();
        m.poolId = q.getColumn(1).getInt64();
        m.value = q.getColumn(2).getString();
        m.priority = q.getColumn(3).getInt();
        m.weight = q.getColumn(4).getInt();
        m.admin = parseAdminState(q.getColumn(5).getText());
        m.drained = q.getColumn(6).getInt() != 0;
        m.drainStart = optInt(q, 7);
        m.drainEnd = optInt(q, 8);
        m.health = q.getColumn(9).getString();
        m.healthSince = optInt(q, 10);
        if (auto ok = optInt(q, 11)) m.lastOk = *ok != 0;
        m.lastMessage = text(q, 12);
        m.lastLatencyUs = optInt(q, 13);
        m.lastCheckedAt = optInt(q, 14);
        out.push_back(std::move(m));
    }
    for (auto& m : out) {
        SQLite::Statement p(db_,
                            "SELECT p.name, mp.last_ok, mp.last_message, mp.last_latency_us, "
                            "mp.last_checked_at FROM member_probes mp JOIN probes p ON p.id = "
                            "mp.probe_id WHERE mp.member_id=? ORDER BY p.name");
        p.bind(1, m.id);
        while (p.executeStep()) {
            ProbeResult r;
            r.probe = p.getColumn(0).getString();
            if (auto ok = optInt(p, 1)) r.lastOk = *ok != 0;
            r.lastMessage = text(p, 2);
            r.lastLatencyUs = optInt(p, 3);
            r.lastCheckedAt = optInt(p, 4);
            m.probes.push_back(r.probe);
            m.checks.push_back(std::move(r));
        }
    }
    return out;
}

std::map<int64_t, std::vector<MemberStanding>> PoolStore::standings(int64_t now) {
    SQLite::Statement q(db_,
                        "SELECT pool_id, value, priority, weight, admin, drained, drain_start, "
                        "drain_end FROM members ORDER BY pool_id, priority, id");
    std::map<int64_t, std::vector<MemberStanding>> out;
    while (q.executeStep()) {
        MemberStanding m;
        m.value = q.getColumn(1).getString();
        m.priority = q.getColumn(2).getInt();
        m.weight = q.getColumn(3).getInt();
        m.admin = parseAdminState(q.getColumn(4).getText());
        m.drained = drainActive(q.getColumn(5).getInt() != 0, optInt(q, 6), optInt(q, 7), now);
        out[q.getColumn(0).getInt64()].push_back(std::move(m));
    }
    return out;
}

std::optional<DecisionRow> PoolStore::decision(int64_t poolId) {
    SQLite::Statement q(
        db_,
        "SELECT served, ttl, decided_at, reason, active_tier, all_down, degraded, pending_tier, "
        "pending_since, pending_reason, failback_tier, failback_at, quorum_lost, quorum_lost_since "
        "FROM pool_decisions "
        "WHERE pool_id=?");
    q.bind(1, poolId);
    if (!q.executeStep()) return std::nullopt;
    DecisionRow d;
    d.served = q.getColumn(0).getString();
    d.ttl = q.getColumn(1).getInt();
    d.decidedAt = q.getColumn(2).getInt64();
    d.reason = q.getColumn(3).getString();
    if (auto t = optInt(q, 4)) d.activeTier = int(*t);
    d.allDown = q.getColumn(5).getInt() != 0;
    d.degraded = q.getColumn(6).getInt() != 0;
    if (auto t = optInt(q, 7)) d.pendingTier = int(*t);
    d.pendingSince = optInt(q, 8).value_or(0);
    d.pendingReason = text(q, 9);
    if (auto t = optInt(q, 10)) d.failbackTier = int(*t);
    d.failbackAt = optInt(q, 11);
    d.quorumLost = q.getColumn(12).getInt() != 0;
    d.quorumLostSince = optInt(q, 13);
    return d;
}

int64_t PoolStore::addRequest(const PoolDef& pool, const std::string& kind) {
    SQLite::Statement q(db_,
                        "INSERT INTO pool_requests (pool_id, kind, requested_at) VALUES (?,?,?)");
    q.bind(1, pool.id);
    q.bind(2, kind);
    q.bind(3, nowMs());
    q.exec();
    int64_t id = db_.getLastInsertRowid();
    appendEvent(db_, pool.name, "", "admin-" + kind,
                "operator requested " + kind + " of pool " + pool.name);
    return id;
}

std::optional<std::string> PoolStore::requestResult(int64_t id) {
    SQLite::Statement q(db_,
                        "SELECT result FROM pool_requests WHERE id=? AND handled_at IS NOT NULL");
    q.bind(1, id);
    if (!q.executeStep()) return std::nullopt;
    return text(q, 0);
}

std::optional<int64_t> PoolStore::heartbeat(int64_t* pid) {
    SQLite::Statement q(db_, "SELECT heartbeat_at, pid FROM controller WHERE id=1");
    if (!q.executeStep() || q.getColumn(0).isNull()) return std::nullopt;
    if (pid) *pid = q.getColumn(1).isNull() ? 0 : q.getColumn(1).getInt64();
    return q.getColumn(0).getInt64();
}

}  // namespace zones
