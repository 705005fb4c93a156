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
// Several vantage points (probes/README.md "Vantage points and quorum"): the controller's own
// checks are the vantage 'local' (unless `localVantage` is false); remote agents connect to
// `agentsListen` (AgentServer) and report results of the same checks. Each vantage keeps its
// own rise/fall per (member, probe); a member's health is the pool's quorum of the views
// (probes/quorum.hpp); a pool with too few vantages reporting keeps its last decision and is
// marked quorum lost. With 'local' alone everything is as it was with one prober.
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

#include "probes/agent_protocol.hpp"
#include "probes/check_runner.hpp"
#include "probes/check_scheduler.hpp"
#include "probes/controller_lock.hpp"
#include "probes/daemon_log.hpp"
#include "probes/db_writer.hpp"
#include "probes/hysteresis.hpp"
#include "probes/policy.hpp"
#include "probes/quorum.hpp"
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
    bool localVantage = true;           // our own checks count as the vantage 'local'
    std::string agentsListen;           // ADDR:PORT for remote agents; "" = none
    int64_t agentMaxSkewMs = 30000;     // agents' clocks may differ from ours this much
    // Each request from an agent refused, by kind (metrics).
    std::function<void(const std::string& kind)> agentRefused;
};

class AgentServer;
struct AgentRequest;

class Controller {
  public:
    Controller(boost::asio::io_context& io, ControllerOptions options, LogSink log);
    ~Controller();
    // Opens the database (throws with a clear message if it cannot) and starts everything.
    void start();
    // Final flush (on SIGTERM), then gives up the role: the lock and, in the database, the pid.
    void stop();

    // The port agents connect to (after start; 0 without --agents-listen).
    uint16_t agentsPort() const;

  private:
    struct CheckRt;
    struct MemberRt;
    struct PoolRt;
    struct VantageRt;

    int64_t now() const;
    void reload();
    void reloadVantages();
    void poll();
    void tick();
    void sweep();  // every 100 ms: vantages gone silent, views gone stale, quorum lost
    void startAgents();
    void stopAgents();
    void writeVantages();                          // the vantages rows, every tick
    void setChecks(std::vector<CheckSpec> specs);  // what every vantage checks
    // One result of one vantage (index into vantages_), at `at` ms on our clock.
    void onVantageResult(int vantage, int64_t memberId, int64_t probeId, const CheckResult& r,
                         int64_t at);
    // Recomputes one vantage's view of a member; true if its health changed.
    bool refreshView(MemberRt& member, int vantage, int64_t t, const std::string& cause);
    // The member's health from the views (quorum); true if its pool must decide again
    // (health or failing changed).
    bool evaluateMember(MemberRt& member, const std::string& cause);
    void setMemberHealth(MemberRt& member, Health health, const std::string& cause);
    // The quorum's verdict on a member from the views of the vantages configured now.
    QuorumOutcome memberQuorum(const MemberRt& member) const;
    std::string viewsText(const MemberRt& member) const;  // "up 2/3: fra up, nyc up, sin DOWN"
    int configuredVantages() const;
    int64_t startupGraceMs() const;  // agents reconnecting after our start are not silent yet
    int liveVantages() const;
    bool multiVantage() const;
    bool poolQuorumLost(const PoolRt& pool) const;
    void holdForQuorum(PoolRt& pool, int64_t t);  // too few vantages: keep the last decision
    AgentConfig agentConfig() const;
    AgentReply onReport(const AgentRequest& request, AgentReport&& report);
    void onRefused(const std::string& vantage, const std::string& kind, const std::string& message);
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
    std::unique_ptr<CheckScheduler> scheduler_;  // the 'local' vantage's checks
    std::unique_ptr<AgentServer> agents_;
    boost::asio::steady_timer pollTimer_, tickTimer_, sweepTimer_;
    int64_t startedAt_ = 0;
    int64_t lastPrune_ = 0;
    zones::DbWatch watch_;  // dnsctl's commits, and the file deleted or replaced under us
    bool dbGoneLogged_ = false;
    bool flushPosted_ = false;
    std::string scratch_;  // reused for the last-result message (no allocation per check)
    std::map<int64_t, zones::ProbeDef> probes_;
    std::map<int64_t, std::unique_ptr<PoolRt>> pools_;
    std::map<int64_t, std::unique_ptr<MemberRt>> members_;
    std::map<std::pair<int64_t, int64_t>, std::unique_ptr<CheckRt>> checks_;  // (member, probe)
    // Index 0 is 'local'. Entries are never erased (a deleted vantage is marked), so indices
    // stay valid in every check and view, and names stay valid in queued observations.
    std::vector<std::unique_ptr<VantageRt>> vantages_;
    std::map<std::string, int> vantageIndex_;
    std::vector<CheckSpec> specs_;  // what every vantage checks
    std::string configVersion_;
    int64_t configSerial_ = 0;
    int reportMs_ = 1000;  // agents report at least this often; silent after 3 of them
    std::map<int64_t, std::vector<std::pair<int64_t, std::string>>>
        requests_;  // pool -> (id, kind)
};

}  // namespace probes
