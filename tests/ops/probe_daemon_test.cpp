// dnsd-probe as a daemon: --config, DNSD_PROBE_* environment, --version, logfmt logs and the
// Prometheus /metrics endpoint, against real backends, a real database and real failover.
#include <arpa/inet.h>
#include <sys/wait.h>

#include <map>
#include <sstream>

#include "tests/failover/failover_fixture.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/run_command.hpp"
#include "zones/schema.hpp"

namespace {

using namespace failover;
using testsupport::httpGet;
using testsupport::promValue;

class ProbeDaemon : public FailoverScenario {
  protected:
    std::unique_ptr<Process> startProbeWith(std::vector<std::string> args,
                                            std::vector<std::string> env = {}) {
        return std::make_unique<Process>(DNSD_PROBE_BIN, std::move(args), std::move(env));
    }
    std::string metrics(uint16_t port) {
        auto r = httpGet(port, "/metrics");
        auto body = r.find("\r\n\r\n");
        return body == std::string::npos ? "" : "\n" + r.substr(body + 4);
    }
};

TEST_F(ProbeDaemon, ConfigFileMetricsAndFailoverCounters) {
    standardPool();
    uint16_t http = freePort();
    std::string conf = dir_->writeFile(
        "dnsd-probe.conf", "# test config\ndb = " + db_ +
                               "\nhttp = 127.0.0.1:" + std::to_string(http) + "\npoll-ms = 50\n");
    probe_ = startProbeWith({"--config", conf});
    ASSERT_TRUE(waitServed(kPrimary)) << probe_->describe();
    std::string m;
    ASSERT_TRUE(waitUntil(
        [&] {
            m = metrics(http);
            return promValue(m, "dnsd_probe_member_up{pool=\"web\",member=\"127.0.0.11\"}") == 1 &&
                   promValue(m, "dnsd_probe_checks_total{kind=\"http\",result=\"ok\"}") >= 2;
        },
        5s))
        << m << probe_->describe();
    EXPECT_GE(promValue(m, "dnsd_probe_check_duration_seconds_count{kind=\"http\"}"), 2);
    EXPECT_GE(promValue(m, "dnsd_probe_check_duration_seconds_bucket{kind=\"http\",le=\"+Inf\"}"),
              2);
    EXPECT_GE(promValue(m, "dnsd_probe_heartbeat_age_seconds"), 0);
    EXPECT_LT(promValue(m, "dnsd_probe_heartbeat_age_seconds"), 3);
    EXPECT_EQ(promValue(m, "dnsd_probe_db_write_errors_total"), 0);
    EXPECT_NE(m.find("# TYPE dnsd_probe_check_duration_seconds histogram"), std::string::npos);

    primary_->stop();
    ASSERT_TRUE(waitServed(kSecondary)) << eventDump();
    ASSERT_TRUE(waitUntil(
        [&] {
            m = metrics(http);
            return promValue(m, "dnsd_probe_failovers_total{pool=\"web\"}") == 1 &&
                   promValue(m, "dnsd_probe_member_up{pool=\"web\",member=\"127.0.0.11\"}") == 0;
        },
        5s))
        << m;
    EXPECT_GE(promValue(m, "dnsd_probe_checks_total{kind=\"http\",result=\"fail\"}"), 2);
    EXPECT_EQ(promValue(m, "dnsd_probe_member_up{pool=\"web\",member=\"127.0.0.12\"}"), 1);
    EXPECT_GE(promValue(m, "dnsd_probe_events_total{kind=\"member-down\"}"), 1);
    // Logs are logfmt lines, one per event, with the texts kept.
    std::string err = probe_->stderrText();
    EXPECT_NE(err.find("level=info prog=dnsd-probe msg=\"started on " + db_), std::string::npos)
        << err;
    EXPECT_NE(err.find("prog=dnsd-probe msg=\"failover: "), std::string::npos) << err;
}

TEST_F(ProbeDaemon, EnvironmentFallbacksAndCommandLineWins) {
    standardPool();
    uint16_t envPort = freePort(), flagPort = freePort();
    std::string conf = dir_->writeFile("p.conf", "http = 127.0.0.1:1\n");
    // DNSD_DB gives the database, DNSD_PROBE_HTTP beats the config file's http line.
    probe_ = startProbeWith({"--config", conf}, {"DNSD_DB=" + db_, "DNSD_PROBE_HTTP=127.0.0.1:" +
                                                                       std::to_string(envPort)});
    ASSERT_TRUE(waitUntil(
        [&] { return metrics(envPort).find("dnsd_probe_build_info") != std::string::npos; }, 5s))
        << probe_->describe();
    probe_->stop();
    // The command line beats the environment.
    probe_ =
        startProbeWith({"--http", "127.0.0.1:" + std::to_string(flagPort)},
                       {"DNSD_DB=" + db_, "DNSD_PROBE_HTTP=127.0.0.1:" + std::to_string(envPort)});
    ASSERT_TRUE(waitUntil(
        [&] { return metrics(flagPort).find("dnsd_probe_build_info") != std::string::npos; }, 5s))
        << probe_->describe();
    EXPECT_EQ(metrics(envPort), "");
}

TEST_F(ProbeDaemon, VersionBadConfigAndBusyAddresses) {
    auto v = runCommand(DNSD_PROBE_BIN, {"--version"}, {}, 5s);
    EXPECT_EQ(v.exitCode, 0);
    EXPECT_EQ(v.out.rfind("dnsd-probe ", 0), 0u) << v.out;

    std::string bad = dir_->writeFile("bad.conf", "db = " + db_ + "\nno-such-option = 1\n");
    auto b = runCommand(DNSD_PROBE_BIN, {"--config", bad}, {}, 5s);
    EXPECT_EQ(b.exitCode, 2);
    EXPECT_NE(b.err.find("no-such-option"), std::string::npos) << b.err;
    auto missing = runCommand(DNSD_PROBE_BIN, {"--config", dir_->file("nope.conf")}, {}, 5s);
    EXPECT_EQ(missing.exitCode, 2);
    EXPECT_NE(missing.err.find("cannot read config file"), std::string::npos) << missing.err;

    // An address the operator asked for must work: busy is fatal.
    {
        auto busy = testsupport::busyTcpPort();
        auto r =
            runCommand(DNSD_PROBE_BIN,
                       {"--db", db_, "--http", "127.0.0.1:" + std::to_string(busy.port)}, {}, 10s);
        EXPECT_NE(r.exitCode, 0);
        EXPECT_NE(r.err.find("cannot bind TCP"), std::string::npos) << r.err;
    }

    // The default address busy (another dnsd-probe on the host): log it and keep probing.
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int def = ::socket(AF_INET, SOCK_STREAM, 0);
    a.sin_port = htons(8054);
    bool held =
        ::bind(def, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(def, 1) == 0;
    if (!held) ASSERT_EQ(errno, EADDRINUSE);  // someone else holds it: just as busy
    standardPool();
    probe_ = startProbeWith({"--db", db_});
    EXPECT_TRUE(waitServed(kPrimary)) << probe_->describe();
    EXPECT_TRUE(waitUntil(
        [&] {
            return probe_->stderrText().find(
                       "metrics endpoint disabled: cannot bind TCP "
                       "127.0.0.1:8054") != std::string::npos;
        },
        5s))
        << probe_->describe();
    ::close(def);
}

}  // namespace

namespace {

// Events are kept for --keep-events days and no longer: the database stops growing.
TEST_F(ProbeDaemon, OldEventsArePrunedRecentOnesKept) {
    standardPool();
    {
        SQLite::Database db(db_, SQLite::OPEN_READWRITE, 2000);
        SQLite::Statement ins(db,
                              "INSERT INTO events (at, pool, member, kind, message) "
                              "VALUES (?, 'web', '', ?, 'test')");
        int64_t now = zones::nowMs();
        for (auto [ageDays, kind] : {std::pair{40, "old-event"}, std::pair{2, "recent-event"}}) {
            ins.reset();
            ins.bind(1, now - int64_t(ageDays) * 86400 * 1000);
            ins.bind(2, kind);
            ins.exec();
        }
    }
    auto count = [&](const char* kind) {
        SQLite::Database db(db_, SQLite::OPEN_READONLY, 2000);
        SQLite::Statement q(db, "SELECT count(*) FROM events WHERE kind = ?");
        q.bind(1, kind);
        q.executeStep();
        return q.getColumn(0).getInt();
    };
    ASSERT_EQ(count("old-event"), 1);
    probe_ = startProbeWith({"--db", db_, "--http", "none", "--keep-events", "30"});
    ASSERT_TRUE(waitServed(kPrimary)) << probe_->describe();
    EXPECT_TRUE(waitUntil([&] { return count("old-event") == 0; }, 5s)) << probe_->describe();
    EXPECT_EQ(count("recent-event"), 1);

    auto bad = runCommand(DNSD_PROBE_BIN, {"--db", db_, "--keep-events", "-1"}, {}, 5s);
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_NE(bad.err.find("--keep-events"), std::string::npos) << bad.err;
}

}  // namespace

namespace {

// The level of each line, picked by the code that wrote it (issue 10): level=error only when
// dnsd-probe itself is in trouble, so that monitoring can page on it. Bad news the service
// handles (member down, failover, all down) is warn; recoveries and operator actions are info.
// Drives the real dnsd-probe through every kind of event and reads its log.
TEST_F(ProbeDaemon, EveryEventIsLoggedAtTheLevelOfItsKind) {
    standardPool({"--hold-down", "0s"});
    ok({"pool", "create", "man", "--zone", "svc.test", "--name", "man", "--type", "A", "--failback",
        "manual"});
    ok({"member", "add", "man", kPrimary, "--priority", "1", "--probe", "web-http"});
    ok({"member", "add", "man", kSecondary, "--priority", "2", "--probe", "web-http"});
    ok({"pool", "create", "appr", "--zone", "svc.test", "--name", "appr", "--type", "A",
        "--approval", "manual"});
    ok({"member", "add", "appr", kPrimary, "--priority", "1", "--probe", "web-http"});
    ok({"member", "add", "appr", kSecondary, "--priority", "2", "--probe", "web-http"});
    // With the on-change hook (a failing hook would be an error), without /metrics.
    probe_ = startProbeWith({"--db", db_, "--http", "none", "--on-change", "cat >> " + hookFile_});
    ASSERT_TRUE(waitServed(kPrimary)) << probe_->describe();
    ASSERT_TRUE(waitUntil([&] { return served("man") == kPrimary; }, 5s)) << eventDump();

    primary_->stop();  // member-down, failover (web, man), failover-pending (appr)
    ASSERT_TRUE(
        waitUntil([&] { return served("web") == kSecondary && served("man") == kSecondary; }, 5s))
        << eventDump();
    ASSERT_TRUE(waitUntil([&] { return column("pending_tier", "appr") == "2"; }, 5s))
        << eventDump();
    auto approve = dnsctl({"pool", "approve", "appr"});  // approve-result, failover
    EXPECT_NE(approve.out.find("approved"), std::string::npos) << approve.out << approve.err;
    ASSERT_TRUE(waitUntil([&] { return served("appr") == kSecondary; }, 5s)) << eventDump();
    primary_->start();  // member-up; web fails back by itself, man waits for an operator
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
    ASSERT_EQ(served("man"), kSecondary) << eventDump();
    auto failback = dnsctl({"pool", "failback", "man"});
    EXPECT_NE(failback.out.find("failed back to"), std::string::npos) << failback.out;
    ASSERT_TRUE(waitUntil([&] { return served("man") == kPrimary; }, 5s)) << eventDump();
    // A maintenance window on the backup: drain-start, drain-end.
    ok({"member", "drain", "web", kSecondary, "--start", "+1s", "--end", "+2s"});
    ASSERT_TRUE(waitUntil([&] { return events("drain-end") == 1; }, 10s)) << eventDump();

    primary_->stop();  // all-down (serve-all keeps answering)
    secondary_->stop();
    ASSERT_TRUE(waitUntil([&] { return events("all-down") == 1; }, 5s)) << eventDump();
    primary_->start();
    secondary_->start();
    ASSERT_TRUE(waitUntil([&] { return events("recovered") == 1; }, 5s)) << eventDump();
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();

    const std::map<std::string, std::string> want = {
        {"member-down", "warn"},      {"failover", "warn"},        {"all-down", "warn"},
        {"failover-pending", "warn"}, {"initial", "info"},         {"member-up", "info"},
        {"failback", "info"},         {"failback-result", "info"}, {"approve-result", "info"},
        {"drain-start", "info"},      {"drain-end", "info"},       {"recovered", "info"}};
    std::map<std::string, int> seen;
    std::string err = probe_->stderrText();
    std::istringstream lines(err);
    for (std::string line; std::getline(lines, line);) {
        EXPECT_EQ(line.find("level=error"), std::string::npos) << line;
        auto lv = line.find(" level="), msg = line.find(" msg=\"");
        ASSERT_NE(lv, std::string::npos) << line;
        ASSERT_NE(msg, std::string::npos) << line;
        std::string level = line.substr(lv + 7, line.find(' ', lv + 1) - lv - 7);
        std::string text = line.substr(msg + 6);
        auto colon = text.find(": ");
        if (colon == std::string::npos) continue;
        auto it = want.find(text.substr(0, colon));
        if (it == want.end()) continue;
        ++seen[it->first];
        EXPECT_EQ(level, it->second) << line;
    }
    for (const auto& [kind, level] : want)
        EXPECT_GE(seen[kind], 1) << kind << " never logged\n" << err;
    // Three pools failed over (appr once approved); the operator's failback is logged once as the
    // move, once as the answer to the request.
    EXPECT_GE(seen["failover"], 3) << err;
    EXPECT_EQ(seen["failback-result"], 1) << err;
}

}  // namespace
