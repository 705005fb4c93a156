// Scenario tests for the real dnsctl binary: a real SQLite file in a temp dir, real zone files,
// and NSD's and Knot's own checkers on what `zone export` writes. Every failing command must
// exit non-zero with one clear line on stderr and leave the database byte-for-byte as it was.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/db_dump.hpp"

namespace {

using testsupport::CommandResult;

const std::string kExample = std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone";

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream s(text);
    for (std::string line; std::getline(s, line);) out.push_back(line);
    return out;
}

class DnsctlTest : public ::testing::Test {
  protected:
    void SetUp() override { db_ = dir_.file("dnsd.db"); }

    // dnsctl with --db (unless `withDb` is false) and a clean DNSD_DB.
    CommandResult dnsctl(std::vector<std::string> args, bool withDb = true,
                         std::vector<std::string> env = {"DNSD_DB="}) {
        if (withDb) args.insert(args.begin(), {"--db", db_});
        return testsupport::runCommand(DNSCTL_BIN, args, env);
    }
    CommandResult ok(std::vector<std::string> args) {
        CommandResult r = dnsctl(std::move(args));
        EXPECT_EQ(r.exitCode, 0) << r.command << "\nstderr: " << r.err;
        return r;
    }
    void initWithExample() {
        ok({"init"});
        ok({"zone", "import", kExample});
    }
    std::string dump() { return testsupport::dumpDatabase(db_); }

    // Runs a command that must fail: non-zero exit, one stderr line containing `expected`,
    // database unchanged.
    void expectFails(std::vector<std::string> args, const std::string& expected,
                     bool withDb = true) {
        bool exists = std::filesystem::exists(db_);
        std::string before = exists ? dump() : "";
        CommandResult r = dnsctl(args, withDb);
        EXPECT_NE(r.exitCode, 0) << r.command;
        EXPECT_NE(r.err.find(expected), std::string::npos)
            << r.command << "\nstderr: " << r.err << "\nexpected: " << expected;
        EXPECT_EQ(lines(r.err).size(), 1u) << "one clear message, got:\n" << r.err;
        EXPECT_EQ(std::filesystem::exists(db_), exists) << r.command;
        if (exists) EXPECT_EQ(dump(), before) << r.command << " changed the database";
    }

    int64_t generation(const std::string& zone) {
        SQLite::Database db(db_, SQLite::OPEN_READONLY);
        return db.execAndGet("SELECT generation FROM zones WHERE name = '" + zone + "'").getInt64();
    }
    std::string soa(const std::string& zone) {
        return ok({"record", "list", zone, "--type", "SOA"}).out;
    }

    testsupport::TempDir dir_{"dnsctl-test"};
    std::string db_;
};

TEST_F(DnsctlTest, InitImportListExport) {
    CommandResult r = ok({"init"});
    EXPECT_NE(r.out.find("ready"), std::string::npos);
    ok({"init"});  // idempotent
    r = ok({"zone", "import", kExample});
    EXPECT_EQ(r.out, "imported zone svc.example.com.: 26 records, serial 2024060101\n");

    r = ok({"zone", "list"});
    ASSERT_EQ(lines(r.out).size(), 2u) << r.out;
    EXPECT_NE(lines(r.out)[1].find("svc.example.com."), std::string::npos);
    EXPECT_NE(lines(r.out)[1].find(" 26 "), std::string::npos);
    EXPECT_NE(lines(r.out)[1].find("2024060101"), std::string::npos);
    r = ok({"zone", "list", "--json"});
    EXPECT_EQ(r.out.rfind("[{\"name\":\"svc.example.com.\",\"records\":26,\"serial\":2024060101,"
                          "\"generation\":" +
                              std::to_string(generation("svc.example.com.")) + ",",
                          0),
              0u)
        << r.out;

    r = ok({"record", "list", "svc.example.com", "--name", "www", "--type", "A"});
    EXPECT_EQ(r.out,
              "www.svc.example.com.\t60\tIN\tA\t192.0.2.10\n"
              "www.svc.example.com.\t60\tIN\tA\t192.0.2.11\n");
    r = ok({"record", "list", "svc.example.com.", "--name", "api", "--json"});
    EXPECT_EQ(r.out,
              "[{\"owner\":\"api.svc.example.com.\",\"ttl\":60,\"class\":\"IN\",\"type\":\"CNAME\","
              "\"rdata\":\"www.svc.example.com.\"}]\n");

    r = ok({"zone", "export", "svc.example.com"});
    std::string exported = dir_.file("export.zone");
    ok({"zone", "export", "svc.example.com", "-o", exported});
    EXPECT_EQ(readFile(exported), r.out);
    EXPECT_EQ(lines(r.out).size(), 28u);  // comment + $ORIGIN + 26 records
}

TEST_F(DnsctlTest, ExportLoadsInNsdAndKnotAndReimportsIdentically) {
    initWithExample();
    // Extra types that exercise the export format: unknown type, CAA, SSHFP, TXT escapes.
    ok({"record", "add", "svc.example.com", "odd 300 IN TYPE65534 \\# 4 0a0b0c0d"});
    ok({"record", "add", "svc.example.com", "@ 300 IN CAA 0 issue \"letsencrypt.org\""});
    ok({"record", "add", "svc.example.com",
        "txt 300 IN TXT \"semi;colon\" \"quote\\\"d\" \"\\255\""});
    ok({"record", "add", "svc.example.com",
        "host 300 IN SSHFP 1 1 dd465c09cfa51fb45020cc83316fff21b9ec74ac"});
    ok({"record", "add", "svc.example.com",
        "loc 300 IN LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"});
    ok({"record", "add", "svc.example.com", "svcb 300 IN SVCB 1 . alpn=h2"});
    // record list shows every type ldns knows in its own form.
    EXPECT_EQ(ok({"record", "list", "svc.example.com", "--name", "loc"}).out,
              "loc.svc.example.com.\t300\tIN\tLOC\t52 22 23.000 N 04 53 32.000 E -2m 0.00m 10000m "
              "10m\n");
    std::string exported = dir_.file("svc.zone");
    ok({"zone", "export", "svc.example.com", "-o", exported});

    std::string nsdCheck = testsupport::findProgram("nsd-checkzone");
    ASSERT_FALSE(nsdCheck.empty()) << "nsd-checkzone not installed (apt-get install nsd)";
    CommandResult nsd = testsupport::runCommand(nsdCheck, {"svc.example.com", exported});
    EXPECT_EQ(nsd.exitCode, 0) << nsd.out << nsd.err << "\n" << readFile(exported);

    std::string knotCheck = testsupport::findProgram("kzonecheck");
    ASSERT_FALSE(knotCheck.empty())
        << "kzonecheck not installed (apt-get install knot-dnssecutils)";
    CommandResult knot = testsupport::runCommand(knotCheck, {"-o", "svc.example.com.", exported});
    EXPECT_EQ(knot.exitCode, 0) << knot.out << knot.err << "\n" << readFile(exported);

    // Re-import into a second database: the same records, byte for byte.
    std::string before = ok({"record", "list", "svc.example.com"}).out;
    std::string other = dir_.file("other.db");
    ASSERT_EQ(testsupport::runCommand(DNSCTL_BIN, {"--db", other, "init"}).exitCode, 0);
    CommandResult imp =
        testsupport::runCommand(DNSCTL_BIN, {"--db", other, "zone", "import", exported});
    ASSERT_EQ(imp.exitCode, 0) << imp.err;
    CommandResult after =
        testsupport::runCommand(DNSCTL_BIN, {"--db", other, "record", "list", "svc.example.com"});
    EXPECT_EQ(after.out, before);
    // And --replace of the same zone from its own export changes nothing but the generation
    // and the serial: a replaced zone always moves its serial forward (the file's serial is
    // not ahead of the zone's), so secondaries refetch whatever the file changed.
    int64_t gen = generation("svc.example.com.");
    ok({"zone", "import", exported, "--replace"});
    std::string replaced = ok({"record", "list", "svc.example.com"}).out;
    auto withoutSoa = [](const std::string& list) { return list.substr(list.find('\n')); };
    EXPECT_EQ(withoutSoa(replaced), withoutSoa(before));
    EXPECT_NE(replaced.substr(0, replaced.find('\n')), before.substr(0, before.find('\n')));
    EXPECT_EQ(generation("svc.example.com."), gen + 1);
}

TEST_F(DnsctlTest, RecordChangesBumpSerialAndGeneration) {
    initWithExample();
    int64_t g0 = generation("svc.example.com.");
    CommandResult r = ok({"record", "add", "svc.example.com", "new 120 IN A 192.0.2.200"});
    EXPECT_EQ(r.out,
              "added new.svc.example.com.\t120\tIN\tA\t192.0.2.200 (serial now 2024060102)\n");
    EXPECT_EQ(generation("svc.example.com."), g0 + 1);
    // Separate words work as well as one quoted string; TTL defaults to the RRset's.
    r = ok({"record", "add", "svc.example.com", "new", "A", "192.0.2.201"});
    EXPECT_NE(r.out.find("\t120\tIN\tA\t192.0.2.201"), std::string::npos) << r.out;
    EXPECT_EQ(generation("svc.example.com."), g0 + 2);
    r = ok({"record", "delete", "svc.example.com", "new", "A", "192.0.2.200"});
    EXPECT_EQ(r.out, "deleted 1 record (serial now 2024060104)\n");
    r = ok({"record", "delete", "svc.example.com", "new.svc.example.com.", "a"});
    EXPECT_EQ(r.out, "deleted 1 record (serial now 2024060105)\n");
    EXPECT_EQ(generation("svc.example.com."), g0 + 4);
    EXPECT_NE(soa("svc.example.com").find(" 2024060105 "), std::string::npos);
    EXPECT_EQ(ok({"record", "list", "svc.example.com", "--name", "new"}).out, "");
}

TEST_F(DnsctlTest, ARecreatedZoneNeverRepeatsAnIdAndGeneration) {
    // dnsd caches zones by (id, generation). `zone delete` + `zone import` between two of its
    // polls must not look unchanged, although SQLite hands the deleted last id out again.
    ok({"init"});
    std::set<std::pair<int64_t, int64_t>> seen;
    auto idAndGeneration = [&] {
        SQLite::Database db(db_, SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT id, generation FROM zones");
        EXPECT_TRUE(q.executeStep());
        return std::make_pair(q.getColumn(0).getInt64(), q.getColumn(1).getInt64());
    };
    for (int round = 0; round < 3; ++round) {
        ok({"zone", "import", kExample});
        EXPECT_TRUE(seen.insert(idAndGeneration()).second) << round;
        ok({"record", "add", "svc.example.com", "r 60 IN A 192.0.2.1"});
        EXPECT_TRUE(seen.insert(idAndGeneration()).second) << round;
        ok({"zone", "delete", "svc.example.com"});
    }
    EXPECT_EQ(seen.size(), 6u);
}

TEST_F(DnsctlTest, DeleteZone) {
    initWithExample();
    EXPECT_EQ(ok({"zone", "delete", "svc.example.com"}).out, "deleted zone svc.example.com.\n");
    EXPECT_EQ(lines(ok({"zone", "list"}).out).size(), 1u);  // header only
    SQLite::Database db(db_, SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM records").getInt(), 0);
}

TEST_F(DnsctlTest, CheckValidatesWithoutTouchingAnyDatabase) {
    CommandResult r = dnsctl({"zone", "check", kExample});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.out, kExample + ": zone svc.example.com. OK, 26 records\n");
    EXPECT_FALSE(std::filesystem::exists(db_));

    std::string bad = dir_.writeFile("bad.zone",
                                     "$ORIGIN b.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n"
                                     "www CNAME x\nwww A 192.0.2.1\n");
    r = dnsctl({"zone", "check", bad});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find(bad + ":4: NS target ns.b.test. of b.test. is inside the zone but has no "
                               "A or AAAA record"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(bad + ":6: CNAME at www.b.test. (line 5) cannot coexist"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(db_));
}

TEST_F(DnsctlTest, DatabaseFromEnvironment) {
    CommandResult r = dnsctl({"init"}, false, {"DNSD_DB=" + db_});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_TRUE(std::filesystem::exists(db_));
    r = dnsctl({"zone", "list"}, false, {"DNSD_DB=" + db_});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    // --db wins over DNSD_DB, and may come after the command.
    r = dnsctl({"zone", "list", "--db", db_}, false, {"DNSD_DB=/nonexistent/x.db"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
}

TEST_F(DnsctlTest, HelpOnEveryCommand) {
    for (std::vector<std::string> cmd : {std::vector<std::string>{"init"},
                                         {"zone", "import"},
                                         {"zone", "export"},
                                         {"zone", "list"},
                                         {"zone", "delete"},
                                         {"zone", "check"},
                                         {"record", "add"},
                                         {"record", "delete"},
                                         {"record", "list"}}) {
        cmd.push_back("--help");
        CommandResult r = dnsctl(cmd, false);
        EXPECT_EQ(r.exitCode, 0) << r.command << r.err;
        EXPECT_EQ(r.out.rfind("usage: dnsctl ", 0), 0u) << r.command << r.out;
    }
    CommandResult r = dnsctl({"--help"}, false);
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_NE(r.out.find("zone import"), std::string::npos);
    EXPECT_NE(r.out.find("record add"), std::string::npos);
}

TEST_F(DnsctlTest, BadArgumentsChangeNothing) {
    initWithExample();
    expectFails({"frobnicate"}, "dnsctl: unknown command 'frobnicate'");
    expectFails({"zone", "frobnicate"}, "unknown command 'zone frobnicate'");
    expectFails({"zone", "import"},
                "dnsctl zone import: missing argument FILE (usage: dnsctl zone import FILE");
    expectFails({"zone", "import", kExample, "--bogus"}, "unrecognised option '--bogus'");
    expectFails({"zone", "import", kExample, "extra"}, "dnsctl zone import: too many positional");
    expectFails({"zone", "export", "bad..name"}, "bad zone name 'bad..name'");
    expectFails({"record", "add", "svc.example.com"}, "dnsctl record add: missing argument RECORD");
    expectFails({"record", "delete", "svc.example.com", "www", "NOTATYPE"},
                "unknown RR type 'NOTATYPE'");
    expectFails({"record", "list", "svc.example.com", "--type"}, "dnsctl record list: ");
    expectFails({"--busy-timeout", "soon", "zone", "list"}, "--busy-timeout wants milliseconds");
    // RDATA may begin with '-': record add/delete take no options besides --help.
    CommandResult r =
        ok({"record", "add", "svc.example.com", "loc", "300", "IN", "LOC", "52", "22", "23.000",
            "N", "4", "53", "32.000", "E", "-2.00m", "0.00m", "10000m", "10m"});
    EXPECT_NE(r.out.find("\tLOC\t52 22 23.000 N 04 53 32.000 E -2m "), std::string::npos) << r.out;
}

TEST_F(DnsctlTest, BadZoneFilesChangeNothing) {
    initWithExample();
    std::string syntax = dir_.writeFile("syntax.zone",
                                        "$ORIGIN s.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n"
                                        "@ NS ns\nns A 192.0.2.300\n");
    expectFails({"zone", "import", syntax}, syntax + ":5: bad A record for ns.s.test.: ");
    std::string cname = dir_.writeFile("cname.zone",
                                       "$ORIGIN c.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n"
                                       "@ NS ns\nns A 192.0.2.1\nwww CNAME ns\nwww MX 10 ns\n");
    expectFails({"zone", "import", cname},
                cname + ":7: CNAME at www.c.test. (line 6) cannot coexist");
    std::string outside =
        dir_.writeFile("outside.zone",
                       "$ORIGIN o.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n"
                       "@ NS ns\nns A 192.0.2.1\nwww.elsewhere.test. A 192.0.2.1\n");
    expectFails({"zone", "import", outside},
                outside + ":6: www.elsewhere.test. A is outside the zone o.test.");
    std::string glue = dir_.writeFile("glue.zone",
                                      "$ORIGIN g.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n"
                                      "@ NS ns.other.test.\nsub NS ns.sub\n");
    expectFails({"zone", "import", glue}, glue +
                                              ":5: NS target ns.sub.g.test. of sub.g.test. is "
                                              "inside the zone but has no A or AAAA record (glue)");
    std::string twoSoa = dir_.writeFile("soa.zone",
                                        "$ORIGIN t.test.\n$TTL 60\n@ SOA ns.x. hm 1 2 3 4 5\n"
                                        "@ NS ns.x.\n@ SOA ns.x. hm 2 2 3 4 5\n");
    expectFails({"zone", "import", twoSoa}, twoSoa + ":5: second SOA record at the apex t.test.");
    std::string noNs =
        dir_.writeFile("nons.zone", "$ORIGIN n.test.\n$TTL 60\n@ SOA ns.x. hm 1 2 3 4 5\n");
    expectFails({"zone", "import", noNs}, noNs + ": no NS records at the apex n.test.");
    std::string chaos =
        dir_.writeFile("ch.zone", "$ORIGIN h.test.\n$TTL 60\n@ CH SOA ns.x. hm 1 2 3 4 5\n");
    expectFails({"zone", "import", chaos}, chaos + ":3: class CH is not supported (only IN)");
    expectFails({"zone", "import", dir_.file("missing.zone")}, "missing.zone: cannot open");
    // The zone already exists; and a bad file with --replace must not touch it either.
    expectFails({"zone", "import", kExample}, "zone svc.example.com. already exists");
    expectFails({"zone", "import", syntax, "--zone", "svc.example.com", "--replace"},
                syntax + ":5: ");
    std::string wrong = dir_.writeFile(
        "wrong.zone", readFile(kExample) + "extra 60 A 192.0.2.1\nwww 60 CNAME api\n");
    expectFails({"zone", "import", wrong, "--replace"},
                wrong + ":54: CNAME at www.svc.example.com.");
}

// A file with three bad lines: one run of `zone check` or `zone import` names all three, each
// as FILE:LINE: message, then how many there were; import writes nothing.
TEST_F(DnsctlTest, EveryBadLineOfAFileInOneRun) {
    std::string bad = dir_.writeFile("three.zone",
                                     "$ORIGIN b.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n"
                                     "@ NS ns\nns A 192.0.2.1\n"
                                     "a A 192.0.2.300\n"     // 6: bad address
                                     "b 1h30 A 192.0.2.2\n"  // 7: bad TTL
                                     "c A 192.0.2.3\n"
                                     "d TXT \"unclosed\n"  // 9: quote not closed
                                     "e A 192.0.2.5\n");
    const std::vector<std::string> expected = {
        bad + ":6: bad A record for a.b.test.: ",
        bad + ":7: bad TTL '1h30'",
        bad + ":9: quoted string not closed on its line",
        "dnsctl: " + bad + ": 3 problems",
    };
    auto check = [&](const CommandResult& r) {
        EXPECT_EQ(r.exitCode, 1) << r.command;
        auto got = lines(r.err);
        ASSERT_EQ(got.size(), expected.size()) << r.err;
        for (size_t i = 0; i < got.size(); ++i)
            EXPECT_EQ(got[i].rfind(expected[i], 0), 0u)
                << "line " << i << ": " << got[i] << "\nexpected start: " << expected[i];
    };
    check(dnsctl({"zone", "check", bad}));
    EXPECT_FALSE(std::filesystem::exists(db_));

    initWithExample();
    std::string before = dump();
    check(dnsctl({"zone", "import", bad}));
    check(dnsctl({"zone", "import", bad, "--zone", "svc.example.com", "--replace"}));
    EXPECT_EQ(dump(), before) << "a bad file changed the database";

    // Fixed syntax, broken zone rules: every rule problem, also in one run.
    std::string rules = dir_.writeFile("rules.zone",
                                       "$ORIGIN r.test.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n"
                                       "@ NS ns\nns A 192.0.2.1\nwww CNAME ns\nwww A 192.0.2.2\n"
                                       "out.example. A 192.0.2.3\n");
    CommandResult r = dnsctl({"zone", "import", rules});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find(rules + ":7: CNAME at www.r.test. (line 6) cannot coexist"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(rules + ":8: out.example. A is outside the zone r.test."),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("dnsctl: " + rules + ": 2 problems\n"), std::string::npos) << r.err;
    EXPECT_EQ(dump(), before);
}

TEST_F(DnsctlTest, BadRecordChangesChangeNothing) {
    initWithExample();
    expectFails({"record", "add", "svc.example.com", "www 60 IN A 192.0.2"},
                "bad record \"www 60 IN A 192.0.2\": bad A record for www.svc.example.com.");
    expectFails({"record", "add", "svc.example.com", "api 60 IN A 192.0.2.1"},
                "CNAME at api.svc.example.com. cannot coexist with other data: A");
    expectFails({"record", "add", "svc.example.com", "www 60 IN A 192.0.2.10"},
                "record already exists in zone svc.example.com.");
    expectFails({"record", "add", "svc.example.com", "www 300 IN A 192.0.2.12"},
                "TTL 300 differs from TTL 60 of the www.svc.example.com. A RRset");
    expectFails({"record", "add", "svc.example.com", "x.example.net. 60 IN A 192.0.2.1"},
                "x.example.net. A is outside the zone svc.example.com.");
    expectFails({"record", "add", "svc.example.com", "w 60 CH A 192.0.2.1"},
                "class CH is not supported (only IN)");
    expectFails({"record", "add", "nozone.test", "a 60 IN A 192.0.2.1"},
                "zone nozone.test. does not exist");
    expectFails({"record", "delete", "svc.example.com", "@", "SOA"},
                "the SOA record cannot be deleted");
    expectFails({"record", "delete", "svc.example.com", "nothere", "A"},
                "no nothere.svc.example.com. A record in zone svc.example.com.");
    expectFails({"record", "delete", "svc.example.com", "www", "A", "192.0.2.99"},
                "no www.svc.example.com. A record with that RDATA");
    expectFails({"record", "delete", "svc.example.com", "ns1.sub", "A"},
                "NS target ns1.sub.svc.example.com. of sub.svc.example.com. is inside the zone but "
                "has no A or AAAA record (glue)");
    expectFails({"record", "delete", "svc.example.com", "www", "A", "1.2.3"},
                "bad RDATA \"1.2.3\"");
    expectFails({"zone", "delete", "nozone.test"}, "zone nozone.test. does not exist");
    expectFails({"zone", "export", "nozone.test"}, "zone nozone.test. does not exist");
    expectFails({"record", "list", "nozone.test"}, "zone nozone.test. does not exist");
}

TEST_F(DnsctlTest, MissingDatabaseIsNotCreated) {
    expectFails({"zone", "import", kExample}, "does not exist (create it with: dnsctl --db");
    expectFails({"zone", "list"}, "no database given: pass --db PATH or set DNSD_DB", false);
    std::string garbage =
        dir_.writeFile("garbage.db", "this is not a database at all, not even close");
    CommandResult r = testsupport::runCommand(DNSCTL_BIN, {"--db", garbage, "zone", "list"});
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.err.find(garbage), std::string::npos) << r.err;
    EXPECT_EQ(readFile(garbage), "this is not a database at all, not even close");
}

TEST_F(DnsctlTest, LockedDatabaseIsAClearErrorAndChangesNothing) {
    initWithExample();
    std::string before = dump();
    {
        SQLite::Database holder(db_, SQLite::OPEN_READWRITE);
        holder.exec("BEGIN IMMEDIATE");  // another writer holds the write lock
        for (std::vector<std::string> cmd :
             {std::vector<std::string>{"zone", "delete", "svc.example.com"},
              {"record", "add", "svc.example.com", "z 60 IN A 192.0.2.1"},
              {"zone", "import", kExample, "--replace"}}) {
            cmd.insert(cmd.begin(), {"--busy-timeout", "200"});
            CommandResult r = dnsctl(cmd);
            EXPECT_EQ(r.exitCode, 1) << r.command;
            EXPECT_NE(r.err.find("is locked by another writer"), std::string::npos) << r.err;
            EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
        }
        // Readers are not blocked by a writer (WAL).
        EXPECT_EQ(dnsctl({"zone", "list"}).exitCode, 0);
        holder.exec("ROLLBACK");
    }
    EXPECT_EQ(dump(), before);
}

}  // namespace
