// Scenario: hostile or broken packets never crash or hang dnsd. After each one the server
// must still answer a good query over UDP and TCP (DESIGN.md: "Everything from the network
// is bounds-checked; malformed input gets FORMERR or is dropped").
#include <random>

#include "tests/scenario/scenario_fixture.hpp"

namespace scenario {
namespace {

std::vector<uint8_t> header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an = 0) {
    return {static_cast<uint8_t>(id >> 8),
            static_cast<uint8_t>(id),
            static_cast<uint8_t>(flags >> 8),
            static_cast<uint8_t>(flags),
            static_cast<uint8_t>(qd >> 8),
            static_cast<uint8_t>(qd),
            static_cast<uint8_t>(an >> 8),
            static_cast<uint8_t>(an),
            0,
            0,
            0,
            0};
}

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// A response to a bad query, if there is one, must at least be a response to that query.
void expectSaneReply(const std::optional<DnsMessage>& r, const std::vector<uint8_t>& query,
                     const std::string& what) {
    if (!r) return;  // dropping is fine
    ASSERT_TRUE(r->hasHeader()) << what;
    EXPECT_TRUE(r->qr()) << what;
    if (query.size() >= 2) {
        EXPECT_EQ(r->id(), query[0] << 8 | query[1]) << what;
    }
}

struct BadPacket {
    std::string what;
    std::vector<uint8_t> bytes;
};

std::vector<BadPacket> badPackets() {
    std::vector<uint8_t> www = QueryBuilder("www.scenario.test.", 1).id(7).build();
    std::vector<BadPacket> out;
    out.push_back({"empty datagram", {}});
    out.push_back({"truncated header (5 bytes)", {0x00, 0x07, 0x01, 0x00, 0x00}});
    out.push_back({"header only, qdcount 1", header(7, 0, 1)});
    out.push_back({"question cut mid-name", std::vector<uint8_t>(www.begin(), www.begin() + 17)});
    out.push_back(
        {"question without type and class", std::vector<uint8_t>(www.begin(), www.end() - 4)});
    out.push_back(
        {"compression pointer to itself", concat(header(7, 0, 1), {0xC0, 12, 0, 1, 0, 1})});
    out.push_back({"compression pointer loop a->b->a",
                   concat(header(7, 0, 1), {1, 'a', 0xC0, 14, 0xC0, 12, 0, 1, 0, 1})});
    out.push_back(
        {"compression pointer past the end", concat(header(7, 0, 1), {0xC0, 0xFF, 0, 1, 0, 1})});
    {
        std::vector<uint8_t> q = header(7, 0, 1);
        q.push_back(64);
        q.insert(q.end(), 64, 'x');
        q.insert(q.end(), {0, 0, 1, 0, 1});
        out.push_back({"label of 64 octets", q});
    }
    {
        std::vector<uint8_t> q = header(7, 0, 1);
        for (int i = 0; i < 6; ++i) {
            q.push_back(63);
            q.insert(q.end(), 63, 'y');
        }
        q.insert(q.end(), {0, 0, 1, 0, 1});
        out.push_back({"name of 385 octets", q});
    }
    out.push_back(
        {"reserved label type 0x80", concat(header(7, 0, 1), {0x81, 'a', 0, 0, 1, 0, 1})});
    out.push_back(
        {"qdcount 65535, one question",
         concat(header(7, 0, 0xFFFF), std::vector<uint8_t>(www.begin() + 12, www.end()))});
    out.push_back(
        {"ancount 65535, no answers",
         concat(header(7, 0, 1, 0xFFFF), std::vector<uint8_t>(www.begin() + 12, www.end()))});
    {
        auto opt = QueryBuilder("www.scenario.test.", 1)
                       .id(7)
                       .edns(1232)
                       .ednsOptions({0, 10, 0xFF, 0xF0, 1, 2})
                       .build();  // option length 65520, 2 bytes present
        out.push_back({"EDNS option longer than the message", opt});
    }
    {
        std::mt19937 rng(20240101);
        for (int i = 0; i < 5; ++i) {
            std::vector<uint8_t> g(12 + rng() % 300);
            for (auto& b : g) b = static_cast<uint8_t>(rng());
            g[2] &= 0x7F;  // keep QR clear so the server has to look at it
            out.push_back({"random garbage #" + std::to_string(i), g});
        }
    }
    {
        std::vector<uint8_t> big = www;
        big.resize(65507, 0xAB);  // largest UDP payload over IPv4
        out.push_back({"65507-byte datagram", big});
    }
    return out;
}

TEST_F(DnsdScenario, MalformedUdpPacketsAreSurvived) {
    for (const auto& p : badPackets()) {
        SCOPED_TRACE(p.what);
        auto r = client().udp(p.bytes, 500ms);
        expectSaneReply(r, p.bytes, p.what);
        expectStillServing(p.what);
    }
}

TEST_F(DnsdScenario, MalformedTcpMessagesAreSurvived) {
    for (const auto& p : badPackets()) {
        if (p.bytes.size() > 0xFFFF) continue;
        SCOPED_TRACE(p.what);
        auto conn = client().connectTcp();
        ASSERT_TRUE(conn.sendFramed(p.bytes));
        auto r = conn.receive(2s);
        // Either an answer, or the server closed the connection: it must not sit on it beyond
        // the idle timeout.
        EXPECT_TRUE(r.has_value() || conn.closedByPeer() || conn.waitClosed(3s)) << p.what;
        expectSaneReply(r, p.bytes, p.what);
        expectStillServing(p.what);
    }
}

TEST_F(DnsdScenario, ResponsesAreDropped) {
    // A packet with QR set is a response: answering it would enable reflection loops.
    auto q = QueryBuilder("www.scenario.test.", 1).id(77).build();
    q[2] |= 0x80;
    EXPECT_FALSE(client().udp(q, 500ms).has_value()) << "dnsd answered a response packet";
    expectStillServing("a QR=1 packet");
}

TEST_F(DnsdScenario, MaximumSizeTcpMessageIsSurvived) {
    auto q = QueryBuilder("www.scenario.test.", 1).id(88).build();
    q.resize(65535, 0xCD);
    auto conn = client().connectTcp();
    // The server may stop reading and close early, so a short write is acceptable here.
    conn.sendFramed(q);
    auto r = conn.receive(2s);
    EXPECT_TRUE(r.has_value() || conn.closedByPeer() || conn.waitClosed(3s));
    expectSaneReply(r, q, "65535-byte TCP message");
    expectStillServing("a 65535-byte TCP message");
}

TEST_F(DnsdScenario, StalledPartialTcpMessageIsClosed) {
    // Announce 100 bytes, send 10, then nothing: the idle limit must free the connection.
    auto conn = client().connectTcp();
    std::vector<uint8_t> partial{0, 100, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
    ASSERT_TRUE(conn.sendRaw(partial));
    EXPECT_TRUE(conn.waitClosed(5s)) << "half-sent message kept the connection open";
    expectStillServing("a stalled TCP message");
}

TEST_F(DnsdScenario, ZeroAndOneByteTcpMessagesAreSurvived) {
    for (std::vector<uint8_t> raw : {std::vector<uint8_t>{0, 0}, std::vector<uint8_t>{0, 1, 0x55},
                                     std::vector<uint8_t>{0x00}}) {
        auto conn = client().connectTcp();
        ASSERT_TRUE(conn.sendRaw(raw));
        auto r = conn.receive(1s);
        EXPECT_TRUE(r.has_value() || conn.closedByPeer() || conn.waitClosed(3s));
        expectSaneReply(r, {}, "tiny TCP message");
    }
    expectStillServing("tiny TCP messages");
}

TEST_F(DnsdScenario, MutatedQueriesNeverCrashTheServer) {
    // Deterministic bit flips and truncations of good queries: a cheap, repeatable fuzz pass.
    std::mt19937 rng(4711);
    const std::vector<std::vector<uint8_t>> seeds = {
        QueryBuilder("www.scenario.test.", 1).id(1).build(),
        QueryBuilder("alias.scenario.test.", 28).id(2).edns(1232).dnssecOk().build(),
        QueryBuilder("scenario.test.", 15).id(3).edns(4096).build()};
    int answered = 0;
    for (int i = 0; i < 400; ++i) {
        auto q = seeds[i % seeds.size()];
        int flips = 1 + rng() % 4;
        for (int f = 0; f < flips; ++f)
            q[rng() % q.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
        if (rng() % 4 == 0) q.resize(rng() % q.size());
        auto r = client().udp(q, 200ms);
        if (r) {
            ++answered;
            ASSERT_TRUE(r->hasHeader()) << "mutation " << i;
            EXPECT_TRUE(r->qr()) << "mutation " << i;
        }
        if (i % 50 == 49) expectStillServing("mutation " + std::to_string(i));
    }
    EXPECT_GT(answered, 0) << "no mutated query got any answer; is the server listening?";
    expectStillServing("400 mutated queries");
}

}  // namespace
}  // namespace scenario
