// DNS Cookies against the real dnsd under rate-limiting pressure, with dig: a valid server
// cookie is answered in full however hard the client's prefix is limited; a forged, an
// expired and another server's cookie get BADCOOKIE (with a fresh cookie) instead of the slip;
// a query without a cookie still gets the TC slip.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <regex>
#include <sstream>

#include "dnsd/answer/siphash.hpp"
#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"

using namespace testsupport;

namespace {

const std::string kSecret = "000102030405060708090a0b0c0d0e0f";
const std::string kClientCookie = "0102030405060708";
const std::string kName = "www.svc.example.com.";

std::string hex(const uint8_t* p, size_t n) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; ++i) s += {d[p[i] >> 4], d[p[i] & 15]};
    return s;
}

// An RFC 9018 server cookie for 127.0.0.1 made with kSecret at `timestamp`, written here
// from the RFC rather than by dnsd, so the layout is checked too.
std::string rfc9018Cookie(uint32_t timestamp) {
    uint8_t key[16], msg[20];
    for (int i = 0; i < 16; ++i) key[i] = uint8_t(i);
    const uint8_t client[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    std::memcpy(msg, client, 8);
    msg[8] = 1;
    msg[9] = msg[10] = msg[11] = 0;
    for (int i = 0; i < 4; ++i) msg[12 + i] = uint8_t(timestamp >> (24 - 8 * i));
    const uint8_t addr[4] = {127, 0, 0, 1};
    std::memcpy(msg + 16, addr, 4);
    uint64_t h = dnsd::siphash24(key, msg, 20);
    uint8_t server[16];
    std::memcpy(server, msg + 8, 8);
    for (int i = 0; i < 8; ++i) server[8 + i] = uint8_t(h >> (56 - 8 * i));
    return hex(server, 16);
}

// dig, asking `times` times in one run (a few milliseconds apart), with a cookie.
struct DigRuns {
    int noerrorWithAnswer = 0;
    int badcookie = 0;
    int truncated = 0;
    std::string lastCookie;  // the full COOKIE the server returned last, hex
    std::string out;
};

DigRuns dig(uint16_t port, const std::string& cookie, int times) {
    std::vector<std::string> args = {
        "@127.0.0.1", "-p", std::to_string(port), "+nobadcookie", "+ignore", "+tries=1", "+time=1"};
    args.push_back(cookie.empty() ? "+nocookie" : "+cookie=" + cookie);
    for (int i = 0; i < times; ++i) {
        args.push_back(kName);
        args.push_back("A");
    }
    CommandResult r = runCommand("dig", args);
    DigRuns d;
    d.out = r.out;
    std::regex header(R"(status: (\w+),)"), flags(R"(;; flags: ([a-z ]+);)"),
        answer(R"(ANSWER: (\d+),)"), cookieLine(R"(; COOKIE: ([0-9a-f]+))");
    std::istringstream in(r.out);
    std::string status;
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_search(line, m, header)) status = m[1];
        if (std::regex_search(line, m, flags)) {
            bool tc = m[1].str().find("tc") != std::string::npos;
            std::smatch a;
            int answers = std::regex_search(line, a, answer) ? std::stoi(a[1]) : 0;
            if (status == "BADCOOKIE") ++d.badcookie;
            if (status == "NOERROR" && tc) ++d.truncated;
            if (status == "NOERROR" && !tc && answers > 0) ++d.noerrorWithAnswer;
        }
        if (std::regex_search(line, m, cookieLine)) d.lastCookie = m[1];
    }
    return d;
}

// Many queries for the same name from 127.0.0.1, so its /24 is over the limit this second.
void pressure(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    auto q = QueryBuilder(kName, 1).build();
    for (int i = 0; i < 20; ++i)
        ::sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
    ::close(fd);
}

TEST(CookieScenario, ValidCookiesPassRateLimitingInvalidOnesGetBadcookie) {
    if (findProgram("dig").empty()) GTEST_SKIP() << "dig is not installed";
    TempDir dir;
    std::string db = dir.file("dnsd.db");
    createDatabase(db, {std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone"});
    // One answer per second for the prefix, every excess response slipped (never dropped), so
    // each response over the limit says how it was limited.
    const std::vector<std::string> rrl = {
        "--rrl-rate", "1", "--rrl-slip", "1", "--rrl-limit-loopback", "--cookie-secret", kSecret};
    DnsdServer dnsd(db, freePort(), rrl, "svc.example.com.");

    DigRuns first = dig(dnsd.port(), kClientCookie, 1);
    ASSERT_EQ(first.lastCookie.size(), 48u) << first.out;  // client 8 + server 16 bytes
    const std::string valid = first.lastCookie;
    EXPECT_EQ(valid.substr(0, 16), kClientCookie);

    // Valid: every one of five answered in full, under pressure.
    pressure(dnsd.port());
    DigRuns v = dig(dnsd.port(), valid, 5);
    EXPECT_EQ(v.noerrorWithAnswer, 5) << v.out;

    // Forged, expired, another server's: BADCOOKIE with a fresh cookie (at most one of three
    // can fall into a new second's one free answer).
    std::string forged = valid;
    forged[47] = forged[47] == '0' ? '1' : '0';
    const std::string expired = kClientCookie + rfc9018Cookie(uint32_t(::time(nullptr)) - 7200);
    const std::string recent = kClientCookie + rfc9018Cookie(uint32_t(::time(nullptr)));
    TempDir otherDir;
    std::string otherDb = otherDir.file("dnsd.db");
    createDatabase(otherDb,
                   {std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone"});
    DnsdServer other(otherDb, freePort(), {"--cookie-secret", "ffeeddccbbaa99887766554433221100"},
                     "svc.example.com.");
    const std::string foreign = dig(other.port(), kClientCookie, 1).lastCookie;
    ASSERT_EQ(foreign.size(), 48u);
    for (const auto& [what, cookie] : {std::pair{"forged", forged}, std::pair{"expired", expired},
                                       std::pair{"another server's", foreign}}) {
        pressure(dnsd.port());
        DigRuns r = dig(dnsd.port(), cookie, 3);
        EXPECT_GE(r.badcookie, 2) << what << "\n" << r.out;
        EXPECT_EQ(r.noerrorWithAnswer + r.badcookie, 3) << what << "\n" << r.out;
        ASSERT_EQ(r.lastCookie.size(), 48u) << what;
        EXPECT_NE(r.lastCookie, cookie) << what << ": BADCOOKIE must teach a fresh cookie";
    }
    // The same layout computed from the RFC with the right secret and a current time is
    // valid: dnsd's cookies are RFC 9018 cookies (interoperable between implementations).
    pressure(dnsd.port());
    EXPECT_EQ(dig(dnsd.port(), recent, 3).noerrorWithAnswer, 3);
    // No cookie at all: the TC slip, as before.
    pressure(dnsd.port());
    DigRuns none = dig(dnsd.port(), "", 3);
    EXPECT_GE(none.truncated, 2) << none.out;
    EXPECT_EQ(none.badcookie, 0);
}

}  // namespace
