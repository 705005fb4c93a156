// The signed failover product end to end: the real dnsctl signs svc.test., the real dnsd
// serves it, the real dnsd-probe fails the pool over and back, and a validating Unbound (the
// zone's DS as its only trust anchor) sees every kind of answer as secure before, during and
// after, and through a ZSK rollover run with short timings; delv agrees; a full AXFR passes
// ldns-verify-zone, dnssec-verify and kzonecheck; expired and not-yet-valid signatures are
// caught by the resolver.
#include <gtest/gtest.h>

#include <set>

#include "tests/failover/failover_fixture.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/unbound_resolver.hpp"
#include "tests/support/zone_verifiers.hpp"

namespace failover {
namespace {

constexpr uint16_t A = 1, MX = 15, TXT = 16, RRSIG = 46, DNSKEY = 48;

class SignedFailover : public FailoverScenario {
  protected:
    void signZone() {
        ok({"record", "add", "svc.test", "*.wild 300 A 127.0.0.8"});
        ok({"record", "add", "svc.test", "deep.ent 300 TXT below-an-empty-non-terminal"});
        ok({"dnssec", "enable", "svc.test"});
        auto ds = dnsctl({"dnssec", "ds", "svc.test"});
        ASSERT_TRUE(ds.ok()) << ds.err;
        std::istringstream lines(ds.out);
        for (std::string line; std::getline(lines, line);)
            if (line.find(" DS ") != std::string::npos) anchors_.push_back(line);
        ASSERT_EQ(anchors_.size(), 1u) << ds.out;
    }
    void startResolver() {
        UnboundOptions o;
        o.zones.push_back({"svc.test.", "127.0.0.1", dnsd_->port()});
        o.trustAnchors = anchors_;
        resolver_ = std::make_unique<UnboundResolver>(o);
    }
    // Every kind of name, validated: the expected rcode and AD, never SERVFAIL.
    void expectAllSecure(const std::string& when, bool pool = true) {
        struct Case {
            const char* name;
            uint16_t type;
            uint16_t rcode;
        };
        for (const Case& c : {Case{"static.svc.test.", A, 0}, Case{"www.svc.test.", A, 0},
                              Case{"nope.svc.test.", A, 3}, Case{"static.svc.test.", MX, 0},
                              Case{"host.wild.svc.test.", A, 0}, Case{"host.wild.svc.test.", MX, 0},
                              Case{"ent.svc.test.", TXT, 0}, Case{"svc.test.", DNSKEY, 0}}) {
            if (!pool && std::string(c.name) == "www.svc.test.") continue;
            resolver_->flush(c.name);
            auto r = resolver_->query(c.name, c.type);
            EXPECT_EQ(r.rcode, c.rcode) << when << ": " << c.name << "\n" << r.describe();
            EXPECT_TRUE(r.ad) << when << ": " << c.name << " " << c.type << "\n"
                              << r.describe() << resolver_->logText();
        }
    }
    std::string wwwThroughResolver() {
        resolver_->flush("www.svc.test.");
        auto r = resolver_->query("www.svc.test.", A);
        EXPECT_TRUE(r.ad && r.rcode == 0) << r.describe();
        std::string out;
        for (const auto& rr : r.answer)
            if (rr.find("\tA\t") != std::string::npos || rr.find(" A ") != std::string::npos)
                out += rr.substr(rr.find_last_of(" \t") + 1) + " ";
        return out;
    }
    // Key tags of the RRSIGs dnsd serves over static.svc.test. A.
    std::set<std::string> signingTags() {
        std::set<std::string> tags;
        for (const std::string& rd : dnsdRdataDo("static.svc.test.", RRSIG)) {
            std::istringstream f(rd);
            std::vector<std::string> w{std::istream_iterator<std::string>(f), {}};
            if (w.size() > 6) tags.insert(w[6]);
        }
        return tags;
    }
    std::vector<std::string> dnsdRdataDo(const std::string& name, uint16_t type) {
        auto q = QueryBuilder(name, type == RRSIG ? A : type).edns(4096).dnssecOk().build();
        auto m = dnsd_->client().tcp(q, 2s);
        std::vector<std::string> out;
        if (!m) return out;
        const ldns_rr_list* list = m->rrs(Section::Answer);
        for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
            ldns_rr* rr = ldns_rr_list_rr(list, i);
            if (ldns_rr_get_type(rr) != type) continue;
            std::string rd;
            for (size_t f = 0; f < ldns_rr_rd_count(rr); ++f) {
                char* s = ldns_rdf2str(ldns_rr_rdf(rr, f));
                rd += std::string(s) + " ";
                free(s);
            }
            out.push_back(rd);
        }
        return out;
    }

    std::vector<std::string> anchors_;
    std::unique_ptr<UnboundResolver> resolver_;
};

TEST_F(SignedFailover, SecureBeforeDuringAndAfterAFailover) {
    standardPool({"--hold-down", "1s"});
    signZone();
    ok({"secondary", "add", "svc.test", "127.0.0.1", "--no-notify"});  // lets the test transfer
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary));
    startDnsd();
    startResolver();
    expectAllSecure("before");
    EXPECT_EQ(wwwThroughResolver(), std::string(kPrimary) + " ");
    auto d = delv(dnsd_->port(), anchors_, "www.svc.test.", "A");
    EXPECT_TRUE(d.fullyValidated) << d.command << "\n" << d.output;

    primary_->stop();
    // While the probe decides, and after: whatever is served validates.
    bool switched = waitUntil(
        [&] {
            std::string seen = wwwThroughResolver();
            return seen == std::string(kSecondary) + " ";
        },
        10s);
    ASSERT_TRUE(switched) << eventDump();
    expectAllSecure("failed over");
    d = delv(dnsd_->port(), anchors_, "www.svc.test.", "A");
    EXPECT_TRUE(d.fullyValidated) << d.output;
    EXPECT_NE(d.output.find(kSecondary), std::string::npos) << d.output;

    // The zone a secondary would transfer, pool answer and signatures included.
    std::string axfr = dir_->file("axfr.zone");
    axfrToFile("svc.test.", dnsd_->port(), axfr);
    for (const auto& v : verifyZoneWithAll(axfr, "svc.test."))
        EXPECT_TRUE(v.ok) << v.command << "\n" << v.output;

    primary_->start();
    ASSERT_TRUE(waitUntil([&] { return wwwThroughResolver() == std::string(kPrimary) + " "; }, 15s))
        << eventDump();
    expectAllSecure("failed back");
}

TEST_F(SignedFailover, ZskRolloverStaysSecure) {
    standardPool();
    signZone();
    ok({"dnssec", "set", "svc.test", "--dnskey-ttl", "2s", "--propagation-delay", "1s"});
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary));
    dnsd_ = std::make_unique<DnsdServer>(
        db_, freePort(), std::vector<std::string>{"--dnssec-maintenance-interval", "1"},
        "svc.test.");
    startResolver();
    expectAllSecure("before the roll");
    const std::set<std::string> before = signingTags();
    ASSERT_EQ(before.size(), 1u);
    EXPECT_EQ(dnsdRdataDo("svc.test.", DNSKEY).size(), 2u);

    ok({"dnssec", "roll", "svc.test", "zsk"});
    // Pre-publish: the new ZSK appears in the DNSKEY RRset first, the old one still signs.
    ASSERT_TRUE(waitUntil([&] { return dnsdRdataDo("svc.test.", DNSKEY).size() == 3; }, 10s));
    EXPECT_EQ(signingTags(), before);
    expectAllSecure("new ZSK published");
    // After the DNSKEY TTL and the propagation delay, the new ZSK signs.
    ASSERT_TRUE(waitUntil(
        [&] {
            auto now = signingTags();
            return now.size() == 1 && now != before;
        },
        20s))
        << dnsctl({"dnssec", "status", "svc.test"}).out;
    EXPECT_EQ(dnsdRdataDo("svc.test.", DNSKEY).size(), 3u);  // the old one stays published
    expectAllSecure("new ZSK signing");
}

TEST_F(SignedFailover, DynamicUpdatesToASignedZoneAreServedSecure) {
    signZone();
    const std::string secret = "c2lnbmVkLXpvbmUtdXBkYXRlLXRlc3Qta2V5LTMyYnl0ZXMh";
    ok({"tsig", "add", "acme", "--secret", secret});
    ok({"update-policy", "add", "svc.test", "--key", "acme", "--name", "_acme-challenge.*",
        "--type", "TXT"});
    startDnsd();
    startResolver();
    std::string script = dir_->writeFile(
        "update.txt", "server 127.0.0.1 " + std::to_string(dnsd_->port()) +
                          "\nzone svc.test\nupdate add _acme-challenge.www.svc.test. 60 TXT "
                          "token-1\nsend\n");
    auto r = runCommand("nsupdate", {"-y", "hmac-sha256:acme:" + secret, script});
    ASSERT_TRUE(r.ok()) << r.out << r.err;
    // A new name: the NSEC chain moves and the new TXT is signed; everything stays secure.
    ASSERT_TRUE(waitUntil(
        [&] {
            resolver_->flush("_acme-challenge.www.svc.test.");
            auto a = resolver_->query("_acme-challenge.www.svc.test.", TXT);
            return a.rcode == 0 && a.ad && !a.answer.empty();
        },
        5s))
        << resolver_->logText();
    expectAllSecure("after the update", false);
    auto d = delv(dnsd_->port(), anchors_, "_acme-challenge.www.svc.test.", "TXT");
    EXPECT_TRUE(d.fullyValidated) << d.output;
}

TEST_F(SignedFailover, ExpiredAndFutureSignaturesAreBogus) {
    signZone();
    startDnsd();
    startResolver();
    expectAllSecure("fresh", false);
    // Signatures made a month ago for 14 days (as if signing had stopped), then signatures
    // from a clock two days ahead (Unbound forgives a skew of up to a tenth of the validity
    // period, at most a day): a validator refuses both.
    for (const char* shift : {"-30 * 86400", "+ 2 * 86400"}) {
        execSql(std::string("UPDATE dnssec_zones SET sig_epoch = strftime('%s','now') ") + shift +
                "; UPDATE zones SET generation = generation + 1");
        ASSERT_TRUE(waitUntil(
            [&] {
                resolver_->flush("static.svc.test.");
                return resolver_->query("static.svc.test.", A).rcode == 2;
            },
            5s))
            << shift << "\n"
            << resolver_->logText();
        auto d = delv(dnsd_->port(), anchors_, "static.svc.test.", "A");
        EXPECT_FALSE(d.fullyValidated) << d.output;
    }
}

}  // namespace
}  // namespace failover
