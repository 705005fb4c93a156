// StateLoader against a real SQLite file: what dnsd serves follows the database, zones are
// rebuilt only when they change, and a bad database keeps the previous state.
#include "dnsd/state_loader.hpp"
#include "zones/served_pool.hpp"

#include <gtest/gtest.h>

#include <SQLiteCpp/Statement.h>

#include "tests/support/temp_dir.hpp"
#include "zones/schema.hpp"
#include "zones/zone_file.hpp"

using namespace dnsd;

namespace {

const char* kZone = R"(
$ORIGIN svc.example.com.
$TTL 300
@   IN SOA ns1 hostmaster 1 7200 3600 1209600 60
@   IN NS  ns1
ns1 IN A   192.0.2.53
www IN TXT "static"
)";

class StateLoaderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        path_ = dir_.path().string() + "/dnsd.db";
        db_ = zones::openDatabase(path_, zones::OpenMode::CreateReadWrite);
        db_->exec(
            "INSERT INTO zones(id, name, generation, created_at, updated_at) VALUES (1, "
            "'svc.example.com.', 1, 0, 0)");
        auto zf = zones::parseZoneText(kZone, "t.zone");
        for (const auto& r : zf.records) {
            SQLite::Statement ins(*db_,
                                  "INSERT INTO records(zone_id, owner, type, class, ttl, rdata) "
                                  "VALUES (1, ?, ?, 1, ?, ?)");
            ins.bind(1, r.owner.toText());
            ins.bind(2, int(r.type));
            ins.bind(3, int64_t(r.ttl));
            ins.bind(4, r.rdata.data(), int(r.rdata.size()));
            ins.exec();
        }
        db_->exec(
            "INSERT INTO pools(id, name, zone_id, owner, rtype, ttl, all_down, fallback, "
            "created_at, updated_at) "
            "VALUES (1, 'web', 1, 'www.svc.example.com.', 1, 30, 'serve-all', NULL, 0, 0)");
        db_->exec(
            "INSERT INTO members(pool_id, value, priority, created_at) VALUES (1, '192.0.2.10', 1, "
            "0), (1, '192.0.2.20', 2, 0)");
    }

    static size_t served(const ServedState& s, int64_t pool) {
        const PoolAnswer* a = s.pools->find(pool);
        return a ? a->rdatas.size() : 999;
    }

    testsupport::TempDir dir_;
    std::string path_;
    std::unique_ptr<SQLite::Database> db_;
};

TEST_F(StateLoaderTest, UndecidedPoolFollowsItsAllDownRule) {
    StateLoader loader(path_);
    auto s = loader.load(nullptr);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->zones->zones().size(), 1u);
    EXPECT_EQ(served(*s, 1), 2u);  // serve-all: every member, never an accidental empty answer
    EXPECT_EQ(s->pools->find(1)->ttl, 5u);  // all down: the degraded TTL, as dnsd-probe serves it

    db_->exec("UPDATE pools SET all_down = 'fallback', fallback = '198.51.100.1'");
    auto f = loader.load(s.get());
    ASSERT_TRUE(f);
    ASSERT_EQ(served(*f, 1), 1u);
    EXPECT_EQ(f->pools->find(1)->rdatas[0].bytes, (std::vector<uint8_t>{198, 51, 100, 1}));

    db_->exec("UPDATE pools SET all_down = 'nodata'");
    auto n = loader.load(f.get());
    ASSERT_TRUE(n);
    EXPECT_EQ(served(*n, 1), 0u);
}

TEST_F(StateLoaderTest, DecisionChangeSwapsOnlyThePoolTable) {
    StateLoader loader(path_);
    auto s = loader.load(nullptr);
    EXPECT_EQ(loader.load(s.get()), nullptr);  // nothing changed

    db_->exec(
        "INSERT INTO pool_decisions(pool_id, served, ttl, decided_at, reason) VALUES (1, "
        "'192.0.2.20', 5, 0, 'primary down')");
    auto d = loader.load(s.get());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->zones, s->zones);  // same zone snapshot object: nothing rebuilt
    ASSERT_EQ(served(*d, 1), 1u);
    EXPECT_EQ(d->pools->find(1)->ttl, 5u);
    EXPECT_EQ(d->pools->find(1)->rdatas[0].bytes, (std::vector<uint8_t>{192, 0, 2, 20}));

    db_->exec("UPDATE pool_decisions SET served = ''");  // decided: answer NODATA
    auto e = loader.load(d.get());
    ASSERT_TRUE(e);
    EXPECT_EQ(served(*e, 1), 0u);
}

TEST_F(StateLoaderTest, ZoneIsRebuiltOnlyWhenItsGenerationMoves) {
    StateLoader loader(path_);
    auto s = loader.load(nullptr);
    db_->exec("UPDATE records SET ttl = 301 WHERE type = 16");  // without a generation bump
    EXPECT_EQ(loader.load(s.get()), nullptr);
    db_->exec("UPDATE zones SET generation = generation + 1");
    auto r = loader.load(s.get());
    ASSERT_TRUE(r);
    EXPECT_NE(r->zones, s->zones);
    EXPECT_EQ(r->zones->zones()[0]->generation(), 2u);
}

TEST_F(StateLoaderTest, BrokenZoneThrowsAndTheNextGoodLoadWorks) {
    StateLoader loader(path_);
    auto s = loader.load(nullptr);
    db_->exec("UPDATE records SET rdata = x'01' WHERE type = 6");  // SOA RDATA cut short
    db_->exec("UPDATE zones SET generation = generation + 1");
    EXPECT_THROW(loader.load(s.get()), std::runtime_error);
    db_->exec("DELETE FROM zones");
    auto empty = loader.load(s.get());
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->zones->zones().empty());
}

TEST_F(StateLoaderTest, DataVersionNoticesOtherConnections) {
    StateLoader loader(path_);
    loader.changed();
    EXPECT_FALSE(loader.changed());
    db_->exec("UPDATE pools SET ttl = 31");
    EXPECT_TRUE(loader.changed());
}

TEST(PoolValue, ParsesEachTypeAndRefusesTheWrongFamily) {
    std::vector<uint8_t> out;
    EXPECT_TRUE(zones::poolValueToRdata(1, "192.0.2.1", out));
    EXPECT_FALSE(zones::poolValueToRdata(1, "2001:db8::1", out));
    EXPECT_TRUE(zones::poolValueToRdata(28, "2001:db8::1", out));
    EXPECT_EQ(out.size(), 16u);
    EXPECT_TRUE(zones::poolValueToRdata(5, "backup.other.net.", out));
    EXPECT_FALSE(zones::poolValueToRdata(5, "", out));
}

}  // namespace
