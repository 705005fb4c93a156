#include "probes/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <memory>

extern char** environ;

namespace probes {

namespace asio = boost::asio;

std::string ChildExit::describe() const {
    if (!started) return "cannot start: " + error;
    if (timedOut) return "timeout (killed)";
    if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "status " + std::to_string(status);
}

bool ChildExit::success() const {
    return started && !timedOut && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

namespace {

struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    int release() {
        int f = fd;
        fd = -1;
        return f;
    }
};

class Child : public std::enable_shared_from_this<Child> {
  public:
    Child(asio::io_context& io, pid_t pid, std::function<void(ChildExit)> done)
        : io_(io), pid_(pid), timer_(io), poll_(io), pidfd_(io), done_(std::move(done)) {}

    void watch(int timeoutMs) {
        auto self = shared_from_this();
        timer_.expires_after(std::chrono::milliseconds(timeoutMs));
        timer_.async_wait([self](const boost::system::error_code& ec) {
            if (ec || self->reaped_) return;
            self->timedOut_ = true;
            ::kill(-self->pid_, SIGKILL);  // the whole group: sh and whatever it started
            ::kill(self->pid_, SIGKILL);
        });
        int fd = int(::syscall(SYS_pidfd_open, pid_, 0));
        if (fd >= 0) {
            pidfd_.assign(fd);
            pidfd_.async_wait(asio::posix::stream_descriptor::wait_read,
                              [self](const boost::system::error_code&) { self->reap(true); });
        } else {
            pollLater();
        }
    }

  private:
    void pollLater() {
        auto self = shared_from_this();
        poll_.expires_after(std::chrono::milliseconds(5));
        poll_.async_wait([self](const boost::system::error_code&) { self->reap(false); });
    }
    void reap(bool blocking) {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, blocking ? 0 : WNOHANG);
        if (r == 0) return pollLater();
        reaped_ = true;
        timer_.cancel();
        ChildExit e;
        e.started = true;
        e.timedOut = timedOut_;
        e.status = status;
        if (r < 0) e.error = std::strerror(errno);
        auto done = std::move(done_);
        done(e);
    }

    asio::io_context& io_;
    pid_t pid_;
    asio::steady_timer timer_, poll_;
    asio::posix::stream_descriptor pidfd_;
    std::function<void(ChildExit)> done_;
    bool timedOut_ = false, reaped_ = false;
};

}  // namespace

void startChild(asio::io_context& io, const std::string& command,
                const std::vector<std::string>& env, const std::string& input, int timeoutMs,
                bool inheritOutput, std::function<void(ChildExit)> done) {
    auto fail = [&](const std::string& why) {
        ChildExit e;
        e.error = why;
        asio::post(io, [done, e] { done(e); });
    };
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) return fail(std::string("pipe: ") + std::strerror(errno));
    Fd readEnd(pipeFds[0]), writeEnd(pipeFds[1]);

    std::vector<std::string> envStrings;
    for (char** e = environ; *e; ++e) {
        std::string kv = *e;
        bool overridden = false;
        for (const auto& add : env)
            if (kv.compare(0, kv.find('=') + 1, add, 0, add.find('=') + 1) == 0) overridden = true;
        if (!overridden) envStrings.push_back(kv);
    }
    envStrings.insert(envStrings.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& s : envStrings) envp.push_back(s.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, readEnd.fd, 0);
    if (!inheritOutput) {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::string cmd = command;
    char shell[] = "/bin/sh", dashC[] = "-c";
    char* argv[] = {shell, dashC, cmd.data(), nullptr};
    pid_t pid = -1;
    int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return fail(std::string("spawn /bin/sh: ") + std::strerror(rc));
    ::close(readEnd.release());  // the child holds its copy
    if (!input.empty()) {
        // Small payloads (hook JSON) fit the pipe buffer; never block the loop for a slow reader.
        ::fcntl(writeEnd.fd, F_SETFL, O_NONBLOCK);
        ssize_t ignored = ::write(writeEnd.fd, input.data(), input.size());
        (void)ignored;
    }
    auto child = std::make_shared<Child>(io, pid, std::move(done));
    child->watch(timeoutMs);
}

}  // namespace probes
