// Engine tests for signed zones: every RRset in answer and authority carries RRSIGs that
// ldns verifies against the zone's DNSKEYs, and every denial has the NSEC records that prove
// it (RFC 4035 §3.1); without DO the answers stay as they were.
#include <gtest/gtest.h>

#include <ctime>
#include <map>

#include "dnsd/answer/answer.hpp"
#include "tests/support/dns_message.hpp"
#include "tests/support/query_builder.hpp"
#include "zones/snapshot.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_signer.hpp"

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
@       IN MX  10 mail
ns1     IN A   192.0.2.53
mail    IN A   192.0.2.25
www     IN A   192.0.2.80
alias   IN CNAME www
*.wild  IN A   192.0.2.99
a.b.ent IN A   192.0.2.7
insecure IN NS ns.insecure
ns.insecure IN A 192.0.2.54
secure  IN NS  ns.other.net.
secure  IN DS  12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
)";

constexpr uint16_t A = 1, NS = 2, SOA = 6, MX = 15, AAAA = 28, DS = 43, RRSIG = 46, NSEC = 47,
                   DNSKEY = 48;

struct LdnsList {
    ldns_rr_list* list = ldns_rr_list_new();
    ~LdnsList() { ldns_rr_list_deep_free(list); }
};

class DnssecAnswerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto zf = zones::parseZoneText(kZone, "test.zone");
        zones::SigningPolicy policy;
        policy.epoch = int64_t(std::time(nullptr));
        auto ksk = zones::SigningKey::generate(13, 257), zsk = zones::SigningKey::generate(13, 256);
        zones::ZoneSigner signer(zf.origin, policy,
                                 {{ksk, true, true, true}, {zsk, true, true, false}});
        std::vector<zones::PoolBinding> pools = {
            {*zones::Name::fromText("pool.example.com."), A, 7},
            {*zones::Name::fromText("empty.example.com."), A, 9},
        };
        zone_ = signer.build(zones::RecordBatch(zf.records), pools, 1, nullptr);
        snapshot_ = zones::Snapshot::make({zone_}, 1);
        for (const auto& k : {ksk, zsk}) {
            std::string text =
                "example.com. 3600 IN DNSKEY " + std::to_string(k->flags()) + " 3 13 ";
            ldns_rr* rr = nullptr;
            // Public key to base64 through ldns: the key RR is made from wire RDATA.
            ldns_rdf* b64 = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_B64, k->publicKey().size(),
                                                  k->publicKey().data());
            char* s = ldns_rdf2str(b64);
            text += s;
            free(s);
            ldns_rdf_deep_free(b64);
            ASSERT_EQ(ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr), LDNS_STATUS_OK);
            ldns_rr_list_push_rr(keys_.list, rr);
        }
        PoolAnswer a;
        a.type = A;
        a.ttl = 30;
        for (uint8_t last : {10, 11, 12}) a.rdatas.push_back({30, {192, 0, 2, last}});
        std::vector<std::span<const uint8_t>> rds;
        for (const auto& r : a.rdatas) rds.emplace_back(r.bytes);
        a.rrsigs.push_back(
            signer.signRRset(zones::Name::fromText("pool.example.com.")->key(), A, 30, rds));
        pools_.set(7, a);
        PoolAnswer e;
        e.type = A;
        // The empty answer's NSEC: the owner's, without A.
        int32_t n = zone_->find(zones::Name::fromText("empty.example.com.")->key());
        auto nsec = zone_->bytes(zone_->rdatas(*zone_->rrset(zone_->node(n), NSEC))[0]);
        size_t next = zones::wireNameLength(nsec);
        e.emptyNsec.assign(nsec.begin(), nsec.begin() + long(next));
        for (uint8_t b : {0, 6, 0, 0, 0, 0, 0, 3}) e.emptyNsec.push_back(b);  // NSEC RRSIG
        e.emptyNsecSigs =
            signer.signRRset(zones::Name::fromText("empty.example.com.")->key(), NSEC,
                             zone_->negativeTtl(), {std::span<const uint8_t>(e.emptyNsec)});
        pools_.set(9, e);
    }

    DnsMessage ask(const std::string& name, uint16_t type, bool dnssecOk = true,
                   uint16_t udp = 1232, Transport t = Transport::Udp) {
        QueryBuilder qb(name, type);
        qb.edns(udp).dnssecOk(dnssecOk);
        std::vector<uint8_t> out(65535);
        auto r = answer(*snapshot_, pools_, config_, qb.build(), out, t, scratch_);
        EXPECT_EQ(r.action, Action::Send);
        out.resize(r.size);
        DnsMessage m(out);
        EXPECT_TRUE(m.parsed()) << m.parseError();
        EXPECT_FALSE(m.ad());  // never set by an authoritative server
        return m;
    }

    // Every RRset in the section has RRSIGs, and each verifies with the zone's keys.
    void expectSigned(const DnsMessage& m, Section s, std::set<uint16_t> unsignedTypes = {}) {
        const ldns_rr_list* rrs = m.rrs(s);
        std::map<std::pair<std::string, uint16_t>, LdnsList> sets, sigs;
        for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); ++i) {
            ldns_rr* rr = ldns_rr_list_rr(rrs, i);
            char* owner = ldns_rdf2str(ldns_rr_owner(rr));
            std::string o = owner;
            free(owner);
            for (char& c : o) c = char(tolower(c));
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG) {
                uint16_t covered = ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr));
                ldns_rr_list_push_rr(sigs[{o, covered}].list, ldns_rr_clone(rr));
            } else {
                ldns_rr_list_push_rr(sets[{o, uint16_t(ldns_rr_get_type(rr))}].list,
                                     ldns_rr_clone(rr));
            }
        }
        for (auto& [key, set] : sets) {
            if (unsignedTypes.count(key.second)) {
                EXPECT_EQ(sigs.count(key), 0u) << key.first << " " << key.second;
                continue;
            }
            ASSERT_TRUE(sigs.count(key))
                << "no RRSIG for " << key.first << " type " << key.second << "\n"
                << m.toString();
            ldns_rr_list* sl = sigs[key].list;
            for (size_t i = 0; i < ldns_rr_list_rr_count(sl); ++i)
                EXPECT_EQ(ldns_verify_rrsig_keylist(set.list, ldns_rr_list_rr(sl, i), keys_.list,
                                                    nullptr),
                          LDNS_STATUS_OK)
                    << key.first << " type " << key.second << "\n"
                    << m.toString();
        }
    }

    // The NSECs in authority deny (name, type) by ldns's reading of RFC 4035.
    void expectDenied(const DnsMessage& m, const std::string& name, uint16_t type) {
        LdnsList nsecs, rrsigs;
        const ldns_rr_list* auth = m.rrs(Section::Authority);
        for (size_t i = 0; i < ldns_rr_list_rr_count(auth); ++i) {
            ldns_rr* rr = ldns_rr_list_rr(auth, i);
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NSEC)
                ldns_rr_list_push_rr(nsecs.list, ldns_rr_clone(rr));
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG)
                ldns_rr_list_push_rr(rrsigs.list, ldns_rr_clone(rr));
        }
        ASSERT_GT(ldns_rr_list_rr_count(nsecs.list), 0u) << m.toString();
        ldns_rr* q = ldns_rr_new_frm_type(ldns_rr_type(type));
        ldns_rr_set_owner(q, ldns_dname_new_frm_str(name.c_str()));
        EXPECT_EQ(ldns_dnssec_verify_denial(q, nsecs.list, rrsigs.list), LDNS_STATUS_OK)
            << name << "\n"
            << m.toString();
        ldns_rr_free(q);
    }

    size_t count(const DnsMessage& m, Section s, uint16_t type) {
        size_t n = 0;
        const ldns_rr_list* rrs = m.rrs(s);
        for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); ++i)
            n += ldns_rr_get_type(ldns_rr_list_rr(rrs, i)) == type;
        return n;
    }

    std::shared_ptr<const zones::ZoneSnapshot> zone_;
    std::shared_ptr<const zones::Snapshot> snapshot_;
    PoolTable pools_;
    EngineConfig config_;
    Scratch scratch_;
    LdnsList keys_;
};

TEST_F(DnssecAnswerTest, PositiveAnswersCarryVerifiedSignaturesOnlyWithDo) {
    DnsMessage m = ask("www.example.com.", A);
    EXPECT_EQ(count(m, Section::Answer, RRSIG), 1u);
    expectSigned(m, Section::Answer);
    DnsMessage plain = ask("www.example.com.", A, false);
    EXPECT_EQ(count(plain, Section::Answer, RRSIG), 0u);
    EXPECT_EQ(plain.ancount(), 1);
    // The apex: DNSKEY signed by the KSK, MX with signed additional addresses, CNAME chased.
    expectSigned(ask("example.com.", DNSKEY), Section::Answer);
    DnsMessage mx = ask("example.com.", MX);
    expectSigned(mx, Section::Answer);
    expectSigned(mx, Section::Additional);
    DnsMessage cname = ask("alias.example.com.", A);
    EXPECT_EQ(cname.ancount(), 4);  // CNAME, RRSIG, A, RRSIG
    expectSigned(cname, Section::Answer);
}

TEST_F(DnssecAnswerTest, NxdomainProvesTheNameAndTheWildcardAbsent) {
    DnsMessage m = ask("nope.example.com.", A);
    EXPECT_EQ(m.rcode(), 3);
    expectSigned(m, Section::Authority);
    expectDenied(m, "nope.example.com.", A);
    DnsMessage under = ask("x.y.www.example.com.", A);
    EXPECT_EQ(under.rcode(), 3);
    expectSigned(under, Section::Authority);
    expectDenied(under, "x.y.www.example.com.", A);
}

TEST_F(DnssecAnswerTest, NodataAtANameAndAtAnEmptyNonTerminal) {
    DnsMessage m = ask("www.example.com.", AAAA);
    EXPECT_EQ(m.rcode(), 0);
    EXPECT_EQ(m.ancount(), 0);
    expectSigned(m, Section::Authority);
    expectDenied(m, "www.example.com.", AAAA);
    DnsMessage ent = ask("b.ent.example.com.", A);
    EXPECT_EQ(ent.rcode(), 0);
    expectSigned(ent, Section::Authority);
    expectDenied(ent, "b.ent.example.com.", A);
}

TEST_F(DnssecAnswerTest, WildcardAnswerAndWildcardNodata) {
    DnsMessage m = ask("host.wild.example.com.", A);
    EXPECT_EQ(count(m, Section::Answer, A), 1u);
    expectSigned(m, Section::Answer);
    expectSigned(m, Section::Authority);
    EXPECT_EQ(count(m, Section::Authority, NSEC), 1u) << m.toString();  // host.wild does not exist
    DnsMessage nodata = ask("host.wild.example.com.", MX);
    EXPECT_EQ(nodata.ancount(), 0);
    expectSigned(nodata, Section::Authority);
    // *.wild sorts before host.wild: its NSEC both covers the name and lists the types.
    EXPECT_EQ(count(nodata, Section::Authority, NSEC), 1u) << nodata.toString();
}

TEST_F(DnssecAnswerTest, ReferralsProveOrCarryTheDs) {
    DnsMessage insecure = ask("www.insecure.example.com.", A);
    EXPECT_FALSE(insecure.aa());
    expectSigned(insecure, Section::Authority, {NS});
    expectDenied(insecure, "insecure.example.com.", DS);
    expectSigned(insecure, Section::Additional, {A});  // glue is never signed
    DnsMessage secure = ask("www.secure.example.com.", A);
    EXPECT_EQ(count(secure, Section::Authority, DS), 1u);
    expectSigned(secure, Section::Authority, {NS});
    DnsMessage ds = ask("secure.example.com.", DS);
    EXPECT_TRUE(ds.aa());
    expectSigned(ds, Section::Answer);
    DnsMessage noDs = ask("insecure.example.com.", DS);
    EXPECT_EQ(noDs.ancount(), 0);
    expectDenied(noDs, "insecure.example.com.", DS);
}

TEST_F(DnssecAnswerTest, PoolAnswersAndEmptyPoolsAreSigned) {
    DnsMessage m = ask("pool.example.com.", A);
    EXPECT_EQ(count(m, Section::Answer, A), 3u);
    expectSigned(m, Section::Answer);
    DnsMessage empty = ask("empty.example.com.", A);
    EXPECT_EQ(empty.ancount(), 0);
    expectSigned(empty, Section::Authority);
    expectDenied(empty, "empty.example.com.", A);
}

TEST_F(DnssecAnswerTest, SmallBuffersTruncateRatherThanDropSignatures) {
    for (uint16_t type : {DNSKEY, A, MX, SOA}) {
        for (const char* name : {"example.com.", "nope.example.com.", "host.wild.example.com."}) {
            DnsMessage m = ask(name, type, true, 512);
            EXPECT_LE(m.size(), 512u);
            if (!m.tc()) {
                expectSigned(m, Section::Answer);
                expectSigned(m, Section::Authority);
            }
            DnsMessage tcp = ask(name, type, true, 512, Transport::Tcp);
            EXPECT_FALSE(tcp.tc());
            expectSigned(tcp, Section::Answer);
            expectSigned(tcp, Section::Authority);
        }
    }
    // Queries for the DNSSEC types themselves, at every kind of name.
    for (uint16_t type : {RRSIG, NSEC, DNSKEY, DS})
        for (const char* name :
             {"example.com.", "www.example.com.", "ent.example.com.", "host.wild.example.com.",
              "insecure.example.com.", "nope.example.com."}) {
            DnsMessage m = ask(name, type);
            EXPECT_TRUE(m.rcode() == 0 || m.rcode() == 3) << name << " " << type;
        }
}

}  // namespace
