#include "tests/support/process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "tests/support/wait_until.hpp"

extern char** environ;

namespace testsupport {
namespace {

std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Merges `overrides` ("NAME=value") into the inherited environment.
std::vector<std::string> mergedEnvironment(const std::vector<std::string>& overrides) {
    std::map<std::string, std::string> vars;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string entry(*e);
        vars[entry.substr(0, entry.find('='))] = entry;
    }
    for (const auto& entry : overrides) vars[entry.substr(0, entry.find('='))] = entry;
    std::vector<std::string> out;
    for (auto& [name, entry] : vars) out.push_back(std::move(entry));
    return out;
}

struct FileActions {
    posix_spawn_file_actions_t actions;
    FileActions() { posix_spawn_file_actions_init(&actions); }
    ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
};

}  // namespace

Process::Process(std::string program, std::vector<std::string> args, std::vector<std::string> env,
                 std::filesystem::path logDir)
    : program_(std::move(program)), args_(std::move(args)) {
    if (logDir.empty()) {
        ownLogDir_ = std::make_unique<TempDir>("dnsd-proc");
        logDir = ownLogDir_->path();
    }
    // Several processes may share one log dir; a counter keeps their files apart.
    static std::atomic<int> counter{0};
    std::string stem = std::filesystem::path(program_).filename().string() + "." +
                       std::to_string(counter.fetch_add(1));
    stdoutPath_ = logDir / (stem + ".stdout");
    stderrPath_ = logDir / (stem + ".stderr");

    FileActions fa;
    posix_spawn_file_actions_addopen(&fa.actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa.actions, 1, stdoutPath_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa.actions, 2, stderrPath_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);

    std::vector<std::string> argvStrings;
    argvStrings.push_back(program_);
    argvStrings.insert(argvStrings.end(), args_.begin(), args_.end());
    std::vector<char*> argv;
    for (auto& s : argvStrings) argv.push_back(s.data());
    argv.push_back(nullptr);
    std::vector<std::string> envStrings = mergedEnvironment(env);
    std::vector<char*> envp;
    for (auto& s : envStrings) envp.push_back(s.data());
    envp.push_back(nullptr);

    int rc = posix_spawn(&pid_, program_.c_str(), &fa.actions, nullptr, argv.data(), envp.data());
    if (rc != 0) {
        pid_ = -1;
        throw std::runtime_error("posix_spawn(" + program_ + "): " + std::strerror(rc));
    }
}

Process::Process(Process&& other) noexcept
    : program_(std::move(other.program_)),
      args_(std::move(other.args_)),
      ownLogDir_(std::move(other.ownLogDir_)),
      stdoutPath_(std::move(other.stdoutPath_)),
      stderrPath_(std::move(other.stderrPath_)),
      pid_(other.pid_),
      status_(other.status_) {
    other.pid_ = -1;
}

Process::~Process() {
    if (pid_ > 0) stop();
}

bool Process::reap(bool block) {
    if (status_) return true;
    if (pid_ <= 0) return true;
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) {
        status_ = status;
        return true;
    }
    return r < 0;  // ECHILD: someone else reaped it; treat as gone
}

bool Process::alive() {
    return !reap(false);
}

std::optional<int> Process::waitExit(std::chrono::milliseconds timeout) {
    if (!waitUntil([&] { return reap(false); }, timeout)) return std::nullopt;
    return status_.value_or(-1);
}

int Process::stop(std::chrono::milliseconds grace) {
    if (pid_ <= 0) return status_.value_or(-1);
    if (!reap(false)) {
        ::kill(pid_, SIGTERM);
        if (!waitUntil([&] { return reap(false); }, grace)) {
            ::kill(pid_, SIGKILL);
            reap(true);
        }
    }
    return status_.value_or(-1);
}

std::string Process::stdoutText() const {
    return readFile(stdoutPath_);
}
std::string Process::stderrText() const {
    return readFile(stderrPath_);
}

std::string Process::describe() const {
    std::string out = program_;
    for (const auto& a : args_) out += " " + a;
    if (status_) {
        if (WIFEXITED(*status_)) out += " [exited " + std::to_string(WEXITSTATUS(*status_)) + "]";
        if (WIFSIGNALED(*status_)) out += " [signal " + std::to_string(WTERMSIG(*status_)) + "]";
    }
    std::string err = stderrText();
    if (err.size() > 4000) err = "..." + err.substr(err.size() - 4000);
    return out + "\n--- stderr ---\n" + err;
}

}  // namespace testsupport
