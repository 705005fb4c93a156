// dnsd's /status page in headless Chromium (the real browser runs the page's script against
// the real /status.json), before and after a real failover.
#include <filesystem>

#include "tests/failover/failover_fixture.hpp"
#include "tests/support/run_command.hpp"

namespace {

using namespace failover;

constexpr const char* kChromium = "/usr/bin/chromium";

class StatusPage : public FailoverScenario {
  protected:
    // The DOM after the page's script ran (virtual time lets its fetch and render finish).
    std::string dumpDom(uint16_t httpPort) {
        std::string profile = dir_->file("chromium-profile-" + std::to_string(++dumps_));
        auto r = runCommand(
            kChromium,
            {"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--user-data-dir=" + profile, "--virtual-time-budget=5000", "--dump-dom",
             "http://127.0.0.1:" + std::to_string(httpPort) + "/status"},
            {}, 60s);
        EXPECT_EQ(r.exitCode, 0) << r.err;
        // What the script rendered; the script's own source (which holds every template
        // string, "cannot reach dnsd" included) is left out.
        return r.out.substr(0, r.out.find("<script"));
    }
    // The <tr> of one member in the pool table.
    static std::string memberRow(const std::string& dom, const std::string& member) {
        auto at = dom.find("data-member=\"" + member + "\"");
        if (at == std::string::npos) return "";
        return dom.substr(at, dom.find("</tr>", at) - at);
    }
    int dumps_ = 0;
};

TEST_F(StatusPage, ShowsThePoolAndTheFailoverInChromium) {
    if (!std::filesystem::exists(kChromium))
        GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
    standardPool();
    uint16_t http = freePort();
    dnsd_ = std::make_unique<DnsdServer>(
        db_, freePort(), std::vector<std::string>{"--http", "127.0.0.1:" + std::to_string(http)},
        "svc.test.");
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
    ASSERT_TRUE(waitUntil(
        [&] {
            auto db = open();
            SQLite::Statement q(*db, "SELECT count(*) FROM members WHERE health = 'up'");
            q.executeStep();
            return q.getColumn(0).getInt() == 2;
        },
        5s));

    std::string dom = dumpDom(http);
    EXPECT_NE(dom.find("data-pool=\"web\""), std::string::npos) << dom;
    EXPECT_NE(dom.find("www.svc.test."), std::string::npos) << dom;
    EXPECT_NE(dom.find("serving: <span class=\"served\">127.0.0.11</span>"), std::string::npos)
        << dom;
    EXPECT_NE(memberRow(dom, kPrimary).find(">UP<"), std::string::npos) << memberRow(dom, kPrimary);
    EXPECT_NE(memberRow(dom, kSecondary).find(">UP<"), std::string::npos)
        << memberRow(dom, kSecondary);
    EXPECT_NE(dom.find("running (pid"), std::string::npos) << dom;
    EXPECT_EQ(dom.find("cannot reach dnsd"), std::string::npos) << dom;

    primary_->stop();
    ASSERT_TRUE(waitServed(kSecondary)) << eventDump();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kSecondary; }, 5s)) << dnsdAnswer();
    dom = dumpDom(http);
    EXPECT_NE(dom.find("serving: <span class=\"served\">127.0.0.12</span>"), std::string::npos)
        << dom;
    EXPECT_NE(memberRow(dom, kPrimary).find(">DOWN<"), std::string::npos)
        << memberRow(dom, kPrimary);
    EXPECT_NE(memberRow(dom, kSecondary).find(">UP<"), std::string::npos)
        << memberRow(dom, kSecondary);
    EXPECT_NE(dom.find("DEGRADED"), std::string::npos) << dom;
    EXPECT_NE(dom.find("<td>failover</td>"), std::string::npos) << dom;
}

TEST_F(StatusPage, ShowsNeverRanAWaitingFailbackAndEachProbe) {
    if (!std::filesystem::exists(kChromium))
        GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
    standardPool({"--failback", "manual"});
    uint16_t http = freePort();
    dnsd_ = std::make_unique<DnsdServer>(
        db_, freePort(), std::vector<std::string>{"--http", "127.0.0.1:" + std::to_string(http)},
        "svc.test.");
    // No dnsd-probe yet: the page says so and shows what dnsd answers meanwhile.
    std::string dom = dumpDom(http);
    EXPECT_NE(dom.find("never ran</span> no decisions are made"), std::string::npos) << dom;
    EXPECT_NE(dom.find("serving: <span class=\"served\">127.0.0.11 127.0.0.12</span> ttl 5"),
              std::string::npos)
        << dom;
    EXPECT_NE(dom.find("NO DECISION"), std::string::npos) << dom;

    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
    primary_->stop();
    ASSERT_TRUE(waitServed(kSecondary)) << eventDump();
    primary_->start();
    ASSERT_TRUE(waitUntil([&] { return column("failback_tier") == "1"; }, 5s)) << eventDump();
    dom = dumpDom(http);
    EXPECT_NE(dom.find("FAILBACK to priority 1 waiting for dnsctl pool failback"),
              std::string::npos)
        << dom;
    EXPECT_EQ(dom.find("NO DECISION"), std::string::npos) << dom;

    // A second probe on the secondary that cannot pass: its row shows both results.
    ok({"probe", "add", "dead-tcp", "--type", "tcp", "--port", std::to_string(freePort()),
        "--interval", "100ms", "--timeout", "80ms"});
    ok({"member", "set", "web", kSecondary, "--probe", "web-http", "--probe", "dead-tcp"});
    ASSERT_TRUE(waitUntil([&] { return probesReported(kSecondary) == 2; }, 5s));
    std::string row = memberRow(dumpDom(http), kSecondary);
    EXPECT_NE(row.find("data-probe=\"dead-tcp\">dead-tcp: FAIL"), std::string::npos) << row;
    EXPECT_NE(row.find("data-probe=\"web-http\">web-http: ok"), std::string::npos) << row;
}

TEST_F(StatusPage, ShowsEachVantagesViewAndQuorumLost) {
    if (!std::filesystem::exists(kChromium))
        GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
    standardPool();
    uint16_t http = freePort();
    dnsd_ = std::make_unique<DnsdServer>(
        db_, freePort(), std::vector<std::string>{"--http", "127.0.0.1:" + std::to_string(http)},
        "svc.test.");
    // A single prober: no vantage lines, no vantage table.
    std::string dom = dumpDom(http);
    ASSERT_NE(dom.find("data-pool=\"web\""), std::string::npos) << dom;
    EXPECT_EQ(dom.find("data-views="), std::string::npos) << dom;
    EXPECT_EQ(dom.find("Vantage points"), std::string::npos) << dom;
    EXPECT_EQ(dom.find("quorum"), std::string::npos) << dom;

    int64_t now = zones::nowMs();
    seedVantageViews(now - 30000, now - 20000);
    dom = dumpDom(http);
    // The very line dnsctl status prints (the JSON's quorum.summary).
    std::string views = "data-views=\"" + std::string(kPrimary) + "\"";
    auto at = dom.find(views);
    ASSERT_NE(at, std::string::npos) << dom;
    std::string row = dom.substr(at, dom.find("</tr>", at) - at);
    EXPECT_NE(row.find("vantages up 2/3: fra up, nyc up, sin DOWN since "), std::string::npos)
        << row;
    EXPECT_NE(row.find("(2 needed)"), std::string::npos) << row;
    EXPECT_NE(dom.find("QUORUM LOST since "), std::string::npos) << dom;
    EXPECT_NE(dom.find("(keeping the last decision)"), std::string::npos) << dom;
    EXPECT_NE(dom.find("all-down serve-all, quorum majority"), std::string::npos) << dom;
    EXPECT_NE(dom.find("Vantage points"), std::string::npos) << dom;
    at = dom.find("data-vantage=\"sin\"");
    ASSERT_NE(at, std::string::npos) << dom;
    EXPECT_NE(dom.substr(at, dom.find("</tr>", at) - at).find(">reporting<"), std::string::npos)
        << dom;
    // The member rows themselves are as before.
    EXPECT_NE(memberRow(dom, kPrimary).find(">UNKNOWN<"), std::string::npos)
        << memberRow(dom, kPrimary);
}

}  // namespace
