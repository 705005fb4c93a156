// testsupport::Process — a real binary started for a test, stopped when the test ends.
//
// Contract: the constructor posix_spawns `program` with `args` (argv[0] is added) and the
// current environment plus `env` ("NAME=value" entries, overriding inherited ones), with
// stdin from /dev/null and stdout/stderr redirected to files in `logDir` (a private temp dir
// when empty); it throws if the spawn fails. The destructor sends SIGTERM, waits up to 5 s,
// then SIGKILLs and reaps, so no test leaves a server behind. Move-only.
#pragma once

#include <sys/types.h>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace testsupport {

class Process {
  public:
    Process(std::string program, std::vector<std::string> args, std::vector<std::string> env = {},
            std::filesystem::path logDir = {});
    ~Process();
    Process(Process&& other) noexcept;
    Process& operator=(Process&&) = delete;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    // True while the child has not exited (reaps it when it has).
    bool alive();
    // Waits for the child to exit by itself; returns its wait status or nullopt on timeout.
    std::optional<int> waitExit(std::chrono::milliseconds timeout);
    // SIGTERM, grace period, SIGKILL; returns the wait status. Idempotent.
    int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

    std::string stdoutText() const;
    std::string stderrText() const;
    const std::string& program() const { return program_; }
    // "program args..." and the tail of stderr, for assertion messages.
    std::string describe() const;

  private:
    bool reap(bool block);

    std::string program_;
    std::vector<std::string> args_;
    std::unique_ptr<TempDir> ownLogDir_;
    std::filesystem::path stdoutPath_;
    std::filesystem::path stderrPath_;
    pid_t pid_ = -1;
    std::optional<int> status_;
};

}  // namespace testsupport
