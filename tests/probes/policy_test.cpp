// Truth table of the failover policy (probes/policy.hpp): one decide() call per row.
#include "probes/policy.hpp"

#include <gtest/gtest.h>

namespace probes {
namespace {

MemberInput m(std::string value, int priority, Health health, int64_t since = 1000) {
    MemberInput in;
    in.value = std::move(value);
    in.priority = priority;
    in.health = health;
    in.healthSince = since;
    return in;
}

constexpr Health U = Health::Up, D = Health::Down;

// A state as left by an earlier decision serving `tier` (nullopt = all down).
PoolState on(std::optional<int> tier, std::map<int, int64_t> usable = {}) {
    PoolState s;
    s.decided = true;
    s.activeTier = tier;
    s.tierUsableSince = std::move(usable);
    return s;
}

using V = std::vector<std::string>;

TEST(Policy, FirstDecisionTakesBestTier) {
    auto d = decide({}, {m("10.0.0.1", 1, U), m("10.0.0.2", 2, U)}, {}, {}, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.1"});
    EXPECT_EQ(d.move, Move::Initial);
    EXPECT_EQ(d.activeTier, 1);
    EXPECT_FALSE(d.degraded);
    EXPECT_EQ(d.ttl, 30);
}

TEST(Policy, OneTierIsActiveActiveAndOrderedByWeight) {
    auto a = m("10.0.0.1", 1, U), b = m("10.0.0.2", 1, U), c = m("10.0.0.3", 1, U);
    c.weight = 5;
    auto d = decide({}, {a, b, c}, {}, {}, 5000);
    EXPECT_EQ(d.served, (V{"10.0.0.3", "10.0.0.1", "10.0.0.2"}));
}

TEST(Policy, MemberDownInActiveTierShrinksSetAndLowersTtl) {
    auto d = decide({}, {m("10.0.0.1", 1, U), m("10.0.0.2", 1, D)}, on(1, {{1, 0}}), {}, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.1"});
    EXPECT_EQ(d.move, Move::None);
    EXPECT_TRUE(d.degraded);
    EXPECT_EQ(d.ttl, 5);
}

TEST(Policy, ServedMemberFailingButNotDownLowersTtlOnly) {
    auto failing = m("10.0.0.1", 1, U);
    failing.failing = true;
    auto d =
        decide({}, {failing, m("10.0.0.2", 1, U), m("10.0.0.3", 2, U)}, on(1, {{1, 0}}), {}, 5000);
    EXPECT_EQ(d.served, (V{"10.0.0.1", "10.0.0.2"}));  // still served: it is not down yet
    EXPECT_EQ(d.move, Move::None);
    EXPECT_TRUE(d.degraded);
    EXPECT_EQ(d.ttl, 5);
    EXPECT_NE(d.reason.find("10.0.0.1 failing"), std::string::npos) << d.reason;
    // A failing member of a tier that is not served changes nothing.
    auto backup = m("10.0.0.3", 2, U);
    backup.failing = true;
    auto e = decide({}, {m("10.0.0.1", 1, U), backup}, on(1, {{1, 0}, {2, 0}}), {}, 5000);
    EXPECT_FALSE(e.degraded);
    EXPECT_EQ(e.ttl, 30);
}

TEST(Policy, PrimaryDownFailsOverToSecondary) {
    auto d =
        decide({}, {m("10.0.0.1", 1, D), m("10.0.0.2", 2, U)}, on(1, {{1, 0}, {2, 0}}), {}, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.2"});
    EXPECT_EQ(d.move, Move::Failover);
    EXPECT_EQ(d.activeTier, 2);
    EXPECT_TRUE(d.degraded);
}

TEST(Policy, ThreeTiersSkipADeadSecondary) {
    auto d = decide({}, {m("a.", 1, D), m("b.", 2, D), m("c.", 3, U)}, on(1, {{1, 0}}), {}, 5000);
    EXPECT_EQ(d.served, V{"c."});
    EXPECT_EQ(d.activeTier, 3);
}

TEST(Policy, AutoFailbackWaitsForHoldDown) {
    PoolPolicy p;
    p.holdDownMs = 10000;
    std::vector<MemberInput> members = {m("10.0.0.1", 1, U), m("10.0.0.2", 2, U)};
    // Primary usable since t=5000 (first seen now), still on the secondary.
    auto d = decide(p, members, on(2, {{2, 0}}), {}, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.2"});
    EXPECT_EQ(d.move, Move::None);
    ASSERT_TRUE(d.recheckAt);
    EXPECT_EQ(*d.recheckAt, 15000);
    EXPECT_EQ(d.next.tierUsableSince.at(1), 5000);
    // The waiting failback is data for status, not just reason text.
    EXPECT_EQ(d.failbackTier, 1);
    EXPECT_EQ(d.failbackAt, 15000);
    // One ms before the hold-down ends: still secondary.
    auto d2 = decide(p, members, d.next, {}, 14999);
    EXPECT_EQ(d2.served, V{"10.0.0.2"});
    EXPECT_EQ(d2.failbackAt, 15000) << "the same moment, whenever decide runs";
    // At the end of the hold-down: failback.
    auto d3 = decide(p, members, d2.next, {}, 15000);
    EXPECT_EQ(d3.served, V{"10.0.0.1"});
    EXPECT_EQ(d3.move, Move::Failback);
    EXPECT_FALSE(d3.failbackTier);
    EXPECT_FALSE(d3.failbackAt);
    EXPECT_FALSE(d3.degraded);
    EXPECT_EQ(d3.ttl, 30);
}

TEST(Policy, PrimaryFlappingDuringHoldDownRestartsIt) {
    PoolPolicy p;
    p.holdDownMs = 10000;
    auto d = decide(p, {m("10.0.0.1", 1, U), m("10.0.0.2", 2, U)}, on(2, {{2, 0}}), {}, 5000);
    auto down = decide(p, {m("10.0.0.1", 1, D), m("10.0.0.2", 2, U)}, d.next, {}, 8000);
    EXPECT_FALSE(down.next.tierUsableSince.count(1));
    auto up = decide(p, {m("10.0.0.1", 1, U), m("10.0.0.2", 2, U)}, down.next, {}, 9000);
    auto at15 = decide(p, {m("10.0.0.1", 1, U), m("10.0.0.2", 2, U)}, up.next, {}, 15000);
    EXPECT_EQ(at15.served, V{"10.0.0.2"}) << "hold-down must restart at 9000";
    auto at19 = decide(p, {m("10.0.0.1", 1, U), m("10.0.0.2", 2, U)}, at15.next, {}, 19000);
    EXPECT_EQ(at19.served, V{"10.0.0.1"});
}

TEST(Policy, ManualFailbackStaysUntilRequested) {
    PoolPolicy p;
    p.manualFailback = true;
    p.holdDownMs = 0;
    std::vector<MemberInput> members = {m("10.0.0.1", 1, U), m("10.0.0.2", 2, U)};
    auto d = decide(p, members, on(2, {{2, 0}}), {}, 100000);
    EXPECT_EQ(d.served, V{"10.0.0.2"});
    EXPECT_FALSE(d.recheckAt);
    EXPECT_NE(d.reason.find("pool failback"), std::string::npos);
    EXPECT_EQ(d.failbackTier, 1);
    EXPECT_FALSE(d.failbackAt) << "manual: no time, it waits for the operator";
    Requests r;
    r.failback = true;
    auto d2 = decide(p, members, d.next, r, 100001);
    EXPECT_EQ(d2.served, V{"10.0.0.1"});
    EXPECT_EQ(d2.move, Move::Failback);
    EXPECT_NE(d2.failbackResult.find("failed back"), std::string::npos);
}

TEST(Policy, FailbackRequestSkipsAutoHoldDown) {
    PoolPolicy p;
    p.holdDownMs = 60000;
    Requests r;
    r.failback = true;
    auto d =
        decide(p, {m("10.0.0.1", 1, U), m("10.0.0.2", 2, U)}, on(2, {{2, 0}, {1, 4000}}), r, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.1"});
}

TEST(Policy, FailbackRequestWithNothingBetter) {
    Requests r;
    r.failback = true;
    auto d = decide({}, {m("10.0.0.1", 1, D), m("10.0.0.2", 2, U)}, on(2, {{2, 0}}), r, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.2"});
    EXPECT_EQ(d.failbackResult, "already on the best healthy tier (priority 2)");
}

TEST(Policy, ManualApprovalKeepsFailedTierAndRecordsPending) {
    PoolPolicy p;
    p.manualApproval = true;
    std::vector<MemberInput> members = {m("10.0.0.1", 1, D), m("10.0.0.2", 2, U)};
    auto d = decide(p, members, on(1, {{1, 0}, {2, 0}}), {}, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.1"});
    EXPECT_EQ(d.move, Move::Pending);
    EXPECT_EQ(d.pendingTier, 2);
    EXPECT_EQ(d.pendingSince, 5000);
    EXPECT_TRUE(d.degraded);
    // Still pending later: no new Pending move, since preserved.
    auto d2 = decide(p, members, d.next, {}, 6000);
    EXPECT_EQ(d2.move, Move::None);
    EXPECT_EQ(d2.pendingSince, 5000);
    Requests r;
    r.approve = true;
    auto d3 = decide(p, members, d2.next, r, 7000);
    EXPECT_EQ(d3.served, V{"10.0.0.2"});
    EXPECT_EQ(d3.move, Move::Failover);
    EXPECT_FALSE(d3.pendingTier);
    EXPECT_NE(d3.approveResult.find("approved"), std::string::npos);
}

TEST(Policy, PendingClearsWhenPrimaryRecovers) {
    PoolPolicy p;
    p.manualApproval = true;
    auto d =
        decide(p, {m("10.0.0.1", 1, D), m("10.0.0.2", 2, U)}, on(1, {{1, 0}, {2, 0}}), {}, 5000);
    ASSERT_TRUE(d.pendingTier);
    auto d2 = decide(p, {m("10.0.0.1", 1, U), m("10.0.0.2", 2, U)}, d.next, {}, 6000);
    EXPECT_FALSE(d2.pendingTier);
    EXPECT_EQ(d2.served, V{"10.0.0.1"});
}

TEST(Policy, ApproveWithNothingPending) {
    Requests r;
    r.approve = true;
    auto d = decide({}, {m("10.0.0.1", 1, U)}, on(1, {{1, 0}}), r, 5000);
    EXPECT_EQ(d.approveResult, "nothing pending to approve");
}

TEST(Policy, DrainedMemberIsNotServedButTierStays) {
    auto a = m("10.0.0.1", 1, U), b = m("10.0.0.2", 1, U);
    b.drained = true;
    auto d = decide({}, {a, b}, on(1, {{1, 0}}), {}, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.1"});
    EXPECT_FALSE(d.degraded) << "maintenance is not degradation";
}

TEST(Policy, DrainingWholePrimaryFailsOver) {
    auto a = m("10.0.0.1", 1, U);
    a.drained = true;
    auto d = decide({}, {a, m("10.0.0.2", 2, U)}, on(1, {{1, 0}, {2, 0}}), {}, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.2"});
}

TEST(Policy, ForceDownBeatsHealthyProbe) {
    auto a = m("10.0.0.1", 1, U);
    a.admin = AdminState::ForceDown;
    auto d = decide({}, {a, m("10.0.0.2", 2, U)}, on(1, {{1, 0}, {2, 0}}), {}, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.2"});
}

TEST(Policy, ForceUpBeatsFailingProbe) {
    auto a = m("10.0.0.1", 1, D);
    a.admin = AdminState::ForceUp;
    auto d = decide({}, {a, m("10.0.0.2", 2, U)}, on(1, {{1, 0}}), {}, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.1"});
}

TEST(Policy, ForceAutoFollowsProbes) {
    auto a = m("10.0.0.1", 1, D);
    a.admin = AdminState::Auto;
    EXPECT_FALSE(memberUsable(a));
    a.health = U;
    EXPECT_TRUE(memberUsable(a));
}

TEST(Policy, DrainBeatsForceUp) {
    auto a = m("10.0.0.1", 1, U);
    a.admin = AdminState::ForceUp;
    a.drained = true;
    EXPECT_FALSE(memberUsable(a));
}

TEST(Policy, UnknownHealthIsNotUsable) {
    EXPECT_FALSE(memberUsable(m("10.0.0.1", 1, Health::Unknown)));
}

TEST(Policy, AllDownServeAllFailsOpen) {
    auto c = m("10.0.0.3", 2, D);
    c.drained = true;
    auto d = decide({}, {m("10.0.0.1", 1, D), m("10.0.0.2", 2, D), c}, on(1, {{1, 0}}), {}, 5000);
    EXPECT_EQ(d.served, (V{"10.0.0.1", "10.0.0.2"})) << "drained members are left out";
    EXPECT_TRUE(d.allDown);
    EXPECT_EQ(d.move, Move::AllDown);
    EXPECT_EQ(d.ttl, 5);
    EXPECT_FALSE(d.activeTier);
}

TEST(Policy, AllDownServeAllWithEverythingDrainedServesEverything) {
    auto a = m("10.0.0.1", 1, D);
    a.drained = true;
    auto d = decide({}, {a}, on(1), {}, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.1"}) << "never an accidental empty answer";
}

TEST(Policy, AllDownFallback) {
    PoolPolicy p;
    p.allDown = AllDownMode::Fallback;
    p.fallback = "backup.example.net.";
    auto d = decide(p, {m("a.example.", 1, D)}, on(1), {}, 5000);
    EXPECT_EQ(d.served, V{"backup.example.net."});
}

TEST(Policy, AllDownNodata) {
    PoolPolicy p;
    p.allDown = AllDownMode::Nodata;
    auto d = decide(p, {m("10.0.0.1", 1, D)}, on(1), {}, 5000);
    EXPECT_TRUE(d.served.empty());
    EXPECT_EQ(joinServed(d.served), "");
    EXPECT_TRUE(d.allDown);
}

TEST(Policy, RecoveryFromAllDownIsImmediate) {
    PoolPolicy p;
    p.holdDownMs = 60000;
    auto d = decide(p, {m("10.0.0.1", 1, U), m("10.0.0.2", 2, D)}, on(std::nullopt), {}, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.1"});
    EXPECT_EQ(d.move, Move::Recovered);
}

TEST(Policy, AllDownDoesNotNeedApproval) {
    PoolPolicy p;
    p.manualApproval = true;
    auto d = decide(p, {m("10.0.0.1", 1, D), m("10.0.0.2", 2, D)}, on(1, {{1, 0}}), {}, 5000);
    EXPECT_TRUE(d.allDown);
    EXPECT_FALSE(d.pendingTier);
}

TEST(Policy, EmptyPoolAnswersByAllDownMode) {
    auto d = decide({}, {}, {}, {}, 5000);
    EXPECT_TRUE(d.served.empty());
    EXPECT_TRUE(d.allDown);
    EXPECT_EQ(d.move, Move::Initial);
}

TEST(Policy, CurrentTierRemovedMovesAtOnce) {
    PoolPolicy p;
    p.manualApproval = true;
    auto d = decide(p, {m("10.0.0.2", 2, U)}, on(1, {{1, 0}}), {}, 5000);
    EXPECT_EQ(d.served, V{"10.0.0.2"});
    EXPECT_FALSE(d.pendingTier);
}

TEST(Policy, FirstDecisionUsesRecordedHealthSince) {
    auto d = decide({}, {m("10.0.0.1", 1, U, 1234)}, {}, {}, 5000);
    EXPECT_EQ(d.next.tierUsableSince.at(1), 1234);
}

TEST(Policy, DegradedTtlNeverRaisesTtl) {
    PoolPolicy p;
    p.ttl = 3;
    p.degradedTtl = 10;
    auto d = decide(p, {m("10.0.0.1", 1, D), m("10.0.0.2", 2, U)}, on(1, {{1, 0}}), {}, 5000);
    EXPECT_EQ(d.ttl, 3);
}

TEST(Policy, NextDrainChange) {
    EXPECT_EQ(nextDrainChange(true, 200, 300, 100), 200);
    EXPECT_EQ(nextDrainChange(true, 200, 300, 250), 300);
    EXPECT_FALSE(nextDrainChange(true, 200, 300, 300));
    EXPECT_FALSE(nextDrainChange(false, 200, 300, 100));
}

}  // namespace
}  // namespace probes
