// Tests for zones/db_watch: commits by another connection, and the database path deleted or
// replaced under an open connection, on real SQLite files.
#include "zones/db_watch.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/temp_dir.hpp"
#include "zones/schema.hpp"

namespace zones {
namespace {

class DbWatchTest : public ::testing::Test {
  protected:
    void SetUp() override {
        path_ = dir_.file("dnsd.db");
        db_ = openDatabase(path_, OpenMode::CreateReadWrite, 1000);
        watch_.attach();
    }
    // A commit on a connection of its own, as dnsctl makes one.
    void commitElsewhere(const std::string& path) {
        auto other = openDatabase(path, OpenMode::ReadWrite, 1000);
        other->exec("CREATE TABLE IF NOT EXISTS t (x); INSERT INTO t VALUES (1)");
    }
    testsupport::TempDir dir_{"db-watch"};
    std::string path_;
    std::unique_ptr<SQLite::Database> db_;
    DbWatch watch_{dir_.file("dnsd.db")};
};

TEST_F(DbWatchTest, FirstLookIsAChangeThenOnlyOtherConnectionsCommitsAre) {
    EXPECT_TRUE(watch_.changed(*db_));  // nothing seen yet: the caller loads everything
    EXPECT_FALSE(watch_.changed(*db_));
    commitElsewhere(path_);
    EXPECT_TRUE(watch_.changed(*db_));
    EXPECT_FALSE(watch_.changed(*db_));
    // Our own commits are not news: the caller made them.
    db_->exec("CREATE TABLE mine (x)");
    EXPECT_FALSE(watch_.changed(*db_));
    commitElsewhere(path_);
    EXPECT_TRUE(watch_.changed(*db_));
}

TEST_F(DbWatchTest, ForgetAndAttachMakeTheNextLookAChange) {
    EXPECT_TRUE(watch_.changed(*db_));
    watch_.forget();  // a reload failed: it must be tried again
    EXPECT_TRUE(watch_.changed(*db_));
    EXPECT_FALSE(watch_.changed(*db_));
    watch_.attach();  // a reopened connection: load everything again
    EXPECT_TRUE(watch_.changed(*db_));
}

TEST_F(DbWatchTest, NoticesTheFileDeletedAndReplaced) {
    EXPECT_EQ(watch_.file(), DbWatch::FileState::Same);
    commitElsewhere(path_);  // writes to the same file change nothing
    EXPECT_EQ(watch_.file(), DbWatch::FileState::Same);

    // A restore: a new file renamed over the path while our connection still has the old one.
    std::string fresh = dir_.file("fresh.db");
    openDatabase(fresh, OpenMode::CreateReadWrite, 1000).reset();
    std::filesystem::rename(fresh, path_);
    EXPECT_EQ(watch_.file(), DbWatch::FileState::Replaced);
    db_ = openDatabase(path_, OpenMode::ReadWrite, 1000);
    watch_.attach();
    EXPECT_EQ(watch_.file(), DbWatch::FileState::Same);

    std::filesystem::remove(path_);
    EXPECT_EQ(watch_.file(), DbWatch::FileState::Missing);
    // Attached while nothing is there: whatever appears later is another file.
    watch_.attach();
    EXPECT_EQ(watch_.file(), DbWatch::FileState::Missing);
    openDatabase(path_, OpenMode::CreateReadWrite, 1000).reset();
    EXPECT_EQ(watch_.file(), DbWatch::FileState::Replaced);
}

}  // namespace
}  // namespace zones
