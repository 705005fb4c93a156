#include "tests/support/net_namespace.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace testsupport {
namespace {

constexpr const char* kLockDir = "/tmp/dnsd-test-netns";
constexpr int kFirstSubnet = 1, kLastSubnet = 250;

CommandResult ip(const std::vector<std::string>& args) {
    return runCommand(NetNamespace::ipProgram(), args, {}, std::chrono::seconds(20));
}

// `ip args...` that must work.
void mustIp(const std::vector<std::string>& args) {
    auto r = ip(args);
    if (!r.ok()) throw std::runtime_error("net namespace: `" + r.command + "` failed: " + r.err);
}

// route_localnet on `dev` and `all`, in the root namespace or in `ns`: 127.0.0.0/8 may then
// cross the veth instead of being dropped as martian.
void mustSysctl(const std::string& ns, const std::string& dev) {
    std::vector<std::string> args = {"-qw", "net.ipv4.conf." + dev + ".route_localnet=1",
                                     "net.ipv4.conf.all.route_localnet=1"};
    std::string program = findProgram("sysctl");
    if (!ns.empty()) {
        args.insert(args.begin(), {"netns", "exec", ns, program});
        program = NetNamespace::ipProgram();
    }
    auto r = runCommand(program, args, {}, std::chrono::seconds(20));
    if (!r.ok()) throw std::runtime_error("net namespace: `" + r.command + "` failed: " + r.err);
}

std::string firstLine(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    size_t nl = text.find('\n');
    return nl == std::string::npos ? text : text.substr(0, nl);
}

}  // namespace

std::string NetNamespace::ipProgram() {
    static const std::string path = findProgram("ip");
    return path;
}

std::string NetNamespace::unavailable() {
    static std::once_flag once;
    static std::string reason;
    std::call_once(once, [] {
        if (::geteuid() != 0) {
            reason = "network namespaces need root (the vantage scenarios run agents in their own)";
            return;
        }
        if (ipProgram().empty()) {
            reason = "`ip` (Debian package iproute2) is not installed";
            return;
        }
        std::string probe = "dnsd-check-" + std::to_string(::getpid());
        auto add = ip({"netns", "add", probe});
        if (!add.ok()) {
            reason = "cannot create a network namespace: " + firstLine(add.err);
            return;
        }
        ip({"netns", "del", probe});
    });
    return reason;
}

NetNamespace::NetNamespace(const std::string& label) : label_(label) {
    if (std::string why = unavailable(); !why.empty()) throw std::runtime_error(why);
    claimSubnet();
    std::string n = std::to_string(subnet_), pid = std::to_string(::getpid());
    name_ = "dnsd-" + label_ + "-" + pid + "-" + n;
    hostVeth_ = "dn" + n + "-" + pid;  // <= 13 characters (IFNAMSIZ is 16 with the NUL)
    innerVeth_ = hostVeth_ + "n";
    hostAddress_ = "127.201." + n + ".1";
    address_ = "127.201." + n + ".2";
    try {
        create();
    } catch (...) {
        destroy();
        throw;
    }
}

NetNamespace::~NetNamespace() {
    destroy();
}

// Takes the first /30 whose lock file nobody holds. A lock dies with its holder, so a crashed
// run frees its /30, but its file still names what that run created: every free /30's leftovers
// are removed on the way, so a crash costs the next test nothing.
void NetNamespace::claimSubnet() {
    std::filesystem::create_directories(kLockDir);
    for (int n = kFirstSubnet; n <= kLastSubnet; ++n) {
        std::string path = std::string(kLockDir) + "/127.201." + std::to_string(n) + ".0";
        UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        if (!fd.valid()) throw std::runtime_error("net namespace: cannot open " + path);
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
        std::string recorded(4096, '\0');
        ssize_t got = ::pread(fd.get(), recorded.data(), recorded.size(), 0);
        recorded.resize(got > 0 ? size_t(got) : 0);
        if (!recorded.empty()) {
            removeLeftovers(recorded);
            if (::ftruncate(fd.get(), 0) != 0)
                throw std::runtime_error("net namespace: cannot clear " + path);
        }
        if (!lock_.valid()) {
            subnet_ = n;
            lock_ = std::move(fd);
        }
    }
    if (!lock_.valid())
        throw std::runtime_error("net namespace: all of 127.201.1-250.0/30 are in use");
}

// `recorded` is "NAMESPACE HOST-VETH" of the last holder of a /30 that died before its
// destructor ran.
void NetNamespace::removeLeftovers(const std::string& recorded) {
    std::istringstream in(recorded);
    std::string oldName, oldVeth;
    if (in >> oldName >> oldVeth) {
        ip({"link", "del", oldVeth});
        ip({"netns", "del", oldName});
    }
}

void NetNamespace::create() {
    // Same names as ours: a crashed run of a process with our pid.
    ip({"link", "del", hostVeth_});
    ip({"netns", "del", name_});
    std::string record = name_ + " " + hostVeth_ + "\n";
    if (::ftruncate(lock_.get(), 0) != 0 ||
        ::pwrite(lock_.get(), record.data(), record.size(), 0) != ssize_t(record.size()))
        throw std::runtime_error("net namespace: cannot write its lock file: " +
                                 std::string(std::strerror(errno)));

    std::string hostNet = hostAddress_ + "/30", inner = address_ + "/30";
    mustIp({"netns", "add", name_});
    mustIp({"link", "add", hostVeth_, "type", "veth", "peer", "name", innerVeth_});
    mustIp({"link", "set", innerVeth_, "netns", name_});
    mustIp({"addr", "add", hostNet, "dev", hostVeth_});
    mustIp({"link", "set", hostVeth_, "up"});
    mustSysctl({}, hostVeth_);
    mustIp({"-n", name_, "addr", "add", inner, "dev", innerVeth_});
    mustIp({"-n", name_, "link", "set", innerVeth_, "up"});
    mustSysctl(name_, innerVeth_);
    // Without `src` the namespace would send from 0.0.0.0 (lo is down), a martian.
    mustIp({"-n", name_, "route", "add", "default", "via", hostAddress_, "dev", innerVeth_, "src",
            address_});
    mustIp({"route", "add", address_ + "/32", "dev", hostVeth_, "table", "local", "src",
            hostAddress_});
}

void NetNamespace::destroy() noexcept {
    try {
        // Deleting the veth is synchronous (peer and routes go with it); a namespace's own
        // teardown is not, so the link is not left to `netns del`.
        if (!hostVeth_.empty()) ip({"link", "del", hostVeth_});
        if (!name_.empty()) ip({"netns", "del", name_});
        // Nothing left for the next holder of this /30 to remove (if this fails, it merely
        // tries to delete names that no longer exist).
        if (lock_.valid() && ::ftruncate(lock_.get(), 0) != 0)
            std::cerr << "net namespace " << name_ << ": cannot clear its lock file\n";
    } catch (const std::exception& e) {
        std::cerr << "net namespace " << name_ << ": cleanup failed: " << e.what() << "\n";
    }
    lock_.reset();  // releases the /30
}

void NetNamespace::cut(const std::string& addr) {
    mustIp({"-n", name_, "route", "replace", "blackhole", addr + "/32"});
}

void NetNamespace::restore(const std::string& addr) {
    mustIp({"-n", name_, "route", "del", "blackhole", addr + "/32"});
}

std::vector<std::string> NetNamespace::execArgs(const std::string& program,
                                                const std::vector<std::string>& args) const {
    std::vector<std::string> out = {"netns", "exec", name_, program};
    out.insert(out.end(), args.begin(), args.end());
    return out;
}

std::unique_ptr<Process> NetNamespace::spawn(const std::string& program,
                                             const std::vector<std::string>& args,
                                             const std::vector<std::string>& env,
                                             const std::string& logDir) const {
    return std::make_unique<Process>(ipProgram(), execArgs(program, args), env, logDir);
}

CommandResult NetNamespace::run(const std::string& program, const std::vector<std::string>& args,
                                std::chrono::milliseconds timeout) const {
    return runCommand(ipProgram(), execArgs(program, args), {}, timeout);
}

}  // namespace testsupport
