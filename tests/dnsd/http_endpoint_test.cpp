// dnsd's local HTTP endpoint against the real binary: Prometheus metrics that move with the
// queries, the status JSON with pools and members, the status page, and clear errors.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <SQLiteCpp/Database.h>

#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

using namespace testsupport;
using namespace std::chrono_literals;

namespace {

class HttpEndpointTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = dir_.file("dnsd.db");
        createDatabase(db_,
                       {std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone"});
        auto r = runDnsctl(db_, {"pool", "create", "web", "--zone", "svc.example.com", "--name",
                                 "app", "--type", "A"});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        r = runDnsctl(db_, {"member", "add", "web", "192.0.2.10"});
        ASSERT_EQ(r.exitCode, 0) << r.err;
        httpPort_ = freePort();
        dnsd_ = std::make_unique<DnsdServer>(
            db_, freePort(),
            std::vector<std::string>{"--http", "127.0.0.1:" + std::to_string(httpPort_)},
            "svc.example.com.");
    }
    TempDir dir_;
    std::string db_;
    uint16_t httpPort_ = 0;
    std::unique_ptr<DnsdServer> dnsd_;
};

TEST_F(HttpEndpointTest, MetricsCountQueriesOutcomesAndPoolAnswers) {
    auto before = httpGet(httpPort_, "/metrics");
    ASSERT_NE(before.find("200 OK"), std::string::npos) << before;
    EXPECT_NE(before.find("text/plain; version=0.0.4"), std::string::npos);
    double nx0 = promValue(before, "dnsd_outcomes_total{outcome=\"nxdomain\"}");
    auto client = dnsd_->client();
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(client.udp(QueryBuilder("nothing.svc.example.com.", 1).build(), 2s));
    ASSERT_TRUE(client.udp(QueryBuilder("app.svc.example.com.", 1).build(), 2s));
    auto after = httpGet(httpPort_, "/metrics");
    EXPECT_EQ(promValue(after, "dnsd_outcomes_total{outcome=\"nxdomain\"}"), nx0 + 3);
    EXPECT_GE(promValue(after, "dnsd_queries_total{transport=\"udp\"}"), 4);
    EXPECT_EQ(promValue(after, "dnsd_pool_answers_total{pool=\"web\"}"), 1);
    EXPECT_EQ(
        promValue(after, "dnsd_pool_member_answers_total{pool=\"web\",member=\"192.0.2.10\"}"), 1);
    EXPECT_EQ(promValue(after, "dnsd_zones"), 1);
    EXPECT_EQ(promValue(after, "dnsd_controller_heartbeat_age_seconds"), -1);  // never ran
}

TEST_F(HttpEndpointTest, StatusJsonAndPage) {
    auto json = httpGet(httpPort_, "/status.json");
    ASSERT_NE(json.find("200 OK"), std::string::npos) << json;
    EXPECT_NE(json.find("\"name\":\"web\""), std::string::npos);
    EXPECT_NE(json.find("\"value\":\"192.0.2.10\""), std::string::npos);
    EXPECT_NE(json.find("\"stale\":true"), std::string::npos);
    EXPECT_NE(json.find("\"events\":["), std::string::npos);
    auto page = httpGet(httpPort_, "/status");
    EXPECT_NE(page.find("text/html"), std::string::npos);
    EXPECT_NE(page.find("/status.json"), std::string::npos);
    EXPECT_NE(httpGet(httpPort_, "/nope").find("404"), std::string::npos);
}

TEST(HttpEndpointStartup, AnAddressInUseThatWasAskedForIsFatal) {
    TempDir dir;
    std::string db = dir.file("dnsd.db");
    createDatabase(db, {std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone"});
    auto busy = testsupport::busyTcpPort();
    auto r = runCommand(DNSD_BIN,
                        {"--db", db, "--listen", "127.0.0.1:" + std::to_string(freePort()),
                         "--http", "127.0.0.1:" + std::to_string(busy.port)},
                        {}, 10s);
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("cannot bind TCP"), std::string::npos) << r.err;
}

}  // namespace
