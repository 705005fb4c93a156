// zones::Journal against a real SQLite file: every record edit leaves one entry whose serials
// chain to the zone's current serial; bounds prune oldest first and keep the chain; a
// replaced zone starts a new history; a change that cancels out moves nothing; the serial
// wraps (RFC 1982) and the chain still holds.
#include "zones/journal.hpp"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"
#include "zones/schema.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_store.hpp"

namespace zones {
namespace {

const char* kZone = R"($ORIGIN example.com.
$TTL 300
@       SOA ns1 hostmaster 100 7200 3600 1209600 300
@       NS  ns1
ns1     A   192.0.2.1
www     A   192.0.2.2
)";

Name N(const char* text) {
    return *Name::fromText(text);
}

class JournalTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = openDatabase(dir_.file("j.db"), OpenMode::CreateReadWrite);
        auto zf = parseZoneText(kZone, "j.zone");
        ZoneStore(*db_).importZone(zf.origin, zf.records, false, "j.zone");
        zoneId_ = db_->execAndGet("SELECT id FROM zones").getInt64();
    }
    void add(const std::string& text) {
        auto r = parseRecordText(text, N("example.com."));
        ZoneStore(*db_).addRecord(N("example.com."), r.record, r.ttlGiven);
    }
    uint32_t serial() { return *ZoneStore(*db_).findZone(N("example.com."))->serial; }
    // The entries form one chain ending at the current serial.
    void expectChain(const std::vector<JournalEntry>& j) {
        ASSERT_FALSE(j.empty());
        for (size_t i = 0; i + 1 < j.size(); ++i) EXPECT_EQ(j[i].to, j[i + 1].from);
        for (const auto& e : j) EXPECT_EQ(e.to, uint32_t(e.from + 1));
        EXPECT_EQ(j.back().to, serial());
    }

    testsupport::TempDir dir_;
    std::unique_ptr<SQLite::Database> db_;
    int64_t zoneId_ = 0;
};

TEST_F(JournalTest, EachEditIsOneEntryOfTheChange) {
    add("a 60 IN A 192.0.2.10");
    add("b 60 IN A 192.0.2.11");
    ZoneStore(*db_).deleteRecords(N("example.com."), N("www.example.com."), rrtype::A,
                                  std::nullopt);
    auto j = Journal::read(*db_, zoneId_);
    ASSERT_EQ(j.size(), 3u);
    expectChain(j);
    EXPECT_EQ(j[0].from, 100u);
    ASSERT_EQ(j[0].added.size(), 1u);
    EXPECT_EQ(j[0].added[0].owner, N("a.example.com."));
    EXPECT_TRUE(j[0].removed.empty());
    ASSERT_EQ(j[2].removed.size(), 1u);
    EXPECT_EQ(j[2].removed[0].owner, N("www.example.com."));
    EXPECT_EQ(ZoneStore::soaSerial(j[2].newSoa.rdata), serial());
    EXPECT_EQ(ZoneStore::soaSerial(j[0].oldSoa.rdata), 100u);
}

TEST_F(JournalTest, BoundsPruneOldestFirstAndKeepTheChain) {
    for (int i = 0; i < 6; ++i)
        add("r" + std::to_string(i) + " 60 IN A 192.0.2.1" + std::to_string(i));
    Journal::setBounds(*db_, zoneId_, 2, 7 * 86400000LL);
    auto j = Journal::read(*db_, zoneId_);
    ASSERT_EQ(j.size(), 2u);
    expectChain(j);
    add("later 60 IN A 192.0.2.99");  // appending prunes too
    j = Journal::read(*db_, zoneId_);
    ASSERT_EQ(j.size(), 2u);
    expectChain(j);
    Journal::setBounds(*db_, zoneId_, 1000, -1);  // everything is too old
    EXPECT_TRUE(Journal::read(*db_, zoneId_).empty());
}

TEST_F(JournalTest, AReplacedZoneStartsANewHistory) {
    add("a 60 IN A 192.0.2.10");
    auto zf = parseZoneText(kZone, "j.zone");
    ZoneStore(*db_).importZone(zf.origin, zf.records, true, "j.zone");
    EXPECT_TRUE(Journal::read(*db_, zoneId_).empty());
    EXPECT_GT(serial(), 101u);  // never backwards, even with the file's older serial
}

TEST_F(JournalTest, ARecordChangeThatCancelsOutMovesNothing) {
    Record r{N("x.example.com."), rrtype::A, rrclass::IN, 60, {192, 0, 2, 1}, 0};
    uint32_t before = serial();
    Journal::record(*db_, zoneId_, {r}, {r});
    EXPECT_EQ(serial(), before);
    EXPECT_TRUE(Journal::read(*db_, zoneId_).empty());
    Journal::record(*db_, zoneId_, {}, {r});
    EXPECT_EQ(serial(), before + 1);
    EXPECT_EQ(Journal::read(*db_, zoneId_).size(), 1u);
}

TEST_F(JournalTest, TheSerialWrapsAndTheChainHolds) {
    // Up to the top in two steps ahead (RFC 1982: each less than 2^31 forward).
    add("@ 300 IN SOA ns1 hostmaster 2147483700 7200 3600 1209600 300");
    add("@ 300 IN SOA ns1 hostmaster 4294967295 7200 3600 1209600 300");
    EXPECT_EQ(serial(), 4294967295u);
    add("a 60 IN A 192.0.2.10");
    EXPECT_EQ(serial(), 0u);  // 0 follows 4294967295
    add("b 60 IN A 192.0.2.11");
    auto j = Journal::read(*db_, zoneId_);
    ASSERT_EQ(j.size(), 4u);
    EXPECT_EQ(j[2].from, 4294967295u);
    EXPECT_EQ(j[2].to, 0u);
    EXPECT_EQ(j[3].to, 1u);
    // A serial behind the zone's (RFC 1982) does not take the zone back: it goes on from its own.
    add("@ 300 IN SOA ns1 hostmaster 4294967000 7200 3600 1209600 300");
    EXPECT_EQ(serial(), 2u);
}

TEST_F(JournalTest, EncodingRoundTrips) {
    const Name ns = N("ns.example.com.");
    std::vector<Record> rrs = {{N("a.example.com."), rrtype::A, rrclass::IN, 60, {192, 0, 2, 1}, 0},
                               {N("example.com."), rrtype::NS, rrclass::IN, 3600,
                                std::vector<uint8_t>(ns.wire().begin(), ns.wire().end()), 0}};
    auto blob = Journal::encode(rrs);
    auto back = Journal::decode(blob.data(), blob.size());
    ASSERT_EQ(back.size(), 2u);
    EXPECT_EQ(back[1].owner, rrs[1].owner);
    EXPECT_EQ(back[1].rdata, rrs[1].rdata);
    EXPECT_EQ(back[0].ttl, 60u);
    // A cut blob decodes what is whole and stops.
    EXPECT_EQ(Journal::decode(blob.data(), blob.size() - 3).size(), 1u);
}

}  // namespace
}  // namespace zones
