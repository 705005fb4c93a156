// zones::DnssecMaintenance as a pure state machine: whole ZSK and KSK rollovers and going
// insecure walked with an injected clock, each step at the time the formulas in the header
// (and docs/dnssec.md) state, and the invariants a validator needs checked at every tick.
#include "zones/dnssec_maintenance.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace zones;

constexpr int64_t kT0 = 1'800'000'000'000;  // ms
int64_t at(int64_t seconds) {
    return kT0 + seconds * 1000;
}

// dnskey_ttl 100 s, propagation 50 s, ZSK lifetime 1000 s, signatures valid 600 s and renewed
// with 200 s left, DS TTL 300 s, longest zone TTL 80 s.
DnssecZoneState startState() {
    DnssecZoneState s;
    s.zone.zoneId = 1;
    s.zone.zone = "example.com.";
    s.zone.dnskeyTtl = 100;
    s.zone.propagationDelay = 50;
    s.zone.zskLifetime = 1000;
    s.zone.sigValidity = 600;
    s.zone.sigRefresh = 200;
    s.zone.dsTtl = 300;
    s.zone.sigEpoch = kT0 / 1000;
    s.maxTtl = 80;
    DnssecKeyRow ksk;
    ksk.id = 1;
    ksk.ksk = true;
    ksk.tag = 100;
    ksk.state = "active";
    ksk.publish = ksk.sign = ksk.cds = true;
    ksk.createdAt = kT0;
    ksk.publishedAt = ksk.activeAt = kT0;
    ksk.dsSeenAt = kT0;
    DnssecKeyRow zsk = ksk;
    zsk.id = 2;
    zsk.ksk = false;
    zsk.tag = 200;
    zsk.cds = false;
    zsk.dsSeenAt.reset();
    s.keys = {ksk, zsk};
    return s;
}

struct Walker {
    DnssecZoneState s = startState();
    std::vector<std::pair<int64_t, std::string>> log;  // (seconds after T0, event kind)
    uint16_t nextTag = 300;
    int64_t nextId = 3;

    NewDnssecKey newKey() {
        NewDnssecKey k;
        k.tag = nextTag++;
        k.publicKey.assign(64, uint8_t(k.tag));
        k.privateFile = "k" + std::to_string(k.tag) + ".pem";
        return k;
    }
    // What run() does for one zone, without the database: every due step, in order.
    void tick(int64_t now) {
        for (int i = 0; i < 16; ++i) {
            auto step = DnssecMaintenance::nextStep(s);
            if (!step || step->at > now) break;
            NewDnssecKey key;
            if (step->kind == DnssecStepKind::PublishZsk) {
                key = newKey();
                step->tag = key.tag;
            }
            DnssecMaintenance::apply(s, *step, now, &key);
            for (auto& k : s.keys)
                if (k.id == 0) k.id = nextId++;  // what save() does
            log.push_back({(now - kT0) / 1000, step->eventKind()});
        }
        checkInvariants(now);
    }
    void checkInvariants(int64_t now) {
        if (s.removed) return;
        int zskSigning = 0, kskSigning = 0, cds = 0;
        for (const auto& k : s.keys) {
            if (k.sign) {
                EXPECT_TRUE(k.publish) << "a signing key must be in DNSKEY, at " << now;
            }
            zskSigning += !k.ksk && k.sign;
            kskSigning += k.ksk && k.sign;
            cds += k.cds;
        }
        EXPECT_EQ(zskSigning, 1) << "exactly one ZSK signs, at " << (now - kT0) / 1000;
        EXPECT_GE(kskSigning, 1) << "a KSK signs DNSKEY, at " << (now - kT0) / 1000;
        EXPECT_EQ(cds, 1) << "one key in CDS, at " << (now - kT0) / 1000;
        // Signatures never expire while served: renewed before expiration.
        EXPECT_LT(now, (s.zone.sigEpoch + int64_t(s.zone.sigValidity)) * 1000);
    }
    const DnssecKeyRow* key(uint16_t tag) const {
        for (const auto& k : s.keys)
            if (k.tag == tag) return &k;
        return nullptr;
    }
};

TEST(DnssecRollover, ZskPrePublishRollAtTheStatedTimes) {
    Walker w;
    for (int64_t t = 0; t <= 1900; t += 10) {
        w.tick(at(t));
        if (t == 840) {
            EXPECT_EQ(w.s.keys.size(), 2u) << "nothing published before 850";
        }
        if (t == 850) {  // lifetime 1000 - (dnskey_ttl 100 + propagation 50)
            const DnssecKeyRow* n = w.key(300);
            ASSERT_TRUE(n);
            EXPECT_EQ(n->state, "published");
            EXPECT_TRUE(n->publish);
            EXPECT_FALSE(n->sign);
            EXPECT_TRUE(w.key(200)->sign);
        }
        if (t == 990) {
            EXPECT_FALSE(w.key(300)->sign) << "not before 850 + 150";
        }
        if (t == 1000) {
            EXPECT_TRUE(w.key(300)->sign);
            EXPECT_EQ(w.key(300)->state, "active");
            const DnssecKeyRow* old = w.key(200);
            ASSERT_TRUE(old);
            EXPECT_EQ(old->state, "retired");
            EXPECT_FALSE(old->sign);
            EXPECT_TRUE(old->publish) << "its signatures may still be cached";
            EXPECT_EQ(*old->removeAt, at(1000 + 80 + 50));  // max TTL + propagation
        }
        if (t == 1120) {
            EXPECT_TRUE(w.key(200));
        }
        if (t == 1130) {
            EXPECT_FALSE(w.key(200));
        }
    }
    std::vector<std::pair<int64_t, std::string>> expected = {
        {400, "dnssec-refresh"},       {800, "dnssec-refresh"},     {850, "dnssec-zsk-publish"},
        {1000, "dnssec-zsk-activate"}, {1130, "dnssec-key-remove"}, {1200, "dnssec-refresh"},
        {1600, "dnssec-refresh"},      {1850, "dnssec-zsk-publish"}};
    EXPECT_EQ(w.log, expected);
    EXPECT_EQ(w.s.zone.sigEpoch, at(1600) / 1000);
}

TEST(DnssecRollover, ZskRollOnCommandThenTheSameTimings) {
    Walker w;
    w.tick(at(10));
    DnssecMaintenance::startZskRoll(w.s, at(20), w.newKey());
    w.s.keys.back().id = w.nextId++;
    EXPECT_THROW(DnssecMaintenance::startZskRoll(w.s, at(30), w.newKey()), std::runtime_error)
        << "one ZSK roll at a time";
    auto next = DnssecMaintenance::nextStep(w.s);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->kind, DnssecStepKind::ActivateZsk);
    EXPECT_EQ(next->at, at(20 + 150));
    for (int64_t t = 20; t <= 400; t += 10) w.tick(at(t));
    EXPECT_EQ(w.log.front(), (std::pair<int64_t, std::string>{170, "dnssec-zsk-activate"}));
    EXPECT_FALSE(w.key(200)) << "removed at 170 + 130";
}

TEST(DnssecRollover, KskDoubleSignatureRollWaitsForTheParent) {
    Walker w;
    DnssecMaintenance::startKskRoll(w.s, at(100), w.newKey());
    w.s.keys.back().id = w.nextId++;
    const uint16_t fresh = w.s.keys.back().tag;
    EXPECT_EQ(w.key(100)->state, "leaving");
    EXPECT_TRUE(w.key(100)->sign) << "validators still hold the old DS";
    EXPECT_FALSE(w.key(100)->cds);
    EXPECT_TRUE(w.key(fresh)->cds && w.key(fresh)->sign && w.key(fresh)->publish);
    EXPECT_THROW(DnssecMaintenance::startKskRoll(w.s, at(110), w.newKey()), std::runtime_error);
    auto waits = DnssecMaintenance::waitingFor(w.s);
    ASSERT_EQ(waits.size(), 1u);
    EXPECT_NE(waits[0].find("ds-seen"), std::string::npos) << waits[0];
    // Nothing automatic retires the old KSK, however long we wait.
    for (int64_t t = 100; t <= 5000; t += 50) w.tick(at(t));
    ASSERT_TRUE(w.key(100));
    EXPECT_EQ(w.key(100)->state, "leaving");
    // The DS may go up once the new DNSKEY is in every cache: published + 100 + 50.
    EXPECT_EQ(DnssecMaintenance::kskReadyAt(w.s, *w.key(fresh)), at(250));
    EXPECT_EQ(DnssecMaintenance::dsSeen(w.s, at(5000)), at(250));
    EXPECT_EQ(w.key(100)->state, "retired");
    EXPECT_TRUE(w.key(100)->sign) << "until the old DS leaves caches";
    EXPECT_EQ(*w.key(100)->removeAt, at(5000 + 300 + 50));  // DS TTL + propagation
    EXPECT_EQ(*w.key(fresh)->dsSeenAt, at(5000));
    EXPECT_THROW(DnssecMaintenance::dsSeen(w.s, at(5010)), std::runtime_error)
        << "nothing waits any more";
    EXPECT_TRUE(DnssecMaintenance::waitingFor(w.s).empty());
    w.tick(at(5340));
    EXPECT_TRUE(w.key(100));
    w.tick(at(5350));
    EXPECT_FALSE(w.key(100));
    EXPECT_EQ(w.log.back(), (std::pair<int64_t, std::string>{5350, "dnssec-key-remove"}));
}

TEST(DnssecRollover, InsecureOnlyAfterTheDsLeftCaches) {
    Walker w;
    w.s.zone.unsigning = true;
    w.s.zone.unsigningAt = at(10);
    EXPECT_THROW(DnssecMaintenance::startZskRoll(w.s, at(20), w.newKey()), std::runtime_error);
    EXPECT_THROW(DnssecMaintenance::startKskRoll(w.s, at(20), w.newKey()), std::runtime_error);
    for (int64_t t = 0; t <= 3000; t += 10) w.tick(at(t));
    EXPECT_FALSE(w.s.removed) << "waits for the operator's --ds-removed";
    for (const auto& [t, kind] : w.log) EXPECT_EQ(kind, "dnssec-refresh") << "no ZSK roll";
    w.s.zone.dsRemovedAt = at(3000);
    w.tick(at(3340));
    EXPECT_FALSE(w.s.removed);
    w.tick(at(3350));  // DS TTL 300 + propagation 50
    EXPECT_TRUE(w.s.removed);
}

TEST(DnssecRollover, LongDowntimeCatchesUpInOrder) {
    // dnsd stopped for a long time: one run applies what is due, in order, and stops at the
    // first step that is not due yet.
    Walker w;
    w.tick(at(1000));
    std::vector<std::pair<int64_t, std::string>> expected = {{1000, "dnssec-refresh"},
                                                             {1000, "dnssec-zsk-publish"}};
    EXPECT_EQ(w.log, expected);
    EXPECT_EQ(w.key(300)->state, "published") << "activation waits 150 s from now";
}

TEST(DnssecRollover, DurationsAndTimesReadable) {
    EXPECT_EQ(dnssecDurationText(90 * 86400), "90d");
    EXPECT_EQ(dnssecDurationText(86400 + 3600 * 12 + 5), "1d12h5s");
    EXPECT_EQ(dnssecDurationText(0), "0s");
    EXPECT_EQ(dnssecTimeText(0), "1970-01-01 00:00:00 UTC");
}

}  // namespace
