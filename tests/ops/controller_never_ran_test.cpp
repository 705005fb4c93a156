// dnsd with no dnsd-probe ever started on its database (issue 16 item 5): it says so once in
// its log at level=warn and on the status page, answers by the all-down rule, and says again
// when dnsd-probe starts.
#include <algorithm>

#include "tests/failover/failover_fixture.hpp"
#include "tests/support/http_get.hpp"

namespace {

using namespace failover;

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

class ControllerNeverRan : public FailoverScenario {};

TEST_F(ControllerNeverRan, DnsdSaysSoOnceUntilDnsdProbeRuns) {
    standardPool({"--ttl", "30", "--degraded-ttl", "5"});
    ok({"member", "drain", "web", kSecondary});
    uint16_t http = freePort();
    dnsd_ = std::make_unique<DnsdServer>(
        db_, freePort(), std::vector<std::string>{"--http", "127.0.0.1:" + std::to_string(http)},
        "svc.test.");
    auto log = [&] { return dnsd_->process().stderrText(); };
    ASSERT_TRUE(waitUntil([&] { return count(log(), "controller never ran") == 1; }, 5s)) << log();
    std::string line = log().substr(log().rfind('\n', log().find("controller never ran")) + 1);
    line = line.substr(0, line.find('\n'));
    EXPECT_NE(line.find("level=warn"), std::string::npos) << line;

    // What dnsd answers meanwhile is the all-down rule (the drained member left out, the
    // degraded TTL), and the status says so.
    EXPECT_EQ(dnsdAnswer(), kPrimary);
    EXPECT_EQ(dnsdTtl(), 5u);
    std::string json = httpGet(http, "/status.json");
    EXPECT_NE(json.find("\"never_ran\":true"), std::string::npos) << json;
    EXPECT_NE(json.find("\"undecided\":{\"served\":[\"127.0.0.11\"],\"ttl\":5}"), std::string::npos)
        << json;
    auto status = dnsctl({"status"});
    EXPECT_NE(status.out.find("never ran"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("no decision yet; dnsd answers by the all-down rule (serve-all): " +
                              std::string(kPrimary) + "  ttl 5"),
              std::string::npos)
        << status.out;

    startProbe();
    ASSERT_TRUE(
        waitUntil([&] { return log().find("controller started") != std::string::npos; }, 10s))
        << log();
    // Many polls went by between the two lines: the warning was not repeated.
    EXPECT_EQ(count(log(), "controller never ran"), 1u) << log();
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
    json = httpGet(http, "/status.json");
    EXPECT_NE(json.find("\"never_ran\":false"), std::string::npos) << json;
    EXPECT_EQ(json.find("\"undecided\""), std::string::npos) << json;
}

}  // namespace
