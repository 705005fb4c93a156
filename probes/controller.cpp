#include "probes/controller.hpp"

#include <nlohmann/json.hpp>

#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>

#include "probes/agent_server.hpp"
#include "probes/child_process.hpp"
#include "probes/controller_state.hpp"
#include "zones/schema.hpp"
#include "zones/vantage_store.hpp"

namespace probes {

namespace {

Health parseHealth(const std::string& s) {
    return s == "up" ? Health::Up : s == "down" ? Health::Down : Health::Unknown;
}

PoolPolicy policyOf(const zones::PoolDef& p) {
    PoolPolicy policy;
    policy.manualFailback = p.failback == zones::FailbackMode::Manual;
    policy.holdDownMs = p.holdDownMs;
    policy.manualApproval = p.approval == zones::ApprovalMode::Manual;
    policy.allDown = p.allDown;
    policy.fallback = p.fallback;
    policy.ttl = p.ttl;
    policy.degradedTtl = p.degradedTtl;
    return policy;
}

bool samePolicy(const zones::PoolDef& a, const zones::PoolDef& b) {
    return a.ttl == b.ttl && a.maxAnswers == b.maxAnswers && a.allDown == b.allDown &&
           a.fallback == b.fallback && a.failback == b.failback && a.holdDownMs == b.holdDownMs &&
           a.approval == b.approval && a.degradedTtl == b.degradedTtl;
}

bool sameAdmin(const zones::MemberDef& a, const zones::MemberDef& b) {
    return a.priority == b.priority && a.weight == b.weight && a.admin == b.admin &&
           a.drained == b.drained && a.drainStart == b.drainStart && a.drainEnd == b.drainEnd &&
           a.probes == b.probes;
}

nlohmann::ordered_json tierJson(const std::optional<int>& t) {
    return t ? nlohmann::ordered_json(*t) : nlohmann::ordered_json(nullptr);
}

// The level of an event's log line: bad news the service handles (a member down, a
// failover, all down) is a warning; recoveries, routine changes and the results of operator
// requests are info. None is an error: that level is kept for dnsd-probe itself failing.
Level eventLevel(const std::string& kind) {
    if (kind == "member-down" || kind == "failover" || kind == "failover-pending" ||
        kind == "all-down" || kind == "quorum-lost" || kind == "vantage-silent")
        return Level::Warn;
    return Level::Info;
}

}  // namespace

Controller::Controller(asio::io_context& io, ControllerOptions options, LogSink log)
    : io_(io),
      options_(std::move(options)),
      log_(std::move(log)),
      pollTimer_(io),
      tickTimer_(io),
      sweepTimer_(io),
      watch_(options_.dbPath) {}

Controller::~Controller() = default;

int64_t Controller::now() const {
    return options_.clock ? options_.clock() : zones::nowMs();
}

void Controller::start() {
    db_ = zones::openDatabase(options_.dbPath, zones::OpenMode::ReadWrite, 5000);
    // SQLite silently falls back to a read-only handle when the file is not writable; such a
    // handle never recovers, so refuse clearly and let the supervisor restart us later.
    if (sqlite3_db_readonly(db_->getHandle(), "main") == 1)
        throw std::runtime_error(
            "database " + options_.dbPath +
            " is read-only (file permissions or a read-only mount): dnsd-probe must "
            "write decisions; dnsd keeps serving the last ones meanwhile");
    // The 'local' vantage row says whether our own checks count (dnsctl status, the quorum's
    // vantage count); written before the short busy timeout below.
    zones::VantageStore(*db_).setLocal(options_.localVantage);
    // Short waits afterwards: the loop must not stall behind another writer; DbWriter retries.
    db_->setBusyTimeout(50);
    watch_.attach();
    // The role is an OS lock, not the heartbeat: it dies with its holder, so a restart right
    // after a stop or a crash is never refused, and a live controller always is.
    lock_ = ControllerLock::tryAcquire(options_.dbPath);
    if (!lock_) {
        std::string pid;
        SQLite::Statement q(*db_, "SELECT pid FROM controller WHERE id=1");
        if (q.executeStep() && !q.getColumn(0).isNull())
            pid = " (pid " + std::to_string(q.getColumn(0).getInt64()) + ")";
        throw std::runtime_error(
            "another dnsd-probe" + pid + " is running on this database (it holds " +
            ControllerLock::pathFor(options_.dbPath) + "); two controllers would fight");
    }
    writer_ = std::make_unique<DbWriter>(io_, *db_, log_, options_.writeFailed);
    runner_ = std::make_unique<CheckRunner>(io_);
    log_(runner_->icmpAvailable() ? Level::Info : Level::Warn, runner_->icmpStatus());
    scheduler_ = std::make_unique<CheckScheduler>(
        io_, *runner_,
        [this](const CheckSpec& spec, const CheckResult& r) {
            onVantageResult(0, spec.memberId, spec.probeId, r, now());
        },
        log_);
    auto local = std::make_unique<VantageRt>();
    local->name = zones::kLocalVantage;
    local->local = true;
    local->deleted = !options_.localVantage;
    vantageIndex_[local->name] = 0;
    vantages_.push_back(std::move(local));
    startedAt_ = zones::nowMs();
    writer_->heartbeat(::getpid(), startedAt_);
    writer_->flush();
    reload();
    startAgents();
    poll();
    tick();
    sweep();
}

void Controller::stop() {
    pollTimer_.cancel();
    tickTimer_.cancel();
    sweepTimer_.cancel();
    if (scheduler_) scheduler_->stop();
    stopAgents();
    for (auto& [id, pool] : pools_) pool->timer.cancel();
    if (writer_) writer_->flush();
    releaseRole();
}

void Controller::releaseRole() {
    if (!lock_) return;
    // The database's view: no process holds the role (the last heartbeat stays, so readers
    // still see when we last decided). Only our own row: a successor may already have it.
    try {
        db_->setBusyTimeout(1000);
        SQLite::Statement q(*db_, "UPDATE controller SET pid = NULL WHERE id = 1 AND pid = ?");
        q.bind(1, int64_t(::getpid()));
        q.exec();
    } catch (const std::exception& e) {
        log_(Level::Warn, std::string("could not mark the controller role free in the database (") +
                              e.what() + "); the heartbeat goes stale in 3 s instead");
    }
    lock_.reset();
}

void Controller::poll() {
    try {
        if (watch_.changed(*db_)) {
            try {
                reload();
            } catch (...) {
                watch_.forget();  // read it all again at the next poll
                throw;
            }
        }
    } catch (const std::exception& e) {
        log_(Level::Error, std::string("reading configuration failed (will retry): ") + e.what());
    }
    pollTimer_.expires_after(std::chrono::milliseconds(options_.pollMs));
    pollTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) poll();
    });
}

void Controller::checkDatabaseFile() {
    auto state = watch_.file();
    if (state == zones::DbWatch::FileState::Missing) {
        if (!dbGoneLogged_)
            log_(
                Level::Error,
                "database file " + options_.dbPath +
                    " was deleted while running: decisions and events written from now on are lost "
                    "(dnsd keeps serving what it loaded); restore the file or restart dnsd-probe");
        dbGoneLogged_ = true;
        return;
    }
    if (state == zones::DbWatch::FileState::Same) return;
    log_(Level::Warn,
         "database file " + options_.dbPath + " was replaced while running; reopening it");
    auto fresh = zones::openDatabase(options_.dbPath, zones::OpenMode::ReadWrite, 1000);
    if (sqlite3_db_readonly(fresh->getHandle(), "main") == 1)
        throw std::runtime_error("the replacement database is read-only; keeping the old handle");
    fresh->setBusyTimeout(50);
    writer_->setDatabase(*fresh);
    db_ = std::move(fresh);
    watch_.attach();  // and reload everything from the new file at the next poll
    dbGoneLogged_ = false;
    for (auto& [id, pool] : pools_) pool->haveWritten = false;  // rewrite every decision there
}

void Controller::tick() {
    try {
        checkDatabaseFile();
    } catch (const std::exception& e) {
        log_(Level::Error, std::string("reopening the database failed (will retry): ") + e.what());
    }
    try {
        writeVantages();
        writer_->heartbeat(::getpid(), startedAt_);
        int64_t t = zones::nowMs();
        if (t - lastPrune_ > 60000) {
            lastPrune_ = t;
            writer_->pruneBefore(t - options_.keepObservationsMs);
            if (options_.keepEventsMs > 0) writer_->pruneEventsBefore(t - options_.keepEventsMs);
        }
        writer_->flush();
    } catch (const std::exception& e) {
        if (options_.writeFailed) options_.writeFailed();
        log_(Level::Error, std::string("heartbeat failed: ") + e.what());
    }
    tickTimer_.expires_after(std::chrono::milliseconds(options_.heartbeatMs));
    tickTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) tick();
    });
}

void Controller::reload() {
    zones::ProbeStore probeStore(*db_);
    zones::PoolStore poolStore(*db_);
    std::map<int64_t, zones::ProbeDef> probes;
    std::map<std::string, int64_t> probeIds;
    for (auto& p : probeStore.list()) {
        probeIds[p.name] = p.id;
        probes[p.id] = p;
    }
    // Read everything first, so a failure half-way changes nothing.
    struct Loaded {
        zones::PoolDef pool;
        std::vector<zones::MemberDef> members;
        std::optional<zones::DecisionRow> decision;
    };
    std::vector<Loaded> loaded;
    for (auto& p : poolStore.listPools())
        loaded.push_back({p, poolStore.members(p.id), poolStore.decision(p.id)});
    std::map<int64_t, std::vector<std::pair<int64_t, std::string>>> requests;
    {
        SQLite::Statement q(
            *db_,
            "SELECT id, pool_id, kind FROM pool_requests WHERE handled_at IS NULL ORDER BY id");
        while (q.executeStep())
            requests[q.getColumn(1).getInt64()].emplace_back(q.getColumn(0).getInt64(),
                                                             q.getColumn(2).getString());
    }
    probes_ = std::move(probes);
    requests_ = std::move(requests);
    reloadVantages();

    std::set<int64_t> seenPools, seenMembers;
    std::set<std::pair<int64_t, int64_t>> seenChecks;
    std::vector<CheckSpec> specs;
    std::set<int64_t> dirtyPools;
    for (auto& l : loaded) {
        auto& rt = pools_[l.pool.id];
        seenPools.insert(l.pool.id);
        if (!rt) {
            rt = std::make_unique<PoolRt>(io_);
            rt->def = l.pool;
            if (l.decision) {  // carry the last decision over a restart: no spurious move
                rt->state.decided = true;
                rt->state.activeTier = l.decision->activeTier;
                rt->state.pendingTier = l.decision->pendingTier;
                rt->state.pendingSince = l.decision->pendingSince;
                rt->haveWritten = true;
                rt->written = *l.decision;
                rt->quorumLost = l.decision->quorumLost;
                rt->quorumLostSince = l.decision->quorumLostSince.value_or(0);
            }
            log_(Level::Info, "pool " + l.pool.name + ": " + l.pool.owner + " " +
                                  zones::toText(l.pool.rtype) + ", " +
                                  std::to_string(l.members.size()) + " member(s)");
        } else if (!samePolicy(rt->def, l.pool)) {
            dirtyPools.insert(l.pool.id);
        }
        rt->def = l.pool;
        for (auto& m : l.members) {
            seenMembers.insert(m.id);
            auto& mr = members_[m.id];
            if (!mr) {
                mr = std::make_unique<MemberRt>();
                mr->dbHealth = parseHealth(m.health);
                mr->dbSince = m.healthSince.value_or(0);
                mr->def = m;
                dirtyPools.insert(l.pool.id);
            } else if (!sameAdmin(mr->def, m)) {
                dirtyPools.insert(l.pool.id);
            }
            mr->def = m;
            mr->poolId = l.pool.id;
            mr->poolName = l.pool.name;
            mr->probeIds.clear();
            mr->checks.clear();
            for (const auto& name : m.probes) {
                auto it = probeIds.find(name);
                if (it == probeIds.end()) continue;
                int64_t pid = it->second;
                mr->probeIds.push_back(pid);
                auto key = std::make_pair(m.id, pid);
                seenChecks.insert(key);
                auto& check = checks_[key];
                if (!check) {
                    check = std::make_unique<CheckRt>();
                    check->memberId = m.id;
                    check->probeId = pid;
                }
                check->def = probes_[pid];
                check->member = mr.get();
                mr->checks.push_back(check.get());
                specs.push_back({m.id, pid, m.value, check->def});
            }
        }
    }
    for (auto it = checks_.begin(); it != checks_.end();) {
        if (seenChecks.count(it->first)) {
            ++it;
            continue;
        }
        // Deleted probe or member: its results (local or remote, in flight) are dropped.
        if (members_.count(it->first.first)) dirtyPools.insert(members_[it->first.first]->poolId);
        it = checks_.erase(it);
    }
    for (auto it = members_.begin(); it != members_.end();) {
        if (seenMembers.count(it->first)) {
            ++it;
            continue;
        }
        dirtyPools.insert(it->second->poolId);
        it = members_.erase(it);
    }
    for (auto it = pools_.begin(); it != pools_.end();) {
        if (seenPools.count(it->first)) {
            ++it;
            continue;
        }
        it->second->timer.cancel();
        log_(Level::Info, "pool " + it->second->def.name + " deleted");
        it = pools_.erase(it);
    }
    for (auto& [id, pool] : pools_) pool->members.clear();
    for (auto& [id, m] : members_) {
        auto pit = pools_.find(m->poolId);
        if (pit != pools_.end()) pit->second->members.push_back(m.get());
    }
    setChecks(std::move(specs));
    for (auto& [id, m] : members_)
        if (evaluateMember(*m, "probe set changed")) dirtyPools.insert(m->poolId);
    for (auto& [id, reqs] : requests_)
        if (!reqs.empty()) dirtyPools.insert(id);
    for (auto& [id, pool] : pools_)
        if (dirtyPools.count(id) || !pool->firstDone) decidePool(*pool);
    writer_->flush();
}

void Controller::flushSoon() {
    // Posted, not called: every result already queued in this turn of the loop (a burst of
    // members going down together) joins the same commit, instead of one commit per flip.
    // The post runs after the handlers queued now, i.e. within milliseconds.
    if (flushPosted_) return;
    flushPosted_ = true;
    asio::post(io_, [this] {
        flushPosted_ = false;
        try {
            writer_->flush();
        } catch (const std::exception& e) {
            if (options_.writeFailed) options_.writeFailed();
            log_(Level::Error, std::string("database write failed: ") + e.what());
        }
    });
}

bool Controller::poolReady(const PoolRt& pool) const {
    // Every member with probes has a health by the quorum (with one vantage: every check of
    // the pool reported once).
    for (const MemberRt* m : pool.members)
        if (!m->probeIds.empty() && m->health == Health::Unknown) return false;
    return true;
}

void Controller::decidePool(PoolRt& pool) {
    // One full round before the first decision: never decide on "unknown". Later, a member
    // that is still unknown (just added) simply is not usable yet.
    if (!pool.firstDone && !poolReady(pool)) return;
    int64_t t = now();
    if (poolQuorumLost(pool)) {
        holdForQuorum(pool, t);
        return;
    }
    if (pool.quorumLost) {
        pool.quorumLost = false;
        emit(pool.def.name, "", "quorum-regained",
             "pool " + pool.def.name + ": quorum regained (" + std::to_string(liveVantages()) +
                 " of " + std::to_string(configuredVantages()) +
                 " vantages reporting); deciding again");
    }
    std::vector<MemberInput> inputs;
    std::optional<int64_t> wake;
    for (MemberRt* m : pool.members) {
        MemberInput in;
        in.value = m->def.value;
        in.priority = m->def.priority;
        in.weight = m->def.weight;
        in.admin = m->def.admin;
        in.drained = zones::drainActive(m->def.drained, m->def.drainStart, m->def.drainEnd, t);
        in.health = m->health;
        in.healthSince = m->healthSince;
        in.failing = m->failing;
        if (m->drainKnown && in.drained != m->drainedNow && (m->def.drainStart || m->def.drainEnd))
            emit(pool.def.name, m->def.value, in.drained ? "drain-start" : "drain-end",
                 "member " + m->def.value + (in.drained ? " entered" : " left") +
                     " its scheduled maintenance window");
        m->drainKnown = true;
        m->drainedNow = in.drained;
        if (auto next = nextDrainChange(m->def.drained, m->def.drainStart, m->def.drainEnd, t))
            wake = wake ? std::min(*wake, *next) : *next;
        inputs.push_back(std::move(in));
    }
    Requests req;
    auto reqs = std::move(requests_[pool.def.id]);
    requests_.erase(pool.def.id);
    for (auto& [id, kind] : reqs) (kind == "approve" ? req.approve : req.failback) = true;

    Decision d = decide(policyOf(pool.def), inputs, pool.state, req, t);
    std::optional<int> fromTier = pool.state.decided ? pool.state.activeTier : std::nullopt;
    pool.state = d.next;
    pool.firstDone = true;
    for (auto& [id, kind] : reqs) {
        const std::string& result = kind == "approve" ? d.approveResult : d.failbackResult;
        writer_->requestHandled(id, result);
        emit(pool.def.name, "", kind + "-result", "pool " + pool.def.name + ": " + result);
    }

    zones::DecisionRow row;
    row.served = joinServed(d.served);
    row.ttl = d.ttl;
    row.decidedAt = t;
    row.reason = d.reason;
    row.activeTier = d.activeTier;
    row.allDown = d.allDown;
    row.degraded = d.degraded;
    row.pendingTier = d.pendingTier;
    row.pendingSince = d.pendingSince;
    row.pendingReason = d.pendingReason;
    row.failbackTier = d.failbackTier;
    row.failbackAt = d.failbackAt;
    const auto& w = pool.written;
    bool changed = !pool.haveWritten || w.served != row.served || w.ttl != row.ttl ||
                   w.allDown != row.allDown || w.degraded != row.degraded ||
                   w.activeTier != row.activeTier || w.pendingTier != row.pendingTier ||
                   w.failbackTier != row.failbackTier || w.failbackAt != row.failbackAt ||
                   w.quorumLost != row.quorumLost;
    if (changed) {
        writer_->decision(pool.def.id, row);
        pool.written = row;
        pool.haveWritten = true;
        std::string kind = d.move != Move::None ? moveName(d.move) : "served";
        std::string details = jsonText({{"pool", pool.def.name},
                                        {"owner", pool.def.owner},
                                        {"from_tier", tierJson(fromTier)},
                                        {"to_tier", tierJson(d.activeTier)},
                                        {"served", row.served},
                                        {"ttl", row.ttl},
                                        {"all_down", d.allDown},
                                        {"pending_tier", tierJson(d.pendingTier)},
                                        {"reason", d.reason}});
        emit(pool.def.name, "", kind,
             "pool " + pool.def.name + ": " + d.reason + " -> " +
                 (row.served.empty() ? "NODATA" : row.served) + " ttl " + std::to_string(row.ttl),
             details);
    }
    if (d.recheckAt) wake = wake ? std::min(*wake, *d.recheckAt) : *d.recheckAt;
    if (wake) armPoolTimer(pool, *wake);
}

void Controller::armPoolTimer(PoolRt& pool, int64_t at) {
    int64_t delay = std::max<int64_t>(0, at - now());
    int64_t id = pool.def.id;
    pool.timer.expires_after(std::chrono::milliseconds(delay + 1));
    pool.timer.async_wait([this, id](const boost::system::error_code& ec) {
        if (ec) return;
        auto it = pools_.find(id);
        if (it == pools_.end()) return;
        try {
            decidePool(*it->second);
            writer_->flush();
        } catch (const std::exception& e) {
            log_(Level::Error, std::string("timed decision failed: ") + e.what());
        }
    });
}

void Controller::emit(const std::string& pool, const std::string& member, const std::string& kind,
                      const std::string& message, const std::string& details) {
    EventWrite e;
    e.at = now();
    e.pool = pool;
    e.member = member;
    e.kind = kind;
    e.message = message;
    e.details = details;
    log_(eventLevel(kind), kind + ": " + message);
    if (kind == "failover" || kind == "failback" || kind == "all-down" || kind == "recovered" ||
        kind == "failover-pending" || kind == "quorum-lost" || kind == "quorum-regained")
        runHook(e);
    writer_->event(std::move(e));
}

void Controller::runHook(const EventWrite& e) {
    if (options_.onChange.empty()) return;
    std::string json = zones::eventJson(e.at, e.kind, e.pool, e.message, e.details) + "\n";
    std::vector<std::string> env = {"DNSD_EVENT=" + e.kind, "DNSD_POOL=" + e.pool,
                                    "DNSD_MESSAGE=" + e.message,
                                    "DNSD_EVENT_AT=" + std::to_string(e.at),
                                    "DNSD_EVENT_JSON=" + json.substr(0, json.size() - 1)};
    std::string kind = e.kind;
    startChild(
        io_, options_.onChange, env, json, options_.hookTimeoutMs, true, [this, kind](ChildExit x) {
            if (!x.success())
                log_(Level::Error, "on-change hook for " + kind + " failed: " + x.describe());
        });
}

}  // namespace probes
