// Issue #12 end to end: a controller and three agents (fra, nyc, sin), each agent in its own
// network namespace with its own route to the backends, deciding a two-tier pool by quorum
// (majority of 3: 2), with the real dnsd answering. See vantage_fixture.hpp for the set-up.
#include <cstdlib>
#include <regex>

#include "tests/vantage/vantage_fixture.hpp"

namespace vantage {
namespace {

// Every event kind that is a pool decision (probes/controller.cpp) or a member transition.
const char* kDecisionKinds =
    "('failover', 'failback', 'served', 'all-down', 'recovered', 'failover-pending', "
    "'member-up', 'member-down')";

TEST_F(VantageScenario, BackendKilledFailsOverOnceAtUsualSpeed) {
    ASSERT_NO_FATAL_FAILURE(startAll());
    startDnsd();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kPrimary; }, 5s)) << dnsdAnswer();

    int64_t killedAt = zones::nowMs();
    auto killed = std::chrono::steady_clock::now();
    primary_->stop();
    ASSERT_TRUE(waitUntil([&] { return served() == kSecondary; }, 10s)) << logs();
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - killed);
    // interval x fall, plus an agent's report delay (a report leaves as soon as the previous
    // one is answered, and at least every report period, which the controller sets to the
    // shortest probe interval) and slack for a loaded 2-core machine. Measured: 300-350 ms.
    constexpr auto kBound = kInterval * kFall + kInterval + 1400ms;
    EXPECT_LT(took, kBound) << "kill -> excluded took " << took.count() << " ms";
    RecordProperty("kill_to_excluded_ms", int(took.count()));
    int64_t failoverAt = scalar("SELECT max(at) FROM events WHERE kind = 'failover'");
    EXPECT_GE(failoverAt, killedAt);
    EXPECT_TRUE(waitUntil([&] { return dnsdAnswer() == kSecondary; }, 5s)) << dnsdAnswer();

    // Every vantage sees it down, the decision stays put for 10 more rounds of every agent.
    for (const auto& v : kVantages)
        EXPECT_TRUE(waitUntil([&] { return view(kPrimary, v) == "down"; }, 5s)) << v << logs();
    ASSERT_TRUE(waitRounds(*secondary_, 30)) << logs();
    EXPECT_EQ(served(), kSecondary);
    EXPECT_EQ(events("failover"), 1) << eventDump();
    EXPECT_EQ(events("failback"), 0) << eventDump();
    EXPECT_EQ(eventMessages("member-down", kPrimary).size(), 1u) << eventDump();
    EXPECT_EQ(hookLog(), "failover web\n") << "notified once";
    // member-down names the vantages' views (V > 1).
    auto down = eventMessages("member-down", kPrimary);
    ASSERT_FALSE(down.empty());
    for (const auto& v : kVantages) EXPECT_NE(down[0].find(v), std::string::npos) << down[0];
}

TEST_F(VantageScenario, OneAgentCutFromThePrimaryIsASplitNotAFailover) {
    ASSERT_NO_FATAL_FAILURE(startAll());
    startDnsd();
    ns_["fra"]->cut(kPrimary);
    ASSERT_TRUE(waitUntil([&] { return view(kPrimary, "fra") == "down"; }, 10s)) << logs();
    // Ten more rounds of every agent: nothing moves.
    ASSERT_TRUE(waitRounds(*primary_, 20)) << logs();
    EXPECT_EQ(served(), kPrimary);
    EXPECT_EQ(events("failover"), 0) << eventDump();
    EXPECT_EQ(events("member-down"), 0) << eventDump();
    EXPECT_EQ(dnsdAnswer(), kPrimary);
    EXPECT_EQ(view(kPrimary, "nyc"), "up");
    EXPECT_EQ(view(kPrimary, "sin"), "up");
    EXPECT_EQ(view(kSecondary, "fra"), "up") << "the cut is fra's route to the primary only";

    // The split in status --json: one 'down' among the primary's three views, quorum 2 of 3.
    Json pool = find(status()["pools"], "name", "web");
    EXPECT_EQ(pool.value("quorum", ""), "majority") << pool.dump(2);
    EXPECT_EQ(pool.value("quorum_lost", true), false) << pool.dump(2);
    const Json& member = find(pool["members"], "value", kPrimary);
    ASSERT_TRUE(member.contains("views")) << member.dump(2);
    std::map<std::string, std::string> views;
    for (const auto& v : member["views"]) views[v.value("vantage", "")] = v.value("health", "");
    EXPECT_EQ(views,
              (std::map<std::string, std::string>{{"fra", "down"}, {"nyc", "up"}, {"sin", "up"}}))
        << member.dump(2);
    ASSERT_TRUE(member["quorum"].is_object()) << member.dump(2);
    EXPECT_EQ(member["quorum"].value("up", -1), 2) << member.dump(2);
    EXPECT_EQ(member["quorum"].value("of", -1), 3) << member.dump(2);
    EXPECT_EQ(member["quorum"].value("needed", -1), 2) << member.dump(2);
    // The text shows the same.
    auto text = dnsctl({"status"});
    EXPECT_NE(text.out.find("up 2/3"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("fra DOWN"), std::string::npos) << text.out;

    // The view change is an event naming the vantage.
    auto changes = eventMessages("vantage-view", kPrimary);
    ASSERT_FALSE(changes.empty()) << eventDump();
    EXPECT_NE(changes.back().find("fra"), std::string::npos) << changes.back();
    EXPECT_NE(changes.back().find("2/3"), std::string::npos) << changes.back();

    // Restored: fra sees it up again, another vantage-view event, still no failover.
    size_t before = changes.size();
    ns_["fra"]->restore(kPrimary);
    ASSERT_TRUE(waitUntil([&] { return view(kPrimary, "fra") == "up"; }, 10s)) << logs();
    EXPECT_GT(eventMessages("vantage-view", kPrimary).size(), before) << eventDump();
    EXPECT_EQ(events("failover"), 0) << eventDump();
}

TEST_F(VantageScenario, TwoOfThreeCutFailsOver) {
    ASSERT_NO_FATAL_FAILURE(startAll());
    startDnsd();
    ns_["fra"]->cut(kPrimary);
    ASSERT_TRUE(waitUntil([&] { return view(kPrimary, "fra") == "down"; }, 10s)) << logs();
    EXPECT_EQ(served(), kPrimary);
    ns_["nyc"]->cut(kPrimary);
    ASSERT_TRUE(waitUntil([&] { return served() == kSecondary; }, 10s)) << logs();
    EXPECT_TRUE(waitUntil([&] { return dnsdAnswer() == kSecondary; }, 5s)) << dnsdAnswer();
    EXPECT_EQ(view(kPrimary, "sin"), "up") << "sin still reaches the primary";
    auto down = eventMessages("member-down", kPrimary);
    ASSERT_EQ(down.size(), 1u) << eventDump();
    EXPECT_NE(down[0].find("fra"), std::string::npos) << down[0];
    EXPECT_NE(down[0].find("nyc"), std::string::npos) << down[0];
    ASSERT_TRUE(waitRounds(*secondary_, 30)) << logs();
    EXPECT_EQ(events("failover"), 1) << eventDump();
    EXPECT_EQ(served(), kSecondary);
}

TEST_F(VantageScenario, AgentsStoppedOneByOneLoseQuorumAndKeepTheLastDecision) {
    ASSERT_NO_FATAL_FAILURE(startAll());
    startDnsd();
    stopAgent("fra");
    // fra falls silent (3 intervals); two of three still report: quorum (2) holds.
    ASSERT_TRUE(waitUntil([&] { return !eventMessages("vantage-silent").empty(); }, 10s)) << logs();
    EXPECT_NE(eventMessages("vantage-silent").back().find("fra"), std::string::npos) << eventDump();
    ASSERT_TRUE(waitRounds(*primary_, 10)) << logs();
    EXPECT_EQ(find(status()["pools"], "name", "web").value("quorum_lost", true), false)
        << eventDump();
    EXPECT_EQ(events("quorum-lost"), 0) << eventDump();

    stopAgent("nyc");
    ASSERT_TRUE(waitUntil(
        [&] { return find(status()["pools"], "name", "web").value("quorum_lost", false); }, 10s))
        << status().dump(2) << logs();
    Json pool = find(status()["pools"], "name", "web");
    EXPECT_TRUE(pool["quorum_lost_since"].is_number()) << pool.dump(2);
    ASSERT_TRUE(waitUntil([&] { return events("quorum-lost") == 1; }, 5s)) << eventDump();
    // Quorum lost notifies (--on-change hook).
    EXPECT_TRUE(
        waitUntil([&] { return hookLog().find("quorum-lost web\n") != std::string::npos; }, 5s))
        << hookLog();
    EXPECT_EQ(served(), kPrimary);
    EXPECT_EQ(dnsdAnswer(), kPrimary);

    // The last decision is kept even when the one vantage left sees the primary die.
    primary_->stop();
    ASSERT_TRUE(waitUntil([&] { return view(kPrimary, "sin") == "down"; }, 10s)) << logs();
    ASSERT_TRUE(waitRounds(*secondary_, 10)) << logs();
    EXPECT_EQ(served(), kPrimary) << eventDump();
    EXPECT_EQ(dnsdAnswer(), kPrimary);
    EXPECT_EQ(events("failover"), 0) << eventDump();
    EXPECT_EQ(events("quorum-lost"), 1) << eventDump();

    // nyc comes back: quorum again, and now two of two see the primary down.
    startAgent("nyc");
    ASSERT_TRUE(waitUntil([&] { return events("quorum-regained") == 1; }, 10s)) << logs();
    EXPECT_TRUE(
        waitUntil([&] { return hookLog().find("quorum-regained web\n") != std::string::npos; }, 5s))
        << hookLog();
    ASSERT_TRUE(waitUntil([&] { return served() == kSecondary; }, 10s)) << logs();
    EXPECT_EQ(events("failover"), 1) << eventDump();
    EXPECT_EQ(find(status()["pools"], "name", "web").value("quorum_lost", true), false);
    EXPECT_TRUE(waitUntil([&] { return dnsdAnswer() == kSecondary; }, 5s)) << dnsdAnswer();
}

TEST_F(VantageScenario, ControllerRestartIsNoDecision) {
    ASSERT_NO_FATAL_FAILURE(startAll());
    startDnsd();
    ASSERT_TRUE(waitRounds(*primary_, 15)) << logs();
    int64_t lastEvent = lastEventId(), decided = decidedAt();
    std::string hooked = hookLog();
    std::string before = served();

    ASSERT_EQ(controller_->stop(), 0) << controller_->describe();
    int64_t restartedAt = zones::nowMs();
    ASSERT_NO_FATAL_FAILURE(startController());
    // Every agent reconnects by itself and reports to the new controller.
    ASSERT_TRUE(waitUntil(
        [&] {
            for (const auto& v : kVantages)
                if (lastReportAt(v) <= restartedAt) return false;
            return true;
        },
        15s))
        << logs();
    // Long enough for the new controller's rise/fall and any timed decision.
    ASSERT_TRUE(waitRounds(*primary_, 30)) << logs();
    EXPECT_EQ(served(), before);
    EXPECT_EQ(decidedAt(), decided) << "the restarted controller rewrote the decision";
    EXPECT_EQ(dnsdAnswer(), kPrimary);
    std::string after = " AND id > " + std::to_string(lastEvent);
    EXPECT_EQ(
        scalar("SELECT count(*) FROM events WHERE kind IN " + std::string(kDecisionKinds) + after),
        0)
        << "the restarted controller decided something:\n"
        << eventDump();
    EXPECT_EQ(scalar("SELECT count(*) FROM events WHERE kind IN ('quorum-lost', 'quorum-regained', "
                     "'vantage-view')" +
                     after),
              0)
        << "a restart is not a quorum or view change:\n"
        << eventDump();
    EXPECT_EQ(hookLog(), hooked) << "nothing to notify";
}

// An agent whose clock runs 120 s ahead (libfaketime) is refused, and its log names the skew.
TEST_F(VantageScenario, SkewedAgentClockIsRefusedWithTheSkewNamed) {
    const char* lib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
    if (::access(lib, R_OK) != 0)
        GTEST_SKIP() << lib << " missing (Debian package faketime, tools/install-deps)";
    ASSERT_NO_FATAL_FAILURE(startAll({"fra", "nyc"}));
    int refusedBefore =
        int(scalar("SELECT refused FROM vantages WHERE name = 'sin'"));  // 0: never started
    // Under the sanitizer build the preloaded library comes before ASan's runtime, which ASan
    // refuses by default; its interposers still work, so let it start.
    const char* asan = std::getenv("ASAN_OPTIONS");
    std::string asanOptions = std::string("ASAN_OPTIONS=") + (asan && *asan ? asan : "") +
                              (asan && *asan ? ":" : "") + "verify_asan_link_order=0";
    startAgent("sin", {std::string("LD_PRELOAD=") + lib, "FAKETIME=+120s",
                       "FAKETIME_DONT_FAKE_MONOTONIC=1", asanOptions});
    ASSERT_TRUE(waitUntil(
        [&] { return agents_["sin"]->stderrText().find("skew") != std::string::npos; }, 10s))
        << agents_["sin"]->describe();
    std::string log = agents_["sin"]->stderrText();
    // The controller's message, e.g. "clock skew: vantage sin is 120.0 s ahead of the
    // controller (limit ±30 s)": the skew, in seconds, is in it.
    std::smatch m;
    static const std::regex seconds(R"(([0-9]+(\.[0-9]+)?) ?s ahead)");
    ASSERT_TRUE(std::regex_search(log, m, seconds)) << log;
    double skew = std::stod(m.str(1));
    EXPECT_GT(skew, 110) << log;
    EXPECT_LT(skew, 130) << log;
    EXPECT_NE(log.find("sin"), std::string::npos) << log;

    ASSERT_TRUE(waitUntil(
        [&] { return scalar("SELECT refused FROM vantages WHERE name = 'sin'") > refusedBefore; },
        5s))
        << logs();
    EXPECT_NE(text("SELECT last_refusal FROM vantages WHERE name = 'sin'").find("skew"),
              std::string::npos);
    EXPECT_EQ(lastReportAt("sin"), 0) << "a refused agent's results must not count";
    EXPECT_NE(view(kPrimary, "sin"), "up");
    EXPECT_TRUE(agents_["sin"]->alive()) << "the agent keeps trying";
    EXPECT_EQ(served(), kPrimary);
}

}  // namespace
}  // namespace vantage
