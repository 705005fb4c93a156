// probes/db_writer against a real SQLite file locked by another connection: nothing queued is
// lost, and the log says so at the right level (warn while another writer holds the lock,
// error once it has held it past dnsd's 3 s staleness limit, info when writes get through).
#include "probes/db_writer.hpp"

#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <chrono>
#include <optional>

#include "tests/support/temp_dir.hpp"
#include "zones/schema.hpp"

namespace probes {
namespace {

using namespace std::chrono_literals;

TEST(DbWriter, ALockIsWarnThenErrorPastThreeSecondsAndNothingIsLost) {
    testsupport::TempDir dir("db-writer");
    std::string path = dir.file("dnsd.db");
    zones::openDatabase(path, zones::OpenMode::CreateReadWrite, 1000).reset();
    auto db = zones::openDatabase(path, zones::OpenMode::ReadWrite, 1000);
    db->setBusyTimeout(10);
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    std::vector<std::pair<Level, std::string>> logs;
    int failures = 0;
    DbWriter writer(
        io, *db, [&](Level l, const std::string& m) { logs.emplace_back(l, m); },
        [&] { ++failures; });

    auto other = zones::openDatabase(path, zones::OpenMode::ReadWrite, 1000);
    std::optional<SQLite::Transaction> lock;
    lock.emplace(*other, SQLite::TransactionBehavior::IMMEDIATE);
    writer.heartbeat(4242, 1);
    EXPECT_FALSE(writer.flush());
    ASSERT_EQ(logs.size(), 1u);
    EXPECT_EQ(logs[0].first, Level::Warn) << logs[0].second;
    EXPECT_NE(logs[0].second.find("database is locked by another writer"), std::string::npos)
        << logs[0].second;
    EXPECT_EQ(failures, 1);

    // The retries run on the loop; past 3 s one error line, once.
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (logs.size() < 2 && std::chrono::steady_clock::now() < deadline) io.run_for(50ms);
    ASSERT_EQ(logs.size(), 2u);
    EXPECT_EQ(logs[1].first, Level::Error) << logs[1].second;
    EXPECT_NE(logs[1].second.find("still not writable after 3000ms"), std::string::npos)
        << logs[1].second;
    io.run_for(300ms);
    EXPECT_EQ(logs.size(), 2u) << logs.back().second;

    lock.reset();  // rolled back: the lock is gone
    deadline = std::chrono::steady_clock::now() + 5s;
    while (logs.size() < 3 && std::chrono::steady_clock::now() < deadline) io.run_for(50ms);
    ASSERT_EQ(logs.size(), 3u);
    EXPECT_EQ(logs[2].first, Level::Info) << logs[2].second;
    EXPECT_NE(logs[2].second.find("database writable again"), std::string::npos) << logs[2].second;
    EXPECT_EQ(failures, 1);
    EXPECT_EQ(writer.queued(), 0u);
    EXPECT_EQ(other->execAndGet("SELECT pid FROM controller WHERE id = 1").getInt64(), 4242);
}

}  // namespace
}  // namespace probes
