// Engine tests for truncation at every position: answer, authority and additional; static
// RRsets, pools, CNAME chains into pools; with and without EDNS; UDP sizes 512, 1232 and 4096
// and every size in between. Every response is parsed strictly (testsupport::strictMessage-
// Problem: counts describe exactly the bytes) and compared with the complete answer over TCP:
// without TC it is that answer (optional additional data may be left out); with TC it holds
// only whole RRsets of it (RFC 2181 §9), and nothing after the set that did not fit.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "dnsd/answer/answer.hpp"
#include "tests/support/dns_message.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/strict_message.hpp"
#include "zones/snapshot.hpp"
#include "zones/zone_file.hpp"

using dnsd::Transport;
using testsupport::DnsMessage;
using testsupport::QueryBuilder;
using testsupport::Section;

namespace {

constexpr uint16_t A = 1, CNAME = 5, MX = 15, TXT = 16;

std::string zoneText() {
    std::string z = R"(
$ORIGIN trunc.test.
$TTL 3600
@        IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@        IN NS  ns1
ns1      IN A   192.0.2.53
alias    IN CNAME pool40
chain    IN CNAME alias
alias300 IN CNAME pool300
salias   IN CNAME huge
tocpool  IN CNAME cpool
nodata   IN CNAME ns1
)";
    std::string txt(100, 'x');
    for (int i = 0; i < 6; ++i) z += "big IN TXT \"" + std::to_string(i) + txt + "\"\n";
    for (int i = 0; i < 45; ++i) z += "huge IN TXT \"" + std::to_string(i) + txt + "\"\n";
    // A referral whose NS set alone is larger than 1232 bytes: truncation in authority.
    for (int i = 0; i < 40; ++i)
        z += "deleg IN NS ns.long-label-" + std::to_string(i) +
             "-abcdefghijklmnopqrstuvwxyz.example.\n";
    // An MX set whose targets' addresses do not all fit at 512: optional additional data.
    for (int i = 0; i < 20; ++i) {
        std::string t = "m" + std::to_string(i);
        z += "mx IN MX " + std::to_string(i) + " " + t + "\n";
        z += t + " IN A 192.0.2." + std::to_string(i + 1) + "\n";
        z += t + " IN AAAA 2001:db8::" + std::to_string(i + 1) + "\n";
    }
    // A referral whose in-domain glue does not fit at 512: required additional data.
    for (int i = 0; i < 4; ++i) {
        std::string ns = "ns" + std::to_string(i) + ".glued";
        z += "glued IN NS " + ns + "\n";
        for (int j = 0; j < 5; ++j)
            z += ns + " IN AAAA 2001:db8:1::" + std::to_string(i * 10 + j + 1) + "\n";
    }
    // A long CNAME chain ending in NODATA: the SOA in authority is the first thing to miss
    // at some size.
    const std::string label(60, 'c');
    for (int i = 0; i < 7; ++i)
        z += "c" + std::to_string(i) + "." + label + " IN CNAME c" + std::to_string(i + 1) + "." +
             label + "\n";
    z += "c7." + label + " IN TXT \"end\"\n";
    return z;
}

class TruncationTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto zf = zones::parseZoneText(zoneText(), "trunc.zone");
        auto name = [](const char* n) { return *zones::Name::fromText(n); };
        std::vector<zones::PoolBinding> bindings = {
            {name("pool40.trunc.test."), A, 1},
            {name("pool80.trunc.test."), A, 2},
            {name("pool300.trunc.test."), A, 3},
            {name("cpool.trunc.test."), CNAME, 4},
        };
        auto zone = zones::ZoneSnapshot::build(zf.origin, zf.records, bindings, 1);
        snapshot_ = zones::Snapshot::make({zone}, 1);
        pools_.set(1, addresses(40));
        pools_.set(2, addresses(80));
        pools_.set(3, addresses(300));
        dnsd::PoolAnswer c;
        c.type = CNAME;
        c.ttl = 20;
        zones::Name target = name("pool40.trunc.test.");
        c.rdatas.push_back({20, std::vector<uint8_t>(target.wire().begin(), target.wire().end())});
        pools_.set(4, c);
        config_.maxUdpPayload = 4096;
    }

    static dnsd::PoolAnswer addresses(int n) {
        dnsd::PoolAnswer a;
        a.type = A;
        a.ttl = 30;
        for (int i = 0; i < n; ++i) a.rdatas.push_back({30, {10, uint8_t(i >> 8), uint8_t(i), 1}});
        return a;
    }

    DnsMessage ask(const QueryBuilder& qb, Transport t) {
        std::vector<uint8_t> out(65535);
        auto r = dnsd::answer(*snapshot_, pools_, config_, qb.build(), out, t, scratch_);
        out.resize(r.action == dnsd::Action::Send ? r.size : 0);
        return DnsMessage(out);
    }

    // The complete answer (over TCP), taken apart once per query.
    struct Full {
        explicit Full(DnsMessage m) : msg(std::move(m)) {
            for (Section s : kSections) {
                rrs[int(s)] = msg.canonicalRrs(s);
                for (const auto& rr : rrs[int(s)]) ++sets[int(s)][rrsetKey(rr)];
            }
        }
        DnsMessage msg;
        std::vector<std::string> rrs[3];
        std::map<std::string, int> sets[3];
    };
    static constexpr Section kSections[] = {Section::Answer, Section::Authority,
                                            Section::Additional};

    // Checks one UDP response against the complete answer; returns what went wrong.
    static std::string check(const DnsMessage& m, const Full& full, size_t limit) {
        std::string problem = testsupport::strictMessageProblem(m.bytes());
        if (!problem.empty()) return "not a valid message: " + problem;
        if (!m.parsed()) return "ldns cannot parse it: " + m.parseError();
        if (m.size() > limit) return "larger than " + std::to_string(limit);
        if (m.rcode() != full.msg.rcode()) return "rcode differs from TCP";
        for (Section s : kSections) {
            auto got = m.canonicalRrs(s);
            const auto& all = full.rrs[int(s)];
            if (!m.tc() && s != Section::Additional && got != all)
                return sectionName(s) + " differs from TCP without TC";
            // Whole RRsets only, and only ones the complete answer has.
            std::map<std::string, int> sets;
            for (const auto& rr : got) {
                if (!std::binary_search(all.begin(), all.end(), rr))
                    return sectionName(s) + " has a record TCP does not: " + rr;
                ++sets[rrsetKey(rr)];
            }
            for (const auto& [key, n] : sets)
                if (n != full.sets[int(s)].at(key))
                    return sectionName(s) + " has part of the RRset " + key;
            // After a miss in answer or authority nothing else is written.
            if (m.tc() && s != Section::Additional && got.size() < all.size() &&
                (s == Section::Answer ? m.nscount() + m.arcount() > (m.hasOpt() ? 1 : 0)
                                      : m.arcount() > (m.hasOpt() ? 1 : 0)))
                return "records after the truncated " + sectionName(s) + " section";
        }
        return "";
    }

    static std::string rrsetKey(const std::string& rr) {
        // owner \t ttl \t class \t type \t rdata
        size_t a = rr.find('\t'), b = rr.find('\t', a + 1), c = rr.find('\t', b + 1),
               d = rr.find('\t', c + 1);
        return rr.substr(0, a) + " " + rr.substr(c + 1, d - c - 1);
    }

    std::shared_ptr<const zones::Snapshot> snapshot_;
    dnsd::PoolTable pools_;
    dnsd::EngineConfig config_;
    dnsd::Scratch scratch_;
};

struct Case {
    const char* qname;
    uint16_t qtype;
};
const Case kCases[] = {
    {"big.trunc.test.", TXT},
    {"huge.trunc.test.", TXT},
    {"pool40.trunc.test.", A},
    {"pool80.trunc.test.", A},
    {"pool300.trunc.test.", A},
    {"alias.trunc.test.", A},
    {"chain.trunc.test.", A},
    {"alias300.trunc.test.", A},
    {"salias.trunc.test.", TXT},
    {"cpool.trunc.test.", A},
    {"tocpool.trunc.test.", A},
    {"www.deleg.trunc.test.", A},
    {"mx.trunc.test.", MX},
    {"x.glued.trunc.test.", A},
    {"nodata.trunc.test.", MX},
    {"c0.cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.trunc.test.", A},
    {"c0.cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.trunc.test.", TXT},
};

TEST_F(TruncationTest, EveryUdpSizeGivesAValidMessageOfWholeRRsets) {
    size_t checked = 0, truncated = 0;
    for (const Case& c : kCases) {
        Full full(ask(QueryBuilder(c.qname, c.qtype), Transport::Tcp));
        ASSERT_EQ(testsupport::strictMessageProblem(full.msg.bytes()), "") << c.qname;
        ASSERT_FALSE(full.msg.tc()) << c.qname;
        std::string p = check(ask(QueryBuilder(c.qname, c.qtype), Transport::Udp), full, 512);
        EXPECT_EQ(p, "") << c.qname << " without EDNS";
        for (size_t size = 512; size <= 4096; size += size < 1600 ? 1 : 61) {
            DnsMessage m = ask(QueryBuilder(c.qname, c.qtype).edns(uint16_t(size)), Transport::Udp);
            std::string problem = check(m, full, size);
            ASSERT_EQ(problem, "") << c.qname << " with EDNS " << size << "\n" << m.toString();
            ++checked;
            truncated += m.tc();
        }
    }
    EXPECT_GT(checked, 10000u);
    EXPECT_GT(truncated, checked / 10);  // the sweep does reach the truncation points
}

TEST_F(TruncationTest, CnameIntoAPoolThatDoesNotFitKeepsTheCnameAndItsCount) {
    // The defect: TC, ANCOUNT 0, and the CNAME's bytes still in the message.
    for (auto qb :
         {QueryBuilder("alias.trunc.test.", A), QueryBuilder("alias.trunc.test.", A).edns(512)}) {
        DnsMessage m = ask(qb, Transport::Udp);
        EXPECT_EQ(testsupport::strictMessageProblem(m.bytes()), "");
        EXPECT_TRUE(m.tc());
        EXPECT_EQ(m.ancount(), 1);  // the CNAME, whole; the pool's RRset would not fit
        EXPECT_EQ(m.nscount(), 0);
    }
    DnsMessage chain = ask(QueryBuilder("chain.trunc.test.", A), Transport::Udp);
    EXPECT_TRUE(chain.tc());
    EXPECT_EQ(chain.ancount(), 2);
    EXPECT_EQ(testsupport::strictMessageProblem(chain.bytes()), "");
    DnsMessage fits = ask(QueryBuilder("alias.trunc.test.", A).edns(1232), Transport::Udp);
    EXPECT_FALSE(fits.tc());
    EXPECT_EQ(fits.ancount(), 41);
}

TEST_F(TruncationTest, EachPositionTruncatesAtTheExpectedSizes) {
    auto udp = [&](const char* n, uint16_t t, uint16_t size) {
        return size ? ask(QueryBuilder(n, t).edns(size), Transport::Udp)
                    : ask(QueryBuilder(n, t), Transport::Udp);
    };
    // Answer: a pool of 80 fits 4096 but not 1232; of 300, not even 4096.
    EXPECT_TRUE(udp("pool80.trunc.test.", A, 1232).tc());
    EXPECT_EQ(udp("pool80.trunc.test.", A, 1232).ancount(), 0);
    EXPECT_FALSE(udp("pool80.trunc.test.", A, 4096).tc());
    EXPECT_TRUE(udp("pool300.trunc.test.", A, 4096).tc());
    EXPECT_EQ(ask(QueryBuilder("pool300.trunc.test.", A), Transport::Tcp).ancount(), 300);
    EXPECT_TRUE(udp("huge.trunc.test.", TXT, 4096).tc());
    EXPECT_FALSE(udp("big.trunc.test.", TXT, 1232).tc());
    EXPECT_TRUE(udp("big.trunc.test.", TXT, 0).tc());
    // Authority: a referral whose NS set does not fit.
    DnsMessage deleg = udp("www.deleg.trunc.test.", A, 1232);
    EXPECT_TRUE(deleg.tc());
    EXPECT_EQ(deleg.nscount(), 0);
    EXPECT_FALSE(udp("www.deleg.trunc.test.", A, 4096).tc());
    // Additional, optional: addresses of MX targets are left out without TC.
    DnsMessage mx = udp("mx.trunc.test.", MX, 0);
    EXPECT_FALSE(mx.tc());
    EXPECT_EQ(mx.ancount(), 20);
    EXPECT_LT(mx.arcount(), 40);
    // Additional, required: in-domain glue that does not fit truncates the referral.
    EXPECT_TRUE(udp("x.glued.trunc.test.", A, 0).tc());
    EXPECT_FALSE(udp("x.glued.trunc.test.", A, 1232).tc());
}

}  // namespace
