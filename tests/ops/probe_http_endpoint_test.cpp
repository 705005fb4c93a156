// dnsd-probe's /metrics is served by the shared httpd endpoint, whose limits
// tests/dnsd/http_endpoint_test.cpp covers against dnsd: here, that the endpoint's counters are
// on dnsd-probe's /metrics (dnsd_probe_http_*) and that a client holding a half-sent request
// does not stop a scrape.
#include "tests/failover/failover_fixture.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/tcp_connection.hpp"

namespace {

using namespace failover;
using testsupport::httpGet;
using testsupport::promValue;
using testsupport::TcpConnection;

class ProbeHttpEndpoint : public FailoverScenario {};

TEST_F(ProbeHttpEndpoint, CountersOnMetricsAndAHalfRequestDoesNotBlockAScrape) {
    standardPool();
    uint16_t http = freePort();
    probe_ = std::make_unique<Process>(
        DNSD_PROBE_BIN,
        std::vector<std::string>{"--db", db_, "--http", "127.0.0.1:" + std::to_string(http)});
    std::string m;
    ASSERT_TRUE(waitUntil(
        [&] {
            m = httpGet(http, "/metrics");
            return m.find("200 OK") != std::string::npos;
        },
        10s))
        << probe_->describe();

    // Held open for the rest of the test: the old endpoint waited on it for 2 s per read.
    auto held = TcpConnection::open("127.0.0.1", http);
    std::string half = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n";
    ASSERT_TRUE(held.sendRaw({reinterpret_cast<const uint8_t*>(half.data()), half.size()}));

    m = httpGet(http, "/metrics");
    ASSERT_NE(m.find("200 OK"), std::string::npos) << m;
    EXPECT_NE(m.find("dnsd_probe_checks_total"), std::string::npos);
    EXPECT_GE(promValue(m, "dnsd_probe_http_connections_total"), 2) << m;
    EXPECT_EQ(promValue(m, "dnsd_probe_http_refused_total{cap=\"total\"}"), 0);
    EXPECT_EQ(promValue(m, "dnsd_probe_http_refused_total{cap=\"per_client\"}"), 0);
    EXPECT_EQ(promValue(m, "dnsd_probe_http_bad_requests_total"), 0);
    EXPECT_NE(m.find("# TYPE dnsd_probe_http_timed_out_total counter"), std::string::npos);
    EXPECT_NE(m.find("# TYPE dnsd_probe_http_open_connections gauge"), std::string::npos);
}

}  // namespace
