// probes::ControllerLock — the controller role on one database: at most one dnsd-probe
// decides for a database at a time, since two would fight over every decision.
//
// Contract: `tryAcquire` takes an exclusive flock(2) on "<database>-probe.lock" (created
// beside the database, mode 0644, never deleted) and returns nullopt if another process holds
// it. The kernel drops the lock when the holder's last descriptor closes, which happens when
// it exits however it exits (clean stop, crash, SIGKILL) and before it is reaped, so
// neither a stale heartbeat, a zombie nor a reused PID can keep the role (the heartbeat row
// stays the database's *view* of the controller, for dnsd and dnsctl). The descriptor is
// close-on-exec, so hooks and exec checks do not inherit the role, and flock locks are
// independent of SQLite's POSIX locks on the database file. Throws std::runtime_error naming
// the file if it cannot be created or opened.
#pragma once

#include <optional>
#include <string>

#include "common/fd.hpp"

namespace probes {

class ControllerLock {
  public:
    static std::optional<ControllerLock> tryAcquire(const std::string& dbPath);
    static std::string pathFor(const std::string& dbPath) { return dbPath + "-probe.lock"; }
    const std::string& path() const { return path_; }

  private:
    ControllerLock(std::string path, common::Fd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
    std::string path_;
    common::Fd fd_;  // the lock lives as long as this descriptor
};

}  // namespace probes
