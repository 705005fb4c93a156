// zones::ZoneSigner: a signed zone that real validators accept (ldns-verify-zone, and BIND's
// dnssec-verify where installed), signatures reused for unchanged RRsets, pool answers signed.
#include "zones/zone_signer.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <fstream>

#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"
#include "zones/canonical.hpp"
#include "zones/zone_file.hpp"

namespace zones {
namespace {

const char* kZone = R"($ORIGIN example.com.
$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
@ NS ns2.other.net.
@ MX 10 Mail
ns1 A 192.0.2.1
www A 192.0.2.10
www A 192.0.2.11
www AAAA 2001:db8::10
alias CNAME www
*.wild TXT "wildcard"
deep.ent.a TXT "below an empty non-terminal"
insecure NS ns.insecure
ns.insecure A 192.0.2.53
secure NS ns.elsewhere.net.
secure DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
secure DS 4711 253 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
; DNSSEC records the stored zone brought along (an unknown algorithm, a stale signature):
; the signer replaces them with its own.
@ DNSKEY 257 3 253 AwEAAQ==
www RRSIG A 253 3 300 20300101000000 20200101000000 1 example.com. AAAA
mail A 192.0.2.25
)";

std::vector<Record> snapshotRecords(const ZoneSnapshot& z) {
    std::vector<Record> out;
    for (size_t i = 0; i < z.nodeCount(); ++i) {
        const Node& n = z.node(int32_t(i));
        if (n.removed) continue;
        auto owner = Name::fromWire({z.name(n), n.nameSize});
        for (const RRset& s : z.rrsets(n))
            for (const RData& rd : z.rdatas(s)) {
                Record r;
                r.owner = *owner;
                r.type = s.type;
                r.ttl = rd.ttl;
                auto b = z.bytes(rd);
                r.rdata.assign(b.begin(), b.end());
                out.push_back(std::move(r));
            }
    }
    return out;
}

struct Signed {
    std::shared_ptr<const ZoneSnapshot> zone;
    std::vector<Record> records;  // the zone as a secondary would get it, pool answer included
};

class ZoneSignerTest : public ::testing::TestWithParam<uint8_t> {
  protected:
    void SetUp() override {
        apex_ = *Name::fromText("example.com.");
        records_ = parseZoneText(kZone, "test.zone", apex_).records;
        ksk_ = SigningKey::generate(GetParam(), 257);
        zsk_ = SigningKey::generate(GetParam(), 256);
        policy_.epoch = int64_t(std::time(nullptr));
        policy_.dnskeyTtl = 600;
    }
    ZoneSigner signer() const {
        return ZoneSigner(apex_, policy_, {{ksk_, true, true, true}, {zsk_, true, true, false}});
    }
    Signed sign(const ZoneSigner& s, const std::vector<Record>& records,
                const ZoneSnapshot* previous = nullptr) const {
        Signed out;
        std::vector<PoolBinding> pools = {{*Name::fromText("pool.example.com."), rrtype::A, 1}};
        out.zone = s.build(RecordBatch(records), pools, 1, previous);
        out.records = snapshotRecords(*out.zone);
        // The pool's answer, signed the way dnsd signs a decision.
        std::vector<std::vector<uint8_t>> rds = {{192, 0, 2, 80}, {192, 0, 2, 81}};
        std::vector<std::span<const uint8_t>> spans(rds.begin(), rds.end());
        auto pool = *Name::fromText("pool.example.com.");
        for (auto& rd : rds) out.records.push_back({pool, rrtype::A, rrclass::IN, 30, rd});
        for (auto& sig : s.signRRset(pool.key(), rrtype::A, 30, spans))
            out.records.push_back({pool, rrtype::RRSIG, rrclass::IN, 30, sig});
        return out;
    }
    std::string write(const Signed& s) {
        std::string path = dir_.file("signed.zone");
        std::ofstream(path) << formatZoneFile(apex_, s.records);
        return path;
    }

    testsupport::TempDir dir_;
    Name apex_;
    std::vector<Record> records_;
    std::shared_ptr<const SigningKey> ksk_, zsk_;
    SigningPolicy policy_;
};

TEST_P(ZoneSignerTest, ValidatorsAcceptTheSignedZone) {
    Signed s = sign(signer(), records_);
    std::string path = write(s);
    auto r = testsupport::runCommand("ldns-verify-zone", {"-V", "2", path});
    EXPECT_TRUE(r.ok()) << r.out << r.err;
    if (std::string dv = testsupport::findProgram("dnssec-verify"); !dv.empty()) {
        auto v = testsupport::runCommand(dv, {"-o", "example.com.", path});
        EXPECT_TRUE(v.ok()) << v.out << v.err;
    }
    if (std::string kz = testsupport::findProgram("kzonecheck"); !kz.empty()) {
        auto v = testsupport::runCommand(kz, {"-o", "example.com.", "-d", "on", path});
        EXPECT_TRUE(v.ok()) << v.out << v.err;
    }
}

TEST_P(ZoneSignerTest, DelegationsGlueAndEmptyNonTerminalsAreNotSigned) {
    Signed s = sign(signer(), records_);
    const ZoneSnapshot& z = *s.zone;
    auto node = [&](const char* n) { return z.find(Name::fromText(n)->key()); };
    // Glue and the empty non-terminal have neither NSEC nor RRSIG.
    for (const char* n : {"ns.insecure.example.com.", "ent.a.example.com.", "a.example.com."}) {
        ASSERT_GE(node(n), 0) << n;
        EXPECT_EQ(z.rrset(z.node(node(n)), rrtype::NSEC), nullptr) << n;
        EXPECT_EQ(z.rrset(z.node(node(n)), rrtype::RRSIG), nullptr) << n;
    }
    // A delegation signs its DS and NSEC only, never its NS.
    const Node& secure = z.node(node("secure.example.com."));
    for (const RData& rd : z.rdatas(*z.rrset(secure, rrtype::RRSIG))) {
        uint16_t covered = uint16_t(z.bytes(rd)[0] << 8 | z.bytes(rd)[1]);
        EXPECT_TRUE(covered == rrtype::DS || covered == rrtype::NSEC) << covered;
    }
    // The pool owner's NSEC lists A although the zone holds no A there.
    const Node& pool = z.node(node("pool.example.com."));
    auto nsec = z.bytes(z.rdatas(*z.rrset(pool, rrtype::NSEC))[0]);
    auto bitmap = nsec.subspan(wireNameLength(nsec));
    EXPECT_TRUE(bitmapHas(bitmap, rrtype::A));
    EXPECT_FALSE(bitmapHas(bitmap, rrtype::AAAA));
    // Covering NSEC for names that do not exist: the canonical predecessor.
    int32_t cover = z.nsecCovering(Name::fromText("b.example.com.")->key());
    EXPECT_EQ(z.key(z.node(cover)), Name::fromText("alias.example.com.")->key());
    cover = z.nsecCovering(Name::fromText("zzz.example.com.")->key());
    EXPECT_EQ(z.key(z.node(cover)), Name::fromText("www.example.com.")->key());
}

TEST_P(ZoneSignerTest, UnchangedRRsetsKeepTheirSignatures) {
    ZoneSigner s = signer();
    Signed first = sign(s, records_);
    auto changed = records_;
    changed.push_back(
        parseZoneText("$ORIGIN example.com.\nnew 300 A 192.0.2.99\n", "x", apex_).records[0]);
    Signed second = sign(s, changed, first.zone.get());
    auto sigsAt = [](const ZoneSnapshot& z, const char* name) {
        std::vector<std::vector<uint8_t>> out;
        int32_t n = z.find(Name::fromText(name)->key());
        for (const RData& rd : z.rdatas(*z.rrset(z.node(n), rrtype::RRSIG))) {
            auto b = z.bytes(rd);
            out.emplace_back(b.begin(), b.end());
        }
        return out;
    };
    EXPECT_EQ(sigsAt(*first.zone, "www.example.com."), sigsAt(*second.zone, "www.example.com."));
    EXPECT_EQ(sigsAt(*first.zone, "example.com."), sigsAt(*second.zone, "example.com."));
    // mail's NSEC now points at the new name: its NSEC signature is new.
    EXPECT_NE(sigsAt(*first.zone, "mail.example.com."), sigsAt(*second.zone, "mail.example.com."));
    auto r = testsupport::runCommand("ldns-verify-zone", {write(second)});
    EXPECT_TRUE(r.ok()) << r.out << r.err;
    // A new epoch re-signs everything.
    policy_.epoch += 86400;
    Signed third = sign(signer(), changed, second.zone.get());
    EXPECT_NE(sigsAt(*second.zone, "www.example.com."), sigsAt(*third.zone, "www.example.com."));
}

TEST_P(ZoneSignerTest, PatchResignsOnlyWhatChanged) {
    ZoneSigner s = signer();
    Signed first = sign(s, records_);
    auto at = [&](const std::vector<Record>& all, const char* owner) {
        RecordBatch b;
        for (const Record& r : all)
            if (r.owner == *Name::fromText(owner))
                b.add(r.owner.key(), r.type, r.rclass, r.ttl, r.rdata);
        return b;
    };
    auto owners = [](const char* o) {
        return std::vector<std::string>{std::string(Name::fromText(o)->key())};
    };
    // A new SOA serial (what every pool decision writes) and a changed address.
    auto changed = records_;
    for (Record& r : changed) {
        if (r.type == rrtype::SOA) r.rdata[r.rdata.size() - 17] += 1;
        if (r.type == rrtype::A && r.owner == *Name::fromText("mail.example.com.")) r.rdata[3] = 26;
    }
    auto soaPatched = s.patch(*first.zone, owners("example.com."), at(changed, "example.com."), 2);
    ASSERT_NE(soaPatched, nullptr);
    auto patched =
        s.patch(*soaPatched, owners("mail.example.com."), at(changed, "mail.example.com."), 3);
    ASSERT_NE(patched, nullptr);
    EXPECT_TRUE(patched->isSigned());
    EXPECT_EQ(patched->recordCount(), first.zone->recordCount());
    EXPECT_EQ(patched->serial(), first.zone->serial() + 1);
    Signed out{patched, snapshotRecords(*patched)};
    auto r = testsupport::runCommand("ldns-verify-zone", {write(out)});
    EXPECT_TRUE(r.ok()) << r.out << r.err;
    // A name that comes, a type that goes, an empty non-terminal gaining data: the NSEC chain
    // moves, so the signer says build.
    auto added = records_;
    added.push_back(
        parseZoneText("$ORIGIN example.com.\nnew 300 A 192.0.2.99\n", "x", apex_).records[0]);
    EXPECT_EQ(s.patch(*first.zone, owners("new.example.com."), at(added, "new.example.com."), 2),
              nullptr);
    auto noAaaa = records_;
    std::erase_if(noAaaa, [](const Record& r) { return r.type == rrtype::AAAA; });
    EXPECT_EQ(s.patch(*first.zone, owners("www.example.com."), at(noAaaa, "www.example.com."), 2),
              nullptr);
    auto ent = records_;
    ent.push_back(
        parseZoneText("$ORIGIN example.com.\nent.a 300 A 192.0.2.98\n", "x", apex_).records[0]);
    EXPECT_EQ(s.patch(*first.zone, owners("ent.a.example.com."), at(ent, "ent.a.example.com."), 2),
              nullptr);
}

TEST_P(ZoneSignerTest, ExpiredSignaturesAreCaughtByTheValidator) {
    policy_.epoch = int64_t(std::time(nullptr)) - 30 * 86400;  // expired two weeks ago
    auto r = testsupport::runCommand("ldns-verify-zone", {write(sign(signer(), records_))});
    EXPECT_FALSE(r.ok()) << r.out;
    policy_.epoch = int64_t(std::time(nullptr)) + 7200;  // a clock two hours ahead
    r = testsupport::runCommand("ldns-verify-zone", {write(sign(signer(), records_))});
    EXPECT_FALSE(r.ok()) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Algorithms, ZoneSignerTest, ::testing::Values(13, 15),
                         [](const auto& info) {
                             return info.param == 13 ? std::string("EcdsaP256")
                                                     : std::string("Ed25519");
                         });

TEST(CanonicalTest, TypeBitmapsRoundTrip) {
    std::vector<uint16_t> types = {rrtype::A,     rrtype::NS,   rrtype::SOA,
                                   rrtype::RRSIG, rrtype::NSEC, rrtype::DNSKEY,
                                   256,           1234,         65535};
    std::vector<uint8_t> bitmap;
    typeBitmap({types.rbegin(), types.rend()}, bitmap);  // any order in
    EXPECT_EQ(bitmapTypes(bitmap), types);               // ascending out
    for (uint16_t t : types) EXPECT_TRUE(bitmapHas(bitmap, t)) << t;
    EXPECT_FALSE(bitmapHas(bitmap, rrtype::AAAA));
    EXPECT_FALSE(bitmapHas(bitmap, 257));
}

TEST(CanonicalTest, NameOrderIsRfc4034) {
    // RFC 4034 §6.1's example, in order.
    const char* names[] = {"example.",         "a.example.",      "yljkjljk.a.example.",
                           "Z.a.example.",     "zABC.a.EXAMPLE.", "z.example.",
                           "\\001.z.example.", "*.z.example.",    "\\200.z.example."};
    for (size_t i = 0; i + 1 < std::size(names); ++i) {
        auto a = Name::fromText(names[i]), b = Name::fromText(names[i + 1]);
        ASSERT_TRUE(a && b) << names[i];
        EXPECT_LT(canonicalCompare(a->key(), b->key()), 0) << names[i] << " < " << names[i + 1];
        EXPECT_LT(canonicalSortKey(a->key()), canonicalSortKey(b->key())) << names[i];
    }
}

}  // namespace
}  // namespace zones
