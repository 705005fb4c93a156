// dnsd::ControlThread — watches the database and publishes new served state.
//
// Contract: polls PRAGMA data_version every `pollMs` (cheap: no disk read when nothing
// changed) and on `requestReload()`. A change is built off the I/O threads and published
// with one swap; a failed build is logged, counted, and the previous state keeps serving.
// Old states are released here, never on an I/O thread. With `enableDnssecMaintenance` it
// also runs the DNSSEC key life cycle (zones::DnssecMaintenance: ZSK rolls, signature
// refresh) every interval on its own read-write connection: dnsd runs as the key owner, so a
// new ZSK's private file is written here; what a step changes reaches the served state
// through the ordinary reload (its commit moves data_version).
#pragma once

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "dnsd/served_state.hpp"
#include "dnsd/state_loader.hpp"

namespace dnsd {

class ControlThread {
  public:
    ControlThread(std::unique_ptr<StateLoader> loader, StateHolder& state, int pollMs,
                  const std::atomic<bool>& stop);
    void run();
    void requestReload() { reload_.store(true); }
    // Call before run(). `databasePath` as dnsd opened it.
    void enableDnssecMaintenance(std::string databasePath, int intervalMs);
    uint64_t failures() const { return failures_.load(); }
    // dnsd-probe's last heartbeat (ms) as last read, or -1.
    int64_t lastHeartbeat() const { return heartbeat_.load(); }
    // Zones that could not be signed at the last reload, with why (for metrics).
    std::map<std::string, std::string> signingProblems() const {
        std::lock_guard lock(problemsMutex_);
        return loggedProblems_;
    }
    // A heartbeat older than this means dnsd-probe is not running: dnsd keeps serving the
    // last decisions (fail-static) and says so.
    static constexpr int64_t kControllerStaleMs = 5000;

  private:
    void reloadOnce(bool force);
    void checkController();
    void logSigningProblems();
    void maintainDnssec();

    std::unique_ptr<StateLoader> loader_;
    StateHolder& state_;
    int pollMs_;
    const std::atomic<bool>& stop_;
    std::atomic<bool> reload_{false};
    std::atomic<uint64_t> failures_{0};
    std::atomic<int64_t> heartbeat_{-1};
    std::string lastError_;
    std::map<std::string, std::string> loggedProblems_;
    mutable std::mutex problemsMutex_;
    int64_t lastControllerCheck_ = 0;
    // What was last logged about dnsd-probe: each change is logged once.
    enum class Controller { Unknown, NeverRan, Fresh, Stale };
    Controller controllerState_ = Controller::Unknown;
    bool fileProblem_ = false;
    std::string dnssecPath_;
    int dnssecIntervalMs_ = 0;  // 0 = no DNSSEC maintenance
    int64_t lastDnssecRun_ = 0;
    std::unique_ptr<SQLite::Database> dnssecDb_;
    std::string dnssecError_;
};

}  // namespace dnsd
