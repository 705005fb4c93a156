// dnsctl as a user who may read the database but not write it (file and directory read-only,
// e.g. an operator in the daemons' group): the commands that only read work and write nothing,
// not even the WAL side files; the commands that write fail with one clear line. The tests run
// as root, so they drop to `nobody` with setpriv for each command (root would write anyway).
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/db_dump.hpp"
#include "zones/schema.hpp"

namespace {

using testsupport::CommandResult;
namespace fs = std::filesystem;

const std::string kExample = std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone";

std::vector<std::string> listDir(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
}

class ReadOnly : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to run commands as another user";
        if (!::getpwnam("nobody")) GTEST_SKIP() << "no user 'nobody'";
        if (testsupport::findProgram("setpriv").empty()) GTEST_SKIP() << "no setpriv";
        // TempDir is 0700: let `nobody` through to the data directory.
        fs::permissions(dir_.path(), fs::perms(0755));
        data_ = dir_.file("data");
        fs::create_directory(data_);
        db_ = data_ + "/dnsd.db";
        asRoot({"init"});
        asRoot({"zone", "import", kExample});
        asRoot({"probe", "add", "web-tcp", "--type", "tcp", "--port", "443"});
        asRoot(
            {"pool", "create", "web", "--zone", "svc.example.com", "--name", "app", "--type", "A"});
        asRoot({"member", "add", "web", "192.0.2.10", "--probe", "web-tcp"});
    }
    void makeReadOnly() {
        fs::permissions(db_, fs::perms(0444));
        fs::permissions(data_, fs::perms(0555));
    }
    void TearDown() override {
        if (!data_.empty()) fs::permissions(data_, fs::perms(0755));  // so TempDir can clean up
    }

    CommandResult asRoot(std::vector<std::string> args) {
        args.insert(args.begin(), {"--db", db_});
        CommandResult r = testsupport::runCommand(DNSCTL_BIN, args, {"DNSD_DB="});
        EXPECT_EQ(r.exitCode, 0) << r.command << "\n" << r.err;
        return r;
    }
    CommandResult asNobody(const std::vector<std::string>& args) {
        std::vector<std::string> argv = {
            "--reuid=nobody", "--regid=nogroup", "--clear-groups", DNSCTL_BIN, "--db", db_};
        argv.insert(argv.end(), args.begin(), args.end());
        return testsupport::runCommand("setpriv", argv, {"DNSD_DB="});
    }

    testsupport::TempDir dir_{"dnsctl-readonly"};
    std::string data_, db_;
};

TEST_F(ReadOnly, ReadCommandsWorkAndWriteNothing) {
    makeReadOnly();
    std::string before = testsupport::dumpDatabase(db_);
    auto files = listDir(data_);
    struct Case {
        std::vector<std::string> args;
        std::string expected;  // in stdout
    };
    const std::vector<Case> cases = {
        {{"zone", "list"}, "svc.example.com."},
        {{"zone", "list", "--json"}, "\"name\":\"svc.example.com.\""},
        {{"zone", "export", "svc.example.com"}, "; zone svc.example.com., 26 records"},
        {{"record", "list", "svc.example.com", "--name", "www", "--type", "A"}, "192.0.2.11"},
        {{"pool", "list"}, "web  app.svc.example.com. A  1 member(s)"},
        {{"pool", "show", "web"}, "192.0.2.10"},
        {{"probe", "list"}, "web-tcp  tcp"},
        {{"probe", "list", "--json"}, "\"name\":\"web-tcp\""},
        {{"status"}, "192.0.2.10"},
        {{"events"}, "admin-member-add"},
        {{"events", "--json"}, "\"kind\":\"admin-member-add\""},
        {{"tsig", "list"}, ""},
        {{"secondary", "list"}, ""},
        {{"vantage", "list"}, "no vantages"},
        {{"vantage", "list", "--json"}, "[]"},
        {{"update-policy", "list"}, ""},
        {{"update-policy", "list", "--json"}, "[]"},
    };
    for (const auto& c : cases) {
        CommandResult r = asNobody(c.args);
        EXPECT_EQ(r.exitCode, 0) << r.command << "\nstderr: " << r.err;
        EXPECT_NE(r.out.find(c.expected), std::string::npos)
            << r.command << "\nstdout: " << r.out << "\nexpected: " << c.expected;
    }
    EXPECT_EQ(listDir(data_), files) << "a read-only command left files behind";
    EXPECT_EQ(testsupport::dumpDatabase(db_), before);
}

TEST_F(ReadOnly, WriteCommandsFailWithOneClearLine) {
    makeReadOnly();
    std::string before = testsupport::dumpDatabase(db_);
    for (std::vector<std::string> args : {
             std::vector<std::string>{"record", "add", "svc.example.com", "ro 60 IN A 192.0.2.7"},
             {"zone", "import", kExample, "--replace"},
             {"zone", "delete", "svc.example.com"},
             {"member", "drain", "web", "192.0.2.10"},
             {"pool", "set", "web", "--ttl", "20"},
             {"probe", "delete", "web-tcp"},
             {"vantage", "add", "fra"},
             {"update-policy", "add", "svc.example.com", "--key", "k"},
             {"init"},
         }) {
        CommandResult r = asNobody(args);
        EXPECT_EQ(r.exitCode, 1) << r.command << "\nstderr: " << r.err;
        EXPECT_EQ(r.err, "dnsctl: database " + db_ +
                             " is read-only for this process (writing needs write access to the "
                             "file and its directory, on a writable file system; commands that "
                             "only read work without it)\n")
            << r.command;
    }
    EXPECT_EQ(testsupport::dumpDatabase(db_), before);
}

// With a writer running, the -wal file holds changes not yet in the database file: a reader
// must see them (it must not fall back to reading the file alone).
TEST_F(ReadOnly, ReadersSeeWhatARunningWriterCommitted) {
    SQLite::Database writer(db_, SQLite::OPEN_READWRITE);  // stands for a running daemon
    writer.exec("PRAGMA wal_autocheckpoint = 0");
    // Reading keeps it in the WAL (and the -wal file alive) until it closes.
    EXPECT_EQ(writer.execAndGet("SELECT count(*) FROM zones").getInt(), 1);
    asRoot({"record", "add", "svc.example.com", "fresh 60 IN A 192.0.2.77"});
    ASSERT_TRUE(fs::exists(db_ + "-wal"));
    makeReadOnly();
    fs::permissions(db_ + "-wal", fs::perms(0444));
    fs::permissions(db_ + "-shm", fs::perms(0444));
    CommandResult r = asNobody({"record", "list", "svc.example.com", "--name", "fresh"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("192.0.2.77"), std::string::npos) << r.out;
}

// Reading never migrates: an older schema is a clear message saying what to run.
TEST_F(ReadOnly, OlderSchemaSaysHowToMigrate) {
    std::string older = std::to_string(zones::schemaVersion() - 1);
    {
        SQLite::Database db(db_, SQLite::OPEN_READWRITE);
        db.exec("PRAGMA user_version = " + older);
    }
    makeReadOnly();
    CommandResult r = asNobody({"zone", "list"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_EQ(r.err, "dnsctl: database " + db_ + ": schema version " + older +
                         " is older than this binary's (" + std::to_string(zones::schemaVersion()) +
                         "), and reading does not migrate it: run `dnsctl --db " + db_ +
                         " init` (or any write command) as a user who may write the database\n");
    EXPECT_EQ(asNobody({"status"}).exitCode, 1);
    {
        SQLite::Database db(db_, SQLite::OPEN_READWRITE);  // root: permissions do not stop it
        db.exec("PRAGMA user_version = " + std::to_string(zones::schemaVersion()));
    }
    EXPECT_EQ(asNobody({"zone", "list"}).exitCode, 0);
}

}  // namespace
