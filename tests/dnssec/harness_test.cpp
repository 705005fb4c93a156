// The DNSSEC test harness proved against a reference: NSD serves tests/dnssec/zones/sec.test.zone
// signed by ldns-signzone, a validating Unbound (started here, the zone's DS as its only trust
// anchor) and delv must call every kind of answer secure, and the three zone verifiers must
// pass. Negative controls show each check can fail: a tampered RRSIG, expired signatures, an
// inception in the future (clock skew), a wrong trust anchor and an unsigned zone are caught.
// When dnsd signs, its tests use the same pieces pointed at dnsd (tests/README.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include "tests/support/free_port.hpp"
#include "tests/support/ldns_zone_signer.hpp"
#include "tests/support/nsd_server.hpp"
#include "tests/support/unbound_resolver.hpp"
#include "tests/support/zone_verifiers.hpp"

namespace {

using namespace testsupport;

constexpr uint16_t A = 1, SOA = 6, CNAME = 5, MX = 15, TXT = 16, AAAA = 28, DS = 43, NSEC = 47,
                   DNSKEY = 48, RRSIG = 46;
constexpr uint16_t kNoError = 0, kServFail = 2, kNxDomain = 3, kRefused = 5;
const std::string kZone = "sec.test.";

std::string zoneFile() {
    return std::string(DNSD_SOURCE_DIR) + "/tests/dnssec/zones/sec.test.zone";
}

std::string typeText(uint16_t t) {
    char* s = ldns_rr_type2str(static_cast<ldns_rr_type>(t));
    std::string out = s ? s : "?";
    free(s);
    return out;
}

// Seconds since the epoch, as ldns-signzone takes a date.
std::string epochIn(long seconds) {
    return std::to_string(static_cast<long>(std::time(nullptr)) + seconds);
}

// Canonical RR lines "owner\tttl\tclass\ttype\trdata": is there one with this owner and type
// (for RRSIG: covering `covered`; with `rdata`: exactly that RDATA)?
bool hasRr(const std::vector<std::string>& rrs, const std::string& owner, uint16_t type,
           uint16_t covered = 0, const std::string& rdata = "") {
    std::string prefix = owner + "\t";
    std::string typeField = "\t" + typeText(type) + "\t";
    return std::any_of(rrs.begin(), rrs.end(), [&](const std::string& rr) {
        if (rr.rfind(prefix, 0) != 0) return false;
        size_t at = rr.find(typeField);
        if (at == std::string::npos) return false;
        std::string data = rr.substr(at + typeField.size());
        if (!rdata.empty()) return data == rdata;
        return type != RRSIG || data.rfind(typeText(covered) + " ", 0) == 0;
    });
}

bool hasType(const std::vector<std::string>& rrs, uint16_t type) {
    std::string typeField = "\t" + typeText(type) + "\t";
    return std::any_of(rrs.begin(), rrs.end(), [&](const std::string& rr) {
        return rr.find(typeField) != std::string::npos;
    });
}

// What a validating resolver must say for one question about the correctly signed zone.
struct Expectation {
    std::string name;
    uint16_t type;
    uint16_t rcode;
    // The RRset the answer must hold (with its RRSIG); 0 for NXDOMAIN/NODATA.
    uint16_t answerType;
    const char* what;
};

std::vector<Expectation> secureCases() {
    return {
        {"sec.test.", SOA, kNoError, SOA, "apex SOA"},
        {"sec.test.", DNSKEY, kNoError, DNSKEY, "apex DNSKEY"},
        {"sec.test.", MX, kNoError, MX, "apex MX"},
        {"www.sec.test.", A, kNoError, A, "static name"},
        {"www.sec.test.", AAAA, kNoError, AAAA, "static name, second type"},
        {"alias.sec.test.", A, kNoError, CNAME, "CNAME to a static name"},
        {"nothere.sec.test.", A, kNxDomain, 0, "NXDOMAIN"},
        {"deep.nothere.sec.test.", TXT, kNxDomain, 0, "NXDOMAIN two labels down"},
        {"www.sec.test.", TXT, kNoError, 0, "NODATA"},
        {"b.ent.sec.test.", A, kNoError, 0, "NODATA at an empty non-terminal"},
        {"ent.sec.test.", TXT, kNoError, 0, "NODATA at the upper empty non-terminal"},
        {"x.b.ent.sec.test.", A, kNxDomain, 0, "NXDOMAIN below an empty non-terminal"},
        {"x.wild.sec.test.", A, kNoError, A, "wildcard answer"},
        {"y.x.wild.sec.test.", TXT, kNoError, TXT, "wildcard answer two labels down"},
        {"x.wild.sec.test.", AAAA, kNoError, 0, "wildcard NODATA"},
        {"exists.wild.sec.test.", TXT, kNoError, 0, "NODATA at a name next to the wildcard"},
        {"secure.sec.test.", DS, kNoError, DS, "DS at a secure delegation"},
        {"insecure.sec.test.", DS, kNoError, 0, "no DS at an insecure delegation"},
    };
}

// The zone signed with fresh keys, served by NSD.
struct SignedServer {
    LdnsZoneSigner signer{kZone};
    std::string signedFile;
    std::unique_ptr<NsdServer> nsd;

    explicit SignedServer(const SignOptions& options = {},
                          const std::function<std::string(const std::string&)>& edit = nullptr) {
        signedFile = signer.sign(zoneFile(), "sec.test.signed", options);
        if (edit) {
            std::string text = edit(readTextFile(signedFile));
            std::ofstream(signedFile, std::ios::trunc) << text;
        }
        nsd = std::make_unique<NsdServer>(std::vector<ZoneFile>{{kZone, signedFile}}, freePort());
    }
    UnboundOptions resolverFor(std::vector<std::string> anchors) const {
        UnboundOptions o;
        o.zones = {{kZone, "127.0.0.1", nsd->port()}};
        o.trustAnchors = std::move(anchors);
        return o;
    }
};

void expectVerifiersPass(const std::string& file) {
    for (const auto& v : verifyZoneWithAll(file, kZone)) {
        EXPECT_TRUE(v.ok) << v.command << "\n" << v.output;
    }
}

void expectVerifiersFail(const std::string& file) {
    for (const auto& v : verifyZoneWithAll(file, kZone)) {
        EXPECT_FALSE(v.ok) << v.tool << " accepted a broken zone: " << v.command << "\n"
                           << v.output;
    }
}

TEST(DnssecHarness, SignedZoneResolvesSecure) {
    SignedServer s;
    UnboundResolver unbound(s.resolverFor({s.signer.dsRecord()}));
    for (const auto& c : secureCases()) {
        SCOPED_TRACE(c.what + std::string(": ") + c.name + " " + typeText(c.type));
        ResolverAnswer r = unbound.query(c.name, c.type);
        EXPECT_EQ(r.rcode, c.rcode) << r.describe() << unbound.logText();
        EXPECT_TRUE(r.ad) << r.describe();
        if (c.answerType != 0) {
            EXPECT_TRUE(hasType(r.answer, c.answerType)) << r.describe();
            EXPECT_TRUE(hasType(r.answer, RRSIG)) << r.describe();
        } else {
            EXPECT_TRUE(r.answer.empty()) << r.describe();
            // The denial Unbound validated is passed on: NSEC records with their signatures.
            EXPECT_TRUE(hasType(r.authority, NSEC)) << r.describe();
            EXPECT_TRUE(hasRr(r.authority, kZone, RRSIG, SOA)) << r.describe();
        }
        DelvResult d = delv(s.nsd->port(), {s.signer.dsRecord()}, c.name, typeText(c.type));
        EXPECT_TRUE(d.fullyValidated) << d.command << "\n" << d.output;
    }
    // The answers carry the zone's data, not just flags.
    // The answers carry the zone's data, not just flags (TTLs are Unbound's, capped).
    ResolverAnswer www = unbound.query("www.sec.test.", A);
    EXPECT_TRUE(hasRr(www.answer, "www.sec.test.", A, 0, "192.0.2.1")) << www.describe();
    ResolverAnswer wild = unbound.query("x.wild.sec.test.", A);
    EXPECT_TRUE(hasRr(wild.answer, "x.wild.sec.test.", A, 0, "192.0.2.9")) << wild.describe();
    // A wildcard answer also proves that x.wild itself does not exist (RFC 4035 §3.1.3.3).
    EXPECT_TRUE(hasType(wild.authority, NSEC)) << wild.describe();
    expectVerifiersPass(s.signedFile);
}

TEST(DnssecHarness, NamesOutsideTheZoneNeverLeaveLoopback) {
    SignedServer s;
    UnboundResolver unbound(s.resolverFor({s.signer.dsRecord()}));
    EXPECT_EQ(unbound.query("www.example.com.", A).rcode, kRefused);
    EXPECT_EQ(unbound.query(".", DNSKEY).rcode, kRefused);
    EXPECT_EQ(unbound.query("org.", SOA).rcode, kRefused);
    // Off-loopback addresses are unreachable for it, whatever a referral says.
    EXPECT_NE(unbound.configText().find("do-not-query-address: 128.0.0.0/1"), std::string::npos);
    EXPECT_NE(unbound.configText().find("outgoing-interface: 127.0.0.1"), std::string::npos);
}

TEST(DnssecHarness, AdComesFromValidationOnly) {
    SignedServer s;
    // No trust anchor: the same answers, but nothing is secure.
    UnboundResolver plain(s.resolverFor({}));
    ResolverAnswer r = plain.query("www.sec.test.", A);
    EXPECT_EQ(r.rcode, kNoError) << r.describe();
    EXPECT_FALSE(r.ad) << r.describe();
    // The DS of other keys: every answer is bogus.
    LdnsZoneSigner other(kZone);
    UnboundResolver wrong(s.resolverFor({other.dsRecord()}));
    EXPECT_EQ(wrong.query("www.sec.test.", A).rcode, kServFail);
    EXPECT_FALSE(delv(s.nsd->port(), {other.dsRecord()}, "www.sec.test.", "A").fullyValidated);
    // A DNSKEY works as an anchor too (what a test holding only the key has).
    UnboundResolver byKey(s.resolverFor({s.signer.kskDnskey()}));
    EXPECT_TRUE(byKey.query("www.sec.test.", A).ad);
    EXPECT_TRUE(delv(s.nsd->port(), {s.signer.kskDnskey()}, "www.sec.test.", "A").fullyValidated);
}

TEST(DnssecHarness, UnsignedZoneIsBogusUnderAnAnchor) {
    NsdServer nsd({{kZone, zoneFile()}}, freePort());
    LdnsZoneSigner keys(kZone);
    UnboundOptions o;
    o.zones = {{kZone, "127.0.0.1", nsd.port()}};
    o.trustAnchors = {keys.dsRecord()};
    UnboundResolver unbound(o);
    EXPECT_EQ(unbound.query("www.sec.test.", A).rcode, kServFail);
    EXPECT_FALSE(delv(nsd.port(), {keys.dsRecord()}, "www.sec.test.", "A").fullyValidated);
    expectVerifiersFail(zoneFile());
}

TEST(DnssecHarness, TamperedSignatureIsBogus) {
    SignedServer s({},
                   [](const std::string& text) { return tamperRrsig(text, "www.sec.test.", "A"); });
    UnboundResolver unbound(s.resolverFor({s.signer.dsRecord()}));
    ResolverAnswer bad = unbound.query("www.sec.test.", A);
    EXPECT_EQ(bad.rcode, kServFail) << bad.describe();
    EXPECT_NE(unbound.logText().find("www.sec.test."), std::string::npos)
        << "val-log-level 2 names the bogus answer\n"
        << unbound.logText();
    // Only that RRset is broken: the rest of the zone still validates.
    ResolverAnswer good = unbound.query("www.sec.test.", AAAA);
    EXPECT_EQ(good.rcode, kNoError) << good.describe();
    EXPECT_TRUE(good.ad) << good.describe();
    EXPECT_FALSE(delv(s.nsd->port(), {s.signer.dsRecord()}, "www.sec.test.", "A").fullyValidated);
    EXPECT_TRUE(delv(s.nsd->port(), {s.signer.dsRecord()}, "www.sec.test.", "AAAA").fullyValidated);
    expectVerifiersFail(s.signedFile);
}

TEST(DnssecHarness, ExpiredSignaturesAreBogus) {
    // Expired three days ago: Unbound forgives up to 24 h past the expiration too
    // (val-sig-skew-max), so one day ago sat exactly on its edge.
    SignedServer s({epochIn(-30 * 86400), epochIn(-3 * 86400)});
    UnboundResolver unbound(s.resolverFor({s.signer.dsRecord()}));
    for (const auto& c : secureCases()) {
        SCOPED_TRACE(c.name + " " + typeText(c.type));
        EXPECT_EQ(unbound.query(c.name, c.type).rcode, kServFail);
    }
    EXPECT_FALSE(delv(s.nsd->port(), {s.signer.dsRecord()}, "www.sec.test.", "A").fullyValidated);
    expectVerifiersFail(s.signedFile);
}

TEST(DnssecHarness, InceptionInTheFutureIsCaught) {
    // What a signer with its clock two days ahead produces. Resolvers forgive some skew:
    // Unbound accepts an inception up to 10% of the validity period ahead, at most 24 h
    // (val-sig-skew-max), so one day ahead would still validate there.
    SignedServer s({epochIn(2 * 86400), epochIn(30 * 86400)});
    UnboundResolver unbound(s.resolverFor({s.signer.dsRecord()}));
    EXPECT_EQ(unbound.query("www.sec.test.", A).rcode, kServFail);
    EXPECT_EQ(unbound.query("nothere.sec.test.", A).rcode, kServFail);
    EXPECT_FALSE(delv(s.nsd->port(), {s.signer.dsRecord()}, "www.sec.test.", "A").fullyValidated);
    expectVerifiersFail(s.signedFile);
}

TEST(DnssecHarness, FlushForgetsCachedAnswers) {
    SignedServer s;
    UnboundOptions o = s.resolverFor({s.signer.dsRecord()});
    o.cacheMaxTtl = 3600;  // so only flush() can make it ask again
    UnboundResolver unbound(o);
    ASSERT_TRUE(
        hasRr(unbound.query("www.sec.test.", A).answer, "www.sec.test.", A, 0, "192.0.2.1"));
    // The zone changes (same keys), as a pool answer does after a failover.
    std::string text = readTextFile(zoneFile());
    size_t at = text.find("192.0.2.1\n");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 9, "192.0.2.99");
    std::string changed =
        s.signer.sign(s.signer.dir().writeFile("changed.zone", text), "changed.signed");
    uint16_t port = s.nsd->port();
    s.nsd.reset();
    s.nsd = std::make_unique<NsdServer>(std::vector<ZoneFile>{{kZone, changed}}, port);
    ResolverAnswer cached = unbound.query("www.sec.test.", A);
    EXPECT_TRUE(hasRr(cached.answer, "www.sec.test.", A, 0, "192.0.2.1"))
        << "still the cached answer\n"
        << cached.describe();
    unbound.flush(kZone);
    ResolverAnswer fresh = unbound.query("www.sec.test.", A);
    EXPECT_TRUE(hasRr(fresh.answer, "www.sec.test.", A, 0, "192.0.2.99")) << fresh.describe();
    EXPECT_TRUE(fresh.ad) << fresh.describe();
    // With the server gone, a flushed name is SERVFAIL (and answered, not dropped).
    s.nsd.reset();
    unbound.flush(kZone);
    EXPECT_EQ(unbound.query("www.sec.test.", A).rcode, kServFail);
}

TEST(DnssecHarness, AxfrOfTheServedZoneVerifies) {
    // How a test verifies the zone a server really serves: transfer it, check the file.
    SignedServer s;
    TempDir dir("dnsd-axfr");
    std::string served = dir.file("served.zone");
    size_t rrs = axfrToFile(kZone, s.nsd->port(), served);
    EXPECT_GT(rrs, 40u) << "every record plus its RRSIG and NSEC";
    expectVerifiersPass(served);
    EXPECT_NE(readTextFile(served).find("\tNSEC\t"), std::string::npos);
    // A server that answers no transfer (Unbound refuses AXFR) gives an error, not a file.
    UnboundResolver unbound(s.resolverFor({s.signer.dsRecord()}));
    EXPECT_THROW(axfrToFile(kZone, unbound.port(), dir.file("none.zone")), std::runtime_error);
    EXPECT_FALSE(std::filesystem::exists(dir.file("none.zone")));
}

}  // namespace
