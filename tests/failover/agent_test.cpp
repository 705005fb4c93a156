// dnsd-probe as a remote agent (--vantage), against the real controller on one host: the
// agent learns changes, keeps probing through a controller outage and sends its buffer after,
// runs exec probes only when allowed, and refuses bad command lines. The partition scenarios
// (an agent per network namespace) are in tests/vantage/.
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/failover/failover_fixture.hpp"

namespace failover {
namespace {

class AgentScenario : public FailoverScenario {
  protected:
    // Adds vantage `name` and writes its key file (mode 0600); returns the file.
    std::string addVantage(const std::string& name) {
        auto r = dnsctl({"vantage", "add", name});
        EXPECT_TRUE(r.ok()) << r.out << r.err;
        std::istringstream lines(r.out);
        std::string line, key;
        while (std::getline(lines, line))
            if (line.rfind("key", 0) == 0 && std::getline(lines, key)) break;
        key.erase(0, key.find_first_not_of(' '));
        EXPECT_FALSE(key.empty()) << r.out;
        std::string file = dir_->writeFile("vantage-" + name + ".key", key + "\n");
        ::chmod(file.c_str(), 0600);
        return file;
    }
    void startController(std::vector<std::string> extra = {}) {
        if (!agentsPort_) agentsPort_ = freePort();
        std::vector<std::string> args = {"--db",
                                         db_,
                                         "--http",
                                         "none",
                                         "--agents-listen",
                                         "127.0.0.1:" + std::to_string(agentsPort_)};
        args.insert(args.end(), extra.begin(), extra.end());
        controller_ = std::make_unique<Process>(DNSD_PROBE_BIN, args);
    }
    std::unique_ptr<Process> startAgent(const std::string& name, const std::string& keyFile,
                                        std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {
            "--vantage",    name,
            "--controller", "http://127.0.0.1:" + std::to_string(agentsPort_),
            "--key-file",   keyFile,
            "--http",       "none"};
        args.insert(args.end(), extra.begin(), extra.end());
        return std::make_unique<Process>(DNSD_PROBE_BIN, args);
    }
    // Observations from `vantage` (of `member`, or any) taken at or after `since` (ms).
    int observations(const std::string& vantage, const std::string& member = "", int64_t since = 0,
                     int64_t until = INT64_MAX) const {
        auto db = open();
        SQLite::Statement q(*db,
                            "SELECT count(*) FROM observations o JOIN members m ON m.id = "
                            "o.member_id WHERE o.vantage = ? AND (? = '' OR m.value = ?) AND "
                            "o.at >= ? AND o.at <= ?");
        q.bind(1, vantage);
        q.bind(2, member);
        q.bind(3, member);
        q.bind(4, since);
        q.bind(5, until);
        q.executeStep();
        return q.getColumn(0).getInt();
    }
    int64_t vantageColumn(const std::string& name, const std::string& column) const {
        auto db = open();
        SQLite::Statement q(*db, "SELECT coalesce(" + column + ", -1) FROM vantages WHERE name=?");
        q.bind(1, name);
        return q.executeStep() ? q.getColumn(0).getInt64() : -2;
    }

    uint16_t agentsPort_ = 0;
    std::unique_ptr<Process> controller_;
};

TEST_F(AgentScenario, AgentReportsWhatTheControllerDefinesAndLearnsChanges) {
    standardPool();
    std::string key = addVantage("fra");
    startController();
    auto agent = startAgent("fra", key);
    ASSERT_TRUE(waitUntil([&] { return observations("fra", kPrimary) > 0; }, 10s))
        << controller_->describe() << agent->describe();
    EXPECT_GT(observations("fra", kSecondary), 0);
    EXPECT_TRUE(waitUntil([&] { return served() == kPrimary; }, 5s)) << eventDump();
    // A member added while everything runs is checked by the agent within a report period or
    // two (its config version changes; the next report's reply says so).
    ok({"member", "add", "web", "127.0.0.13", "--priority", "3", "--probe", "web-http"});
    EXPECT_TRUE(waitUntil([&] { return observations("fra", "127.0.0.13") > 0; }, 3s))
        << agent->describe();
    EXPECT_NE(agent->stderrText().find("new config 3 checks"), std::string::npos)
        << agent->describe();
    // The vantages row is written with the heartbeat, once a second.
    EXPECT_TRUE(waitUntil([&] { return vantageColumn("fra", "reports") > 0; }, 3s));
    EXPECT_TRUE(agent->alive()) << agent->describe();
}

TEST_F(AgentScenario, AgentBuffersThroughAControllerOutageAndDropsTheOldestBeyondItsBuffer) {
    standardPool();
    std::string key = addVantage("fra");
    startController();
    auto agent = startAgent("fra", key, {"--buffer", "40"});
    ASSERT_TRUE(waitUntil([&] { return observations("fra") > 0; }, 10s)) << agent->describe();
    controller_->stop();
    int64_t down = zones::nowMs();
    // Two members at 100 ms: 20 results a second, 60 in the 3 s outage, 40 buffered.
    ASSERT_TRUE(waitUntil(
        [&] { return agent->stderrText().find("results are buffered") != std::string::npos; }, 5s))
        << agent->describe();
    std::this_thread::sleep_for(3s);  // the outage itself: its length is what is measured
    int64_t up = zones::nowMs();
    startController();
    // The buffer arrives: results taken during the outage (the newest 40, i.e. the last 2 s
    // before the agent reconnects, which its 1 s retry makes at most ~1.3 s after the
    // restart), and the drop count of the older ones.
    ASSERT_TRUE(waitUntil([&] { return vantageColumn("fra", "dropped") > 0; }, 10s))
        << agent->describe() << controller_->describe();
    int during = observations("fra", "", down + 300, up - 100);
    EXPECT_GT(during, 0);
    EXPECT_LE(during, 40);
    EXPECT_GE(vantageColumn("fra", "dropped"), 10);
    EXPECT_NE(agent->stderrText().find("controller reachable again"), std::string::npos)
        << agent->describe();
    EXPECT_TRUE(agent->alive());
}

TEST_F(AgentScenario, ExecProbesRunOnAnAgentOnlyWithAllowExec) {
    ok({"probe", "add", "check-cmd", "--type", "exec", "--command", "true", "--interval", "100ms",
        "--timeout", "80ms", "--rise", "1", "--fall", "1"});
    ok({"pool", "create", "web", "--zone", "svc.test", "--name", "www", "--type", "A"});
    ok({"member", "add", "web", kPrimary, "--probe", "check-cmd"});
    std::string fra = addVantage("fra"), nyc = addVantage("nyc");
    startController();
    auto strict = startAgent("fra", fra);
    auto allowing = startAgent("nyc", nyc, {"--allow-exec"});
    ASSERT_TRUE(waitUntil([&] { return observations("nyc") > 3; }, 10s)) << allowing->describe();
    EXPECT_TRUE(waitUntil(
        [&] {
            return strict->stderrText().find("1 exec checks not run here") != std::string::npos;
        },
        5s))
        << strict->describe();
    EXPECT_EQ(observations("fra"), 0);
}

TEST_F(AgentScenario, BadAgentCommandLinesExit2WithOneLine) {
    std::string key = addVantage("fra");
    std::string open = dir_->writeFile("open.key", "c2VjcmV0c2VjcmV0c2VjcmV0\n");
    ::chmod(open.c_str(), 0644);
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    std::vector<Case> cases = {
        {{"--vantage", "fra", "--key-file", key}, "--controller"},
        {{"--vantage", "fra", "--controller", "http://127.0.0.1:1"}, "--key-file"},
        {{"--vantage", "fra", "--controller", "http://127.0.0.1:1", "--key-file", open}, open},
        {{"--vantage", "fra", "--controller", "ftp://127.0.0.1:1", "--key-file", key},
         "--controller"},
        {{"--vantage", "Bad_Name", "--controller", "http://127.0.0.1:1", "--key-file", key},
         "vantage name"},
        {{"--vantage", "fra", "--controller", "http://127.0.0.1:1", "--key-file", key, "--db", db_},
         "no database"},
        {{"--db", db_, "--no-local-vantage"}, "--agents-listen"},
        {{"--db", db_, "--agents-listen", "nonsense"}, "agents-listen"},
    };
    for (const auto& c : cases) {
        Process p(DNSD_PROBE_BIN, c.args);
        auto status = p.waitExit(10s);
        ASSERT_TRUE(status) << p.describe();
        EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << p.describe();
        EXPECT_NE(p.stderrText().find(c.says), std::string::npos) << p.describe();
    }
}

}  // namespace
}  // namespace failover
