// Tests for zones/zone_store against a real SQLite file in a temp dir: what is stored, the
// generation/serial contract, and that every failed operation leaves the file untouched.
#include "zones/zone_store.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/temp_dir.hpp"
#include "tests/tools/db_dump.hpp"
#include "zones/schema.hpp"
#include "zones/zone_file.hpp"

namespace zones {
namespace {

Name N(const char* text) {
    return *Name::fromText(text);
}

const char* kZone = R"($ORIGIN Example.com.
$TTL 300
@       SOA ns1 hostmaster 100 7200 3600 1209600 300
@       NS  ns1
ns1     A   192.0.2.1
www     A   192.0.2.2
www     A   192.0.2.3
alias   CNAME www
sub     NS  ns.sub
ns.sub  A   192.0.2.4
)";

class ZoneStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        path_ = dir_.file("zones.db");
        db_ = openDatabase(path_, OpenMode::CreateReadWrite);
        store_ = std::make_unique<ZoneStore>(*db_);
        zone_ = parseZoneText(kZone, "example.zone");
    }

    int64_t generation() {
        return db_->execAndGet("SELECT generation FROM zones WHERE name = 'example.com.'")
            .getInt64();
    }
    uint32_t serial() { return *store_->findZone(N("example.com."))->serial; }
    std::string dump() { return testsupport::dumpDatabase(path_); }

    // Runs `op`, expects it to throw a message containing `expected`, and the file unchanged.
    template <typename Op>
    void expectFailsUnchanged(Op op, const std::string& expected) {
        std::string before = dump();
        try {
            op();
            ADD_FAILURE() << "no error, expected: " << expected;
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find(expected), std::string::npos)
                << "got: " << e.what() << "\nexpected: " << expected;
        }
        EXPECT_EQ(dump(), before);
    }

    testsupport::TempDir dir_;
    std::string path_;
    std::unique_ptr<SQLite::Database> db_;
    std::unique_ptr<ZoneStore> store_;
    ZoneFile zone_;
};

TEST_F(ZoneStoreTest, ImportStoresCanonicalOwnersAndWireRdata) {
    ZoneInfo info = store_->importZone(zone_.origin, zone_.records, false, "example.zone");
    EXPECT_EQ(info.name, N("example.com."));
    EXPECT_EQ(info.recordCount, 8);
    EXPECT_EQ(info.serial, 100u);
    EXPECT_GE(info.generation, 1);

    SQLite::Statement q(*db_,
                        "SELECT owner, type, class, ttl, rdata FROM records WHERE owner LIKE 'www%'"
                        " ORDER BY rdata");
    ASSERT_TRUE(q.executeStep());
    EXPECT_EQ(q.getColumn(0).getString(), "www.example.com.");
    EXPECT_EQ(q.getColumn(1).getInt(), rrtype::A);
    EXPECT_EQ(q.getColumn(2).getInt(), rrclass::IN);
    EXPECT_EQ(q.getColumn(3).getInt(), 300);
    ASSERT_EQ(q.getColumn(4).getBytes(), 4);
    EXPECT_EQ(std::string(static_cast<const char*>(q.getColumn(4).getBlob()), 4),
              std::string("\xc0\x00\x02\x02", 4));

    auto back = store_->zoneRecords(N("example.com."));
    ASSERT_EQ(back.size(), zone_.records.size());
    for (size_t i = 0; i < back.size(); ++i) {
        EXPECT_EQ(back[i].owner, zone_.records[i].owner);
        EXPECT_EQ(back[i].rdata, zone_.records[i].rdata);
    }
}

TEST_F(ZoneStoreTest, ImportOfAnExistingZoneNeedsReplace) {
    store_->importZone(zone_.origin, zone_.records, false, "example.zone");
    expectFailsUnchanged(
        [&] { store_->importZone(zone_.origin, zone_.records, false, "example.zone"); },
        "zone example.com. already exists");

    int64_t id = store_->findZone(N("example.com."))->id;
    int64_t g0 = generation();
    ZoneFile smaller = parseZoneText(
        "$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 hm 7 1 1 1 1\n@ NS ns.other.net.\n", "v2.zone");
    ZoneInfo info = store_->importZone(smaller.origin, smaller.records, true, "v2.zone");
    EXPECT_EQ(info.id, id);
    EXPECT_EQ(info.generation, g0 + 1);
    EXPECT_EQ(info.recordCount, 2);
    // The serial never goes backwards (secondaries would ignore every later change): a file
    // whose serial is behind the zone's continues from it; one ahead keeps its own.
    EXPECT_EQ(info.serial, 101u);
    ZoneFile ahead = parseZoneText(
        "$ORIGIN example.com.\n$TTL 60\n@ SOA ns1 hm 500 1 1 1 1\n@ NS ns.other.net.\n", "v3.zone");
    EXPECT_EQ(store_->importZone(ahead.origin, ahead.records, true, "v3.zone").serial, 500u);
}

// Big imports insert many rows per statement, with foreign keys off, and a replace of the only
// zone with records empties the table whole: none of that may show. Rows come back in the
// file's order, other zones' records stay, and the connection's settings are as before.
TEST_F(ZoneStoreTest, BigImportsAndReplacesKeepOrderOtherZonesAndSettings) {
    auto bigZone = [](int hosts, int serial) {
        std::string text = "$ORIGIN big.test.\n$TTL 60\n@ SOA ns1 hm " + std::to_string(serial) +
                           " 1 1 1 1\n@ NS ns1\nns1 A 192.0.2.1\n";
        // 3 + hosts + hosts / 3 records: not a whole number of insert batches.
        for (int i = 0; i < hosts; ++i) {
            text += "h" + std::to_string(i) + " A 10.0." + std::to_string(i / 256) + "." +
                    std::to_string(i % 256) + "\n";
            if (i % 3 == 0)
                text += "h" + std::to_string(i) + " AAAA 2001:db8::" + std::to_string(i) + "\n";
        }
        return parseZoneText(text, "big.zone");
    };
    auto small = [](const std::string& apex) {
        return parseZoneText(
            "$ORIGIN " + apex + "\n$TTL 60\n@ SOA ns.o. hm 9 1 1 1 1\n@ NS ns.o.\n", apex + "zone");
    };
    auto expectStored = [&](const ZoneFile& z) {
        auto back = store_->zoneRecords(z.origin);
        ASSERT_EQ(back.size(), z.records.size());
        for (size_t i = 0; i < back.size(); ++i) {
            EXPECT_EQ(back[i].owner, z.records[i].owner) << i;
            EXPECT_EQ(back[i].type, z.records[i].type) << i;
            EXPECT_EQ(back[i].rdata, z.records[i].rdata) << i;
        }
    };
    db_->exec("PRAGMA cache_size = -1000");
    ZoneFile a = small("a.test."), c = small("c.test.");
    store_->importZone(a.origin, a.records, false, "a.zone");
    ZoneFile big = bigZone(300, 1);
    ZoneInfo info = store_->importZone(big.origin, big.records, false, "big.zone");
    EXPECT_EQ(info.recordCount, int64_t(big.records.size()));
    EXPECT_EQ(info.recordCount, db_->execAndGet("SELECT count(*) FROM records WHERE zone_id = " +
                                                std::to_string(info.id))
                                    .getInt64());
    expectStored(big);
    store_->importZone(c.origin, c.records, false, "c.zone");

    // Zones on both sides of it by id: only its own rows go.
    ZoneFile big2 = bigZone(200, 2);
    info = store_->importZone(big2.origin, big2.records, true, "big2.zone");
    EXPECT_EQ(info.recordCount, int64_t(big2.records.size()));
    expectStored(big2);
    expectStored(a);
    expectStored(c);

    // The only zone with records: the table is emptied whole, and refilled.
    store_->deleteZone(a.origin);
    store_->deleteZone(c.origin);
    ZoneFile big3 = bigZone(250, 3);
    info = store_->importZone(big3.origin, big3.records, true, "big3.zone");
    EXPECT_EQ(info.recordCount, int64_t(big3.records.size()));
    EXPECT_EQ(db_->execAndGet("SELECT count(*) FROM records").getInt64(), info.recordCount);
    expectStored(big3);

    EXPECT_EQ(db_->execAndGet("PRAGMA foreign_keys").getInt(), 1);
    EXPECT_EQ(db_->execAndGet("PRAGMA cache_size").getInt(), -1000);
    SQLite::Statement violations(*db_, "PRAGMA foreign_key_check");
    EXPECT_FALSE(violations.executeStep());
}

// dnsctl checks a file itself (to name every problem) and hands the store the sealed zone.
TEST_F(ZoneStoreTest, ImportOfACheckedZoneStoresTheSameAsAnImport) {
    auto checked = ZoneValidator::check(zone_.origin, zone_.records, "example.zone");
    ASSERT_TRUE(std::holds_alternative<ValidZone>(checked));
    bool replaced = true;
    ZoneInfo info = store_->importZone(std::get<ValidZone>(std::move(checked)), false, &replaced);
    EXPECT_FALSE(replaced);
    EXPECT_EQ(info.recordCount, 8);
    EXPECT_EQ(info.serial, 100u);
    auto back = store_->zoneRecords(N("example.com."));
    ASSERT_EQ(back.size(), zone_.records.size());
    for (size_t i = 0; i < back.size(); ++i) EXPECT_EQ(back[i].rdata, zone_.records[i].rdata);

    auto again = ZoneValidator::check(zone_.origin, zone_.records, "example.zone");
    expectFailsUnchanged([&] { store_->importZone(std::get<ValidZone>(std::move(again)), false); },
                         "zone example.com. already exists");
}

// In any order: the same records (what export and record list read, then sort themselves).
TEST_F(ZoneStoreTest, ZoneRecordsInAnyOrderAreTheSameRecords) {
    store_->importZone(zone_.origin, zone_.records, false, "example.zone");
    auto text = [](std::vector<Record> records) {
        std::sort(records.begin(), records.end(), canonicalRecordLess);
        std::vector<std::string> out;
        for (const Record& r : records)
            out.push_back(formatRecord(r) + " line " + std::to_string(r.line));
        return out;
    };
    auto inOrder = store_->zoneRecords(N("example.com."));
    auto anyOrder = store_->zoneRecords(N("example.com."), true);
    EXPECT_EQ(anyOrder.size(), zone_.records.size());
    EXPECT_EQ(text(anyOrder), text(inOrder));
}

TEST_F(ZoneStoreTest, InvalidImportWritesNothing) {
    store_->importZone(zone_.origin, zone_.records, false, "example.zone");
    ZoneFile bad = parseZoneText(std::string(kZone) + "alias A 192.0.2.9\n", "bad.zone");
    expectFailsUnchanged([&] { store_->importZone(bad.origin, bad.records, true, "bad.zone"); },
                         "bad.zone:11: CNAME at alias.example.com.");
}

TEST_F(ZoneStoreTest, RecordChangesBumpSerialAndGeneration) {
    store_->importZone(zone_.origin, zone_.records, false, "example.zone");
    int64_t g0 = generation();
    auto rt = parseRecordText("new 60 IN TXT \"hello\"", N("example.com."));
    store_->addRecord(N("example.com."), rt.record, rt.ttlGiven);
    EXPECT_EQ(generation(), g0 + 1);
    EXPECT_EQ(serial(), 101u);

    EXPECT_EQ(store_->deleteRecords(N("example.com."), N("www.example.com."), rrtype::A,
                                    parseRdataText(rrtype::A, "192.0.2.2", N("example.com."))),
              1u);
    EXPECT_EQ(generation(), g0 + 2);
    EXPECT_EQ(serial(), 102u);
    EXPECT_EQ(
        store_->deleteRecords(N("example.com."), N("new.example.com."), rrtype::TXT, std::nullopt),
        1u);
    EXPECT_EQ(generation(), g0 + 3);
    EXPECT_EQ(serial(), 103u);
    auto www = store_->listRecords(N("example.com."), N("www.example.com."), std::nullopt);
    ASSERT_EQ(www.size(), 1u);
    EXPECT_EQ(formatRdata(www[0]), "192.0.2.3");
}

TEST_F(ZoneStoreTest, TtlDefaultsToTheRRsetThenTheSoa) {
    store_->importZone(zone_.origin, zone_.records, false, "example.zone");
    auto rt = parseRecordText("www A 192.0.2.50", N("example.com."));
    EXPECT_EQ(store_->addRecord(N("example.com."), rt.record, rt.ttlGiven).ttl, 300u);
    ZoneFile z2 = parseZoneText(
        "$ORIGIN t.\n@ 900 SOA ns.o. hm 1 1 1 1 1\n@ 60 NS ns.o.\nw 30 A 192.0.2.1\n", "t");
    store_->importZone(z2.origin, z2.records, false, "t");
    rt = parseRecordText("w AAAA 2001:db8::1", N("t."));
    EXPECT_EQ(store_->addRecord(N("t."), rt.record, rt.ttlGiven).ttl, 900u);
    rt = parseRecordText("w A 192.0.2.2", N("t."));
    EXPECT_EQ(store_->addRecord(N("t."), rt.record, rt.ttlGiven).ttl, 30u);
}

TEST_F(ZoneStoreTest, SerialWrapsAroundPerRfc1982) {
    ZoneFile z =
        parseZoneText("$ORIGIN t.\n$TTL 60\n@ SOA ns.o. hm 4294967295 1 1 1 1\n@ NS ns.o.\n", "t");
    store_->importZone(z.origin, z.records, false, "t");
    auto rt = parseRecordText("a A 192.0.2.1", N("t."));
    store_->addRecord(N("t."), rt.record, rt.ttlGiven);
    EXPECT_EQ(store_->findZone(N("t."))->serial, 0u);
}

TEST_F(ZoneStoreTest, AddingAnSoaReplacesItAndNeverMovesTheSerialBack) {
    store_->importZone(zone_.origin, zone_.records, false, "example.zone");
    int64_t g0 = generation();
    auto rt = parseRecordText("@ 300 SOA ns1 hostmaster 5 1 2 3 4", N("example.com."));
    store_->addRecord(N("example.com."), rt.record, true);
    EXPECT_EQ(serial(), 101u);
    rt = parseRecordText("@ 300 SOA ns1 hostmaster 500 1 2 3 4", N("example.com."));
    store_->addRecord(N("example.com."), rt.record, true);
    EXPECT_EQ(serial(), 500u);
    EXPECT_EQ(store_->listRecords(N("example.com."), std::nullopt, rrtype::SOA).size(), 1u);
    EXPECT_EQ(generation(), g0 + 2);
}

TEST_F(ZoneStoreTest, FailedRecordChangesLeaveTheFileUnchanged) {
    store_->importZone(zone_.origin, zone_.records, false, "example.zone");
    const Name zone = N("example.com.");
    auto add = [&](const char* text) {
        return [this, zone, text] {
            auto rt = parseRecordText(text, zone);
            store_->addRecord(zone, rt.record, rt.ttlGiven);
        };
    };
    expectFailsUnchanged(add("alias A 192.0.2.9"), "CNAME at alias.example.com.");
    expectFailsUnchanged(add("www 300 A 192.0.2.2"), "record already exists");
    expectFailsUnchanged(add("www 60 A 192.0.2.99"), "TTL 60 differs from TTL 300");
    expectFailsUnchanged(add("other.org. A 192.0.2.1"), "outside the zone example.com.");
    expectFailsUnchanged(add("sub2 NS ns.sub2"), "NS target ns.sub2.example.com.");
    expectFailsUnchanged(
        [&] {
            auto rt = parseRecordText("a A 192.0.2.1", N("nozone.org."));
            store_->addRecord(N("nozone.org."), rt.record, true);
        },
        "zone nozone.org. does not exist");
    expectFailsUnchanged([&] { store_->deleteRecords(zone, zone, rrtype::SOA, std::nullopt); },
                         "the SOA record cannot be deleted");
    expectFailsUnchanged(
        [&] { store_->deleteRecords(zone, N("nothere.example.com."), rrtype::A, std::nullopt); },
        "no nothere.example.com. A record in zone example.com.");
    // Deleting the only glue address of a delegation breaks the zone.
    expectFailsUnchanged(
        [&] { store_->deleteRecords(zone, N("ns.sub.example.com."), rrtype::A, std::nullopt); },
        "NS target ns.sub.example.com. of sub.example.com. is inside the zone but has no A or "
        "AAAA record (glue)");
    expectFailsUnchanged([&] { store_->deleteZone(N("nozone.org.")); },
                         "zone nozone.org. does not exist");
}

TEST_F(ZoneStoreTest, DeleteMatchesRdataNamesCaseInsensitively) {
    store_->importZone(zone_.origin, zone_.records, false, "example.zone");
    auto rdata = parseRdataText(rrtype::CNAME, "WWW.EXAMPLE.COM.", N("example.com."));
    EXPECT_EQ(
        store_->deleteRecords(N("example.com."), N("alias.example.com."), rrtype::CNAME, rdata),
        1u);
}

TEST_F(ZoneStoreTest, EmptyRdataIsStoredAsAnEmptyBlob) {
    store_->importZone(zone_.origin, zone_.records, false, "example.zone");
    auto rt = parseRecordText("empty 60 IN TYPE65000 \\# 0", zone_.origin);
    store_->addRecord(zone_.origin, rt.record, true);
    auto back = store_->listRecords(zone_.origin, N("empty.example.com."), std::nullopt);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].type, 65000);
    EXPECT_TRUE(back[0].rdata.empty());
}

TEST_F(ZoneStoreTest, ListAndDeleteZones) {
    store_->importZone(zone_.origin, zone_.records, false, "example.zone");
    ZoneFile z2 =
        parseZoneText("$ORIGIN a.org.\n$TTL 60\n@ SOA ns.o. hm 9 1 1 1 1\n@ NS ns.o.\n", "a.zone");
    store_->importZone(z2.origin, z2.records, false, "a.zone");
    auto list = store_->listZones();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].name, N("example.com."));  // canonical order: com before org
    EXPECT_EQ(list[1].name, N("a.org."));
    EXPECT_EQ(list[1].recordCount, 2);
    EXPECT_EQ(list[1].serial, 9u);

    store_->deleteZone(N("example.com."));
    EXPECT_EQ(store_->listZones().size(), 1u);
    EXPECT_EQ(db_->execAndGet("SELECT count(*) FROM records").getInt(), 2);
}

TEST_F(ZoneStoreTest, ALockedDatabaseIsAClearErrorAndChangesNothing) {
    store_->importZone(zone_.origin, zone_.records, false, "example.zone");
    auto other = openDatabase(path_, OpenMode::ReadWrite, /*busyTimeoutMs=*/100);
    ZoneStore otherStore(*other);
    std::string before = dump();
    db_->exec("BEGIN IMMEDIATE");
    try {
        otherStore.deleteZone(N("example.com."));
        ADD_FAILURE() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("is locked by another writer"), std::string::npos)
            << e.what();
    }
    db_->exec("ROLLBACK");
    EXPECT_EQ(dump(), before);
}

}  // namespace
}  // namespace zones
