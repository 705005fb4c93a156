// The cheap paths of the probe engine (issue 4) still say the same things: a TCP check on a
// raw socket connects for real and leaves no TIME_WAIT behind (closed with a RST), refused and
// unreachable results read as before, and the check histogram counted in bulk (the follower's
// SQL aggregate) renders exactly like one call per check.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "probes/check_runner.hpp"
#include "probes/probe_metrics.hpp"
#include "tests/probes/fake_backends.hpp"
#include "tests/support/wait_until.hpp"

namespace {

using namespace std::chrono_literals;
using fakes::Backend;
using probes::CheckResult;
using probes::CheckRunner;

zones::ProbeDef tcpProbe(int port) {
    zones::ProbeDef p;
    p.name = "t";
    p.type = "tcp";
    p.port = port;
    p.intervalMs = 1000;
    p.timeoutMs = 500;
    return p;
}

CheckResult runCheck(const zones::ProbeDef& probe, const std::string& member) {
    boost::asio::io_context io;
    CheckRunner runner(io);
    std::optional<CheckResult> result;
    int calls = 0;
    runner.run(probe, member, [&](CheckResult r) {
        ++calls;
        result = r;
    });
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!result && std::chrono::steady_clock::now() < deadline) io.run_one_for(50ms);
    io.run_for(20ms);  // nothing may report twice
    EXPECT_EQ(calls, 1);
    return result.value_or(CheckResult{});
}

// TCP sockets in /proc/net/tcp with this local or remote address and port, by state (hex,
// 06 = TIME_WAIT). The address too: a test running beside this one may use the same port
// number on another loopback address, and its TIME_WAITs are not ours.
std::vector<std::string> socketStates(const char* address, uint16_t port) {
    std::ifstream in("/proc/net/tcp");
    std::string line;
    std::getline(in, line);
    std::vector<std::string> out;
    in_addr a{};
    ::inet_pton(AF_INET, address, &a);
    char hex[24];
    std::snprintf(hex, sizeof hex, "%08X:%04X", a.s_addr, port);  // as the kernel prints it
    while (std::getline(in, line)) {
        std::istringstream s(line);
        std::string sl, local, remote, state;
        s >> sl >> local >> remote >> state;
        if (local.find(hex) != std::string::npos || remote.find(hex) != std::string::npos)
            out.push_back(state);
    }
    return out;
}

TEST(TcpCheckEngine, ConnectsForRealAndLeavesNoTimeWait) {
    Backend b("127.0.0.21", Backend::Kind::Tcp);
    for (int i = 0; i < 5; ++i) {
        CheckResult r = runCheck(tcpProbe(b.port()), "127.0.0.21");
        EXPECT_TRUE(r.ok) << r.message;
        EXPECT_EQ(r.message, "connected");
        EXPECT_GT(r.latencyUs, 0);
        EXPECT_LT(r.latencyUs, 500000);
    }
    EXPECT_TRUE(testsupport::waitUntil([&] { return b.accepted() >= 5; }, 3s)) << b.accepted();
    // A FIN close would leave one TIME_WAIT (state 06) per check on one side or the other.
    EXPECT_TRUE(testsupport::waitUntil(
        [&] {
            auto states = socketStates("127.0.0.21", b.port());
            return std::count(states.begin(), states.end(), "06") == 0;
        },
        2s));
    auto states = socketStates("127.0.0.21", b.port());
    EXPECT_EQ(std::count(states.begin(), states.end(), "06"), 0)
        << "TIME_WAIT sockets left by the checks";
}

TEST(TcpCheckEngine, RefusedAndBadTargetsReadAsBefore) {
    Backend b("127.0.0.22", Backend::Kind::Tcp);
    uint16_t port = b.port();
    b.stop();
    CheckResult r = runCheck(tcpProbe(port), "127.0.0.22");
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.message, "connect: Connection refused");
    // Port 0 cannot be connected to: an error result, never a crash or a hang.
    r = runCheck(tcpProbe(0), "127.0.0.22");
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.message.rfind("connect: ", 0), 0u) << r.message;
    // A host name still goes through the resolver.
    Backend named("127.0.0.1", Backend::Kind::Tcp);
    r = runCheck(tcpProbe(named.port()), "localhost.");
    EXPECT_TRUE(r.ok) << r.message;
}

TEST(ProbeMetricsBulk, CountsInBulkRenderLikeOneCallPerCheck) {
    std::vector<int64_t> latencies = {0,    999,    1000,   1001,    2500,
                                      7000, 250000, 999999, 1000000, 6000000};
    probes::ProbeMetrics one, bulk;
    std::array<uint64_t, probes::ProbeMetrics::kBuckets.size()> within{};
    double sum = 0;
    for (int64_t us : latencies) {
        one.check("tcp", true, us);
        one.check("http", false, us);
        sum += double(us) / 1e6;
        for (size_t i = 0; i < within.size(); ++i)
            if (us <= std::llround(probes::ProbeMetrics::kBuckets[i] * 1e6)) ++within[i];
    }
    bulk.checks("tcp", true, latencies.size(), sum, within);
    bulk.checks("http", false, latencies.size(), sum, within);
    EXPECT_EQ(bulk.render(1000, "x"), one.render(1000, "x"));
    EXPECT_NE(one.render(1000, "x").find("dnsd_probe_checks_total{kind=\"tcp\",result=\"ok\"} 10"),
              std::string::npos);
}

}  // namespace
