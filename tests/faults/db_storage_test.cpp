// The database's storage fails under the running processes: made read-only, deleted, or on a
// full filesystem. dnsd keeps serving its snapshot; dnsctl and dnsd-probe report the problem
// clearly; dnsd-probe retries and its decisions land once the storage is back; nothing already
// committed is lost.
//
// Tests run as root, where chmod 0444 stops nobody, so "read-only" is a read-only bind mount
// laid over the database directory (in a private mount namespace): exactly what a read-only
// remount or a chmod does to a non-root process — new opens for writing fail, descriptors
// already open keep working. The full filesystem is a small tmpfs filled up by the test.
#include <fstream>

#include "tests/faults/faults_fixture.hpp"

namespace faults {
namespace {

class StorageFault : public FaultScenario {
  protected:
    void SetUp() override {
        FaultScenario::SetUp();
        std::string why = PrivateMounts::enter();
        if (!why.empty()) GTEST_SKIP() << "cannot create a private mount namespace here: " << why;
    }
    // Fills the filesystem holding `dir` with one file until ENOSPC.
    static void fill(const std::string& file) {
        UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        ASSERT_TRUE(fd.valid());
        std::vector<char> block(64 * 1024, 'x');
        for (size_t size = block.size(); size > 0; size /= 2)
            while (::write(fd.get(), block.data(), size) == ssize_t(size)) {
            }
        ASSERT_EQ(errno, ENOSPC);
    }
};

TEST_F(StorageFault, ReadOnlyDatabase) {
    moveDatabase();
    standardPool({"--hold-down", "0s"});
    startDnsd();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kPrimary; }, 2s));
    std::string defs = definitions();

    mounts_.readOnlyOverlay(dataDir());
    ASSERT_NE(::access(db_.c_str(), W_OK), 0) << "the overlay is not read-only";
    AnswerWatcher www([&] { return dnsdAnswer(); }, kPrimary);

    // dnsctl: one clear message, non-zero, nothing changed; reading still works.
    auto r = dnsctl({"member", "drain", "web", kSecondary});
    EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("is read-only for this process"), std::string::npos) << r.err;
    EXPECT_EQ(lines(r.err), 1) << r.err;
    auto add = dnsctl({"record", "add", "svc.test", "late", "300", "A", "127.0.0.5"});
    EXPECT_EQ(add.exitCode, 1) << add.out << add.err;
    EXPECT_NE(add.err.find("is read-only for this process"), std::string::npos) << add.err;
    auto status = dnsctl({"status"});
    EXPECT_TRUE(status.ok()) << status.err;
    EXPECT_EQ(definitions(), defs);

    EXPECT_TRUE(waitUntil([&] { return www.total() >= 20; }, 5s));
    www.stop();
    EXPECT_TRUE(www.wrong().empty()) << www.wrongText();

    // The running controller opened its file before: it keeps deciding, dnsd keeps serving.
    primary_->stop();
    ASSERT_TRUE(waitServed(kSecondary, 3s)) << probeLog();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kSecondary; }, 2s));
    EXPECT_EQ(staticAnswer(), "127.0.0.9");
    AnswerWatcher backup([&] { return dnsdAnswer(); }, kSecondary);

    // A dnsd-probe started while the database is read-only must say so, and once it is
    // writable again its decisions must land.
    probe_->stop();
    probe_.reset();
    startProbe();
    bool reported = waitUntil(
        [&] {
            std::string log = probeLog();
            return log.find("readonly") != std::string::npos ||
                   log.find("read-only") != std::string::npos || !probe_->alive();
        },
        3s);
    EXPECT_TRUE(reported) << probeLog();
    // It logs before it exits: give a refusing process time to finish (slow under ASan).
    bool refusedToStart = waitUntil([&] { return !probe_->alive(); }, 2s);
    if (refusedToStart) {
        EXPECT_NE(probeLog().find("read"), std::string::npos) << probeLog();
        probe_.reset();
    }
    EXPECT_TRUE(waitUntil([&] { return backup.total() >= 20; }, 5s));
    backup.stop();
    EXPECT_TRUE(backup.wrong().empty()) << backup.wrongText();

    mounts_.makeWritable(dataDir());
    ASSERT_EQ(::access(db_.c_str(), W_OK), 0);
    auto after = dnsctl({"record", "add", "svc.test", "late", "300", "A", "127.0.0.5"});
    EXPECT_TRUE(after.ok()) << after.err;
    EXPECT_TRUE(waitUntil([&] { return dnsdAnswer("late.svc.test.") == "127.0.0.5"; }, 2s));
    // Nothing committed before or during the read-only time is lost.
    EXPECT_EQ(events("failover"), 1) << eventDump();
    EXPECT_EQ(served(), kSecondary);
    if (refusedToStart) startProbe();
    primary_->start();
    bool landed = waitServed(kPrimary, 4s);  // failback (hold-down 0) needs a working writer
    if (!landed && !refusedToStart) {
        ADD_FAILURE()
            << "dnsd-probe started on a "
               "read-only database runs with a read-only SQLite handle (SQLITE_OPEN_"
               "READWRITE silently falls back to read-only), logs 'database write failed "
               "(attempt to write a readonly database) ... retrying every 50ms' and never "
               "recovers after the database becomes writable again: no heartbeat, no "
               "decision is ever written. It should refuse to start with a clear error, "
               "or reopen the database when a write fails with SQLITE_READONLY.\n"
            << probeLog();
    }
    EXPECT_TRUE(landed) << probeLog();
}

TEST_F(StorageFault, DatabaseDeletedWhileRunning) {
    moveDatabase();
    standardPool({"--hold-down", "0s"});
    startDnsd();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kPrimary; }, 2s));

    AnswerWatcher www([&] { return dnsdAnswer(); }, kPrimary);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_ + suffix);

    // dnsctl: a clear message, and it must not create an empty database in its place.
    auto r = dnsctl({"member", "drain", "web", kSecondary});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
    EXPECT_EQ(lines(r.err), 1) << r.err;
    auto status = dnsctl({"status"});
    EXPECT_EQ(status.exitCode, 1);
    EXPECT_FALSE(std::filesystem::exists(db_)) << "dnsctl created a new database";

    // dnsd keeps serving what it has, for as long as it runs.
    int before = www.total();
    ASSERT_TRUE(waitUntil([&] { return www.total() >= before + 100; }, 10s));
    EXPECT_EQ(staticAnswer(), "127.0.0.9");
    EXPECT_TRUE(dnsd_->process().alive()) << dnsd_->process().describe();
    www.stop();
    EXPECT_TRUE(www.wrong().empty()) << www.wrongText();
    EXPECT_TRUE(probe_->alive()) << probe_->describe();

    // dnsd-probe now writes its decisions into a file nobody can open again: it must say so.
    bool reported = probeLogged("deleted", 3s) || probeLogged("does not exist", 0ms) ||
                    probeLogged("missing", 0ms) || probeLogged("replaced", 0ms);
    EXPECT_TRUE(waitUntil(
        [&] {
            return dnsd_->process().stderrText().find("database file was deleted") !=
                   std::string::npos;
        },
        3s))
        << dnsd_->process().stderrText();
    if (!reported) {
        ADD_FAILURE() << "dnsd-probe: the database file was deleted while "
                         "running and neither says a word; dnsd-probe goes on committing decisions "
                         "and events into the unlinked file (lost when it exits) and its log "
                         "does not mention it. It should notice (e.g. fstat st_nlink == 0, or the "
                         "path's inode differs from the open file's) and report it clearly.\n"
                      << probeLog();
    }
}

TEST_F(StorageFault, FullFilesystem) {
    std::filesystem::create_directory(dataDir());
    mounts_.tmpfs(dataDir(), 4 << 20);
    moveDatabase(false);
    standardPool({"--hold-down", "0s"});
    startDnsd();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kPrimary; }, 2s));
    std::string defs = definitions();
    int64_t eventsBefore = scalar("SELECT count(*) FROM events");

    int64_t fullMs = zones::nowMs();
    fill(dataDir() + "/filler");
    // Observations go out with the heartbeat every second: the next one cannot be written.
    ASSERT_TRUE(probeLogged("database or disk is full", 3s)) << probeLog();
    EXPECT_TRUE(probe_->alive());

    auto r = dnsctl({"member", "drain", "web", kSecondary});
    EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("disk is full"), std::string::npos) << r.err;
    EXPECT_EQ(lines(r.err), 1) << r.err;
    auto add = dnsctl({"record", "add", "svc.test", "late", "300", "A", "127.0.0.5"});
    EXPECT_EQ(add.exitCode, 1) << add.out << add.err;
    EXPECT_NE(add.err.find("disk is full"), std::string::npos) << add.err;

    // The primary dies; the decision cannot be written, dnsd keeps serving the last one.
    AnswerWatcher www([&] { return dnsdAnswer(); }, kPrimary);
    primary_->stop();
    int requests = secondary_->requests;
    ASSERT_TRUE(waitUntil([&] { return secondary_->requests >= requests + 10; }, 5s));
    EXPECT_EQ(served(), kPrimary);
    www.stop();
    EXPECT_TRUE(www.wrong().empty()) << www.wrongText();
    EXPECT_GE(www.total(), 50);

    int64_t freedMs = zones::nowMs();
    std::filesystem::remove(dataDir() + "/filler");
    ASSERT_TRUE(waitServed(kSecondary, 3s)) << probeLog();
    EXPECT_TRUE(waitUntil([&] { return dnsdAnswer() == kSecondary; }, 2s)) << dnsdAnswer();
    EXPECT_TRUE(probeLogged("database writable again", 2s)) << probeLog();
    // Nothing lost: what was committed before is all there, the transition decided while the
    // disk was full carries its own time, and the observations of that time were kept.
    EXPECT_EQ(definitions(), defs);
    EXPECT_GE(scalar("SELECT count(*) FROM events"), eventsBefore + 2);
    int64_t down = eventAt("member-down", kPrimary);
    EXPECT_GT(down, fullMs);
    EXPECT_LT(down, freedMs);
    EXPECT_EQ(events("failover"), 1) << eventDump();
    EXPECT_GE(scalar("SELECT count(*) FROM observations WHERE at BETWEEN " +
                     std::to_string(fullMs) + " AND " + std::to_string(freedMs)),
              20);
    EXPECT_EQ(staticAnswer(), "127.0.0.9");
    auto later = dnsctl({"member", "drain", "web", kSecondary});
    EXPECT_TRUE(later.ok()) << later.err;
}

}  // namespace
}  // namespace faults
