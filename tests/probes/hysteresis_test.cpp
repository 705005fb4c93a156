// Rise/fall hysteresis (probes/hysteresis.hpp).
#include "probes/hysteresis.hpp"

#include <gtest/gtest.h>

namespace probes {
namespace {

TEST(Hysteresis, FirstResultDecidesAtOnce) {
    Hysteresis up, down;
    EXPECT_TRUE(up.observe(true, 3, 3));
    EXPECT_EQ(up.state(), Health::Up);
    EXPECT_TRUE(down.observe(false, 3, 3));
    EXPECT_EQ(down.state(), Health::Down);
}

TEST(Hysteresis, FallNeedsConsecutiveFailures) {
    Hysteresis h;
    h.observe(true, 2, 3);
    EXPECT_FALSE(h.observe(false, 2, 3));
    EXPECT_FALSE(h.observe(false, 2, 3));
    EXPECT_EQ(h.checksToFlip(2, 3), 1);
    EXPECT_TRUE(h.observe(false, 2, 3));
    EXPECT_EQ(h.state(), Health::Down);
}

TEST(Hysteresis, RiseNeedsConsecutiveSuccesses) {
    Hysteresis h;
    h.observe(false, 2, 2);
    EXPECT_FALSE(h.observe(true, 2, 2));
    EXPECT_TRUE(h.observe(true, 2, 2));
    EXPECT_EQ(h.state(), Health::Up);
}

TEST(Hysteresis, AlternatingResultsNeverFlip) {
    Hysteresis h;
    h.observe(true, 2, 2);
    for (int i = 0; i < 100; ++i) {
        EXPECT_FALSE(h.observe(i % 2 == 0, 2, 2));
        EXPECT_EQ(h.state(), Health::Up);
    }
}

TEST(Hysteresis, FallOfOneFlipsOnFirstFailure) {
    Hysteresis h;
    h.observe(true, 1, 1);
    EXPECT_TRUE(h.observe(false, 1, 1));
    EXPECT_TRUE(h.observe(true, 1, 1));
}

}  // namespace
}  // namespace probes
