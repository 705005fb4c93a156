// RateLimiter truth table: limit per client prefix and response class, slip, exemptions.
#include "dnsd/rate_limiter.hpp"

#include <gtest/gtest.h>

using namespace dnsd;
using V = RateLimiter::Verdict;

namespace {

Client v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    Client cl;
    cl.family = 4;
    cl.addr[0] = a, cl.addr[1] = b, cl.addr[2] = c, cl.addr[3] = d;
    return cl;
}

TEST(RateLimiter, AllowsTheRateThenSlipsEverySecondResponse) {
    RateLimiter rrl({.ratePerSecond = 5, .slip = 2});
    Client c = v4(192, 0, 2, 1);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(rrl.check(c, 42, 1000), V::Pass) << i;
    EXPECT_EQ(rrl.check(c, 42, 1000), V::Drop);  // 6th: 1 over
    EXPECT_EQ(rrl.check(c, 42, 1000), V::Slip);  // 7th: 2 over
    EXPECT_EQ(rrl.check(c, 42, 1000), V::Drop);
    EXPECT_EQ(rrl.check(c, 42, 1000), V::Slip);
    // A new second starts a new window.
    EXPECT_EQ(rrl.check(c, 42, 1001), V::Pass);
}

TEST(RateLimiter, ClassesAndPrefixesAreCountedApart) {
    RateLimiter rrl({.ratePerSecond = 1, .slip = 0});
    EXPECT_EQ(rrl.check(v4(192, 0, 2, 1), 1, 7), V::Pass);
    EXPECT_EQ(rrl.check(v4(192, 0, 2, 1), 1, 7), V::Drop);
    EXPECT_EQ(rrl.check(v4(192, 0, 2, 99), 1, 7), V::Drop);  // same /24: same client
    EXPECT_EQ(rrl.check(v4(192, 0, 3, 1), 1, 7), V::Pass);   // another /24
    EXPECT_EQ(rrl.check(v4(192, 0, 2, 1), 2, 7), V::Pass);   // another response class
}

TEST(RateLimiter, LoopbackIsExemptUnlessAskedAndZeroRateIsOff) {
    RateLimiter rrl({.ratePerSecond = 1, .slip = 0});
    for (int i = 0; i < 10; ++i) EXPECT_EQ(rrl.check(v4(127, 0, 0, 1), 1, 7), V::Pass);
    RateLimiter strict({.ratePerSecond = 1, .slip = 0, .exemptLoopback = false});
    EXPECT_EQ(strict.check(v4(127, 0, 0, 1), 1, 7), V::Pass);
    EXPECT_EQ(strict.check(v4(127, 0, 0, 1), 1, 7), V::Drop);
    RateLimiter off({.ratePerSecond = 0});
    for (int i = 0; i < 10; ++i) EXPECT_EQ(off.check(v4(192, 0, 2, 1), 1, 7), V::Pass);
}

TEST(RateLimiter, Ipv6CountsBySlash56) {
    RateLimiter rrl({.ratePerSecond = 1, .slip = 0});
    Client a;
    a.family = 6;
    a.addr[0] = 0x20, a.addr[1] = 0x01, a.addr[2] = 0x0d, a.addr[3] = 0xb8;
    Client b = a;
    b.addr[15] = 7;  // same /56
    Client c = a;
    c.addr[6] = 1;  // another /56
    EXPECT_EQ(rrl.check(a, 1, 7), V::Pass);
    EXPECT_EQ(rrl.check(b, 1, 7), V::Drop);
    EXPECT_EQ(rrl.check(c, 1, 7), V::Pass);
}

}  // namespace
