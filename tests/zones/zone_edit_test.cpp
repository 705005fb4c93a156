// ZoneStore::applyEdits (the write behind an RFC 2136 UPDATE) and UpdatePolicy::allows,
// against a real SQLite file: RFC 2136 §3.4.2's rules, the serial/journal/generation contract,
// "nothing changed, nothing written", and every policy pattern row by row.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"
#include "tests/tools/db_dump.hpp"
#include "zones/journal.hpp"
#include "zones/schema.hpp"
#include "zones/update_policy_store.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_store.hpp"

namespace zones {
namespace {

const char* kZone = R"($ORIGIN example.com.
$TTL 300
@       SOA ns1 hostmaster 100 7200 3600 1209600 300
@       NS  ns1
@       NS  ns2
ns1     A   192.0.2.1
ns2     A   192.0.2.9
www     A   192.0.2.2
www     A   192.0.2.3
alias   CNAME www
)";

Name N(const char* text) {
    return *Name::fromText(text);
}

Record R(const char* text) {
    return parseRecordText(text, N("example.com.")).record;
}

RecordEdit add(const char* text) {
    return {RecordEdit::Kind::Add, R(text)};
}
RecordEdit delRR(const char* text) {
    return {RecordEdit::Kind::DeleteRR, R(text)};
}
RecordEdit delSet(const char* owner, uint16_t type) {
    return {RecordEdit::Kind::DeleteRRset, Record{N(owner), type, rrclass::IN, 0, {}, 0}};
}
RecordEdit delName(const char* owner) {
    return {RecordEdit::Kind::DeleteName, Record{N(owner), rrtype::ANY, rrclass::IN, 0, {}, 0}};
}

class ZoneEdit : public ::testing::Test {
  protected:
    void SetUp() override {
        path_ = dir_.file("zones.db");
        db_ = openDatabase(path_, OpenMode::CreateReadWrite);
        store_ = std::make_unique<ZoneStore>(*db_);
        auto z = parseZoneText(kZone, "example.zone");
        zoneId_ = store_->importZone(z.origin, z.records, false, "example.zone").id;
    }

    EditOutcome apply(const std::vector<RecordEdit>& edits) {
        SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
        EditOutcome out = store_->applyEdits(zoneId_, N("example.com."), edits);
        tx.commit();
        return out;
    }

    std::vector<std::string> at(const char* owner) {
        std::vector<std::string> out;
        const Name apex = N("example.com.");
        for (const auto& r : store_->listRecords(apex, *Name::fromText(owner, &apex), std::nullopt))
            out.push_back(formatRecord(r, false));
        return out;
    }
    uint32_t serial() { return *store_->findZone(N("example.com."))->serial; }

    testsupport::TempDir dir_{"zone-edit"};
    std::string path_;
    std::unique_ptr<SQLite::Database> db_;
    std::unique_ptr<ZoneStore> store_;
    int64_t zoneId_ = 0;
};

TEST_F(ZoneEdit, AddsAndDeletesInOrderWithOneSerialStepAndOneJournalEntry) {
    auto out = apply({add("new 60 IN TXT \"a\""), add("new 60 IN TXT \"b\""),
                      delRR("new 60 IN TXT \"a\""), delRR("www 300 IN A 192.0.2.3")});
    ASSERT_TRUE(out.serial);
    EXPECT_EQ(*out.serial, 101u);
    EXPECT_EQ(serial(), 101u);
    EXPECT_EQ(at("new"), std::vector<std::string>{"new.example.com.\t60\tIN\tTXT\t\"b\""});
    EXPECT_EQ(at("www"), std::vector<std::string>{"www.example.com.\t300\tIN\tA\t192.0.2.2"});
    auto journal = Journal::read(*db_, zoneId_);
    ASSERT_EQ(journal.size(), 1u);
    EXPECT_EQ(journal[0].from, 100u);
    EXPECT_EQ(journal[0].to, 101u);
    EXPECT_EQ(journal[0].added.size(), 1u);    // new TXT "b" (the "a" came and went)
    EXPECT_EQ(journal[0].removed.size(), 1u);  // www A 192.0.2.3
}

TEST_F(ZoneEdit, NothingChangedWritesNothing) {
    std::string before = testsupport::dumpDatabase(path_);
    auto out = apply({add("www 300 IN A 192.0.2.2"), delRR("www 300 IN A 192.0.2.99"),
                      delSet("nothere.example.com.", rrtype::TXT), add("gone 60 IN TXT \"x\""),
                      delName("gone.example.com.")});
    EXPECT_FALSE(out.serial);
    EXPECT_EQ(testsupport::dumpDatabase(path_), before);
}

TEST_F(ZoneEdit, AnAddedRecordGivesItsRRsetItsTtl) {
    apply({add("www 60 IN A 192.0.2.4")});
    EXPECT_EQ(at("www"), (std::vector<std::string>{"www.example.com.\t60\tIN\tA\t192.0.2.2",
                                                   "www.example.com.\t60\tIN\tA\t192.0.2.3",
                                                   "www.example.com.\t60\tIN\tA\t192.0.2.4"}));
}

TEST_F(ZoneEdit, TheApexKeepsItsSoaAndNs) {
    EXPECT_FALSE(apply({delSet("example.com.", rrtype::SOA), delSet("example.com.", rrtype::NS),
                        delRR("@ 300 IN SOA ns1 hostmaster 100 7200 3600 1209600 300")})
                     .serial);
    apply({add("@ 300 IN TXT \"apex\""), delName("example.com.")});
    EXPECT_EQ(at("example.com.").size(), 3u);  // SOA and two NS; the TXT came and went
    apply({delRR("@ 300 IN NS ns1"), delRR("@ 300 IN NS ns2")});
    auto left = at("example.com.");
    EXPECT_EQ(std::count_if(left.begin(), left.end(),
                            [](const std::string& s) { return s.find("\tNS\t") != s.npos; }),
              1);  // the last NS stays
}

TEST_F(ZoneEdit, AnSoaReplacesOnlyWithASerialAhead) {
    EXPECT_FALSE(apply({add("@ 300 IN SOA ns1 hostmaster 50 7200 3600 1209600 300")}).serial);
    auto out = apply({add("@ 600 IN SOA ns1 hostmaster 500 7200 3600 1209600 60")});
    ASSERT_TRUE(out.serial);
    EXPECT_EQ(*out.serial, 500u);
    EXPECT_EQ(serial(), 500u);
}

TEST_F(ZoneEdit, ACnameReplacesACnameAndNeverSitsBesideData) {
    apply({add("alias 300 IN CNAME ns1")});
    EXPECT_EQ(at("alias"),
              std::vector<std::string>{"alias.example.com.\t300\tIN\tCNAME\tns1.example.com."});
    std::string before = testsupport::dumpDatabase(path_);
    EXPECT_THROW(apply({add("www 300 IN CNAME ns1")}), ZoneRuleError);
    EXPECT_THROW(apply({add("alias 300 IN TXT \"x\"")}), ZoneRuleError);
    // Deleting an address an NS target needs breaks the zone too.
    EXPECT_THROW(apply({delSet("ns2.example.com.", rrtype::A)}), ZoneRuleError);
    EXPECT_EQ(testsupport::dumpDatabase(path_), before);
}

TEST(UpdatePolicy, PatternsTypesApexAndPools) {
    const Name apex = N("example.com."), key = N("k."), other = N("other.");
    struct Row {
        const char* pattern;
        const char* types;
        const char* owner;
        uint16_t type;
        bool pool;  // owner is an A pool's name
        bool allowed;
    };
    const Row rows[] = {
        {"*", "", "www.example.com.", rrtype::A, false, true},
        {"*", "", "example.com.", rrtype::TXT, false, true},
        {"*", "", "example.com.", rrtype::NS, false, false},  // apex NS: only named
        {"*", "", "example.com.", rrtype::SOA, false, false},
        {"*", "", "example.com.", rrtype::ANY, false, true},  // a delete-all keeps SOA/NS
        {"@", "NS", "example.com.", rrtype::NS, false, true},
        {"@", "", "example.com.", rrtype::NS, false, false},
        {"@", "TXT", "www.example.com.", rrtype::TXT, false, false},
        {"www", "", "www.example.com.", rrtype::TXT, false, true},
        {"www", "", "a.www.example.com.", rrtype::TXT, false, false},
        {"*.dyn", "", "a.dyn.example.com.", rrtype::A, false, true},
        {"*.dyn", "", "b.a.dyn.example.com.", rrtype::A, false, true},
        {"*.dyn", "", "dyn.example.com.", rrtype::A, false, false},
        {"_acme-challenge.*", "TXT", "_acme-challenge.example.com.", rrtype::TXT, false, true},
        {"_acme-challenge.*", "TXT", "_acme-challenge.www.example.com.", rrtype::TXT, false, true},
        {"_acme-challenge.*", "TXT", "_acme-challenge.www.example.com.", rrtype::A, false, false},
        {"_acme-challenge.*", "TXT", "_acme-challenge.www.example.com.", rrtype::ANY, false, false},
        {"_acme-challenge.*", "TXT", "www.example.com.", rrtype::TXT, false, false},
        {"*", "", "www.other.com.", rrtype::TXT, false, false},
        {"*", "", "app.example.com.", rrtype::TXT, true, false},  // pool: only named
        {"app", "", "app.example.com.", rrtype::TXT, true, true},
        {"app", "", "app.example.com.", rrtype::A, true, false},  // never the pool's type
        {"app", "", "app.example.com.", rrtype::ANY, true, false},
    };
    for (const Row& r : rows) {
        UpdatePolicy p = UpdatePolicyStore::parse("k.", r.pattern, r.types);
        std::optional<uint16_t> pool = r.pool ? std::optional<uint16_t>(rrtype::A) : std::nullopt;
        EXPECT_EQ(p.allows(key, apex, N(r.owner), r.type, pool), r.allowed)
            << r.pattern << " [" << r.types << "] " << r.owner << " " << r.type;
        EXPECT_FALSE(p.allows(other, apex, N(r.owner), r.type, pool)) << "another key";
    }
}

TEST(UpdatePolicy, PatternsAreCheckedAndNormalised) {
    const Name zone = N("example.com.");
    EXPECT_EQ(UpdatePolicyStore::normalisePattern("", zone), "*");
    EXPECT_EQ(UpdatePolicyStore::normalisePattern("WWW", zone), "www");
    EXPECT_EQ(UpdatePolicyStore::normalisePattern("www.example.com.", zone), "www");
    EXPECT_EQ(UpdatePolicyStore::normalisePattern("example.com.", zone), "@");
    EXPECT_EQ(UpdatePolicyStore::normalisePattern("_acme-challenge.*", zone), "_acme-challenge.*");
    EXPECT_THROW(UpdatePolicyStore::normalisePattern("a.*.b", zone), std::runtime_error);
    EXPECT_THROW(UpdatePolicyStore::normalisePattern("*.a.*", zone), std::runtime_error);
    EXPECT_THROW(UpdatePolicyStore::normalisePattern("www.other.com.", zone), std::runtime_error);
}

}  // namespace
}  // namespace zones
