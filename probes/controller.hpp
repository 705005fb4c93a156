// probes::Controller — dnsd-probe's health monitor and failover controller.
//
// Contract: `start` takes the controller role for the database (ControllerLock: refused
// while another dnsd-probe holds it, free the moment the holder exits); then, on one
// io_context thread, it (1) loads pools, members and probes from the database and keeps
// one check slot per (member, probe) pair running on its own interval;
// (2) folds results through rise/fall hysteresis into member health (all of a member's
// probes must pass); (3) once every check of a pool has reported (one full round), calls
// the pure policy (probes/policy.hpp) and writes the decision, state transitions and events
// at once, observations in batches; (4) polls PRAGMA data_version so changes made by dnsctl
// (definitions, drain/force, approve/failback requests) take effect within `pollMs`, and
// stops the checks of deleted probes and members; (5) writes a heartbeat every second;
// (6) runs the --on-change hook for every failover, failback, all-down and recovery.
// Nothing here throws out of a handler: errors are logged and the loop continues.
#pragma once

#include <SQLiteCpp/Database.h>
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "probes/check_runner.hpp"
#include "probes/controller_lock.hpp"
#include "probes/daemon_log.hpp"
#include "probes/db_writer.hpp"
#include "probes/hysteresis.hpp"
#include "probes/policy.hpp"
#include "zones/db_watch.hpp"
#include "zones/pool_store.hpp"
#include "zones/probe_store.hpp"

namespace probes {

struct ControllerOptions {
    std::string dbPath;
    std::string onChange;  // hook command, "" = none
    int pollMs = 100;
    int heartbeatMs = 1000;
    int64_t keepObservationsMs = 3600 * 1000;
    int64_t keepEventsMs = int64_t(30) * 86400 * 1000;  // 0 = keep every event
    int hookTimeoutMs = 30000;
    std::function<int64_t()> clock;     // ms since epoch; zones::nowMs when empty
    std::function<void()> writeFailed;  // each time database writes start failing (metrics)
};

class Controller {
  public:
    Controller(boost::asio::io_context& io, ControllerOptions options, LogSink log);
    ~Controller();
    // Opens the database (throws with a clear message if it cannot) and starts everything.
    void start();
    // Final flush (on SIGTERM), then gives up the role: the lock and, in the database, the pid.
    void stop();

  private:
    struct Slot;
    struct MemberRt;
    struct PoolRt;

    int64_t now() const;
    void reload();
    void poll();
    void tick();
    void startSlot(const std::shared_ptr<Slot>& slot);  // at slot->nextStart
    void onResult(const std::shared_ptr<Slot>& slot, const CheckResult& result);
    void updateMemberHealth(MemberRt& member, const std::string& cause);
    bool poolReady(const PoolRt& pool) const;
    void decidePool(PoolRt& pool);
    void armPoolTimer(PoolRt& pool, int64_t at);
    // Commits what is queued once the results already queued in the loop are handled.
    void flushSoon();
    void emit(const std::string& pool, const std::string& member, const std::string& kind,
              const std::string& message, const std::string& details = "{}");
    void runHook(const EventWrite& event);
    // Notices the database file being deleted or replaced under us (logs; reopens a replacement).
    void checkDatabaseFile();
    void releaseRole();

    boost::asio::io_context& io_;
    ControllerOptions options_;
    LogSink log_;
    std::optional<ControllerLock> lock_;  // held from start() to stop(): we are the controller
    std::unique_ptr<SQLite::Database> db_;
    std::unique_ptr<DbWriter> writer_;
    std::unique_ptr<CheckRunner> runner_;
    boost::asio::steady_timer pollTimer_, tickTimer_;
    int64_t startedAt_ = 0;
    int64_t lastPrune_ = 0;
    zones::DbWatch watch_;  // dnsctl's commits, and the file deleted or replaced under us
    bool dbGoneLogged_ = false;
    bool flushPosted_ = false;
    std::string scratch_;  // reused for the last-result message (no allocation per check)
    std::map<int64_t, zones::ProbeDef> probes_;
    std::map<int64_t, std::unique_ptr<PoolRt>> pools_;
    std::map<int64_t, std::unique_ptr<MemberRt>> members_;
    std::map<std::pair<int64_t, int64_t>, std::shared_ptr<Slot>> slots_;  // (member, probe)
    std::map<int64_t, std::vector<std::pair<int64_t, std::string>>>
        requests_;  // pool -> (id, kind)
};

}  // namespace probes
