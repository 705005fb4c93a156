// What `dnsctl status`, `status --json` and dnsd's /status.json show while a failback waits
// (issue 16 item 3) and for a member with two probes (item 4), against the real dnsd-probe
// and real backends.
#include "tests/failover/failover_fixture.hpp"
#include "tests/support/http_get.hpp"

namespace {

using namespace failover;

class StatusScenario : public FailoverScenario {
  protected:
    // Fails the primary over to the secondary, then brings it back.
    void failOverAndRecover() {
        startProbe();
        ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
        primary_->stop();
        ASSERT_TRUE(waitServed(kSecondary)) << eventDump();
        primary_->start();
    }
    std::string statusJson() const { return dnsctl({"status", "--json"}).out; }
};

TEST_F(StatusScenario, ManualFailbackSaysPriorityOneIsWaiting) {
    standardPool({"--failback", "manual"});
    failOverAndRecover();
    ASSERT_TRUE(waitUntil([&] { return column("failback_tier") == "1"; }, 5s)) << eventDump();
    auto status = dnsctl({"status"});
    EXPECT_NE(status.out.find("priority 1 is healthy again; waiting for `dnsctl pool failback`"),
              std::string::npos)
        << status.out;
    EXPECT_NE(status.out.find("FAILBACK: priority 1 is healthy again, waiting: run `dnsctl pool "
                              "failback web`"),
              std::string::npos)
        << status.out;
    EXPECT_EQ(status.out.find("why:     failover to"), std::string::npos)
        << "the old failover reason is still shown:\n"
        << status.out;
    EXPECT_NE(
        statusJson().find("\"failback\":{\"tier\":1,\"at\":null,\"left_ms\":null,\"manual\":true}"),
        std::string::npos)
        << statusJson();

    ok({"pool", "failback", "web"});
    ASSERT_TRUE(waitServed(kPrimary));
    ASSERT_TRUE(waitUntil([&] { return column("failback_tier") == "NULL"; }, 5s));
    EXPECT_EQ(dnsctl({"status"}).out.find("FAILBACK"), std::string::npos);
    EXPECT_NE(statusJson().find("\"failback\":null"), std::string::npos) << statusJson();
}

TEST_F(StatusScenario, AutoFailbackShowsTheHoldDownCountdown) {
    standardPool({"--hold-down", "60s"});
    failOverAndRecover();
    ASSERT_TRUE(waitUntil([&] { return column("failback_tier") == "1"; }, 5s)) << eventDump();
    int64_t at = std::stoll(column("failback_at"));
    int64_t since = eventAt("member-up", kPrimary);
    // The hold-down runs from when the primary was usable again (its member-up).
    EXPECT_NEAR(double(at - since), 60000.0, 1000.0);

    auto status = dnsctl({"status"});
    EXPECT_NE(status.out.find("FAILBACK: to priority 1 in "), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("or now with `dnsctl pool failback web`"), std::string::npos)
        << status.out;
    std::string json = statusJson();
    EXPECT_NE(json.find("\"failback\":{\"tier\":1,\"at\":" + std::to_string(at) + ",\"left_ms\":"),
              std::string::npos)
        << json;
    EXPECT_NE(json.find("\"manual\":false}"), std::string::npos) << json;
    // Still on the backup: the countdown is not a failback.
    EXPECT_EQ(served(), kSecondary);
}

TEST_F(StatusScenario, EachProbeOfAMemberShowsItsOwnLastResult) {
    standardPool();
    // A second probe on the primary that can never pass: nothing listens on that port.
    uint16_t closed = freePort();
    ok({"probe", "add", "dead-tcp", "--type", "tcp", "--port", std::to_string(closed), "--interval",
        "100ms", "--timeout", "80ms"});
    ok({"member", "set", "web", kPrimary, "--probe", "web-http", "--probe", "dead-tcp"});
    startProbe();
    ASSERT_TRUE(waitServed(kSecondary)) << eventDump();
    ASSERT_TRUE(waitUntil([&] { return probesReported(kPrimary) == 2; }, 5s));
    auto status = dnsctl({"status"});
    EXPECT_NE(status.out.find("      probe dead-tcp: last FAIL"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("      probe web-http: last ok"), std::string::npos) << status.out;
    std::string json = statusJson();
    EXPECT_NE(json.find("\"checks\":[{\"probe\":\"dead-tcp\",\"last_ok\":false"), std::string::npos)
        << json;
    EXPECT_NE(json.find("{\"probe\":\"web-http\",\"last_ok\":true"), std::string::npos) << json;
    // The secondary has one probe: its result stays on the member's own line.
    auto line = status.out.substr(status.out.find(std::string(kSecondary) + "  priority 2"));
    line = line.substr(0, line.find('\n'));
    EXPECT_NE(line.find("last ok"), std::string::npos) << line;
}

}  // namespace
