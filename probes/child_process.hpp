// probes::ChildProcess — runs `/bin/sh -c COMMAND` without blocking the event loop.
//
// Contract: `start` spawns the child in its own process group with `env` added to ours and
// `input` on its stdin, and calls `done` exactly once on the io_context thread when the child
// has been reaped: with its wait status, or with timedOut after the whole group was killed
// (SIGKILL) at the deadline. Reaping is asynchronous through a pidfd (Linux >= 5.3; a short
// WNOHANG poll otherwise), so no zombie outlives a check and no thread waits for a child.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>
#include <vector>

namespace probes {

struct ChildExit {
    bool started = false;  // false: spawn failed, see error
    bool timedOut = false;
    int status = 0;  // waitpid status
    std::string error;
    std::string describe() const;  // "exit 0", "exit 3", "killed by signal 9", "timeout", ...
    bool success() const;
};

void startChild(boost::asio::io_context& io, const std::string& command,
                const std::vector<std::string>& env, const std::string& input, int timeoutMs,
                bool inheritOutput, std::function<void(ChildExit)> done);

}  // namespace probes
