// dnsd-probe killed with SIGKILL and restarted: dnsd answers the last decision the whole time,
// and the new controller carries every decision over without a failover, failback or member
// transition of its own. And the controller role (probes/controller_lock.hpp): a restart
// right after a stop or a kill is accepted at once, a second live dnsd-probe is refused.
#include "tests/faults/faults_fixture.hpp"
#include "tests/support/run_command.hpp"

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

// Waits until `pid` (our child) has exited, without reaping it: it stays a zombie, which
// kill(pid, 0) still reports as alive, the case the old PID check got wrong.
bool waitZombie(pid_t pid) {
    return waitUntil(
        [&] {
            siginfo_t si{};
            return ::waitid(P_PID, id_t(pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                   si.si_pid == pid;
        },
        5s);
}

class ProbeRole : public FaultScenario {
  protected:
    std::unique_ptr<Process> startAnother() {
        return std::make_unique<Process>(DNSD_PROBE_BIN,
                                         std::vector<std::string>{"--db", db_, "--http", "none"});
    }
    // The pid in the controller row, 0 when none (NULL: no process holds the role).
    int64_t rolePid() const { return scalar("SELECT coalesce(max(pid), 0) FROM controller"); }
    int64_t heartbeatAge() const {
        return zones::nowMs() - scalar("SELECT coalesce(max(heartbeat_at), 0) FROM controller");
    }
    // `next` holds the role and keeps it (it was not refused).
    void expectTakesTheRole(Process& next) {
        ASSERT_TRUE(waitUntil([&] { return rolePid() == next.pid(); }, 5s)) << rolePid() << "\n"
                                                                            << next.describe();
        EXPECT_TRUE(next.alive()) << next.describe();
        EXPECT_EQ(next.stderrText().find("another dnsd-probe"), std::string::npos)
            << next.describe();
    }
};

TEST_F(ProbeRole, RestartRightAfterSigtermIsAcceptedAtOnce) {
    standardPool();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << probeLog();
    ASSERT_TRUE(waitUntil([&] { return rolePid() == probe_->pid(); }, 5s));
    pid_t old = probe_->pid();
    ASSERT_EQ(::kill(old, SIGTERM), 0);
    ASSERT_TRUE(waitZombie(old)) << probeLog();
    // What the old check saw: a fresh heartbeat and a PID that answers kill(pid, 0).
    ASSERT_EQ(::kill(old, 0), 0);
    ASSERT_LT(heartbeatAge(), 3000);
    // A clean stop gives the role up in the database too.
    EXPECT_EQ(rolePid(), 0) << probeLog();

    auto next = startAnother();
    expectTakesTheRole(*next);
    EXPECT_TRUE(waitServed(kPrimary)) << next->describe();
    auto status = probe_->waitExit(1s);  // reap the old one now
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << probeLog();
    probe_ = std::move(next);
}

TEST_F(ProbeRole, ASecondLiveProbeIsRefused) {
    standardPool();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << probeLog();
    ASSERT_TRUE(waitUntil([&] { return rolePid() == probe_->pid(); }, 5s));
    auto second = runCommand(DNSD_PROBE_BIN, {"--db", db_, "--http", "none"}, {}, 10s);
    EXPECT_EQ(second.exitCode, 1) << second.err;
    EXPECT_NE(second.err.find("another dnsd-probe (pid " + std::to_string(probe_->pid()) +
                              ") is running on this database (it holds " + db_ +
                              "-probe.lock); two controllers would fight"),
              std::string::npos)
        << second.err;
    // Refused before it wrote anything: the first one still holds the role, undisturbed.
    EXPECT_EQ(rolePid(), probe_->pid());
    EXPECT_TRUE(probe_->alive()) << probeLog();
    primary_->stop();
    EXPECT_TRUE(waitServed(kSecondary)) << eventDump();
}

TEST_F(ProbeRole, AKilledProbesRoleIsTakenOverAtOnce) {
    standardPool();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << probeLog();
    ASSERT_TRUE(waitUntil([&] { return rolePid() == probe_->pid(); }, 5s));
    pid_t old = probe_->pid();
    ASSERT_EQ(::kill(old, SIGKILL), 0);
    ASSERT_TRUE(waitZombie(old));
    // Nothing was released in the database: the row still names the dead process.
    ASSERT_EQ(rolePid(), old);
    ASSERT_EQ(::kill(old, 0), 0);

    auto next = startAnother();
    expectTakesTheRole(*next);
    auto status = probe_->waitExit(1s);
    ASSERT_TRUE(status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
    probe_ = std::move(next);
    // And it decides: a failover happens under the new controller.
    primary_->stop();
    EXPECT_TRUE(waitServed(kSecondary)) << eventDump();
}

}  // namespace
}  // namespace faults
