// dnsd's local HTTP endpoint against the real binary: Prometheus metrics that move with the
// queries, the status JSON with pools and members, the status page, clear errors, and a scrape
// that still succeeds while slow, garbage and deaf clients hold connections; the caps (in all,
// per client address) and the request deadline, seen from the clients and in /metrics.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>

#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/unique_fd.hpp"
#include "tests/support/wait_until.hpp"

using namespace testsupport;
using namespace std::chrono_literals;

namespace {

// One raw client connection from a chosen loopback source address: the endpoint caps
// connections per client address, and every 127.x.y.z is a client of its own.
class RawClient {
  public:
    RawClient(const std::string& source, uint16_t port, int receiveBuffer = 0)
        : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        if (receiveBuffer > 0)
            ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
        sockaddr_in from{};
        from.sin_family = AF_INET;
        inet_pton(AF_INET, source.c_str(), &from.sin_addr);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
        if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
            ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
            throw std::runtime_error("cannot connect from " + source + ": " + std::strerror(errno));
    }
    // False once the server has closed or reset the connection.
    bool send(const std::string& bytes) {
        return ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size());
    }
    // Everything received until the server closes (closed() then true) or `timeout` passes.
    std::string readUntilClosed(std::chrono::milliseconds timeout) {
        std::string out;
        auto until = std::chrono::steady_clock::now() + timeout;
        while (!closed_) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            pollfd p{fd_.get(), POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, int(left.count())) <= 0) break;
            char buf[8192];
            ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
            if (n > 0)
                out.append(buf, size_t(n));
            else
                closed_ = true;  // end of stream or reset
        }
        return out;
    }
    bool closed() const { return closed_; }

  private:
    UniqueFd fd_;
    bool closed_ = false;
};

// A whole GET from 127.0.0.1 that must be answered and closed within `timeout` (else "").
std::string scrape(uint16_t port, std::chrono::milliseconds timeout = 1s,
                   const std::string& path = "/metrics") {
    RawClient c("127.0.0.1", port);
    if (!c.send("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n")) return "";
    std::string out = c.readUntilClosed(timeout);
    return c.closed() ? out : "";
}

const std::string kHalfRequest = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n";
const std::string kRestOfRequest = "Accept: */*\r\n\r\n";
// A TLS-ish first flight with a NUL in it: what a misconfigured client sends.
const std::string kGarbage("\x16\x03\x01\x02\x00 not http\r\n\r\n", 18);

std::string source(int third, int fourth) {
    return "127.0." + std::to_string(third) + "." + std::to_string(fourth);
}

bool startsWith(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

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

// Issue #16: one connection at a time meant 50 half-sent requests held the endpoint and a
// Prometheus scrape timed out. Now every connection is served at once.
TEST_F(HttpEndpointTest, AScrapeSucceedsWhileSlowGarbageAndDeafClientsHoldConnections) {
    std::vector<std::unique_ptr<RawClient>> slow;
    for (int i = 1; i <= 50; ++i) {
        slow.push_back(std::make_unique<RawClient>(source(1, i), httpPort_));
        ASSERT_TRUE(slow.back()->send(kHalfRequest));
    }
    std::vector<std::unique_ptr<RawClient>> garbage;
    for (int i = 1; i <= 5; ++i) {
        garbage.push_back(std::make_unique<RawClient>(source(2, i), httpPort_));
        ASSERT_TRUE(garbage.back()->send(kGarbage));
    }
    // Asks for the status page with a tiny receive buffer and never reads the answer.
    RawClient deaf(source(3, 1), httpPort_, 1);
    ASSERT_TRUE(deaf.send("GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n"));

    auto m = scrape(httpPort_, 1s);
    ASSERT_TRUE(startsWith(m, "HTTP/1.1 200 OK")) << m;
    EXPECT_NE(m.find("dnsd_queries_total"), std::string::npos);
    // The slow clients are held, not dropped (the scrape's own connection counts too).
    EXPECT_GE(promValue(m, "dnsd_http_open_connections"), 51) << m;

    for (auto& g : garbage) {
        auto r = g->readUntilClosed(10s);
        EXPECT_TRUE(startsWith(r, "HTTP/1.1 400 Bad Request")) << r;
        EXPECT_TRUE(g->closed());
    }
    m = scrape(httpPort_, 1s);
    EXPECT_EQ(promValue(m, "dnsd_http_bad_requests_total"), 5) << m;
    EXPECT_EQ(promValue(m, "dnsd_http_refused_total{cap=\"total\"}"), 0);
    EXPECT_EQ(promValue(m, "dnsd_http_refused_total{cap=\"per_client\"}"), 0);
}

TEST_F(HttpEndpointTest, OneClientAddressHoldsAtMostEightConnections) {
    std::vector<std::unique_ptr<RawClient>> held;
    for (int i = 0; i < 8; ++i) {
        held.push_back(std::make_unique<RawClient>(source(4, 1), httpPort_));
        ASSERT_TRUE(held.back()->send(kHalfRequest));
    }
    // Accepted in connect order, so the ninth from the same address is the one over the cap.
    RawClient ninth(source(4, 1), httpPort_);
    EXPECT_EQ(ninth.readUntilClosed(10s), "");
    EXPECT_TRUE(ninth.closed());
    // Another address is not affected.
    RawClient other(source(4, 2), httpPort_);
    ASSERT_TRUE(other.send(kHalfRequest + kRestOfRequest));
    auto r = other.readUntilClosed(10s);
    EXPECT_TRUE(startsWith(r, "HTTP/1.1 200 OK")) << r.substr(0, 200);
    for (auto& c : held) {
        ASSERT_TRUE(c->send(kRestOfRequest));
        r = c->readUntilClosed(10s);
        EXPECT_TRUE(startsWith(r, "HTTP/1.1 200 OK")) << r.substr(0, 200);
    }
    auto m = scrape(httpPort_, 1s);
    EXPECT_EQ(promValue(m, "dnsd_http_refused_total{cap=\"per_client\"}"), 1) << m;
    EXPECT_EQ(promValue(m, "dnsd_http_refused_total{cap=\"total\"}"), 0);
}

TEST_F(HttpEndpointTest, AtMostSixtyFourConnectionsInAll) {
    std::vector<std::unique_ptr<RawClient>> held;
    for (int client = 1; client <= 8; ++client)
        for (int i = 0; i < 8; ++i) {
            held.push_back(std::make_unique<RawClient>(source(5, client), httpPort_));
            ASSERT_TRUE(held.back()->send(kHalfRequest));
        }
    RawClient extra(source(5, 9), httpPort_);
    EXPECT_EQ(extra.readUntilClosed(10s), "");
    EXPECT_TRUE(extra.closed());
    for (auto& c : held) {
        ASSERT_TRUE(c->send(kRestOfRequest));
        auto r = c->readUntilClosed(10s);
        EXPECT_TRUE(startsWith(r, "HTTP/1.1 200 OK")) << r.substr(0, 200);
    }
    held.clear();
    // The slots come free once the endpoint has seen the clients close; a scrape that came
    // earlier was refused for the total cap too, so count those.
    int refusedScrapes = 0;
    std::string m;
    ASSERT_TRUE(waitUntil(
        [&] {
            m = scrape(httpPort_, 1s);
            if (m.empty()) ++refusedScrapes;
            return !m.empty();
        },
        10s));
    EXPECT_EQ(promValue(m, "dnsd_http_refused_total{cap=\"total\"}"), 1 + refusedScrapes) << m;
    EXPECT_EQ(promValue(m, "dnsd_http_refused_total{cap=\"per_client\"}"), 0);
}

TEST_F(HttpEndpointTest, TheRequestDeadlineClosesAClientThatKeepsTrickling) {
    // A header line now and then: never idle, never finished. Only a total deadline ends it.
    RawClient slow(source(6, 1), httpPort_);
    ASSERT_TRUE(slow.send(kHalfRequest));
    std::string got;
    bool closedByServer = false;
    auto until = std::chrono::steady_clock::now() + 30s;
    while (!closedByServer && std::chrono::steady_clock::now() < until) {
        got += slow.readUntilClosed(200ms);
        // A failed send is a reset: the server closed while bytes were unread.
        closedByServer = slow.closed() || !slow.send("X-Slow: 1\r\n");
    }
    EXPECT_TRUE(closedByServer);
    EXPECT_EQ(got, "");
    auto m = scrape(httpPort_, 1s);
    EXPECT_EQ(promValue(m, "dnsd_http_timed_out_total"), 1) << m;
}

TEST_F(HttpEndpointTest, GarbageGets400HugeHeaders431AndABody413) {
    RawClient garbage("127.0.0.1", httpPort_);
    ASSERT_TRUE(garbage.send(std::string("\x00\xff garbage\r\n\r\n", 14)));
    auto r = garbage.readUntilClosed(10s);
    EXPECT_TRUE(startsWith(r, "HTTP/1.1 400 Bad Request")) << r;
    EXPECT_TRUE(garbage.closed());

    RawClient huge("127.0.0.1", httpPort_);
    huge.send("GET /metrics HTTP/1.1\r\nX-Big: " + std::string(16000, 'a') + "\r\n\r\n");
    r = huge.readUntilClosed(10s);
    EXPECT_TRUE(startsWith(r, "HTTP/1.1 431 Request Header Fields Too Large")) << r;
    EXPECT_TRUE(huge.closed());

    RawClient body("127.0.0.1", httpPort_);
    body.send("POST /metrics HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + std::string(10000, 'b'));
    r = body.readUntilClosed(10s);
    EXPECT_TRUE(startsWith(r, "HTTP/1.1 413 Payload Too Large")) << r;
    EXPECT_TRUE(body.closed());

    auto m = scrape(httpPort_, 1s);
    EXPECT_EQ(promValue(m, "dnsd_http_bad_requests_total"), 3) << m;
    EXPECT_EQ(promValue(m, "dnsd_http_timed_out_total"), 0);
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
