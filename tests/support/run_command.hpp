// testsupport::runCommand — run any program once, wait for it, and collect what it said.
//
// Contract: `program` is a path, or a bare name looked up in $PATH and then /usr/sbin and
// /sbin (where Debian puts nsd-checkzone). The child gets the test's environment plus `env`
// ("NAME=value" overrides; "NAME=" makes a variable empty), stdin from /dev/null. If it does not
// exit within `timeout` it is killed and runCommand throws. `findProgram` returns "" when a
// program is not installed, so tests can say so instead of failing obscurely.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace testsupport {

struct CommandResult {
    int exitCode = -1;  // -1 if it died from a signal
    std::string out;
    std::string err;
    std::string command;  // the command line, for assertion messages
    bool ok() const { return exitCode == 0; }
};

CommandResult runCommand(const std::string& program, const std::vector<std::string>& args,
                         const std::vector<std::string>& env = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

std::string findProgram(const std::string& name);

}  // namespace testsupport
