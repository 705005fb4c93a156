// The quorum of vantage views (probes/quorum.hpp): one quorumOf() call per row.
#include "probes/quorum.hpp"

#include <gtest/gtest.h>

namespace probes {
namespace {

constexpr Health U = Health::Up, D = Health::Down, X = Health::Unknown;
using zones::Quorum;
const Quorum kMajority{}, kAll{Quorum::Kind::All, 0}, kAny{Quorum::Kind::Any, 0};

VantageOpinion up(bool failing = false) {
    return {U, failing, true};
}
VantageOpinion down() {
    return {D, false, true};
}
VantageOpinion silent(Health h = U) {
    return {h, false, false};
}

TEST(Quorum, OneVantageIsThatVantagesView) {
    for (Quorum q : {kMajority, kAll, kAny}) {
        EXPECT_EQ(quorumOf({up()}, q, 1).health, U);
        EXPECT_EQ(quorumOf({down()}, q, 1).health, D);
        EXPECT_FALSE(quorumOf({{X, false, true}}, q, 1).enough);
    }
}

TEST(Quorum, MajorityOfThree) {
    auto all = quorumOf({up(), up(), up()}, kMajority, 3);
    EXPECT_TRUE(all.enough);
    EXPECT_EQ(all.health, U);
    EXPECT_EQ(all.up, 3);
    EXPECT_EQ(all.needed, 2);
    // One vantage's link cut: still up (the split), no failover.
    EXPECT_EQ(quorumOf({up(), up(), down()}, kMajority, 3).health, U);
    // Two of three see it down: down.
    EXPECT_EQ(quorumOf({up(), down(), down()}, kMajority, 3).health, D);
}

TEST(Quorum, SilentVantagesLeaveTheCountUntilTooFewRemain) {
    // One of three silent: two reporting is still a majority of three configured; both must
    // agree it is up (majority of the two reporting).
    auto two = quorumOf({up(), up(), silent(D)}, kMajority, 3);
    EXPECT_TRUE(two.enough);
    EXPECT_EQ(two.reporting, 2);
    EXPECT_EQ(two.health, U);
    EXPECT_EQ(quorumOf({up(), down(), silent()}, kMajority, 3).health, D);
    // Two of three silent: not enough to decide anything (keep the previous state).
    auto one = quorumOf({down(), silent(), silent()}, kMajority, 3);
    EXPECT_FALSE(one.enough);
    EXPECT_EQ(one.reporting, 1);
    // A vantage with no view yet does not count either.
    EXPECT_FALSE(quorumOf({up(), {X, false, true}, silent()}, kMajority, 3).enough);
}

TEST(Quorum, AllAnyAndCount) {
    EXPECT_EQ(quorumOf({up(), up(), down()}, kAll, 3).health, D);
    EXPECT_EQ(quorumOf({up(), up(), up()}, kAll, 3).health, U);
    EXPECT_FALSE(quorumOf({up(), up(), silent()}, kAll, 3).enough);  // all needs every one
    EXPECT_EQ(quorumOf({down(), down(), up()}, kAny, 3).health, U);
    EXPECT_EQ(quorumOf({down(), down(), down()}, kAny, 3).health, D);
    EXPECT_TRUE(quorumOf({down(), silent(), silent()}, kAny, 3).enough);
    Quorum two{Quorum::Kind::Count, 2};
    EXPECT_EQ(quorumOf({up(), up(), down(), down()}, two, 4).health, U);
    EXPECT_EQ(quorumOf({up(), down(), down(), down()}, two, 4).health, D);
    EXPECT_FALSE(quorumOf({up(), silent(), silent(), silent()}, two, 4).enough);
}

TEST(Quorum, FailingWhenTheUpViewsNearFlippingWouldBreakTheQuorum) {
    // Three up, one failing: two steady ups still make the majority.
    EXPECT_FALSE(quorumOf({up(true), up(), up()}, kMajority, 3).failing);
    // Two of three up and one of those failing: one more failure could fail it over.
    auto q = quorumOf({up(true), up(), down()}, kMajority, 3);
    EXPECT_EQ(q.health, U);
    EXPECT_TRUE(q.failing);
    // One vantage alone: failing is its own streak.
    EXPECT_TRUE(quorumOf({up(true)}, kMajority, 1).failing);
    EXPECT_FALSE(quorumOf({down()}, kMajority, 1).failing);
}

TEST(Quorum, ParsesAndCounts) {
    EXPECT_EQ(zones::quorumNeeded(zones::parseQuorum("majority"), 3), 2);
    EXPECT_EQ(zones::quorumNeeded(zones::parseQuorum("majority"), 4), 3);
    EXPECT_EQ(zones::quorumNeeded(zones::parseQuorum("all"), 3), 3);
    EXPECT_EQ(zones::quorumNeeded(zones::parseQuorum("any"), 3), 1);
    EXPECT_EQ(zones::quorumNeeded(zones::parseQuorum("2"), 3), 2);
    EXPECT_EQ(zones::toText(zones::parseQuorum("7")), "7");
    for (const char* bad : {"", "0", "65", "most", "-1", "1.5", "007"})
        EXPECT_THROW(zones::parseQuorum(bad), std::runtime_error) << bad;
}

}  // namespace
}  // namespace probes
