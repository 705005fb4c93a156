// Engine tests for DNS Cookies (RFC 7873 §5.2, server cookies as RFC 9018): which server
// cookies are ours and current, and the BADCOOKIE answer that replaces a rate-limit slip.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "dnsd/answer/answer.hpp"
#include "tests/support/dns_message.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/strict_message.hpp"
#include "zones/snapshot.hpp"
#include "zones/zone_file.hpp"

using namespace dnsd;
using testsupport::DnsMessage;
using testsupport::QueryBuilder;

namespace {

constexpr uint32_t kNow = 1'800'000'000;
const std::vector<uint8_t> kClientCookie = {1, 2, 3, 4, 5, 6, 7, 8};

class CookieTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto zf = zones::parseZoneText(
            "$ORIGIN example.com.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n",
            "c.zone");
        snapshot_ =
            zones::Snapshot::make({zones::ZoneSnapshot::build(zf.origin, zf.records, {}, 1)}, 1);
        for (uint8_t i = 0; i < 16; ++i) config_.cookieSecret[i] = i;
        client_.family = 4;
        std::memcpy(client_.addr, "\xC0\x00\x02\x07", 4);  // 192.0.2.7
        client_.now = kNow;
    }

    // Asks with the given COOKIE option content (client cookie, then any server cookie).
    std::vector<uint8_t> query(const std::vector<uint8_t>& cookie) const {
        std::vector<uint8_t> opt = {0, 10, 0, uint8_t(cookie.size())};
        opt.insert(opt.end(), cookie.begin(), cookie.end());
        return QueryBuilder("ns.example.com.", 1).edns(1232).ednsOptions(opt).build();
    }
    DnsMessage ask(const std::vector<uint8_t>& cookie, const Client& c) {
        std::vector<uint8_t> out(65535);
        last_ = answer(*snapshot_, pools_, config_, query(cookie), out, c, scratch_);
        out.resize(last_.action == Action::Send ? last_.size : 0);
        return DnsMessage(out);
    }
    // The COOKIE option our answer carried: client cookie + server cookie.
    static std::vector<uint8_t> cookieOf(const DnsMessage& m) {
        ldns_rdf* data = ldns_pkt_edns_data(m.pkt());
        if (!data || ldns_rdf_size(data) != 4 + 24) return {};
        return std::vector<uint8_t>(ldns_rdf_data(data) + 4, ldns_rdf_data(data) + 28);
    }
    // A server cookie this server gave `c` at time `at`.
    std::vector<uint8_t> issued(Client c, uint32_t at) {
        c.now = at;
        return cookieOf(ask(kClientCookie, c));
    }

    std::shared_ptr<const zones::Snapshot> snapshot_;
    PoolTable pools_;
    EngineConfig config_;
    Scratch scratch_;
    Client client_;
    AnswerResult last_;
};

TEST_F(CookieTest, ClientCookieOnlyIsAnsweredWithAFreshServerCookie) {
    DnsMessage m = ask(kClientCookie, client_);
    EXPECT_EQ(last_.cookie, CookieState::ClientOnly);
    EXPECT_EQ(m.ancount(), 1);
    ASSERT_EQ(cookieOf(m).size(), 24u);
    EXPECT_TRUE(std::equal(kClientCookie.begin(), kClientCookie.end(), cookieOf(m).begin()));
}

TEST_F(CookieTest, OurOwnRecentCookieIsValid) {
    auto cookie = issued(client_, kNow - 3599);
    ask(cookie, client_);
    EXPECT_EQ(last_.cookie, CookieState::Valid);
    EXPECT_EQ(ask(issued(client_, kNow + 299), client_).rcode(), 0);
    EXPECT_EQ(last_.cookie, CookieState::Valid);  // a little ahead: clocks of a server pair
}

TEST_F(CookieTest, ForgedExpiredFutureAndForeignCookiesAreInvalid) {
    auto good = issued(client_, kNow);
    auto forged = good;
    forged[23] ^= 1;
    ask(forged, client_);
    EXPECT_EQ(last_.cookie, CookieState::Invalid);
    ask(issued(client_, kNow - 3601), client_);
    EXPECT_EQ(last_.cookie, CookieState::Invalid);  // more than an hour old
    ask(issued(client_, kNow + 301), client_);
    EXPECT_EQ(last_.cookie, CookieState::Invalid);  // too far in the future
    Client other = client_;
    other.addr[3] = 8;
    ask(good, other);
    EXPECT_EQ(last_.cookie, CookieState::Invalid);  // issued to another address
    auto otherClientCookie = good;
    otherClientCookie[0] ^= 1;
    ask(otherClientCookie, client_);
    EXPECT_EQ(last_.cookie, CookieState::Invalid);  // bound to the client cookie
    config_.cookieSecret[0] ^= 1;
    DnsMessage m = ask(good, client_);
    EXPECT_EQ(last_.cookie, CookieState::Invalid);  // another server's secret
    // Without rate limiting an invalid cookie still gets its answer, and a fresh cookie
    // (RFC 7873 §5.2.4: the client must be able to learn the right one).
    EXPECT_EQ(m.rcode(), 0);
    EXPECT_EQ(m.ancount(), 1);
    EXPECT_NE(cookieOf(m), good);
    // Not the RFC 9018 layout (a 24-byte server cookie): invalid, not an error.
    std::vector<uint8_t> longer = good;
    longer.insert(longer.end(), 8, 0);
    EXPECT_EQ(ask(longer, client_).rcode(), 0);
    EXPECT_EQ(last_.cookie, CookieState::Invalid);
}

TEST_F(CookieTest, ASharedSecretMakesCookiesValidOnEveryServer) {
    auto cookie = issued(client_, kNow);
    EngineConfig twin = config_;  // the second server, same cookie-secret
    std::vector<uint8_t> out(65535);
    auto q = query(cookie);
    AnswerResult r = answer(*snapshot_, pools_, twin, q, out, client_, scratch_);
    EXPECT_EQ(r.cookie, CookieState::Valid);
}

TEST_F(CookieTest, BadCookieCarriesAFreshCookieAndNoData) {
    std::vector<uint8_t> out(65535);
    auto forged = issued(client_, kNow);
    forged[20] ^= 0xFF;
    auto q = query(forged);
    AnswerResult r = badCookie(config_, q, out, client_, scratch_);
    ASSERT_EQ(r.action, Action::Send);
    out.resize(r.size);
    DnsMessage m(out);
    EXPECT_EQ(testsupport::strictMessageProblem(m.bytes()), "");
    EXPECT_EQ(m.rcode(), 23);  // BADCOOKIE, extended RCODE (RFC 7873 §8)
    EXPECT_EQ(m.ancount(), 0);
    EXPECT_LE(m.size(), q.size() + 16);  // no amplification
    auto fresh = cookieOf(m);
    ASSERT_EQ(fresh.size(), 24u);
    ask(fresh, client_);
    EXPECT_EQ(last_.cookie, CookieState::Valid);  // retrying with it is exempt
    // No cookie in the query: nothing to answer with BADCOOKIE.
    auto plain = QueryBuilder("ns.example.com.", 1).edns(1232).build();
    std::vector<uint8_t> out2(65535);
    EXPECT_EQ(badCookie(config_, plain, out2, client_, scratch_).action, Action::Drop);
}

TEST_F(CookieTest, CookiesOffMeansNoCookieState) {
    auto cookie = issued(client_, kNow);
    config_.cookies = false;
    DnsMessage m = ask(cookie, client_);
    EXPECT_EQ(last_.cookie, CookieState::None);
    EXPECT_TRUE(cookieOf(m).empty());
}

}  // namespace
