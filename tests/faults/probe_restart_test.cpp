// dnsd-probe killed with SIGKILL and restarted: dnsd answers the last decision the whole time,
// and the new controller carries every decision over without a failover, failback or member
// transition of its own.
#include "tests/faults/faults_fixture.hpp"

namespace faults {
namespace {

TEST_F(FaultScenario, ProbeSigkillAndRestartKeepLastDecisionWithoutSpuriousFailover) {
    standardPool({"--hold-down", "0s"});
    // A second pool on the same members that has failed over and must stay on its backup
    // (manual failback) even though the primary is healthy again: the state a restarted
    // controller is most tempted to "correct".
    ok({"pool", "create", "man", "--zone", "svc.test", "--name", "man", "--type", "A", "--failback",
        "manual"});
    ok({"member", "add", "man", kPrimary, "--priority", "1", "--probe", "web-http"});
    ok({"member", "add", "man", kSecondary, "--priority", "2", "--probe", "web-http"});
    startDnsd();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
    ASSERT_TRUE(waitUntil([&] { return served("man") == kPrimary; }, 5s)) << eventDump();
    primary_->stop();
    ASSERT_TRUE(
        waitUntil([&] { return served("web") == kSecondary && served("man") == kSecondary; }, 5s))
        << eventDump();
    primary_->start();
    ASSERT_TRUE(waitServed(kPrimary, 5s)) << eventDump();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kPrimary; }, 2s)) << dnsdAnswer();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer("man.svc.test.") == kSecondary; }, 2s));
    ASSERT_EQ(served("man"), kSecondary) << "manual failback must wait for an operator";

    AnswerWatcher www([&] { return dnsdAnswer(); }, kPrimary);
    AnswerWatcher man([&] { return dnsdAnswer("man.svc.test."); }, kSecondary);
    ::kill(probe_->pid(), SIGKILL);
    auto status = probe_->waitExit(2s);
    ASSERT_TRUE(status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
    probe_.reset();

    // The gap: nobody decides for 1.5 s (15 probe intervals).
    auto killed = Clock::now();
    int before = www.total();
    ASSERT_TRUE(waitUntil(
        [&] { return Clock::now() - killed >= 1500ms && www.total() >= before + 50; }, 10s));
    EXPECT_EQ(served("web"), kPrimary);
    EXPECT_EQ(served("man"), kSecondary);

    int64_t restartedAt = zones::nowMs();
    startProbe();
    ASSERT_TRUE(
        waitUntil([&] { return dnsctl({"status"}).out.find("running") != std::string::npos; }, 3s))
        << dnsctl({"status"}).out;
    // Long enough for a full round, rise/fall and any timed decision of the new controller.
    int requests = primary_->requests;
    ASSERT_TRUE(waitUntil([&] { return primary_->requests >= requests + 15; }, 10s));
    EXPECT_EQ(served("web"), kPrimary);
    EXPECT_EQ(served("man"), kSecondary) << eventDump();

    www.stop();
    man.stop();
    EXPECT_GE(www.total(), 100);
    EXPECT_TRUE(www.wrong().empty()) << "dnsd answered something else: " << www.wrongText();
    EXPECT_TRUE(man.wrong().empty()) << "dnsd answered something else: " << man.wrongText();
    EXPECT_EQ(scalar("SELECT count(*) FROM events WHERE at >= " + std::to_string(restartedAt) +
                     " AND kind NOT IN ('initial')"),
              0)
        << "the restarted controller changed something:\n"
        << eventDump();
}

}  // namespace
}  // namespace faults
