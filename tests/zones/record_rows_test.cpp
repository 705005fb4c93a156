// zones::insertRecordRows against a real SQLite file: rows go in in the UNIQUE index's order,
// yet every record gets the id it would have had inserted one at a time in the list's order
// (the largest id + 1, 2, ...), with its fields unchanged, including owners whose text needs
// escapes (which the sort only approximates); a row that breaks UNIQUE throws.
#include "zones/record_rows.hpp"

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tests/support/temp_dir.hpp"
#include "zones/schema.hpp"

namespace zones {
namespace {

Name N(const std::string& text) {
    return *Name::fromText(text);
}

Record rec(const std::string& owner, uint16_t type, std::vector<uint8_t> rdata, uint32_t ttl) {
    return Record{N(owner), type, rrclass::IN, ttl, std::move(rdata), 0};
}

class RecordRowsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = openDatabase(dir_.file("rows.db"), OpenMode::CreateReadWrite);
        db_->exec("INSERT INTO zones (id, name, created_at, updated_at) VALUES (1, 'x.', 0, 0)");
        db_->exec("INSERT INTO zones (id, name, created_at, updated_at) VALUES (2, 'y.', 0, 0)");
    }
    // The rows of zone `zoneId` by id: "id owner type ttl RDATA-in-hex".
    std::vector<std::string> rows(int64_t zoneId) {
        std::vector<std::string> out;
        SQLite::Statement q(*db_,
                            "SELECT id, owner, type, ttl, hex(rdata) FROM records WHERE zone_id = ?"
                            " ORDER BY id");
        q.bind(1, zoneId);
        while (q.executeStep())
            out.push_back(q.getColumn(0).getString() + " " + q.getColumn(1).getString() + " " +
                          q.getColumn(2).getString() + " " + q.getColumn(3).getString() + " " +
                          q.getColumn(4).getString());
        return out;
    }

    testsupport::TempDir dir_;
    std::unique_ptr<SQLite::Database> db_;
};

TEST_F(RecordRowsTest, RowsGetTheIdsOfTheListOrder) {
    insertRecordRows(*db_, 2, {rec("a.y.", rrtype::A, {1, 2, 3, 4}, 60)});
    std::vector<Record> records;
    std::vector<std::string> expected;
    int64_t id = 2;
    auto add = [&](const std::string& owner, uint16_t type, std::vector<uint8_t> rdata) {
        uint32_t ttl = uint32_t(100 + records.size());
        std::string hex;
        for (uint8_t byte : rdata) {
            char two[3];
            std::snprintf(two, sizeof two, "%02X", byte);
            hex += two;
        }
        expected.push_back(std::to_string(id++) + " " + N(owner).toText() + " " +
                           std::to_string(type) + " " + std::to_string(ttl) + " " + hex);
        records.push_back(rec(owner, type, std::move(rdata), ttl));
    };
    // More than one batch, owners out of index order, several types and RDATA at one owner,
    // and owners whose text has escapes, a shorter prefix of another, or sorts by its dot.
    for (int i = 150; i > 0; --i)
        add("h" + std::to_string(i) + ".x.", rrtype::A, {uint8_t(i), 0, 0, 1});
    add("h7.x.", rrtype::AAAA, std::vector<uint8_t>(16, 0x20));
    add("h7.x.", rrtype::A, {200, 0, 0, 1});
    add("h7.x.", rrtype::A, {3});
    add("h7.x.", rrtype::TXT, {});
    add("a\\.b.x.", rrtype::A, {9, 9, 9, 9});
    add("a.b.x.", rrtype::A, {9, 9, 9, 9});
    add("a-b.x.", rrtype::A, {9, 9, 9, 9});
    add("\\000.x.", rrtype::A, {9, 9, 9, 9});
    add("\\255z.x.", rrtype::A, {9, 9, 9, 9});
    add("x.", rrtype::NS, {0});
    add("*.x.", rrtype::A, {9, 9, 9, 9});
    insertRecordRows(*db_, 1, records);
    EXPECT_EQ(rows(1), expected);
    EXPECT_EQ(rows(2).size(), 1u);
    EXPECT_EQ(db_->execAndGet("PRAGMA integrity_check").getString(), "ok");
}

TEST_F(RecordRowsTest, ARowThatBreaksUniqueThrows) {
    std::vector<Record> records;
    for (int i = 0; i < 100; ++i)
        records.push_back(
            rec("h" + std::to_string(i) + ".x.", rrtype::A, {1, 1, 1, uint8_t(i)}, 60));
    records.push_back(records[42]);
    db_->exec("BEGIN");
    EXPECT_THROW(insertRecordRows(*db_, 1, records), SQLite::Exception);
    db_->exec("ROLLBACK");
    EXPECT_TRUE(rows(1).empty());
}

}  // namespace
}  // namespace zones
