// The database write-locked by another process for longer than every timeout involved
// (dnsctl's default 5 s busy timeout, dnsd's 5 s controller-stale threshold): dnsd keeps
// serving, readers keep working, dnsctl says "database is locked" and changes nothing,
// dnsd-probe says so and retries, and everything it decided meanwhile lands after the release.
//
// Why 6 s and not the 30 s of the issue: nothing in the three programs is timed beyond 5 s
// (dnsd-probe retries every 50 ms forever; dnsctl gives up after --busy-timeout), so 6 s
// crosses every threshold a 30 s lock would.
#include <future>

#include "tests/faults/faults_fixture.hpp"

namespace faults {
namespace {

TEST_F(FaultScenario, DatabaseLockedByAnotherWriter) {
    // fall 4: the secondary, healthy, answering a check late twice under ASan load was a
    // second member-down this test does not cause (CI, 2026-12-02); the primary, refused,
    // still goes down well inside the 6 s lock.
    standardPool({"--hold-down", "0s"}, "100ms", "4");
    startDnsd();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kPrimary; }, 2s));
    std::string defs = definitions();

    SQLite::Database locker(db_, SQLite::OPEN_READWRITE, 1000);
    locker.exec("BEGIN EXCLUSIVE");  // in WAL mode: the write lock; readers go on
    auto lockedAt = Clock::now();
    int64_t lockedMs = zones::nowMs();
    AnswerWatcher www([&] { return dnsdAnswer(); }, kPrimary);

    // dnsctl with its default busy timeout waits 5 s, then refuses clearly.
    auto blocked = std::async(std::launch::async, [&] {
        return dnsctl({"record", "add", "svc.test", "late", "300", "A", "127.0.0.5"});
    });
    for (std::vector<std::string> args :
         {std::vector<std::string>{"member", "drain", "web", kSecondary},
          {"pool", "set", "web", "--ttl", "60"},
          {"probe", "set", "web-http", "--interval", "1s"}}) {
        args.insert(args.begin(), {"--busy-timeout", "200"});
        auto r = dnsctl(args);
        EXPECT_EQ(r.exitCode, 1) << r.command << "\n" << r.out << r.err;
        EXPECT_NE(r.err.find("database is locked"), std::string::npos) << r.err;
        EXPECT_EQ(lines(r.err), 1) << r.err;
    }
    // Reading is not writing: status works under the lock.
    auto status = dnsctl({"status"});
    EXPECT_TRUE(status.ok()) << status.err;
    EXPECT_NE(status.out.find("pool web"), std::string::npos) << status.out;

    // The primary dies while nothing can be committed: the controller notices and queues.
    primary_->stop();
    EXPECT_TRUE(probeLogged("database is locked", 3s)) << probeLog();
    int requests = secondary_->requests;
    ASSERT_TRUE(waitUntil([&] { return secondary_->requests >= requests + 10; }, 5s));
    EXPECT_EQ(served(), kPrimary) << "nothing can be committed while locked";

    auto late = blocked.get();
    auto waited = Clock::now() - lockedAt;
    EXPECT_EQ(late.exitCode, 1) << late.out << late.err;
    EXPECT_NE(late.err.find("is locked by another writer"), std::string::npos) << late.err;
    EXPECT_EQ(lines(late.err), 1) << late.err;
    EXPECT_GE(waited, 4500ms) << "the default busy timeout is 5 s";

    ASSERT_TRUE(waitUntil([&] { return Clock::now() - lockedAt >= 6s; }, 10s));
    EXPECT_TRUE(probe_->alive()) << probe_->describe();
    // dnsd served the last committed decision all along (fail-static).
    www.stop();
    EXPECT_GE(www.total(), 200);
    EXPECT_TRUE(www.wrong().empty()) << www.wrongText();
    int64_t releasedMs = zones::nowMs();
    locker.exec("COMMIT");

    // After the release the queued decision lands at once, and dnsd serves it.
    ASSERT_TRUE(waitServed(kSecondary, 2s)) << probeLog();
    EXPECT_TRUE(waitUntil([&] { return dnsdAnswer() == kSecondary; }, 2s)) << dnsdAnswer();
    EXPECT_TRUE(probeLogged("database writable again", 2s)) << probeLog();
    EXPECT_EQ(events("failover"), 1) << eventDump();
    EXPECT_EQ(events("member-down"), 1) << eventDump();
    // Nothing lost: the member-down was decided (and stamped) during the lock, and the
    // observations made during the lock (2 members, every 100 ms, 6 s) were all written.
    int64_t down = eventAt("member-down", kPrimary);
    EXPECT_GT(down, lockedMs);
    EXPECT_LT(down, releasedMs);
    EXPECT_TRUE(waitUntil(
        [&] {
            return scalar("SELECT count(*) FROM observations WHERE at BETWEEN " +
                          std::to_string(lockedMs) + " AND " + std::to_string(releasedMs)) >= 80;
        },
        3s))
        << scalar("SELECT count(*) FROM observations WHERE at BETWEEN " + std::to_string(lockedMs) +
                  " AND " + std::to_string(releasedMs));
    // And what dnsctl was refused did not happen.
    EXPECT_EQ(definitions(), defs);
    EXPECT_EQ(events("admin-drain"), 0);
    EXPECT_EQ(dnsdAnswer("late.svc.test."), "<rcode 3>");
}

// A lock shorter than the busy timeout (a dnsd-probe commit, another dnsctl) must be waited
// for, not reported as an error.
TEST_F(FaultScenario, DnsctlWaitsOutALockShorterThanItsBusyTimeout) {
    standardPool();
    struct Case {
        std::vector<std::string> args;
        std::string check;  // SQL that is 1 once the change is in
    };
    std::vector<Case> cases = {
        {{"record", "add", "svc.test", "late", "300", "A", "127.0.0.5"},
         "SELECT count(*) FROM records WHERE owner LIKE 'late%'"},
        {{"member", "drain", "web", kSecondary},
         "SELECT drained FROM members WHERE value = '" + std::string(kSecondary) + "'"},
        {{"pool", "set", "web", "--ttl", "60"}, "SELECT ttl = 60 FROM pools WHERE name = 'web'"},
        {{"probe", "set", "web-http", "--interval", "1s"},
         "SELECT interval_ms = 1000 FROM probes WHERE name = 'web-http'"},
    };
    std::vector<std::string> refused;
    for (const Case& c : cases) {
        SQLite::Database locker(db_, SQLite::OPEN_READWRITE, 1000);
        locker.exec("BEGIN IMMEDIATE");
        auto release = std::async(std::launch::async, [&] {
            std::this_thread::sleep_for(700ms);  // the lock's duration, not a wait for a result
            locker.exec("COMMIT");
        });
        auto started = Clock::now();
        auto r = dnsctl(c.args);
        auto took = Clock::now() - started;
        release.get();
        if (!r.ok() && r.err.find("locked") != std::string::npos && took < 500ms) {
            refused.push_back(r.command + " -> " + r.err);
            continue;
        }
        EXPECT_TRUE(r.ok()) << r.command << "\n" << r.err;
        EXPECT_GE(took, 600ms) << r.command << " did not wait for the lock";
        EXPECT_EQ(scalar(c.check), 1) << r.command;
    }
    if (!refused.empty()) {
        std::string all;
        for (const auto& r : refused) all += "\n  " + r;
        ADD_FAILURE()
            << "dnsctl: write commands must wait out a short lock (IMMEDIATE transaction): "
               "a DEFERRED transaction "
               "(tools/dnsctl/{member,pool,probe}_commands.cpp: SQLite::Transaction "
               "tx(*db)) fail at once with 'database is locked' when another writer holds "
               "the lock, ignoring --busy-timeout (the read-to-write upgrade gets "
               "SQLITE_BUSY without the busy handler); zone/record commands use IMMEDIATE "
               "and wait. Refused within 500 ms:"
            << all;
    }
}

}  // namespace
}  // namespace faults
