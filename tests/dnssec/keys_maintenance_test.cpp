// zones::DnssecMaintenance::run against a real database (keys made by the real dnsctl): each
// step happens once at its time, advances the serial, writes an event, makes or deletes the
// key file, and a second run at the same time changes nothing. Then the real dnsd running it
// from its control thread (--dnssec-maintenance-interval 1).
#include "zones/dnssec_maintenance.hpp"

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"
#include "tests/tools/db_dump.hpp"
#include "zones/schema.hpp"

namespace {

namespace fs = std::filesystem;
using namespace zones;

const std::string kExample = std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone";
const std::string kZone = "svc.example.com.";

class DnssecMaintenanceDb : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = dir_.file("dnsd.db");
        testsupport::createDatabase(db_, {kExample});
        enable();
    }
    void enable() {
        auto r = testsupport::runDnsctl(db_, {"dnssec", "enable", kZone});
        ASSERT_TRUE(r.ok()) << r.err;
        // dnskey 100 s + propagation 50 s; ZSK lifetime 5000 s (longer than the example's longest
        // TTL, 3600 s, so one roll ends before the next starts); signatures 600 s, renewed with
        // 200 s left.
        r = testsupport::runDnsctl(
            db_, {"dnssec", "set", kZone, "--zsk-lifetime", "5000s", "--dnskey-ttl", "100s",
                  "--propagation-delay", "50s", "--sig-validity", "600s", "--sig-refresh", "200s"});
        ASSERT_TRUE(r.ok()) << r.err;
        conn_ = openDatabase(db_, OpenMode::ReadWrite);
        auto s = DnssecMaintenance::read(*conn_, zoneId());
        ASSERT_TRUE(s);
        t0_ = *s->keys[1].activeAt;
        epoch_ = s->zone.sigEpoch * 1000;
    }
    int64_t zoneId() { return conn_->execAndGet("SELECT id FROM zones").getInt64(); }
    int64_t count(const std::string& sql) { return conn_->execAndGet(sql).getInt64(); }
    uint32_t serial() {
        SQLite::Statement q(*conn_, "SELECT rdata FROM records WHERE type = 6");
        q.executeStep();
        auto* p = static_cast<const uint8_t*>(q.getColumn(0).getBlob());
        size_t at = size_t(q.getColumn(0).getBytes()) - 20;
        return uint32_t(p[at]) << 24 | uint32_t(p[at + 1]) << 16 | uint32_t(p[at + 2]) << 8 |
               p[at + 3];
    }
    size_t keyFiles() {
        size_t n = 0;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator(keyDirectory(db_))) ++n;
        return n;
    }
    std::vector<DnssecStepKind> runAt(int64_t now) {
        std::vector<DnssecStepKind> kinds;
        for (const auto& d : DnssecMaintenance::run(*conn_, db_, now).steps) {
            EXPECT_EQ(d.zone, kZone);
            kinds.push_back(d.step.kind);
        }
        return kinds;
    }
    // Runs at `now`, expecting `kinds`; then again at the same time, expecting nothing at all.
    void stepAt(int64_t now, std::vector<DnssecStepKind> kinds) {
        uint32_t before = serial();
        int64_t events = count("SELECT count(*) FROM events WHERE kind LIKE 'dnssec-%'");
        EXPECT_EQ(runAt(now), kinds);
        if (!kinds.empty()) {
            EXPECT_EQ(serial(), before + 1) << "one serial step per run that changed the zone";
            EXPECT_EQ(count("SELECT count(*) FROM events WHERE kind LIKE 'dnssec-%'"),
                      events + int64_t(kinds.size()));
        }
        std::string dump = testsupport::dumpDatabase(db_);
        EXPECT_TRUE(runAt(now).empty()) << "idempotent";
        EXPECT_EQ(testsupport::dumpDatabase(db_), dump);
    }

    testsupport::TempDir dir_;
    std::string db_;
    std::unique_ptr<SQLite::Database> conn_;
    int64_t t0_ = 0, epoch_ = 0;
};

TEST_F(DnssecMaintenanceDb, FullZskRollEachStepOnce) {
    using K = DnssecStepKind;
    const int64_t s = 1000;
    stepAt(t0_ + 100 * s, {});
    EXPECT_EQ(keyFiles(), 2u);
    stepAt(epoch_ + 400 * s, {K::RefreshSignatures});
    EXPECT_EQ(DnssecMaintenance::read(*conn_, zoneId())->zone.sigEpoch, epoch_ / 1000 + 400);
    // The publish at t0 + 4850 (lifetime - 150 s), after the refreshes due by then.
    auto kinds = runAt(t0_ + 4850 * s);
    ASSERT_FALSE(kinds.empty());
    EXPECT_EQ(kinds.back(), K::PublishZsk);
    EXPECT_EQ(std::count(kinds.begin(), kinds.end(), K::PublishZsk), 1);
    stepAt(t0_ + 4850 * s, {});
    auto state = *DnssecMaintenance::read(*conn_, zoneId());
    ASSERT_EQ(state.keys.size(), 3u);
    const DnssecKeyRow fresh = state.keys[2];
    EXPECT_EQ(fresh.state, "published");
    EXPECT_EQ(keyFiles(), 3u) << "the new ZSK's private file";
    struct stat st;
    ASSERT_EQ(::stat((keyDirectory(db_) + "/" + fresh.privateFile).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // Active 150 s after it was published; the old ZSK retires then.
    stepAt(*fresh.publishedAt + 150 * s - 1, {});
    stepAt(*fresh.publishedAt + 150 * s, {K::ActivateZsk});
    state = *DnssecMaintenance::read(*conn_, zoneId());
    const DnssecKeyRow old = state.keys[1];
    EXPECT_EQ(old.state, "retired");
    EXPECT_FALSE(old.sign);
    EXPECT_EQ(state.keys[2].state, "active");
    EXPECT_TRUE(state.keys[2].sign);
    // Removed after the longest zone TTL (3600 s in the example) + propagation (50 s). Signature
    // refreshes fall in between; the removal is the last step of this run.
    EXPECT_EQ(state.maxTtl, 3600u);
    EXPECT_EQ(*old.removeAt, *old.retiredAt + (3600 + 50) * s);
    kinds = runAt(*old.removeAt);
    ASSERT_FALSE(kinds.empty());
    EXPECT_EQ(kinds.back(), K::RemoveKey);
    EXPECT_EQ(std::count(kinds.begin(), kinds.end(), K::RemoveKey), 1);
    EXPECT_FALSE(fs::exists(keyDirectory(db_) + "/" + old.privateFile)) << "file deleted";
    EXPECT_EQ(keyFiles(), 2u);
    stepAt(*old.removeAt, {});
    EXPECT_EQ(count("SELECT count(*) FROM events WHERE kind = 'dnssec-key-remove'"), 1);
    // The signer's view: the new ZSK signs, the old one is gone.
    auto loaded = loadZoneDnssec(*conn_, db_);
    ASSERT_EQ(loaded.begin()->second.keys.size(), 2u);
    EXPECT_EQ(loaded.begin()->second.keys[1].tag, state.keys[2].tag);
}

TEST_F(DnssecMaintenanceDb, KskRollEndsWithTheOldKskRemovedOnce) {
    auto r = testsupport::runDnsctl(db_, {"dnssec", "set", kZone, "--ds-ttl", "300s"});
    ASSERT_TRUE(r.ok()) << r.err;
    r = testsupport::runDnsctl(db_, {"dnssec", "roll", kZone, "ksk"});
    ASSERT_TRUE(r.ok()) << r.err;
    EXPECT_EQ(keyFiles(), 3u);
    auto state = *DnssecMaintenance::read(*conn_, zoneId());
    const DnssecKeyRow old = state.keys[0];
    EXPECT_EQ(old.state, "leaving");
    // Nothing retires it before the operator confirms the parent's DS.
    auto kinds = runAt(t0_ + 4000 * 1000);
    EXPECT_EQ(std::count(kinds.begin(), kinds.end(), DnssecStepKind::RemoveKey), 0);
    EXPECT_EQ(DnssecMaintenance::read(*conn_, zoneId())->keys[0].state, "leaving");
    r = testsupport::runDnsctl(db_, {"dnssec", "ds-seen", kZone});
    ASSERT_TRUE(r.ok()) << r.err;
    state = *DnssecMaintenance::read(*conn_, zoneId());
    ASSERT_EQ(state.keys[0].state, "retired");
    const int64_t removeAt = *state.keys[0].removeAt;
    EXPECT_EQ(removeAt, *state.keys[0].retiredAt + (300 + 50) * 1000);  // DS TTL + propagation
    EXPECT_TRUE(runAt(removeAt - 1).empty());
    stepAt(removeAt, {DnssecStepKind::RemoveKey});
    EXPECT_FALSE(fs::exists(keyDirectory(db_) + "/" + old.privateFile));
    EXPECT_EQ(keyFiles(), 2u);
    auto loaded = loadZoneDnssec(*conn_, db_).begin()->second;
    ASSERT_EQ(loaded.keys.size(), 2u);
    EXPECT_TRUE(loaded.keys[0].ksk && loaded.keys[0].cds && loaded.keys[0].sign);
    EXPECT_NE(loaded.keys[0].tag, old.tag);
}

TEST_F(DnssecMaintenanceDb, AFailedRunChangesNothingAndLeavesNoFile) {
    // The key directory replaced by a file: the ZSK publish cannot write its key.
    std::string dir = keyDirectory(db_);
    fs::rename(dir, dir + ".aside");
    { std::ofstream(dir) << "not a directory"; }
    std::string dump = testsupport::dumpDatabase(db_);
    EXPECT_THROW(DnssecMaintenance::run(*conn_, db_, t0_ + 4850 * 1000), std::runtime_error);
    EXPECT_EQ(testsupport::dumpDatabase(db_), dump);
    fs::remove(dir);
    fs::rename(dir + ".aside", dir);
    EXPECT_EQ(keyFiles(), 2u);
    EXPECT_FALSE(runAt(t0_ + 4850 * 1000).empty()) << "works once the directory is back";
}

TEST(DnssecMaintenanceDnsd, ControlThreadRollsTheZsk) {
    testsupport::TempDir dir;
    std::string db = dir.file("dnsd.db");
    testsupport::createDatabase(db, {kExample});
    auto r = testsupport::runDnsctl(db, {"dnssec", "enable", kZone});
    ASSERT_TRUE(r.ok()) << r.err;
    // A ZSK lifetime just over dnskey-ttl + propagation-delay: the next ZSK is due in 1 s.
    r = testsupport::runDnsctl(db, {"dnssec", "set", kZone, "--zsk-lifetime", "12s", "--dnskey-ttl",
                                    "10s", "--propagation-delay", "1s"});
    ASSERT_TRUE(r.ok()) << r.err;
    testsupport::DnsdServer dnsd(db, testsupport::freePort(),
                                 {"--dnssec-maintenance-interval", "1"}, kZone);
    auto keys = [&] {
        SQLite::Database c(db, SQLite::OPEN_READONLY);
        return c.execAndGet("SELECT count(*) FROM dnssec_keys").getInt64();
    };
    EXPECT_TRUE(testsupport::waitUntil([&] { return keys() == 3; }, std::chrono::seconds(30)))
        << dnsd.process().stderrText();
    EXPECT_TRUE(testsupport::waitUntil(
        [&] {
            return dnsd.process().stderrText().find("dnssec svc.example.com.: publish a new ZSK") !=
                   std::string::npos;
        },
        std::chrono::seconds(10)))
        << dnsd.process().stderrText();
    auto c = openDatabase(db, OpenMode::ReadOnly);
    auto loaded = loadZoneDnssec(*c, db);
    ASSERT_EQ(loaded.size(), 1u);
    const auto& fresh = loaded.begin()->second.keys.back();
    EXPECT_FALSE(fresh.sign);
    EXPECT_TRUE(fresh.publish);
    EXPECT_TRUE(fs::exists(fresh.privatePath)) << "written by dnsd";
    EXPECT_EQ(
        c->execAndGet("SELECT count(*) FROM events WHERE kind = 'dnssec-zsk-publish'").getInt64(),
        1);
}

}  // namespace
