#include "tests/support/run_command.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "tests/support/process.hpp"

namespace testsupport {

std::string findProgram(const std::string& name) {
    if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
    path += ":/usr/sbin:/sbin:/usr/bin:/bin";
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
        if (dir.empty()) continue;
        std::string candidate = dir + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return "";
}

CommandResult runCommand(const std::string& program, const std::vector<std::string>& args,
                         const std::vector<std::string>& env, std::chrono::milliseconds timeout) {
    std::string path = findProgram(program);
    if (path.empty()) throw std::runtime_error("program not found: " + program);
    CommandResult result;
    result.command = program;
    for (const auto& a : args) result.command += " '" + a + "'";
    Process process(path, args, env);
    auto status = process.waitExit(timeout);
    if (!status) {
        process.stop();
        throw std::runtime_error(result.command + " did not exit within " +
                                 std::to_string(timeout.count()) + " ms");
    }
    result.exitCode = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    result.out = process.stdoutText();
    result.err = process.stderrText();
    return result;
}

}  // namespace testsupport
