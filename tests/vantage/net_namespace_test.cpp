// The namespace harness itself (tests/support/net_namespace.hpp): a listener on 127.0.0.41 in
// the root namespace is reached from inside through the veth (its peer is the namespace's own
// address), not after cut(), again after restore(), and nothing is left after the destructor.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/net_namespace.hpp"
#include "tests/support/unique_fd.hpp"
#include "tests/support/wait_until.hpp"

namespace vantage {
namespace {

using namespace testsupport;
using namespace std::chrono_literals;

constexpr const char* kBackend = "127.0.0.41";

// A TCP listener on kBackend (port chosen by the kernel) that reports who connected.
class Listener {
  public:
    Listener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        inet_pton(AF_INET, kBackend, &a.sin_addr);
        socklen_t len = sizeof a;
        if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 ||
            ::listen(fd_.get(), 16) != 0 ||
            ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.41");
        port_ = ntohs(a.sin_port);
    }
    uint16_t port() const { return port_; }
    // The address of the next connection accepted within `timeout`, or "" if none came.
    std::string acceptPeer(std::chrono::milliseconds timeout = 3s) {
        std::string peer;
        waitUntil(
            [&] {
                sockaddr_in from{};
                socklen_t len = sizeof from;
                UniqueFd c(
                    ::accept4(fd_.get(), reinterpret_cast<sockaddr*>(&from), &len, SOCK_CLOEXEC));
                if (!c.valid()) return false;
                char text[INET_ADDRSTRLEN] = {};
                inet_ntop(AF_INET, &from.sin_addr, text, sizeof text);
                peer = text;
                return true;
            },
            timeout);
        return peer;
    }

  private:
    UniqueFd fd_;
    uint16_t port_ = 0;
};

// Opens a TCP connection to kBackend:port from inside `ns` (bash's /dev/tcp, 3 s limit).
CommandResult connectFrom(const NetNamespace& ns, uint16_t port) {
    return ns.run("timeout",
                  {"3", "bash", "-c",
                   "exec 3<>/dev/tcp/" + std::string(kBackend) + "/" + std::to_string(port)});
}

// Everything the harness makes, as `ip` lists it: "" once all of it is gone.
std::string traces(const std::string& name, const std::string& veth, const std::string& inner) {
    std::string found;
    auto netns = runCommand(NetNamespace::ipProgram(), {"netns", "list"});
    if (netns.out.find(name) != std::string::npos) found += "namespace " + name + "; ";
    auto links = runCommand(NetNamespace::ipProgram(), {"-o", "link", "show"});
    if (links.out.find(veth + "@") != std::string::npos ||
        links.out.find(veth + ":") != std::string::npos)
        found += "link " + veth + "; ";
    auto local = runCommand(NetNamespace::ipProgram(), {"route", "show", "table", "local"});
    if (local.out.find(inner + " dev " + veth + " ") != std::string::npos)
        found += "local route to " + inner + "; ";
    return found;
}

TEST(NetNamespace, CutAndRestoreOneAddressAndLeaveNothingBehind) {
    if (std::string why = NetNamespace::unavailable(); !why.empty()) GTEST_SKIP() << why;
    Listener backend;
    std::string name, veth, inner;
    {
        NetNamespace ns("selftest");
        name = ns.name();
        veth = ns.hostVeth();
        inner = ns.address();
        EXPECT_LE(veth.size() + 1, 15u) << veth;  // the inner end is veth + "n"
        EXPECT_EQ(inner.rfind("127.201.", 0), 0u) << inner;

        auto first = connectFrom(ns, backend.port());
        ASSERT_TRUE(first.ok()) << first.command << "\n" << first.err;
        EXPECT_EQ(backend.acceptPeer(), inner) << "the connection did not come through the veth";

        ns.cut(kBackend);
        auto cut = connectFrom(ns, backend.port());
        EXPECT_FALSE(cut.ok()) << "still reachable after cut: " << cut.command;
        // connect() failed at once, so nothing can still be on its way.
        EXPECT_EQ(backend.acceptPeer(0ms), "");

        ns.restore(kBackend);
        auto again = connectFrom(ns, backend.port());
        ASSERT_TRUE(again.ok()) << again.command << "\n" << again.err;
        EXPECT_EQ(backend.acceptPeer(), inner);

        // The cut is this namespace's alone: the root namespace still reaches the backend.
        ns.cut(kBackend);
        auto root = runCommand("timeout", {"3", "bash", "-c",
                                           "exec 3<>/dev/tcp/" + std::string(kBackend) + "/" +
                                               std::to_string(backend.port())});
        EXPECT_TRUE(root.ok()) << root.err;
        EXPECT_EQ(backend.acceptPeer(), "127.0.0.1");
        EXPECT_NE(traces(name, veth, inner), "");
    }
    EXPECT_EQ(traces(name, veth, inner), "") << "left behind by the destructor";
}

TEST(NetNamespace, TwoAtOnceGetTheirOwnSubnets) {
    if (std::string why = NetNamespace::unavailable(); !why.empty()) GTEST_SKIP() << why;
    Listener backend;
    NetNamespace a("one"), b("two");
    EXPECT_NE(a.address(), b.address());
    EXPECT_NE(a.name(), b.name());
    b.cut(kBackend);
    EXPECT_TRUE(connectFrom(a, backend.port()).ok());
    EXPECT_EQ(backend.acceptPeer(), a.address());
    EXPECT_FALSE(connectFrom(b, backend.port()).ok());
}

TEST(NetNamespace, WhatACrashedRunLeftIsRemovedByTheNext) {
    if (std::string why = NetNamespace::unavailable(); !why.empty()) GTEST_SKIP() << why;
    // A child process makes a namespace and dies without running its destructor.
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(out[0]);
        std::string names;
        try {
            auto* leaked = new NetNamespace("crash");
            names = leaked->name() + " " + leaked->hostVeth() + " " + leaked->address();
        } catch (const std::exception& e) {
            names = std::string("error ") + e.what();
        }
        ssize_t ignored = ::write(out[1], names.data(), names.size());
        (void)ignored;
        ::_exit(0);
    }
    ::close(out[1]);
    std::string names;
    char buf[512];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) names.append(buf, size_t(n));
    ::close(out[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    std::istringstream words(names);
    std::string name, veth, inner;
    ASSERT_TRUE(words >> name >> veth >> inner) << names;
    ASSERT_NE(name, "error") << names;
    ASSERT_NE(traces(name, veth, inner), "") << "the crashed run left nothing to clean up";

    NetNamespace next("next");
    EXPECT_EQ(traces(name, veth, inner), "") << "not removed by the next NetNamespace";
    Listener backend;
    EXPECT_TRUE(connectFrom(next, backend.port()).ok());
    EXPECT_EQ(backend.acceptPeer(), next.address());
}

}  // namespace
}  // namespace vantage
