// Parsing helpers shared by dnsctl and dnsd-probe (zones/probe_store.hpp) and probe validation.
#include "zones/probe_store.hpp"

#include <gtest/gtest.h>

namespace zones {
namespace {

TEST(Durations, Forms) {
    EXPECT_EQ(parseDurationMs("100ms"), 100);
    EXPECT_EQ(parseDurationMs("1s"), 1000);
    EXPECT_EQ(parseDurationMs("1.5s"), 1500);
    EXPECT_EQ(parseDurationMs("2m"), 120000);
    EXPECT_EQ(parseDurationMs("1h"), 3600000);
    EXPECT_EQ(parseDurationMs("250"), 250);
    for (const char* bad : {"", "s", "1x", "-1s", "1 s", "nan", "1e30h"})
        EXPECT_THROW(parseDurationMs(bad), std::runtime_error) << bad;
    EXPECT_EQ(formatDurationMs(500), "500ms");
    EXPECT_EQ(formatDurationMs(60000), "1m");
    EXPECT_EQ(formatDurationMs(1500), "1500ms");
}

TEST(StatusRanges, ParseAndMatch) {
    EXPECT_TRUE(validStatusRanges("200-399"));
    EXPECT_TRUE(validStatusRanges("200,204,301-302"));
    for (const char* bad : {"", "200-", "399-200", "99", "600", "2xx", "200,,204"})
        EXPECT_FALSE(validStatusRanges(bad)) << bad;
    EXPECT_TRUE(statusMatches("200-399", 200));
    EXPECT_TRUE(statusMatches("200-399", 399));
    EXPECT_FALSE(statusMatches("200-399", 400));
    EXPECT_TRUE(statusMatches("200,503", 503));
    EXPECT_FALSE(statusMatches("200,503", 502));
}

TEST(ProbeValidation, DefaultsPerType) {
    ProbeDef p;
    p.name = "x";
    p.type = "https";
    EXPECT_EQ(p.effectivePort(), 443);
    EXPECT_NO_THROW(ProbeStore::validate(p));
    p.type = "tcp";
    EXPECT_THROW(ProbeStore::validate(p), std::runtime_error);
    p.target = "127.0.0.1:80";
    EXPECT_NO_THROW(ProbeStore::validate(p));
    p.target = "[::1]:80";
    EXPECT_NO_THROW(ProbeStore::validate(p));
    p.headers = "no colon";
    EXPECT_THROW(ProbeStore::validate(p), std::runtime_error);
}

}  // namespace
}  // namespace zones
