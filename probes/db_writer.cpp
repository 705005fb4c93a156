#include "probes/db_writer.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>
#include <unistd.h>

#include <set>

#include "zones/schema.hpp"
#include "zones/served_pool.hpp"

namespace probes {

namespace {
// At 100 ms intervals a few hundred pairs make a few thousand rows a second; keep ~a minute.
constexpr size_t kMaxQueuedObservations = 200000;
// A lock held this long is no longer a writer's brief transaction: the heartbeat is as old
// as dnsd's staleness limit (3 s), so it is an error someone should look at.
constexpr int64_t kLockedTooLongMs = 3000;
}  // namespace

DbWriter::DbWriter(boost::asio::io_context& io, SQLite::Database& db, Log log,
                   std::function<void()> failed)
    : io_(io), db_(&db), log_(std::move(log)), failed_(std::move(failed)), retry_(io) {}

DbWriter::~DbWriter() = default;

void DbWriter::setDatabase(SQLite::Database& db) {
    for (auto& q : statements_) q.reset();  // prepared on the old handle
    eventWriter_.reset();
    slotsWritten_.clear();  // the new file has none of them
    db_ = &db;
}

SQLite::Statement& DbWriter::statement(Stmt which, const char* sql) {
    // Prepared once and reused: a flush runs every second and on every state change, and
    // parsing the SQL each time showed up in profiles. tryReset: a step that failed (a locked
    // database) leaves its error in the statement, and reset() would throw it again.
    auto& q = statements_[size_t(which)];
    if (!q) q = std::make_unique<SQLite::Statement>(*db_, sql);
    q->tryReset();
    q->clearBindings();
    return *q;
}

void DbWriter::observation(ObservationRow row) {
    if (observations_.size() >= kMaxQueuedObservations) {
        observations_.pop_front();
        ++dropped_;
    }
    observations_.push_back(std::move(row));
}
void DbWriter::memberState(int64_t memberId, MemberStateRow row) {
    members_[memberId] = std::move(row);
}
void DbWriter::memberView(int64_t memberId, const std::string& vantage, MemberViewRow row) {
    views_[{memberId, vantage}] = std::move(row);
}
void DbWriter::vantage(const std::string& name, VantageRow row) {
    vantages_[name] = std::move(row);
}
void DbWriter::decision(int64_t poolId, zones::DecisionRow row) {
    decisions_[poolId] = std::move(row);
}
void DbWriter::event(EventWrite row) {
    events_.push_back(std::move(row));
}
void DbWriter::requestHandled(int64_t id, std::string result) {
    requests_.emplace_back(id, std::move(result));
}
void DbWriter::heartbeat(int64_t pid, int64_t startedAt) {
    heartbeat_ = true;
    pid_ = pid;
    startedAt_ = startedAt;
}

size_t DbWriter::queued() const {
    return observations_.size() + members_.size() + views_.size() + vantages_.size() +
           decisions_.size() + events_.size() + requests_.size() + (heartbeat_ ? 1 : 0);
}

bool DbWriter::flush() {
    if (queued() == 0 && pruneBefore_ == 0 && pruneEventsBefore_ == 0) return true;
    try {
        write();
    } catch (const SQLite::Exception& e) {
        int code = e.getErrorCode();
        bool locked = code == SQLITE_BUSY || code == SQLITE_LOCKED;
        if (lockedSince_ == 0) {
            lockedSince_ = zones::nowMs();
            if (failed_) failed_();
            // Another writer (dnsctl, a backup) holding the lock delays writes and loses
            // nothing; any other failure (disk full, I/O error) is dnsd-probe in trouble.
            log_(locked ? Level::Warn : Level::Error,
                 std::string(locked ? "database is locked by another writer"
                                    : "database write failed") +
                     " (" + e.what() + "); keeping " + std::to_string(queued()) +
                     " queued writes and retrying every 50ms");
        } else if (!lockEscalated_ && zones::nowMs() - lockedSince_ >= kLockedTooLongMs) {
            lockEscalated_ = true;
            log_(Level::Error, "database still not writable after " +
                                   std::to_string(kLockedTooLongMs) + "ms (" + e.what() +
                                   "): no decision or heartbeat is written, dnsd sees the "
                                   "controller as stale");
        }
        if (!retryArmed_) {
            retryArmed_ = true;
            retry_.expires_after(std::chrono::milliseconds(50));
            retry_.async_wait([this](const boost::system::error_code& ec) {
                retryArmed_ = false;
                if (!ec) flush();
            });
        }
        return false;
    }
    if (lockedSince_ != 0) {
        log_(Level::Info, "database writable again after " +
                              std::to_string(zones::nowMs() - lockedSince_) +
                              "ms; queued writes committed");
        lockedSince_ = 0;
        lockEscalated_ = false;
    }
    return true;
}

void DbWriter::writeProbeResults(std::vector<std::pair<SlotKey, SlotWritten>>& written) {
    // The queue is in time order: the last row of each (member, probe) is its newest result.
    std::map<SlotKey, const ObservationRow*> newest;
    for (const auto& o : observations_) newest[{o.memberId, o.probeId}] = &o;
    SQLite::Statement* q = nullptr;
    for (const auto& [key, o] : newest) {
        auto it = slotsWritten_.find(key);
        if (it != slotsWritten_.end() && it->second.ok == o->ok &&
            it->second.message == o->message && o->at - it->second.at < kProbeResultRefreshMs)
            continue;
        if (!q)
            q = &statement(Stmt::ProbeResult,
                           "UPDATE member_probes SET last_ok=?, last_message=?, "
                           "last_latency_us=?, last_checked_at=? WHERE member_id=? AND "
                           "probe_id=?");
        q->bind(1, o->ok ? 1 : 0);
        q->bind(2, o->message);
        q->bind(3, o->latencyUs);
        q->bind(4, o->at);
        q->bind(5, key.first);
        q->bind(6, key.second);
        q->exec();
        q->reset();
        written.push_back({key, {o->ok, o->message, o->at}});
    }
}

void DbWriter::write() {
    std::vector<std::pair<SlotKey, SlotWritten>> written;  // applied once the commit succeeded
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    // What each pool serves before and after this write (zones::ServedPools: the rendering
    // dnsd answers from): where it changes, the zone's serial moves and the difference is
    // journaled for IXFR, in this transaction, so secondaries see every decision.
    std::optional<zones::ServedPools> before;
    const int64_t now = zones::nowMs();
    if (!decisions_.empty()) {
        before.emplace(*db_, now);
        SQLite::Statement& q = statement(
            Stmt::Decision,
            "INSERT INTO pool_decisions (pool_id, served, ttl, decided_at, reason, active_tier, "
            "all_down, "
            "degraded, pending_tier, pending_since, pending_reason, failback_tier, failback_at, "
            "quorum_lost, quorum_lost_since) "
            "SELECT ?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15 WHERE EXISTS (SELECT 1 "
            "FROM pools "
            "WHERE "
            "id=?1) "
            "ON CONFLICT(pool_id) DO UPDATE SET served=excluded.served, ttl=excluded.ttl, "
            "decided_at=excluded.decided_at, reason=excluded.reason, "
            "active_tier=excluded.active_tier, "
            "all_down=excluded.all_down, degraded=excluded.degraded, "
            "pending_tier=excluded.pending_tier, "
            "pending_since=excluded.pending_since, pending_reason=excluded.pending_reason, "
            "failback_tier=excluded.failback_tier, failback_at=excluded.failback_at, "
            "quorum_lost=excluded.quorum_lost, quorum_lost_since=excluded.quorum_lost_since");
        for (const auto& [poolId, d] : decisions_) {
            q.clearBindings();  // optional columns: a previous row's value must not carry over
            q.bind(1, poolId);
            q.bind(2, d.served);
            q.bind(3, d.ttl);
            q.bind(4, d.decidedAt);
            q.bind(5, d.reason);
            if (d.activeTier)
                q.bind(6, *d.activeTier);
            else
                q.bind(6);
            q.bind(7, d.allDown ? 1 : 0);
            q.bind(8, d.degraded ? 1 : 0);
            if (d.pendingTier) {
                q.bind(9, *d.pendingTier);
                q.bind(10, d.pendingSince);
                q.bind(11, d.pendingReason);
            } else {
                q.bind(9);
                q.bind(10);
                q.bind(11);
            }
            if (d.failbackTier) q.bind(12, *d.failbackTier);
            if (d.failbackAt) q.bind(13, *d.failbackAt);
            q.bind(14, d.quorumLost ? 1 : 0);
            if (d.quorumLostSince) q.bind(15, *d.quorumLostSince);
            q.exec();
            q.reset();
        }
    }
    if (before) zones::journalServedChanges(*db_, *before, zones::ServedPools(*db_, now));
    if (!members_.empty()) {
        SQLite::Statement& q = statement(Stmt::Member,
                                         "UPDATE members SET health=?, health_since=?, last_ok=?, "
                                         "last_message=?, last_latency_us=?, "
                                         "last_checked_at=? WHERE id=?");
        for (const auto& [id, m] : members_) {
            q.bind(1, m.health);
            if (m.healthSince)
                q.bind(2, m.healthSince);
            else
                q.bind(2);  // no health yet (e.g. waiting for a quorum of vantages)
            q.bind(3, m.lastOk ? 1 : 0);
            q.bind(4, m.lastMessage);
            q.bind(5, m.latencyUs);
            q.bind(6, m.checkedAt);
            q.bind(7, id);
            q.exec();
            q.reset();
        }
    }
    if (!views_.empty()) {
        SQLite::Statement& q = statement(
            Stmt::MemberView,
            "INSERT INTO member_views (member_id, vantage, health, health_since, last_ok, "
            "last_message, checked_at) SELECT ?1,?2,?3,?4,?5,?6,?7 WHERE EXISTS (SELECT 1 FROM "
            "members WHERE id=?1) ON CONFLICT(member_id, vantage) DO UPDATE SET "
            "health=excluded.health, health_since=excluded.health_since, "
            "last_ok=excluded.last_ok, last_message=excluded.last_message, "
            "checked_at=excluded.checked_at");
        for (const auto& [key, v] : views_) {
            q.bind(1, key.first);
            q.bind(2, key.second);
            q.bind(3, v.health);
            q.bind(4, v.healthSince);
            q.bind(5, v.lastOk ? 1 : 0);
            q.bind(6, v.lastMessage);
            q.bind(7, v.checkedAt);
            q.exec();
            q.reset();
        }
    }
    if (!vantages_.empty()) {
        // Only vantages that exist: one deleted by dnsctl meanwhile is not brought back.
        SQLite::Statement& q = statement(
            Stmt::Vantage,
            "UPDATE vantages SET last_report_at=?, last_address=?, last_agent_time=?, "
            "offset_ms=?, lag_ms=?, checks_per_s=?, reports=?, results=?, dropped=?, refused=?, "
            "last_refusal=?, silent_since=?, version=?, host=? WHERE name=?");
        for (const auto& [name, v] : vantages_) {
            q.clearBindings();  // optional columns: a previous row's value must not carry over
            if (v.lastReportAt) q.bind(1, v.lastReportAt);
            q.bind(2, v.lastAddress);
            if (v.lastAgentTime) q.bind(3, v.lastAgentTime);
            q.bind(4, v.offsetMs);
            q.bind(5, v.lagMs);
            q.bind(6, v.checksPerS);
            q.bind(7, v.reports);
            q.bind(8, v.results);
            q.bind(9, v.dropped);
            q.bind(10, v.refused);
            if (!v.lastRefusal.empty()) q.bind(11, v.lastRefusal);
            if (v.silentSince) q.bind(12, *v.silentSince);
            q.bind(13, v.version);
            q.bind(14, v.host);
            q.bind(15, name);
            q.exec();
            q.reset();
        }
    }
    if (!events_.empty()) {
        if (!eventWriter_) eventWriter_ = std::make_unique<zones::EventWriter>(*db_);
        for (const auto& e : events_) eventWriter_->write(e);
    }
    if (!requests_.empty()) {
        SQLite::Statement& q =
            statement(Stmt::Request, "UPDATE pool_requests SET handled_at=?, result=? WHERE id=?");
        for (const auto& [id, result] : requests_) {
            q.bind(1, zones::nowMs());
            q.bind(2, result);
            q.bind(3, id);
            q.exec();
            q.reset();
        }
    }
    if (!observations_.empty()) {
        SQLite::Statement& q =
            statement(Stmt::Observation,
                      "INSERT INTO observations (at, member_id, probe_id, ok, latency_us, "
                      "message, vantage) VALUES (?,?,?,?,?,?,?)");
        for (const auto& o : observations_) {
            q.bind(1, o.at);
            q.bind(2, o.memberId);
            q.bind(3, o.probeId);
            q.bind(4, o.ok ? 1 : 0);
            q.bind(5, o.latencyUs);
            q.bind(6, o.message);
            q.bind(7, o.vantage ? *o.vantage : std::string("local"));
            q.exec();
            q.reset();
        }
        writeProbeResults(written);
    }
    if (heartbeat_) {
        SQLite::Statement& q = statement(
            Stmt::Heartbeat,
            "INSERT INTO controller (id, pid, heartbeat_at, started_at, host) VALUES (1,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET pid=excluded.pid, heartbeat_at=excluded.heartbeat_at, "
            "started_at=excluded.started_at, host=excluded.host");
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        q.bind(1, pid_);
        q.bind(2, zones::nowMs());
        q.bind(3, startedAt_);
        q.bind(4, std::string(host));
        q.exec();
        q.reset();
    }
    if (pruneBefore_ != 0) {
        SQLite::Statement& q = statement(Stmt::Prune, "DELETE FROM observations WHERE at < ?");
        q.bind(1, pruneBefore_);
        q.exec();
        q.reset();
    }
    if (pruneEventsBefore_ != 0) {
        SQLite::Statement& q = statement(Stmt::PruneEvents, "DELETE FROM events WHERE at < ?");
        q.bind(1, pruneEventsBefore_);
        q.exec();
        q.reset();
    }
    tx.commit();
    ++commits_;
    for (auto& [key, w] : written) slotsWritten_[key] = std::move(w);
    observations_.clear();
    members_.clear();
    views_.clear();
    vantages_.clear();
    decisions_.clear();
    events_.clear();
    requests_.clear();
    heartbeat_ = false;
    pruneBefore_ = 0;
    pruneEventsBefore_ = 0;
}

}  // namespace probes
