// TTL near a state change (issue 12), with the real dnsd-probe, dnsctl, dnsd and HTTP
// backends: while the served primary fails some of its checks but fewer than `fall`, dnsd
// answers the pool at its degraded TTL (resolvers that cache in that window ask again soon
// after a failover); once the primary passes again the full TTL is back. A member that
// really goes down still fails over as before.
//
// Failures are bounded by the backend itself, not by the test's timing: with `alternate`
// the primary answers 200, 503, 200, 503, ..., so no failure streak is longer than 1 while
// fall is 4. What dnsd-probe decided is read back from the events it wrote (one `served`
// event per decision change, with the served set and TTL in its details), so a short
// window is never missed by polling.
#include <climits>
#include <set>

#include "tests/failover/failover_fixture.hpp"

namespace failover {
namespace {

class NearChangeTtl : public FailoverScenario {
  protected:
    // Pool TTL 30, degraded TTL 5; HTTP probe every 200 ms, fall 4, rise 1; no hold-down.
    void startPool() {
        ok({"probe", "add", "web-http", "--type", "http", "--port", port(), "--path", "/healthz",
            "--interval", "200ms", "--timeout", "150ms", "--rise", "1", "--fall", "4"});
        ok({"pool", "create", "web", "--zone", "svc.test", "--name", "www", "--type", "A", "--ttl",
            "30", "--degraded-ttl", "5", "--hold-down", "0s"});
        ok({"member", "add", "web", kPrimary, "--priority", "1", "--probe", "web-http"});
        ok({"member", "add", "web", kSecondary, "--priority", "2", "--probe", "web-http"});
        startDnsd();
        startProbe();
        ASSERT_TRUE(waitUntil([&] { return dnsdSeen() == normal(); }, 10s))
            << text(dnsdSeen()) << "\n"
            << eventDump();
    }
    static Seen normal() { return {kPrimary, 30}; }
    static std::string text(const Seen& s) {
        return "'" + s.answer + "' ttl " + std::to_string(s.ttl);
    }

    // Decisions dnsd-probe wrote for pool web serving `served` at `ttl` (kind `served`: no
    // failover or failback), before `before` (ms); their messages, oldest first.
    std::vector<std::string> decisions(const std::string& served, int ttl,
                                       int64_t before = INT64_MAX) const {
        auto db = open();
        SQLite::Statement q(*db,
                            "SELECT message FROM events WHERE pool = 'web' AND kind = 'served' AND "
                            "json_extract(details, '$.served') = ? AND "
                            "json_extract(details, '$.ttl') = ? AND at <= ? ORDER BY id");
        q.bind(1, served);
        q.bind(2, ttl);
        q.bind(3, static_cast<int64_t>(before));
        std::vector<std::string> out;
        while (q.executeStep()) out.push_back(q.getColumn(0).getString());
        return out;
    }
    int64_t firstDecisionAt(const std::string& served, int ttl) const {
        auto db = open();
        SQLite::Statement q(*db,
                            "SELECT coalesce(min(at), 0) FROM events WHERE pool = 'web' AND "
                            "kind = 'served' AND json_extract(details, '$.served') = ? AND "
                            "json_extract(details, '$.ttl') = ?");
        q.bind(1, served);
        q.bind(2, ttl);
        q.executeStep();
        return q.getColumn(0).getInt64();
    }
};

TEST_F(NearChangeTtl, FailingChecksLowerTheTtlWhileThePrimaryIsStillServed) {
    startPool();
    primary_->alternate = true;  // every other check fails: streaks of 1, fall is 4
    std::set<std::string> answers;
    Seen last;
    ASSERT_TRUE(waitUntil(
        [&] {
            last = dnsdSeen();
            answers.insert(last.answer);
            return last == Seen{kPrimary, 5};
        },
        10s))
        << "dnsd never answered the failing primary at the degraded TTL; last " << text(last)
        << "\n"
        << eventDump();

    // Many isolated failures: always lowered again, never down, never failed over.
    int before = primary_->requests;
    ASSERT_TRUE(waitUntil(
        [&] {
            answers.insert(dnsdSeen().answer);
            return primary_->requests >= before + 12;
        },
        20s));
    EXPECT_EQ(answers, std::set<std::string>{kPrimary}) << eventDump();
    EXPECT_EQ(events("member-down"), 0) << eventDump();
    EXPECT_EQ(events("failover"), 0) << eventDump();
    EXPECT_EQ(served(), kPrimary);
    auto lowered = decisions(kPrimary, 5);
    ASSERT_GE(lowered.size(), 2u) << "each failure streak lowers the TTL again\n" << eventDump();
    EXPECT_NE(lowered.front().find("failing"), std::string::npos) << lowered.front();
    EXPECT_NE(lowered.front().find(kPrimary), std::string::npos) << lowered.front();

    // It passes again: the full TTL is back and stays. Requests counted after the switch
    // read it, so from before + 1 on every check passes.
    primary_->alternate = false;
    before = primary_->requests;
    ASSERT_TRUE(
        waitUntil([&] { return primary_->requests >= before + 2 && dnsdSeen() == normal(); }, 10s))
        << text(dnsdSeen()) << "\n"
        << eventDump();
    size_t count = decisions(kPrimary, 5).size();
    before = primary_->requests;
    ASSERT_TRUE(waitUntil([&] { return primary_->requests >= before + 5; }, 10s));
    EXPECT_EQ(dnsdSeen(), normal());
    EXPECT_EQ(decisions(kPrimary, 5).size(), count) << "lowered again with every check passing\n"
                                                    << eventDump();
    EXPECT_EQ(column("degraded"), "0");
}

TEST_F(NearChangeTtl, AFailingBackupThatIsNotServedLeavesTheTtlAlone) {
    startPool();
    secondary_->alternate = true;
    int before = secondary_->requests;
    std::set<uint32_t> ttls;
    ASSERT_TRUE(waitUntil(
        [&] {
            ttls.insert(dnsdSeen().ttl);
            return secondary_->requests >= before + 12;
        },
        20s));
    EXPECT_EQ(ttls, std::set<uint32_t>{30}) << eventDump();
    EXPECT_TRUE(decisions(kPrimary, 5).empty()) << eventDump();
    EXPECT_EQ(dnsdSeen(), normal());
}

TEST_F(NearChangeTtl, AMemberThatReallyGoesDownIsLoweredFirstThenFailsOver) {
    startPool();
    primary_->status = 500;
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kSecondary; }, 10s)) << dnsdAnswer() << "\n"
                                                                            << eventDump();
    EXPECT_EQ(events("failover"), 1) << eventDump();
    EXPECT_EQ(served(), kSecondary);
    EXPECT_EQ(column("degraded"), "1");
    EXPECT_EQ(dnsdTtl(), 5u) << "the backup tier is served at the degraded TTL";

    // Between the first failed check and the down decision the primary was still served,
    // already at the degraded TTL.
    int64_t down = eventAt("member-down", kPrimary);
    ASSERT_GT(down, 0) << eventDump();
    auto lowered = decisions(kPrimary, 5, down);
    ASSERT_FALSE(lowered.empty()) << "no lowered decision before the primary went down\n"
                                  << eventDump();
    EXPECT_NE(lowered.front().find("failing"), std::string::npos) << lowered.front();
    EXPECT_LE(firstDecisionAt(kPrimary, 5), eventAt("failover"));

    // Back up: failback (no hold-down), full TTL.
    primary_->status = 200;
    ASSERT_TRUE(waitUntil([&] { return dnsdSeen() == normal(); }, 10s)) << text(dnsdSeen()) << "\n"
                                                                        << eventDump();
    EXPECT_EQ(events("failback"), 1) << eventDump();
}

}  // namespace
}  // namespace failover
