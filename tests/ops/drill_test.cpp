// `dnsctl drill` against the real dnsd, dnsd-probe and HTTP backends: the failover it reports
// is what dnsd served, the members are put back (also on SIGINT), and it refuses to drill a
// pool whose backup is down.
#include <csignal>

#include "tests/failover/failover_fixture.hpp"
#include "tests/support/run_command.hpp"

namespace {

using namespace failover;

class Drill : public FailoverScenario {
  protected:
    void SetUp() override {
        FailoverScenario::SetUp();
        standardPool({"--hold-down", "1s"});
        startProbe();
        startDnsd();
        ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
        ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kPrimary; }, 5s)) << dnsdAnswer();
    }
    std::string server() const { return "127.0.0.1:" + std::to_string(dnsd_->port()); }
    std::string admin(const std::string& member) const {
        auto db = open();
        SQLite::Statement q(*db, "SELECT admin FROM members WHERE value = ?");
        q.bind(1, member);
        return q.executeStep() ? q.getColumn(0).getString() : "<none>";
    }
};

TEST_F(Drill, FailsOverReportsAndFailsBack) {
    auto r = dnsctl({"drill", "web", "--for", "300ms", "--server", server()});
    ASSERT_TRUE(r.ok()) << r.out << r.err;
    EXPECT_NE(r.out.find("before: dnsd serves 127.0.0.11"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("failover: dnsd stopped serving 127.0.0.11 after "), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("ms; serves 127.0.0.12 (TTL"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("restored: 127.0.0.11 (auto)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("failback: dnsd serves 127.0.0.11 again after "), std::string::npos)
        << r.out;
    EXPECT_EQ(admin(kPrimary), "auto");
    EXPECT_EQ(dnsdAnswer(), kPrimary);
    EXPECT_EQ(events("admin-force-down"), 1) << eventDump();
    EXPECT_EQ(events("admin-force-auto"), 1) << eventDump();
    EXPECT_GE(events("failover"), 1);
    EXPECT_EQ(primary_->accepted() > 0, true);  // probes kept running against the real backend
}

TEST_F(Drill, SigintRestoresTheMember) {
    Process drill(DNSCTL_BIN, {"--db", db_, "drill", "web", "--for", "60s", "--server", server()});
    ASSERT_TRUE(
        waitUntil([&] { return drill.stdoutText().find("holding for") != std::string::npos; }, 10s))
        << drill.stdoutText() << drill.stderrText();
    EXPECT_EQ(admin(kPrimary), "down");
    ::kill(drill.pid(), SIGINT);
    auto status = drill.waitExit(5s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(WEXITSTATUS(*status), 130) << drill.stdoutText();
    EXPECT_NE(drill.stdoutText().find("interrupted: the drilled members were put back"),
              std::string::npos)
        << drill.stdoutText();
    EXPECT_EQ(admin(kPrimary), "auto");
    EXPECT_TRUE(waitUntil([&] { return dnsdAnswer() == kPrimary; }, 5s)) << dnsdAnswer();
}

TEST_F(Drill, RefusesWhenTheBackupIsDownUnlessForced) {
    secondary_->stop();
    ASSERT_TRUE(waitUntil(
        [&] {
            auto db = open();
            SQLite::Statement q(*db, "SELECT health FROM members WHERE value = ?");
            q.bind(1, std::string(kSecondary));
            return q.executeStep() && q.getColumn(0).getString() == "down";
        },
        5s));
    auto r = dnsctl({"drill", "web", "--for", "0s", "--server", server()});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("no other member of pool web is healthy"), std::string::npos) << r.err;
    EXPECT_EQ(events("admin-force-down"), 0);
    EXPECT_EQ(admin(kPrimary), "auto");
    // A member that is not in the pool, and a dnsd that does not answer: refused too.
    auto bad = dnsctl({"drill", "web", "--member", "127.0.0.99", "--server", server()});
    EXPECT_EQ(bad.exitCode, 1);
    EXPECT_NE(bad.err.find("127.0.0.99 is not a member of pool web"), std::string::npos) << bad.err;
    auto noDnsd =
        dnsctl({"drill", "web", "--force", "--server", "127.0.0.1:" + std::to_string(freePort())});
    EXPECT_EQ(noDnsd.exitCode, 1);
    EXPECT_NE(noDnsd.err.find("not drilling"), std::string::npos) << noDnsd.err;
    EXPECT_EQ(events("admin-force-down"), 0);
}

}  // namespace
