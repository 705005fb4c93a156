// `dnsctl member add POOL VALUE...` and `dnsctl member add POOL --from-file FILE` with the real
// dnsctl on a real SQLite file: every member lands with its own options (the command line's
// are the defaults), one transaction for all, and a bad line names FILE:LINE, exits non-zero
// and adds nothing (the database stays byte-for-byte the same). Also `member drain` windows.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/db_dump.hpp"

namespace {

using testsupport::CommandResult;

const std::string kExample = std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone";

class MemberBatch : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = dir_.file("dnsd.db");
        ok({"init"});
        ok({"zone", "import", kExample});
        ok({"probe", "add", "t1", "--type", "tcp", "--port", "80"});
        ok({"probe", "add", "t2", "--type", "tcp", "--port", "81"});
        ok({"pool", "create", "web", "--zone", "svc.example.com", "--name", "batch", "--type",
            "A"});
    }
    CommandResult dnsctl(std::vector<std::string> args) {
        args.insert(args.begin(), {"--db", db_});
        return testsupport::runCommand(DNSCTL_BIN, args, {"DNSD_DB="});
    }
    CommandResult ok(std::vector<std::string> args) {
        CommandResult r = dnsctl(std::move(args));
        EXPECT_EQ(r.exitCode, 0) << r.command << "\nstderr: " << r.err;
        return r;
    }
    void refused(const std::vector<std::string>& args, const std::string& message) {
        std::string before = testsupport::dumpDatabase(db_);
        CommandResult r = dnsctl(args);
        EXPECT_NE(r.exitCode, 0) << r.command << " was accepted";
        EXPECT_NE(r.err.find(message), std::string::npos)
            << r.command << "\nstderr: " << r.err << "\nexpected: " << message;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1)
            << "one clear message: " << r.err;
        EXPECT_EQ(testsupport::dumpDatabase(db_), before) << r.command << " changed the database";
    }
    // "value priority weight probe,probe" per member of pool web, ordered by value.
    std::string members() {
        SQLite::Database db(db_, SQLite::OPEN_READONLY);
        SQLite::Statement q(db,
                            "SELECT m.value, m.priority, m.weight, COALESCE((SELECT "
                            "group_concat(name, ',') FROM (SELECT p.name FROM member_probes mp "
                            "JOIN probes p ON p.id = mp.probe_id WHERE mp.member_id = m.id "
                            "ORDER BY p.name)), '-') FROM members m JOIN pools ON pools.id = "
                            "m.pool_id WHERE pools.name = 'web' ORDER BY m.value");
        std::string out;
        while (q.executeStep())
            out += q.getColumn(0).getString() + " " + q.getColumn(1).getString() + " " +
                   q.getColumn(2).getString() + " " + q.getColumn(3).getString() + "\n";
        return out;
    }
    int64_t count(const std::string& sql) {
        SQLite::Database db(db_, SQLite::OPEN_READONLY);
        return db.execAndGet(sql).getInt64();
    }
    testsupport::TempDir dir_{"dnsd-member-batch"};
    std::string db_;
};

TEST_F(MemberBatch, FileLinesWithOwnOptionsOverTheCommandLineDefaults) {
    std::string file = dir_.writeFile("members.txt",
                                      "# primaries\n"
                                      "192.0.2.10\n"
                                      "  192.0.2.11   --weight 5   # heavier\n"
                                      "\n"
                                      "192.0.2.20 --priority 2 --probe t2\n"
                                      "192.0.2.21 --priority 2 --probe t1 --probe t2\r\n");
    CommandResult r = ok({"member", "add", "web", "--from-file", file, "--probe", "t1"});
    EXPECT_NE(r.out.find("member 192.0.2.21 added to pool web (priority 2)"), std::string::npos)
        << r.out;
    EXPECT_EQ(members(),
              "192.0.2.10 1 1 t1\n"
              "192.0.2.11 1 5 t1\n"
              "192.0.2.20 2 1 t2\n"
              "192.0.2.21 2 1 t1,t2\n");
    // Every member gets its admin-member-add event, as with single adds.
    EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE kind = 'admin-member-add' AND pool = 'web'"),
              4);
}

TEST_F(MemberBatch, SeveralValuesOnTheCommandLine) {
    ok({"member", "add", "web", "192.0.2.1", "192.0.2.2", "192.0.2.3", "--priority", "3"});
    EXPECT_EQ(members(),
              "192.0.2.1 3 1 -\n"
              "192.0.2.2 3 1 -\n"
              "192.0.2.3 3 1 -\n");
    // The single form is unchanged.
    CommandResult r = ok({"member", "add", "web", "192.0.2.4", "--probe", "t1"});
    EXPECT_EQ(r.out, "member 192.0.2.4 added to pool web (priority 1)\n");
}

TEST_F(MemberBatch, FromStdin) {
    // runCommand gives stdin /dev/null: an empty stdin is refused, not a silent no-op.
    refused({"member", "add", "web", "--from-file", "-"}, "- has no member lines");
    std::string file = dir_.writeFile("in.txt", "192.0.2.7 --weight 2\n192.0.2.8\n");
    CommandResult r = testsupport::runCommand(
        "/bin/sh", {"-c", std::string(DNSCTL_BIN) + " --db " + db_ +
                              " member add web --from-file - --probe t2 < " + file});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(members(), "192.0.2.7 1 2 t2\n192.0.2.8 1 1 t2\n");
    file = dir_.writeFile("in.txt", "192.0.2.9\n192.0.2.999\n");
    r = testsupport::runCommand("/bin/sh", {"-c", std::string(DNSCTL_BIN) + " --db " + db_ +
                                                      " member add web --from-file - < " + file});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find("stdin:2: '192.0.2.999' is not an IPv4 address"), std::string::npos)
        << r.err;
    EXPECT_EQ(members(), "192.0.2.7 1 2 t2\n192.0.2.8 1 1 t2\n");
}

TEST_F(MemberBatch, BadLineNamesFileAndLineAndAddsNothing) {
    ok({"member", "add", "web", "192.0.2.99"});
    std::string bad = dir_.file("bad.txt");
    auto write = [&](const std::string& text) { return dir_.writeFile("bad.txt", text); };
    write("192.0.2.10\n192.0.2.300\n192.0.2.12\n");
    refused({"member", "add", "web", "--from-file", bad}, bad + ":2: '192.0.2.300' is not");
    write("192.0.2.10\n# c\n192.0.2.11 --probe nosuch\n");
    refused({"member", "add", "web", "--from-file", bad}, bad + ":3: no probe named nosuch");
    write("192.0.2.10\n192.0.2.10\n");
    refused({"member", "add", "web", "--from-file", bad},
            bad + ":2: 192.0.2.10 is already a member of pool web");
    write("192.0.2.10\n192.0.2.99\n");
    refused({"member", "add", "web", "--from-file", bad},
            bad + ":2: 192.0.2.99 is already a member of pool web");
    write("192.0.2.10 --priority 0\n");
    refused({"member", "add", "web", "--from-file", bad}, bad + ":1: priority must be 1..1000");
    write("192.0.2.10\n192.0.2.11 --bogus 1\n");
    refused({"member", "add", "web", "--from-file", bad}, bad + ":2: unrecognised option");
    write("192.0.2.10 192.0.2.11\n");
    refused({"member", "add", "web", "--from-file", bad}, bad + ":1: one member per line");
    write("--priority 2\n");
    refused({"member", "add", "web", "--from-file", bad}, bad + ":1: a line must start with");
    write("192.0.2.10 --weight x\n");
    refused({"member", "add", "web", "--from-file", bad}, bad + ":1:");
    write("# nothing\n\n");
    refused({"member", "add", "web", "--from-file", bad}, "has no member lines");
    refused({"member", "add", "web", "--from-file", dir_.file("missing.txt")}, "cannot read");
    refused({"member", "add", "web", "192.0.2.10", "--from-file", bad}, "not both");
    refused({"member", "add", "web", "192.0.2.10", "192.0.2.99"},
            "value 2 of 2: 192.0.2.99 is already a member of pool web");
    write("192.0.2.10\n");
    refused({"member", "add", "nosuch", "--from-file", bad}, "no pool named nosuch");
    EXPECT_EQ(members(), "192.0.2.99 1 1 -\n");
}

TEST_F(MemberBatch, TenThousandMembersInOneQuickCommand) {
    std::ostringstream text;
    for (int i = 0; i < 10000; ++i) text << "10." << (i / 250) << "." << (i % 250) << ".1\n";
    std::string file = dir_.writeFile("many.txt", text.str());
    auto t0 = std::chrono::steady_clock::now();
    CommandResult r = ok({"member", "add", "web", "--from-file", file, "--probe", "t1"});
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.out, "10000 members added to pool web\n");
    EXPECT_EQ(count("SELECT COUNT(*) FROM members"), 10000);
    EXPECT_EQ(count("SELECT COUNT(*) FROM member_probes"), 10000);
    // Generous bound (ASan, a busy 2-core machine); one add per process took ~40 ms each.
    EXPECT_LT(took, std::chrono::seconds(30));
}

}  // namespace

namespace {

// `member drain` with a window: a window that is already over is refused (it would be stored
// and never drain anything); one that has begun or lies ahead is taken.
TEST_F(MemberBatch, DrainWindowInThePastIsRefused) {
    ok({"member", "add", "web", "192.0.2.1"});
    refused({"member", "drain", "web", "192.0.2.1", "--start", "@1000", "--end", "@2000"},
            "dnsctl member drain: the drain window ends 1970-01-01T00:33:20.000Z, which is in "
            "the past (now ");
    refused({"member", "drain", "web", "192.0.2.1", "--start", "2020-01-01T00:00Z", "--end",
             "2020-01-02T00:00Z"},
            "which is in the past");
    refused({"member", "drain", "web", "192.0.2.1", "--end", "@2000"}, "which is in the past");
    refused({"member", "drain", "web", "192.0.2.1", "--start", "+2h", "--end", "+1h"},
            "--end must be after the start of the window");
    EXPECT_EQ(count("SELECT drained FROM members WHERE value = '192.0.2.1'"), 0);

    ok({"member", "drain", "web", "192.0.2.1", "--start", "@1000", "--end", "+10m"});
    EXPECT_EQ(count("SELECT drained FROM members WHERE value = '192.0.2.1'"), 1);
    ok({"member", "drain", "web", "192.0.2.1", "--start", "+1h", "--end", "+2h"});
    EXPECT_GT(count("SELECT drain_start FROM members WHERE value = '192.0.2.1'"),
              count("SELECT max(at) FROM events"));
}

}  // namespace
