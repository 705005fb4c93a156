// Scenario: dnsd serves a zone from a real database over UDP and TCP (IPv4 and IPv6), answers
// pipelined TCP queries on one connection, and closes idle TCP connections (RFC 7766).
#include <set>
#include <thread>

#include "tests/scenario/scenario_fixture.hpp"

namespace scenario {
namespace {

TEST_F(DnsdScenario, AnswersOverUdpAndTcp) {
    for (Transport t : {Transport::Udp, Transport::Tcp}) {
        auto r = ask("www.scenario.test.", LDNS_RR_TYPE_A, t, 1234);
        ASSERT_TRUE(r.has_value()) << transportName(t);
        EXPECT_EQ(r->id(), 1234);
        EXPECT_TRUE(r->qr());
        EXPECT_TRUE(r->aa());
        EXPECT_FALSE(r->ra());
        EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
        EXPECT_EQ(rdataTexts(*r, Section::Answer), std::vector<std::string>{"A 192.0.2.80"});

        auto nx = ask("nothere.scenario.test.", LDNS_RR_TYPE_A, t);
        ASSERT_TRUE(nx.has_value());
        EXPECT_EQ(nx->rcode(), LDNS_RCODE_NXDOMAIN);
        EXPECT_EQ(nx->canonicalRrs(Section::Authority).size(), 1u) << nx->toString();

        auto refused = ask("www.example.org.", LDNS_RR_TYPE_A, t);
        ASSERT_TRUE(refused.has_value());
        EXPECT_EQ(refused->rcode(), LDNS_RCODE_REFUSED);
    }
}

TEST_F(DnsdScenario, AnswersOnIpv6Loopback) {
    if (!server_->ipv6()) GTEST_SKIP() << "no IPv6 loopback on this host";
    for (Transport t : {Transport::Udp, Transport::Tcp}) {
        auto r = server_->client6().query(
            QueryBuilder("www.scenario.test.", LDNS_RR_TYPE_AAAA).build(), t, 2s);
        ASSERT_TRUE(r.has_value()) << transportName(t);
        EXPECT_TRUE(hasRdata(*r, "AAAA 2001:db8::80")) << r->toString();
    }
}

TEST_F(DnsdScenario, CnameAndAdditionalData) {
    auto r = ask("alias.scenario.test.", LDNS_RR_TYPE_A);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(hasRdata(*r, "CNAME www.scenario.test."));
    EXPECT_TRUE(hasRdata(*r, "A 192.0.2.80"));
    auto mx = ask("scenario.test.", LDNS_RR_TYPE_MX);
    ASSERT_TRUE(mx.has_value());
    EXPECT_EQ(rdataTexts(*mx, Section::Additional), std::vector<std::string>{"A 192.0.2.25"});
}

TEST_F(DnsdScenario, TcpPipelinedQueriesAreAllAnsweredWithMatchingIds) {
    struct Q {
        std::string name;
        uint16_t type;
        uint16_t id;
    };
    const std::vector<Q> qs = {{"www.scenario.test.", LDNS_RR_TYPE_A, 101},
                               {"www.scenario.test.", LDNS_RR_TYPE_AAAA, 102},
                               {"mail.scenario.test.", LDNS_RR_TYPE_A, 103},
                               {"scenario.test.", LDNS_RR_TYPE_SOA, 104},
                               {"nothere.scenario.test.", LDNS_RR_TYPE_A, 105}};
    std::vector<std::vector<uint8_t>> wires;
    for (const auto& q : qs) wires.push_back(QueryBuilder(q.name, q.type).id(q.id).build());
    auto responses = client().tcpPipelined(wires, 3s);
    ASSERT_EQ(responses.size(), qs.size()) << "not every pipelined query was answered";
    std::set<uint16_t> seen;
    for (const auto& r : responses) {
        auto it = std::find_if(qs.begin(), qs.end(), [&](const Q& q) { return q.id == r.id(); });
        ASSERT_NE(it, qs.end()) << "response with unknown ID " << r.id();
        EXPECT_TRUE(seen.insert(r.id()).second) << "two responses for ID " << r.id();
        ASSERT_TRUE(r.parsed());
        const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(r.pkt()), 0);
        ASSERT_NE(question, nullptr);
        EXPECT_EQ(ldns_rr_get_type(question), it->type)
            << "ID " << r.id() << " answers another question";
        EXPECT_EQ(r.rcode(),
                  it->name == "nothere.scenario.test." ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR);
    }
}

TEST_F(DnsdScenario, TcpIdleConnectionIsClosed) {
    auto conn = client().connectTcp();
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(conn.waitClosed(5s)) << "idle connection still open after 5 s";
    auto elapsed = std::chrono::steady_clock::now() - start;
    // Closing before the configured idle time would cut off slow but legitimate clients.
    EXPECT_GE(elapsed, std::chrono::milliseconds(kIdleTimeoutMs - 20));
}

TEST_F(DnsdScenario, TcpIdleTimeoutCountsFromLastQuery) {
    auto conn = client().connectTcp();
    // Keep the connection busy for twice the idle timeout: it must stay open.
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 6; ++i) {
        ASSERT_TRUE(conn.sendFramed(QueryBuilder("www.scenario.test.", 1).id(500 + i).build()));
        auto r = conn.receive(2s);
        ASSERT_TRUE(r.has_value()) << "query " << i << " after "
                                   << std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - start)
                                          .count()
                                   << " ms on an active connection";
        EXPECT_EQ(r->id(), 500 + i);
        // Pacing, not synchronisation: each gap is well below the idle timeout.
        std::this_thread::sleep_for(std::chrono::milliseconds(kIdleTimeoutMs / 3));
    }
    auto lastActivity = std::chrono::steady_clock::now();
    ASSERT_TRUE(conn.waitClosed(5s));
    EXPECT_GE(std::chrono::steady_clock::now() - lastActivity,
              std::chrono::milliseconds(kIdleTimeoutMs * 2 / 3 - 20));
}

}  // namespace
}  // namespace scenario
