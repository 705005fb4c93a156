// Engine tests: wire-format queries straight into dnsd::answer(), no sockets (Knot
// test_process_query.c). Each test names the RFC behaviour it pins down.
#include "dnsd/answer/answer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "tests/support/dns_message.hpp"
#include "tests/support/query_builder.hpp"
#include "zones/snapshot.hpp"
#include "zones/zone_file.hpp"

using namespace dnsd;
using testsupport::DnsMessage;
using testsupport::QueryBuilder;
using testsupport::Section;

namespace {

const char* kZone = R"(
$ORIGIN example.com.
$TTL 3600
@       IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@       IN NS  ns1
@       IN NS  ns2.other.net.
@       IN MX  10 mail
ns1     IN A   192.0.2.53
mail    IN A   192.0.2.25
mail    IN AAAA 2001:db8::25
www     IN A   192.0.2.80
www     IN TXT "hello"
alias   IN CNAME www
chain1  IN CNAME chain2
chain2  IN CNAME alias
loop1   IN CNAME loop2
loop2   IN CNAME loop1
outside IN CNAME www.other.net.
*.wild  IN A   192.0.2.99
*.wildc IN CNAME www
*.wcl   IN CNAME next.wcl
bigdeleg IN NS ns1.bigdeleg
bigdeleg IN NS ns2.bigdeleg
bigdeleg IN NS ns3.bigdeleg
bigdeleg IN NS ns4.bigdeleg
ns1.bigdeleg IN AAAA 2001:db8::1
ns1.bigdeleg IN AAAA 2001:db8::2
ns1.bigdeleg IN AAAA 2001:db8::3
ns1.bigdeleg IN AAAA 2001:db8::4
ns2.bigdeleg IN AAAA 2001:db8::5
ns2.bigdeleg IN AAAA 2001:db8::6
ns2.bigdeleg IN AAAA 2001:db8::7
ns2.bigdeleg IN AAAA 2001:db8::8
ns3.bigdeleg IN AAAA 2001:db8::9
ns3.bigdeleg IN AAAA 2001:db8::a
ns3.bigdeleg IN AAAA 2001:db8::b
ns3.bigdeleg IN AAAA 2001:db8::c
ns4.bigdeleg IN AAAA 2001:db8::d
ns4.bigdeleg IN AAAA 2001:db8::e
ns4.bigdeleg IN AAAA 2001:db8::f
ns4.bigdeleg IN AAAA 2001:db8::10
ns4.bigdeleg IN AAAA 2001:db8::11
a.b.ent IN A   192.0.2.7
sub     IN NS  ns.sub
sub     IN DS  12345 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.sub  IN A   192.0.2.54
_sip._tcp IN SRV 0 5 5060 mail
big     IN TXT "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big     IN TXT "1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big     IN TXT "2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big     IN TXT "3123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big     IN TXT "4123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big     IN TXT "5123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
pool    IN TXT "static data beside a pool"
)";

class AnswerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto zf = zones::parseZoneText(kZone, "test.zone");
        std::vector<zones::PoolBinding> pools = {
            {*zones::Name::fromText("pool.example.com."), zones::rrtype::A, 7},
            {*zones::Name::fromText("cpool.example.com."), zones::rrtype::CNAME, 8},
            {*zones::Name::fromText("empty.example.com."), zones::rrtype::A, 9},
        };
        auto zone = zones::ZoneSnapshot::build(zf.origin, zf.records, pools, 1);
        snapshot_ = zones::Snapshot::make({zone}, 1);
        PoolAnswer a;
        a.type = zones::rrtype::A;
        a.ttl = 30;
        for (uint8_t last : {10, 11, 12}) a.rdatas.push_back({30, {192, 0, 2, last}});
        pools_.set(7, a);
        PoolAnswer c;
        c.type = zones::rrtype::CNAME;
        c.ttl = 20;
        zones::Name target = *zones::Name::fromText("www.example.com.");
        c.rdatas.push_back({20, std::vector<uint8_t>(target.wire().begin(), target.wire().end())});
        pools_.set(8, c);
        PoolAnswer e;
        e.type = zones::rrtype::A;
        pools_.set(9, e);
    }

    DnsMessage ask(const QueryBuilder& qb, Transport t = Transport::Udp) {
        return askRaw(qb.build(), t);
    }
    DnsMessage askRaw(const std::vector<uint8_t>& q, Transport t = Transport::Udp) {
        std::vector<uint8_t> out(65535);
        last_ = answer(*snapshot_, pools_, config_, q, out, t, scratch_);
        if (last_.action != Action::Send) return DnsMessage({});
        out.resize(last_.size);
        return DnsMessage(out);
    }
    static bool has(const DnsMessage& m, Section s, const std::string& needle) {
        for (const auto& rr : m.canonicalRrs(s))
            if (rr.find(needle) != std::string::npos) return true;
        return false;
    }

    std::shared_ptr<const zones::Snapshot> snapshot_;
    PoolTable pools_;
    EngineConfig config_;
    Scratch scratch_;
    AnswerResult last_;
};

constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, MX = 15, TXT = 16, AAAA = 28, SRV = 33,
                   DS = 43, ANY = 255, AXFR = 252;

TEST_F(AnswerTest, PositiveAnswerIsAuthoritative) {
    auto m = ask(QueryBuilder("www.example.com.", A).rd());
    ASSERT_TRUE(m.parsed()) << m.parseError();
    EXPECT_TRUE(m.qr());
    EXPECT_TRUE(m.aa());
    EXPECT_TRUE(m.rd());   // RD copied
    EXPECT_FALSE(m.ra());  // no recursion
    EXPECT_EQ(m.rcode(), 0);
    ASSERT_EQ(m.ancount(), 1);
    EXPECT_TRUE(has(m, Section::Answer, "192.0.2.80"));
    EXPECT_EQ(m.nscount(), 0);
}

TEST_F(AnswerTest, QuestionCaseIsPreserved) {
    auto m = ask(QueryBuilder("WwW.ExAmPlE.cOm.", A));
    EXPECT_EQ(m.questionText().rfind("WwW.ExAmPlE.cOm.", 0), 0u) << m.questionText();
    EXPECT_EQ(m.ancount(), 1);
}

TEST_F(AnswerTest, NxdomainCarriesSoaWithNegativeTtl) {
    auto m = ask(QueryBuilder("nope.example.com.", A));
    EXPECT_EQ(m.rcode(), 3);
    EXPECT_TRUE(m.aa());
    EXPECT_EQ(m.ancount(), 0);
    ASSERT_EQ(m.nscount(), 1);
    // RFC 2308 §5: TTL of the SOA = min(SOA TTL, MINIMUM) = 300.
    EXPECT_TRUE(has(m, Section::Authority, "example.com.\t300\tIN\tSOA"));
}

TEST_F(AnswerTest, NodataAtExistingNameAndAtEmptyNonTerminal) {
    for (const char* q : {"www.example.com.", "b.ent.example.com.", "ent.example.com."}) {
        auto m = ask(QueryBuilder(q, MX));
        EXPECT_EQ(m.rcode(), 0) << q;
        EXPECT_EQ(m.ancount(), 0) << q;
        EXPECT_TRUE(has(m, Section::Authority, "SOA")) << q;
    }
}

TEST_F(AnswerTest, ReferralHasNsAndGlueAndNoAa) {
    auto m = ask(QueryBuilder("host.deep.sub.example.com.", A));
    EXPECT_EQ(m.rcode(), 0);
    EXPECT_FALSE(m.aa());
    EXPECT_EQ(m.ancount(), 0);
    EXPECT_TRUE(has(m, Section::Authority, "sub.example.com.\t3600\tIN\tNS\tns.sub.example.com."));
    EXPECT_TRUE(has(m, Section::Additional, "192.0.2.54"));
    // Glue is never an answer: a query for it is referred too.
    auto glue = ask(QueryBuilder("ns.sub.example.com.", A));
    EXPECT_FALSE(glue.aa());
    EXPECT_EQ(glue.ancount(), 0);
}

TEST_F(AnswerTest, DsAtDelegationIsAnsweredFromParentSide) {
    auto m = ask(QueryBuilder("sub.example.com.", DS));
    EXPECT_TRUE(m.aa());
    EXPECT_EQ(m.ancount(), 1);
    EXPECT_TRUE(has(m, Section::Answer, "DS"));
}

TEST_F(AnswerTest, CnameIsFollowedInsideTheZone) {
    auto m = ask(QueryBuilder("chain1.example.com.", A));
    EXPECT_TRUE(m.aa());
    EXPECT_EQ(m.ancount(), 4);  // chain1 -> chain2 -> alias -> www A
    EXPECT_TRUE(has(m, Section::Answer, "192.0.2.80"));
    auto out = ask(QueryBuilder("outside.example.com.", A));
    EXPECT_EQ(out.ancount(), 1);  // target outside: the CNAME alone
}

TEST_F(AnswerTest, CnameLoopTerminates) {
    auto m = ask(QueryBuilder("loop1.example.com.", A));
    EXPECT_EQ(m.rcode(), 0);
    EXPECT_EQ(m.ancount(), 2);  // each CNAME once
}

TEST_F(AnswerTest, WildcardCnameLoopStopsWhenANameComesBack) {
    auto m = ask(QueryBuilder("a.wcl.example.com.", A));
    EXPECT_EQ(m.rcode(), 0);
    EXPECT_EQ(m.ancount(), 2);  // a.wcl -> next.wcl, next.wcl -> next.wcl, then stop
}

TEST_F(AnswerTest, ReferralWhoseGlueDoesNotFitIsTruncated) {
    // RFC 9471 §3.1: in-domain glue is required; without room for it the referral gets TC.
    auto m = ask(QueryBuilder("x.bigdeleg.example.com.", A));
    EXPECT_TRUE(m.tc());
    EXPECT_LE(m.size(), 512u);
    auto tcp = ask(QueryBuilder("x.bigdeleg.example.com.", A), Transport::Tcp);
    EXPECT_FALSE(tcp.tc());
    EXPECT_EQ(tcp.arcount(), 17);
}

TEST_F(AnswerTest, WildcardSynthesisAndWildcardNodata) {
    auto m = ask(QueryBuilder("anything.wild.example.com.", A));
    EXPECT_TRUE(has(m, Section::Answer, "anything.wild.example.com.\t3600\tIN\tA\t192.0.2.99"));
    auto nodata = ask(QueryBuilder("anything.wild.example.com.", AAAA));
    EXPECT_EQ(nodata.rcode(), 0);
    EXPECT_EQ(nodata.ancount(), 0);
    EXPECT_TRUE(has(nodata, Section::Authority, "SOA"));
    // The wildcard does not cover the name it hangs off, nor names below an existing one.
    EXPECT_EQ(ask(QueryBuilder("wild.example.com.", A)).ancount(), 0);
    auto cname = ask(QueryBuilder("x.wildc.example.com.", A));
    EXPECT_TRUE(
        has(cname, Section::Answer, "x.wildc.example.com.\t3600\tIN\tCNAME\twww.example.com."));
    EXPECT_TRUE(has(cname, Section::Answer, "192.0.2.80"));
}

TEST_F(AnswerTest, AdditionalAddressesForNsMxSrvTargets) {
    auto mx = ask(QueryBuilder("example.com.", MX));
    EXPECT_TRUE(has(mx, Section::Additional, "192.0.2.25"));
    EXPECT_TRUE(has(mx, Section::Additional, "2001:db8::25"));
    auto ns = ask(QueryBuilder("example.com.", NS));
    EXPECT_EQ(ns.ancount(), 2);
    EXPECT_TRUE(has(ns, Section::Additional, "192.0.2.53"));
    auto srv = ask(QueryBuilder("_sip._tcp.example.com.", SRV));
    EXPECT_TRUE(has(srv, Section::Additional, "192.0.2.25"));
}

TEST_F(AnswerTest, RefusedOutsideOurZones) {
    auto m = ask(QueryBuilder("www.example.org.", A));
    EXPECT_EQ(m.rcode(), 5);
    EXPECT_FALSE(m.aa());
}

TEST_F(AnswerTest, UnknownOpcodeIsNotimp) {
    auto m = ask(QueryBuilder("www.example.com.", A).opcode(2));
    EXPECT_EQ(m.rcode(), 4);
}

TEST_F(AnswerTest, UnknownOpcodeIsNotimpBeforeTheQuestionIsLookedAt) {
    // Header only, QDCOUNT 0: NOTIMP (NSD, Knot, BIND), not FORMERR.
    std::vector<uint8_t> header = {0x12, 0x34, 15 << 3, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    auto m = askRaw(header);
    EXPECT_EQ(m.rcode(), 4);
    EXPECT_EQ(m.qdcount(), 0);
    EXPECT_EQ(m.opcode(), 15);
    EXPECT_EQ(m.id(), 0x1234);
    // A question that would be malformed as a QUERY does not matter either.
    header[5] = 2;
    EXPECT_EQ(askRaw(header).rcode(), 4);
    // EDNS is still answered with EDNS.
    auto e = ask(QueryBuilder("www.example.com.", A).opcode(15).edns(1232));
    EXPECT_EQ(e.rcode(), 4);
    EXPECT_TRUE(e.hasOpt());
    EXPECT_EQ(e.qdcount(), 1);
}

TEST_F(AnswerTest, QdcountOtherThanOneIsFormerr) {
    auto q = QueryBuilder("www.example.com.", A).build();
    testsupport::patchU16(q, 4, 2);
    EXPECT_EQ(askRaw(q).rcode(), 1);
    testsupport::patchU16(q, 4, 0);
    EXPECT_EQ(askRaw(q).rcode(), 1);
}

TEST_F(AnswerTest, MalformedInputIsFormerrOrDropped) {
    auto q = QueryBuilder("www.example.com.", A).build();
    // Truncated inside the question.
    auto cut = q;
    cut.resize(20);
    EXPECT_EQ(askRaw(cut).rcode(), 1);
    // Shorter than a header: dropped.
    std::vector<uint8_t> tiny(q.begin(), q.begin() + 5);
    askRaw(tiny);
    EXPECT_EQ(last_.action, Action::Drop);
    // A response (QR set) is never answered.
    auto resp = q;
    resp[2] |= 0x80;
    askRaw(resp);
    EXPECT_EQ(last_.action, Action::Drop);
    // A compression pointer in the question (pointing at itself): FORMERR, no loop.
    std::vector<uint8_t> loop(q.begin(), q.begin() + 12);
    loop.insert(loop.end(), {0xC0, 0x0C, 0, 1, 0, 1});
    EXPECT_EQ(askRaw(loop).rcode(), 1);
    // A label longer than 63.
    std::vector<uint8_t> longLabel(q.begin(), q.begin() + 12);
    longLabel.push_back(64);
    longLabel.insert(longLabel.end(), 64, 'a');
    longLabel.insert(longLabel.end(), {0, 0, 1, 0, 1});
    EXPECT_EQ(askRaw(longLabel).rcode(), 1);
    // Garbage of every length never crashes.
    std::vector<uint8_t> junk;
    for (int i = 0; i < 600; ++i) {
        junk.push_back(uint8_t(i * 37 + 11));
        auto g = junk;
        if (g.size() > 2) g[2] &= 0x7F;
        askRaw(g);
    }
}

TEST_F(AnswerTest, EdnsIsEchoedAndBadversForVersionAboveZero) {
    auto m = ask(QueryBuilder("www.example.com.", A).edns(4096).dnssecOk());
    ASSERT_TRUE(m.hasOpt());
    EXPECT_EQ(m.ednsVersion(), 0);
    EXPECT_EQ(m.ednsUdpSize(), 1232);
    EXPECT_TRUE(m.ednsDo());
    auto bad = ask(QueryBuilder("www.example.com.", A).edns(4096).ednsVersion(1));
    EXPECT_EQ(bad.rcode(), 16);
    EXPECT_EQ(bad.ancount(), 0);
    EXPECT_EQ(ask(QueryBuilder("www.example.com.", A)).hasOpt(), false);
}

// The raw OPT RDATA of a response (options as TLVs), found by walking the message with ldns.
std::vector<uint8_t> optRdata(const DnsMessage& m) {
    ldns_rdf* data = ldns_pkt_edns_data(m.pkt());
    if (!data) return {};
    return std::vector<uint8_t>(ldns_rdf_data(data), ldns_rdf_data(data) + ldns_rdf_size(data));
}

TEST_F(AnswerTest, ServerCookieIsReturnedForAClientCookie) {
    std::vector<uint8_t> opt = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    auto m = ask(QueryBuilder("www.example.com.", A).edns(1232).ednsOptions(opt));
    ASSERT_TRUE(m.parsed());
    auto rd = optRdata(m);
    ASSERT_EQ(rd.size(), 4u + 24u);  // COOKIE: client cookie + 16-byte server cookie (RFC 9018)
    EXPECT_EQ(rd[1], 10);
    EXPECT_TRUE(std::equal(rd.begin() + 4, rd.begin() + 12, opt.begin() + 4));
    EXPECT_EQ(rd[12], 1);  // version 1
    EXPECT_EQ(m.ancount(), 1);
    // Same client, same second: the same server cookie; another secret: another cookie.
    auto again = optRdata(ask(QueryBuilder("www.example.com.", A).edns(1232).ednsOptions(opt)));
    EXPECT_EQ(again, rd);
    config_.cookieSecret[0] ^= 1;
    EXPECT_NE(optRdata(ask(QueryBuilder("www.example.com.", A).edns(1232).ednsOptions(opt))), rd);
}

TEST_F(AnswerTest, MalformedCookieIsFormerr) {
    // RFC 7873 §5.2.2: a COOKIE option of 9..15 or more than 40 octets.
    std::vector<uint8_t> opt = {0, 10, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    EXPECT_EQ(ask(QueryBuilder("www.example.com.", A).edns(1232).ednsOptions(opt)).rcode(), 1);
}

TEST_F(AnswerTest, NsidOnlyWhenConfiguredAndAsked) {
    std::vector<uint8_t> ask_nsid = {0, 3, 0, 0};
    EXPECT_TRUE(optRdata(ask(QueryBuilder("www.example.com.", A).edns(1232).ednsOptions(ask_nsid)))
                    .empty());
    std::memcpy(config_.nsid, "ns1-fra", 7);
    config_.nsidSize = 7;
    auto rd = optRdata(ask(QueryBuilder("www.example.com.", A).edns(1232).ednsOptions(ask_nsid)));
    ASSERT_EQ(rd.size(), 11u);
    EXPECT_EQ(std::string(rd.begin() + 4, rd.end()), "ns1-fra");
    EXPECT_TRUE(optRdata(ask(QueryBuilder("www.example.com.", A).edns(1232))).empty());
}

TEST_F(AnswerTest, UnknownEdnsOptionsAndFlagsAndZBitAreIgnored) {
    // ISC EDNS compliance: unknown option ignored, unknown EDNS flag cleared, Z bit answered.
    std::vector<uint8_t> unknown = {0x12, 0x34, 0, 2, 0xAB, 0xCD};
    auto q = QueryBuilder("www.example.com.", A).edns(1232).ednsOptions(unknown).build();
    q[3] |= 0x40;  // Z bit in the header
    // OPT TTL flags are the 2 bytes before RDLENGTH: set an undefined flag (0x4000).
    size_t optTtl = q.size() - unknown.size() - 2 - 4;
    q[optTtl + 2] |= 0x40;
    auto m = askRaw(q);
    ASSERT_TRUE(m.parsed()) << m.parseError();
    EXPECT_EQ(m.rcode(), 0);
    EXPECT_EQ(m.ancount(), 1);
    EXPECT_FALSE(m.z());
    EXPECT_FALSE(m.ednsDo());
    EXPECT_EQ(ldns_pkt_edns_z(m.pkt()), 0);  // undefined flags are not echoed
    EXPECT_TRUE(optRdata(m).empty());
}

TEST_F(AnswerTest, TruncationSetsTcAndStaysWithinTheLimit) {
    auto udp = ask(QueryBuilder("big.example.com.", TXT));
    EXPECT_TRUE(udp.tc());
    EXPECT_LE(udp.size(), 512u);
    EXPECT_EQ(udp.ancount(), 0);  // whole RRsets or nothing
    auto edns = ask(QueryBuilder("big.example.com.", TXT).edns(1232));
    EXPECT_FALSE(edns.tc());
    EXPECT_EQ(edns.ancount(), 6);
    auto tcp = ask(QueryBuilder("big.example.com.", TXT), Transport::Tcp);
    EXPECT_FALSE(tcp.tc());
    EXPECT_EQ(tcp.ancount(), 6);
}

TEST_F(AnswerTest, AnyIsAnsweredMinimally) {
    auto m = ask(QueryBuilder("www.example.com.", ANY));
    EXPECT_EQ(m.ancount(), 1);  // RFC 8482: one RRset
}

TEST_F(AnswerTest, ZoneTransfersAreHandedOnAndAxfrOverUdpIsRefused) {
    ask(QueryBuilder("example.com.", AXFR), Transport::Tcp);
    EXPECT_EQ(last_.action, Action::Transfer);                      // dnsd/xfr/ answers it
    EXPECT_EQ(ask(QueryBuilder("example.com.", AXFR)).rcode(), 5);  // RFC 5936 §4.2: TCP only
}

TEST_F(AnswerTest, PoolAnswersRotateAndRespectTheirTtl) {
    std::set<std::string> firsts;
    for (int i = 0; i < 3; ++i) {
        auto m = ask(QueryBuilder("pool.example.com.", A));
        ASSERT_EQ(m.ancount(), 3);
        EXPECT_TRUE(has(m, Section::Answer, "\t30\tIN\tA\t"));
        firsts.insert(testsupport::canonicalRrText(ldns_rr_list_rr(m.rrs(Section::Answer), 0)));
    }
    EXPECT_EQ(firsts.size(), 3u);  // each query starts at a different member
    // Static data of other types at the pool's name is untouched.
    EXPECT_TRUE(has(ask(QueryBuilder("pool.example.com.", TXT)), Section::Answer, "static data"));
}

TEST_F(AnswerTest, PoolMaxAnswersCapsTheAnswer) {
    PoolAnswer a = *pools_.find(7);
    a.maxAnswers = 1;
    pools_.set(7, a);
    EXPECT_EQ(ask(QueryBuilder("pool.example.com.", A)).ancount(), 1);
}

TEST_F(AnswerTest, CnamePoolIsFollowedAndEmptyPoolIsNodata) {
    auto m = ask(QueryBuilder("cpool.example.com.", A));
    EXPECT_TRUE(has(m, Section::Answer, "cpool.example.com.\t20\tIN\tCNAME\twww.example.com."));
    EXPECT_TRUE(has(m, Section::Answer, "192.0.2.80"));
    auto e = ask(QueryBuilder("empty.example.com.", A));
    EXPECT_EQ(e.rcode(), 0);
    EXPECT_EQ(e.ancount(), 0);
    EXPECT_TRUE(has(e, Section::Authority, "SOA"));
}

}  // namespace
