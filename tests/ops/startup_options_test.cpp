// Every option of dnsd and dnsd-probe is checked at start-up, whichever source it comes from:
// a bad value exits 2 (the systemd units do not restart on 2) with a message naming the
// option, and the edge values of every range start. Failures a restart may fix exit 1.
#include <gtest/gtest.h>

#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

namespace {

using namespace std::chrono_literals;
using namespace testsupport;

struct BadValue {
    std::vector<std::string> args;
    std::vector<std::string> env;
    const char* configLine;             // written to a --config file when not null
    std::vector<std::string> expected;  // each must be in stderr
};

class StartupOptions : public ::testing::Test {
  protected:
    TempDir dir_;
    std::string db_ = dir_.file("dnsd.db");

    void SetUp() override {
        createDatabase(db_,
                       {std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone"});
    }

    // Runs `program` with the bad value and expects exit 2 and every expected text.
    void expectRefused(const std::string& program, const BadValue& c) {
        std::vector<std::string> args = c.args;
        std::vector<std::string> env = c.env;
        if (c.configLine) {
            args.push_back("--config");
            args.push_back(dir_.writeFile("bad.conf", std::string(c.configLine) + "\n"));
        }
        if (std::find(env.begin(), env.end(), "DNSD_DB=") == env.end())
            env.push_back("DNSD_DB=" + db_);
        std::string what =
            program + " " + ::testing::PrintToString(args) + " " + ::testing::PrintToString(env);
        CommandResult r;
        try {
            // Anything accepted starts serving and never exits by itself: the timeout is
            // the failure, not a race.
            r = runCommand(program, args, env, 10s);
        } catch (const std::exception& e) {
            ADD_FAILURE() << what << ": accepted (still running): " << e.what();
            return;
        }
        EXPECT_EQ(r.exitCode, 2) << what << "\n" << r.err;
        for (const std::string& text : c.expected)
            EXPECT_NE(r.err.find(text), std::string::npos)
                << what << ": expected '" << text << "' in: " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": one line:\n"
                                                                   << r.err;
    }
};

BadValue arg(std::string option, std::string value) {
    return {{option, value},
            {},
            nullptr,
            {"'" + option + "'", value.empty() ? " is empty: " : "('" + value + "')"}};
}

TEST_F(StartupOptions, DnsdRefusesEveryBadValueWithExit2) {
    std::vector<BadValue> cases = {
        arg("--listen", "127.0.0.1"),
        arg("--listen", "127.0.0.1:99999"),
        arg("--listen", "localhost:53"),
        arg("--listen", "[::1]53"),
        arg("--http", "127.0.0.1"),
        arg("--http", "127.0.0.1:-1"),
        arg("--user", "no-such-user-dnsd-test"),
        arg("--udp-threads", "-1"),
        arg("--udp-threads", "1025"),
        arg("--udp-threads", "4x"),
        arg("--udp-threads", ""),
        arg("--tcp-idle-timeout", "99"),
        arg("--tcp-idle-timeout", "3600001"),
        arg("--tcp-max-connections", "0"),
        arg("--tcp-max-connections", "-1"),
        arg("--tcp-max-connections", "65537"),
        arg("--tcp-max-per-client", "0"),
        arg("--tcp-max-per-client", "18446744073709551615"),
        arg("--max-udp-payload", "511"),
        arg("--max-udp-payload", "4097"),
        arg("--poll-interval", "0"),
        arg("--poll-interval", "10001"),
        arg("--rrl-rate", "-5"),
        arg("--rrl-rate", "1000001"),
        arg("--rrl-rate", "4294967296"),
        arg("--rrl-slip", "-1"),
        arg("--rrl-slip", "11"),
        arg("--rrl-ipv4-prefix", "33"),
        arg("--rrl-ipv4-prefix", "+24"),
        arg("--rrl-ipv6-prefix", "129"),
        arg("--nsid", std::string(129, 'n')),
        arg("--cookie-secret", "0123456789abcdef"),
        arg("--cookie-secret", "0123456789abcdef0123456789abcdeg"),
        {{"--rrl-limit-loopback=maybe"}, {}, nullptr, {"'--rrl-limit-loopback'"}},
        {{"--no-cookies=1"}, {}, nullptr, {"'--no-cookies'"}},
        {{}, {"DNSD_UDP_THREADS=-1"}, nullptr, {"DNSD_UDP_THREADS", "'udp-threads'"}},
        {{}, {"DNSD_LISTEN=127.0.0.1"}, nullptr, {"DNSD_LISTEN", "'listen'"}},
        {{}, {"DNSD_RRL_LIMIT_LOOPBACK=maybe"}, nullptr, {"DNSD_RRL_LIMIT_LOOPBACK"}},
        {{}, {}, "rrl-rate = -5", {"bad.conf:1:", "'rrl-rate'"}},
        {{}, {}, "http = 127.0.0.1", {"bad.conf:1:", "'http'"}},
        {{}, {}, "no-cookies = maybe", {"bad.conf:1:", "'no-cookies'"}},
        {{}, {}, "rrl-limit-loopback =", {"bad.conf:1:", "'rrl-limit-loopback' is empty"}},
        {{}, {}, "user = no-such-user-dnsd-test", {"bad.conf:1:", "'user'"}},
        {{}, {"DNSD_DB="}, nullptr, {"no database given"}},
        {{"--listen", "0.0.0.0", "5353"}, {}, nullptr, {"'--listen'"}},
        {{"--listen", "127.0.0.1:5353", "5353"}, {}, nullptr, {"unexpected argument '5353'"}},
    };
    for (const BadValue& c : cases) expectRefused(DNSD_BIN, c);
}

TEST_F(StartupOptions, ProbeRefusesEveryBadValueWithExit2) {
    std::vector<BadValue> cases = {
        arg("--http", "127.0.0.1"),
        arg("--http", "127.0.0.1:65536"),
        arg("--poll-ms", "9"),
        arg("--poll-ms", "10001"),
        arg("--poll-ms", "5x"),
        arg("--keep-observations", "0"),
        arg("--keep-observations", "31536001"),
        arg("--keep-observations", "-3600"),
        arg("--keep-events", "-1"),
        arg("--keep-events", "36501"),
        arg("--webhook", "ftp://example.net/hook"),
        arg("--webhook-attempts", "0"),
        arg("--webhook-attempts", "1001"),
        arg("--webhook-queue", "1"),
        arg("--webhook-queue", "-1"),
        arg("--webhook-queue", "1000001"),
        {{}, {"DNSD_PROBE_POLL_MS=abc"}, nullptr, {"DNSD_PROBE_POLL_MS", "'poll-ms'"}},
        {{}, {"DNSD_PROBE_WEBHOOK_QUEUE=-1"}, nullptr, {"DNSD_PROBE_WEBHOOK_QUEUE"}},
        {{}, {}, "webhook-queue = -1", {"bad.conf:1:", "'webhook-queue'"}},
        {{}, {}, "keep-events = 1e3", {"bad.conf:1:", "'keep-events'"}},
        {{}, {"DNSD_DB="}, nullptr, {"no database given"}},
        {{"--poll-ms", "100", "200"}, {}, nullptr, {"unexpected argument '200'"}},
    };
    for (const BadValue& c : cases) expectRefused(DNSD_PROBE_BIN, c);
}

// The ends of every range are values, not errors: both daemons start with them.
TEST_F(StartupOptions, EdgeValuesStart) {
    for (const std::vector<std::string>& edges : std::vector<std::vector<std::string>>{
             {"--udp-threads",
              "1",
              "--tcp-idle-timeout",
              "100",
              "--tcp-max-connections",
              "1",
              "--tcp-max-per-client",
              "1",
              "--max-udp-payload",
              "512",
              "--poll-interval",
              "1",
              "--rrl-rate",
              "0",
              "--rrl-slip",
              "0",
              "--rrl-ipv4-prefix",
              "0",
              "--rrl-ipv6-prefix",
              "0",
              "--nsid",
              std::string(128, 'n'),
              "--http",
              "none"},
             {"--udp-threads",
              "0",
              "--tcp-idle-timeout",
              "3600000",
              "--tcp-max-connections",
              "65536",
              "--tcp-max-per-client",
              "65536",
              "--max-udp-payload",
              "4096",
              "--poll-interval",
              "10000",
              "--rrl-rate",
              "1000000",
              "--rrl-slip",
              "10",
              "--rrl-ipv4-prefix",
              "32",
              "--rrl-ipv6-prefix",
              "128",
              "--cookie-secret",
              "0123456789abcdefABCDEF0123456789",
              "--rrl-limit-loopback",
              "--no-cookies",
              "--http",
              "127.0.0.1:0"},
         }) {
        EXPECT_NO_THROW(DnsdServer(db_, freePort(), edges, "svc.example.com."))
            << ::testing::PrintToString(edges);
    }
    for (const std::vector<std::string>& edges : std::vector<std::vector<std::string>>{
             {"--poll-ms", "10", "--keep-observations", "1", "--keep-events", "0",
              "--webhook-attempts", "1", "--webhook-queue", "2"},
             {"--poll-ms", "10000", "--keep-observations", "31536000", "--keep-events", "36500",
              "--webhook-attempts", "1000", "--webhook-queue", "1000000", "--webhook",
              "http://127.0.0.1:9/hook"},
         }) {
        uint16_t http = freePort();
        std::vector<std::string> args = edges;
        for (std::string a : {"--db", db_.c_str(), "--http"}) args.push_back(a);
        args.push_back("127.0.0.1:" + std::to_string(http));
        Process probe(DNSD_PROBE_BIN, args);
        EXPECT_TRUE(waitUntil(
            [&] {
                return httpGet(http, "/metrics").find("dnsd_probe_build_info") !=
                           std::string::npos ||
                       !probe.alive();
            },
            10s));
        EXPECT_TRUE(probe.alive()) << probe.describe();
    }
}

// An empty variable is unset for every option: it neither turns a flag on nor is an error.
TEST_F(StartupOptions, EmptyVariablesAreUnset) {
    uint16_t http = freePort();
    Process probe(DNSD_PROBE_BIN, {"--db", db_, "--http", "127.0.0.1:" + std::to_string(http)},
                  {"DNSD_PROBE_POLL_MS=", "DNSD_PROBE_WEBHOOK=", "DNSD_PROBE_HTTP=",
                   "DNSD_PROBE_KEEP_EVENTS=", "DNSD_PROBE_ON_CHANGE="});
    EXPECT_TRUE(waitUntil(
        [&] {
            return httpGet(http, "/metrics").find("dnsd_probe_build_info") != std::string::npos ||
                   !probe.alive();
        },
        10s));
    EXPECT_TRUE(probe.alive()) << probe.describe();

    EXPECT_NO_THROW(
        DnsdServer(db_, freePort(), {"--http", "none"}, "svc.example.com.",
                   {"DNSD_UDP_THREADS=", "DNSD_LISTEN=", "DNSD_HTTP=", "DNSD_NSID=",
                    "DNSD_COOKIE_SECRET=", "DNSD_RRL_RATE=", "DNSD_NO_COOKIES=", "DNSD_USER="}));
}

// The other side of the split: what a restart may fix exits 1, so systemd retries it.
TEST_F(StartupOptions, RuntimeFailuresExit1) {
    auto busy = busyTcpPort();
    auto inUse = runCommand(
        DNSD_BIN,
        {"--db", db_, "--http", "none", "--listen", "127.0.0.1:" + std::to_string(busy.port)}, {},
        10s);
    EXPECT_EQ(inUse.exitCode, 1) << inUse.err;
    EXPECT_NE(inUse.err.find("cannot bind TCP"), std::string::npos) << inUse.err;

    auto missing = runCommand(DNSD_BIN, {"--db", dir_.file("none.db"), "--http", "none"}, {}, 10s);
    EXPECT_EQ(missing.exitCode, 1) << missing.err;
    EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
    auto probeMissing =
        runCommand(DNSD_PROBE_BIN, {"--db", dir_.file("none.db"), "--http", "none"}, {}, 10s);
    EXPECT_EQ(probeMissing.exitCode, 1) << probeMissing.err;
}

}  // namespace
