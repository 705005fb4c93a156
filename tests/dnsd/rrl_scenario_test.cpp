// Response rate limiting against the real dnsd: a flood from one client prefix is limited
// (some responses slipped with TC, the rest dropped) while another client is still answered.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/temp_dir.hpp"

using namespace testsupport;

namespace {

// Sends `count` queries from a socket bound to `source`, then counts full and TC answers.
struct FloodResult {
    int full = 0;
    int truncated = 0;
};

FloodResult flood(const char* source, uint16_t port, const std::vector<uint8_t>& query, int count) {
    FloodResult r;
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    inet_pton(AF_INET, source, &src.sin_addr);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src), 0);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    for (int i = 0; i < count; ++i)
        ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
    timeval tv{0, 300 * 1000};  // answers to a loopback flood arrive within this, or never
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint8_t buf[4096];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 12) break;
        if (buf[2] & 0x02)
            ++r.truncated;
        else
            ++r.full;
    }
    ::close(fd);
    return r;
}

TEST(RrlScenario, FloodFromOnePrefixIsLimitedOthersStillAnswered) {
    TempDir dir;
    std::string db = dir.file("dnsd.db");
    createDatabase(db, {std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone"});
    uint16_t port = freePort();
    DnsdServer dnsd(db, port, {"--rrl-rate", "20", "--rrl-slip", "2", "--rrl-limit-loopback"},
                    "svc.example.com.");
    auto q = QueryBuilder("www.svc.example.com.", 1).build();
    FloodResult a = flood("127.0.0.1", port, q, 200);
    // At most the rate (plus one second's worth if the flood straddles a second boundary)
    // answered in full; about half of the excess slipped with TC.
    EXPECT_GE(a.full, 20);
    EXPECT_LE(a.full, 40);
    EXPECT_GE(a.truncated, 50);
    EXPECT_LT(a.full + a.truncated, 200);
    // Another /24 is another client: answered in full.
    FloodResult b = flood("127.0.1.1", port, q, 5);
    EXPECT_EQ(b.full, 5);
    EXPECT_EQ(b.truncated, 0);
    // TCP is never rate limited.
    auto tcp = dnsd.client().tcp(q, std::chrono::milliseconds(2000));
    ASSERT_TRUE(tcp);
    EXPECT_EQ(tcp->ancount(), 2);
}

TEST(RrlScenario, LoopbackIsExemptByDefault) {
    TempDir dir;
    std::string db = dir.file("dnsd.db");
    createDatabase(db, {std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone"});
    uint16_t port = freePort();
    DnsdServer dnsd(db, port, {"--rrl-rate", "20"}, "svc.example.com.");
    FloodResult a = flood("127.0.0.1", port, QueryBuilder("www.svc.example.com.", 1).build(), 100);
    EXPECT_EQ(a.truncated, 0);
    EXPECT_GE(a.full, 95);  // UDP on loopback: nothing is lost unless the socket buffer fills
}

// An empty variable is unset (common/option_table.hpp): `DNSD_RRL_LIMIT_LOOPBACK=` keeps
// loopback exempt. Set to true, the same flood is limited, so the check can fail.
TEST(RrlScenario, EmptyLimitLoopbackVariableIsUnset) {
    TempDir dir;
    std::string db = dir.file("dnsd.db");
    createDatabase(db, {std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone"});
    auto q = QueryBuilder("www.svc.example.com.", 1).build();
    for (std::string value : {"", "true"}) {
        uint16_t port = freePort();
        DnsdServer dnsd(db, port, {"--rrl-rate", "20", "--http", "none"}, "svc.example.com.",
                        {"DNSD_RRL_LIMIT_LOOPBACK=" + value});
        FloodResult a = flood("127.0.0.1", port, q, 100);
        if (value.empty()) {
            EXPECT_EQ(a.truncated, 0);
            EXPECT_GE(a.full, 95);
        } else {
            EXPECT_GT(a.truncated, 0);
            EXPECT_LE(a.full, 40);
        }
    }
}

}  // namespace
