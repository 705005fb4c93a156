// `dnsctl dnssec ...` with the real binary and a real database: keys made and stored with the
// promised permissions, the DS agreeing with ldns-key2ds, status, the safe order of going
// insecure, rolls and ds-seen, and every bad argument refused with one clear line, exit != 0,
// the database and the key directory unchanged.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/nsd_server.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/db_dump.hpp"
#include "zones/dnssec_key_store.hpp"
#include "zones/dnssec_maintenance.hpp"
#include "zones/schema.hpp"

namespace {

namespace fs = std::filesystem;
using testsupport::DnsctlResult;

const std::string kExample = std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone";
const std::string kZone = "svc.example.com.";

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream s(text);
    for (std::string line; std::getline(s, line);) out.push_back(line);
    return out;
}

std::vector<std::string> words(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream s(line);
    for (std::string w; s >> w;) out.push_back(w);
    return out;
}

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

class DnssecKeysCli : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = dir_.file("dnsd.db");
        testsupport::createDatabase(db_, {kExample});
    }
    DnsctlResult dnsctl(std::vector<std::string> args) { return testsupport::runDnsctl(db_, args); }
    DnsctlResult ok(std::vector<std::string> args) {
        DnsctlResult r = dnsctl(std::move(args));
        EXPECT_EQ(r.exitCode, 0) << r.command << "\nstderr: " << r.err << "\nstdout: " << r.out;
        return r;
    }
    std::string keyDir() const { return zones::keyDirectory(db_); }
    std::vector<std::string> keyFiles() const {
        std::vector<std::string> out;
        if (!fs::exists(keyDir())) return out;
        for (const auto& e : fs::directory_iterator(keyDir())) out.push_back(e.path().string());
        std::sort(out.begin(), out.end());
        return out;
    }
    // Fails: exit != 0, one stderr line containing `expected`, database and key files as they
    // were.
    void expectFails(std::vector<std::string> args, const std::string& expected) {
        std::string before = testsupport::dumpDatabase(db_);
        auto files = keyFiles();
        DnsctlResult r = dnsctl(args);
        EXPECT_NE(r.exitCode, 0) << r.command;
        EXPECT_NE(r.err.find(expected), std::string::npos)
            << r.command << "\nstderr: " << r.err << "\nexpected: " << expected;
        EXPECT_EQ(lines(r.err).size(), 1u) << "one clear message, got:\n" << r.err;
        EXPECT_EQ(testsupport::dumpDatabase(db_), before) << r.command << " changed the database";
        EXPECT_EQ(keyFiles(), files) << r.command << " changed the key files";
    }
    uint32_t serial() {
        SQLite::Database db(db_, SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT rdata FROM records WHERE type = 6");
        q.executeStep();
        auto* p = static_cast<const uint8_t*>(q.getColumn(0).getBlob());
        size_t at = size_t(q.getColumn(0).getBytes()) - 20;
        return uint32_t(p[at]) << 24 | uint32_t(p[at + 1]) << 16 | uint32_t(p[at + 2]) << 8 |
               p[at + 3];
    }
    int64_t count(const std::string& sql) {
        SQLite::Database db(db_, SQLite::OPEN_READONLY);
        return db.execAndGet(sql).getInt64();
    }
    std::map<int64_t, zones::ZoneDnssec> load() {
        auto db = zones::openDatabase(db_, zones::OpenMode::ReadOnly);
        return zones::loadZoneDnssec(*db, db_);
    }
    nlohmann::json status() {
        DnsctlResult r = ok({"dnssec", "status", kZone, "--json"});
        return nlohmann::json::parse(r.out);
    }

    testsupport::TempDir dir_;
    std::string db_;
};

TEST_F(DnssecKeysCli, EnableMakesKeysOnlyTheOwnerCanRead) {
    uint32_t before = serial();
    DnsctlResult r = ok({"dnssec", "enable", kZone});
    EXPECT_NE(r.out.find("signed zone svc.example.com. with ECDSAP256SHA256"), std::string::npos)
        << r.out;
    EXPECT_EQ(serial(), before + 1) << "what the zone serves changed";
    EXPECT_EQ(count("SELECT count(*) FROM events WHERE kind = 'dnssec-enable'"), 1);
    struct stat st;
    ASSERT_EQ(::stat(keyDir().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    auto files = keyFiles();
    ASSERT_EQ(files.size(), 2u);
    for (const auto& f : files) {
        ASSERT_EQ(::stat(f.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
    }
    // The API the signer reads: one KSK (SEP, in CDS) and one ZSK, both signing.
    auto all = load();
    ASSERT_EQ(all.size(), 1u);
    const zones::ZoneDnssec& z = all.begin()->second;
    EXPECT_TRUE(z.enabled);
    EXPECT_FALSE(z.unsigning);
    EXPECT_EQ(z.dnskeyTtl, 3600u);
    EXPECT_EQ(z.sigValidity, 14u * 86400);
    EXPECT_EQ(z.sigRefresh, 7u * 86400);
    ASSERT_EQ(z.keys.size(), 2u);
    EXPECT_TRUE(z.keys[0].ksk);
    EXPECT_TRUE(z.keys[0].cds);
    EXPECT_FALSE(z.keys[1].ksk);
    EXPECT_FALSE(z.keys[1].cds);
    for (const auto& k : z.keys) {
        EXPECT_TRUE(k.publish && k.sign);
        EXPECT_EQ(k.algorithm, 13);
        EXPECT_EQ(k.publicKey.size(), 64u);
        EXPECT_TRUE(std::find(files.begin(), files.end(), k.privatePath) != files.end())
            << k.privatePath;
    }
    // Checked by status (this user owns the files): all fine.
    nlohmann::json s = status();
    EXPECT_EQ(s["state"], "signed");
    EXPECT_EQ(s["key_files_checked"], true);
    EXPECT_TRUE(s["key_file_problems"].empty());
    EXPECT_EQ(s["keys"].size(), 2u);
    EXPECT_EQ(s["next"]["kind"], "dnssec-refresh");
    EXPECT_EQ(s["waiting_for"].size(), 1u) << "the DS is not confirmed yet";
    // The next refresh and the next roll, with the pre-publish lead: 90 d - (1 h + 1 h).
    ASSERT_EQ(s["schedule"].size(), 2u);
    EXPECT_EQ(s["schedule"][1]["kind"], "dnssec-zsk-publish");
    EXPECT_EQ(s["schedule"][1]["at"].get<int64_t>() - s["keys"][1]["active_at"].get<int64_t>(),
              (90 * 86400 - 7200) * int64_t(1000));
}

TEST_F(DnssecKeysCli, RootWritesKeysForTheDatabaseOwner) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (the case is root acting for dnsd's user)";
    // The database belongs to another user (as /var/lib/dnsd/dnsd.db belongs to dnsd).
    const uid_t uid = 65534;
    const gid_t gid = 65534;
    ASSERT_EQ(::chown(db_.c_str(), uid, gid), 0);
    ok({"dnssec", "enable", kZone});
    struct stat st;
    ASSERT_EQ(::stat(keyDir().c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, uid) << "the key directory goes to the database owner";
    for (const auto& f : keyFiles()) {
        ASSERT_EQ(::stat(f.c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, uid) << f;
        EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
    }
}

TEST_F(DnssecKeysCli, DsMatchesLdnsKey2ds) {
    std::string key2ds = testsupport::findProgram("ldns-key2ds");
    ASSERT_FALSE(key2ds.empty()) << "ldns-key2ds (Debian ldnsutils) is needed";
    for (const std::string alg : {"ecdsap256sha256", "ed25519"}) {
        SCOPED_TRACE(alg);
        if (alg == "ed25519") ok({"dnssec", "disable", kZone, "--force"});
        ok({"dnssec", "enable", kZone, "--algorithm", alg});
        DnsctlResult ds = ok({"dnssec", "ds", kZone});
        std::string dsLine, dnskeyLine;
        for (const auto& l : lines(ds.out)) {
            if (l.find(" IN DS ") != std::string::npos) dsLine = l;
            if (l.find(" IN DNSKEY ") != std::string::npos) dnskeyLine = l;
        }
        ASSERT_FALSE(dsLine.empty()) << ds.out;
        ASSERT_FALSE(dnskeyLine.empty()) << ds.out;
        // The DNSKEY line as a key file for the real tool, and the DNSKEY built from the table.
        auto z = load().begin()->second;
        EXPECT_NE(dnskeyLine.find(std::to_string(z.keys[0].ksk ? 257 : 256)), std::string::npos);
        std::string keyFile = dir_.writeFile("k.key", dnskeyLine + "\n");
        auto tool = testsupport::runCommand(key2ds, {"-n", "-2", keyFile});
        ASSERT_TRUE(tool.ok()) << tool.command << ": " << tool.err;
        auto ours = words(dsLine), theirs = words(tool.out);
        ASSERT_EQ(ours.size(), 8u) << dsLine;
        ASSERT_EQ(theirs.size(), 8u) << tool.out;
        EXPECT_EQ(lower(ours[0]), lower(theirs[0]));
        for (int i = 4; i < 8; ++i) EXPECT_EQ(lower(ours[i]), lower(theirs[i])) << i;
        EXPECT_EQ(ours[4], std::to_string(z.keys[0].tag));
        EXPECT_EQ(ours[5], alg == "ed25519" ? "15" : "13");
        EXPECT_EQ(ours[6], "2") << "SHA-256";
    }
}

TEST_F(DnssecKeysCli, StatusNamesAMissingOrWrongKeyFile) {
    ok({"dnssec", "enable", kZone});
    auto z = load().begin()->second;
    std::string zsk = z.keys[1].privatePath, ksk = z.keys[0].privatePath;
    // Another key in the ZSK's file.
    fs::copy_file(ksk, zsk, fs::copy_options::overwrite_existing);
    DnsctlResult r = dnsctl({"dnssec", "status", kZone});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
    EXPECT_NE(r.err.find("ZSK " + std::to_string(z.keys[1].tag)), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("another key"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("PROBLEM"), std::string::npos) << "the report still shows";
    fs::remove(zsk);
    r = dnsctl({"dnssec", "status", kZone, "--json"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find(zsk + " cannot be read: No such file"), std::string::npos) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_TRUE(j["keys"][0]["file_problem"].is_null());
    EXPECT_FALSE(j["keys"][1]["file_problem"].is_null());
}

TEST_F(DnssecKeysCli, DisableInTheSafeOrder) {
    ok({"dnssec", "enable", kZone});
    auto files = keyFiles();
    uint32_t s0 = serial();
    // Step 1: CDS/CDNSKEY delete, still signed, keys kept.
    DnsctlResult r = ok({"dnssec", "disable", kZone});
    EXPECT_NE(r.out.find("--ds-removed"), std::string::npos) << r.out;
    EXPECT_EQ(serial(), s0 + 1);
    auto z = load();
    ASSERT_EQ(z.size(), 1u);
    EXPECT_TRUE(z.begin()->second.unsigning);
    EXPECT_EQ(keyFiles(), files);
    expectFails({"dnssec", "ds", kZone}, "going insecure");
    expectFails({"dnssec", "roll", kZone, "zsk"}, "going insecure");
    // Again: says the same, changes nothing.
    std::string before = testsupport::dumpDatabase(db_);
    r = ok({"dnssec", "disable", kZone});
    EXPECT_NE(r.out.find("already"), std::string::npos) << r.out;
    EXPECT_EQ(testsupport::dumpDatabase(db_), before);
    // Step 2: the DS is gone at the parent; dnsd finishes after DS TTL + propagation delay.
    r = ok({"dnssec", "disable", kZone, "--ds-removed"});
    EXPECT_NE(r.out.find("goes unsigned at"), std::string::npos) << r.out;
    expectFails({"dnssec", "disable", kZone, "--ds-removed"}, "recorded at");
    auto status = this->status();
    ASSERT_FALSE(status["ds_removed_at"].is_null());
    int64_t removed = status["ds_removed_at"];
    EXPECT_EQ(status["next"]["kind"], "dnssec-unsigned");
    EXPECT_EQ(status["next"]["at"], removed + (86400 + 3600) * 1000);
    {
        auto db = zones::openDatabase(db_, zones::OpenMode::ReadWrite);
        auto early = zones::DnssecMaintenance::run(*db, db_, removed + (86400 + 3600) * 1000 - 1);
        EXPECT_TRUE(early.steps.empty());
        auto done = zones::DnssecMaintenance::run(*db, db_, removed + (86400 + 3600) * 1000);
        ASSERT_EQ(done.steps.size(), 1u);
        EXPECT_EQ(done.steps[0].step.kind, zones::DnssecStepKind::FinishUnsigning);
    }
    EXPECT_TRUE(load().empty());
    EXPECT_TRUE(keyFiles().empty()) << "the keys are deleted";
    EXPECT_EQ(count("SELECT count(*) FROM dnssec_keys"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM events WHERE kind = 'dnssec-unsigned'"), 1);
    expectFails({"dnssec", "status", kZone}, "is not signed");
}

TEST_F(DnssecKeysCli, ReEnableWithdrawsGoingInsecure) {
    ok({"dnssec", "enable", kZone});
    ok({"dnssec", "disable", kZone});
    auto files = keyFiles();
    DnsctlResult r = ok({"dnssec", "enable", kZone});
    EXPECT_NE(r.out.find("stays signed"), std::string::npos) << r.out;
    EXPECT_FALSE(load().begin()->second.unsigning);
    EXPECT_EQ(keyFiles(), files) << "the same keys";
}

TEST_F(DnssecKeysCli, ForceDisableDeletesAtOnce) {
    ok({"dnssec", "enable", kZone});
    uint32_t s0 = serial();
    ok({"dnssec", "disable", kZone, "--force"});
    EXPECT_EQ(serial(), s0 + 1);
    EXPECT_TRUE(load().empty());
    EXPECT_TRUE(keyFiles().empty());
}

TEST_F(DnssecKeysCli, KskRollThenDsSeen) {
    ok({"dnssec", "enable", kZone});
    ok({"dnssec", "ds-seen", kZone});  // the first DS confirmed
    expectFails({"dnssec", "ds-seen", kZone}, "nothing in svc.example.com. waits");
    auto old = load().begin()->second.keys[0];
    DnsctlResult r = ok({"dnssec", "roll", kZone, "ksk"});
    EXPECT_NE(r.out.find("then run `dnsctl dnssec ds-seen"), std::string::npos) << r.out;
    expectFails({"dnssec", "roll", kZone, "ksk"}, "already under way");
    auto z = load().begin()->second;
    ASSERT_EQ(z.keys.size(), 3u);
    // KSKs first: the old one (still signing DNSKEY, out of CDS), the new one (in CDS).
    EXPECT_EQ(z.keys[0].tag, old.tag);
    EXPECT_TRUE(z.keys[0].sign);
    EXPECT_FALSE(z.keys[0].cds);
    EXPECT_TRUE(z.keys[1].ksk && z.keys[1].sign && z.keys[1].cds);
    EXPECT_EQ(keyFiles().size(), 3u);
    // ds names the new KSK only.
    DnsctlResult ds = ok({"dnssec", "ds", kZone});
    EXPECT_NE(ds.out.find(" IN DS " + std::to_string(z.keys[1].tag) + " "), std::string::npos)
        << ds.out;
    EXPECT_EQ(ds.out.find(" IN DS " + std::to_string(old.tag) + " "), std::string::npos) << ds.out;
    EXPECT_NE(ds.out.find("hand over from"), std::string::npos) << "not in caches yet";
    // ds-seen now is early (the new DNSKEY is not in every cache yet): done, with a warning.
    r = ok({"dnssec", "ds-seen", kZone});
    EXPECT_NE(r.err.find("warning"), std::string::npos) << r.err;
    auto s = status();
    EXPECT_EQ(s["keys"][0]["state"], "retired");
    EXPECT_EQ(s["keys"][0]["remove_at"].get<int64_t>() - s["keys"][0]["retired_at"].get<int64_t>(),
              (86400 + 3600) * 1000);
}

TEST_F(DnssecKeysCli, DsSeenCheckAsksTheParent) {
    ok({"dnssec", "enable", kZone});
    std::string dsLine;
    for (const auto& l : lines(ok({"dnssec", "ds", kZone}).out))
        if (l.find(" IN DS ") != std::string::npos) dsLine = l;
    ASSERT_FALSE(dsLine.empty());
    // The parent, example.com, served by NSD with the delegation and our DS.
    std::string parent = dir_.writeFile("example.com.zone",
                                        "$ORIGIN example.com.\n$TTL 3600\n"
                                        "@ SOA ns hostmaster 1 7200 900 1209600 300\n"
                                        "@ NS ns\nns A 192.0.2.1\n"
                                        "svc NS ns.other.test.\n" +
                                            dsLine + "\n");
    testsupport::NsdServer nsd({{"example.com.", parent}}, testsupport::freePort());
    std::string server = "127.0.0.1:" + std::to_string(nsd.port());
    ok({"dnssec", "ds-seen", kZone, "--check", server});
    auto first = status();
    EXPECT_FALSE(first["keys"][0]["ds_seen_at"].is_null());
    // A KSK roll: the parent still has the old DS only, so the check refuses to record.
    ok({"dnssec", "roll", kZone, "ksk"});
    auto z = load().begin()->second;
    expectFails({"dnssec", "ds-seen", kZone, "--check", server},
                "serves no DS of KSK " + std::to_string(z.keys[1].tag) + " for " + kZone +
                    " (it serves tag/digest " + std::to_string(z.keys[0].tag) + "/2)");
    expectFails({"dnssec", "ds-seen", kZone, "--check", "ns.example.com"}, "--check");
}

TEST_F(DnssecKeysCli, ZskRollOnCommand) {
    ok({"dnssec", "enable", kZone});
    DnsctlResult r = ok({"dnssec", "roll", kZone, "zsk"});
    EXPECT_NE(r.out.find("starts signing at"), std::string::npos) << r.out;
    auto z = load().begin()->second;
    ASSERT_EQ(z.keys.size(), 3u);
    EXPECT_TRUE(z.keys[2].publish);
    EXPECT_FALSE(z.keys[2].sign);
    expectFails({"dnssec", "roll", kZone, "zsk"}, "already under way");
}

TEST_F(DnssecKeysCli, SetTimings) {
    ok({"dnssec", "enable", kZone});
    ok({"dnssec", "set", kZone, "--zsk-lifetime", "30m", "--propagation-delay", "30s",
        "--dnskey-ttl", "60s", "--sig-validity", "2h", "--sig-refresh", "1h", "--ds-ttl", "90s"});
    auto s = status();
    EXPECT_EQ(s["timings"]["zsk_lifetime"], 1800);
    EXPECT_EQ(s["timings"]["propagation_delay"], 30);
    EXPECT_EQ(s["timings"]["dnskey_ttl"], 60);
    EXPECT_EQ(s["timings"]["sig_validity"], 7200);
    EXPECT_EQ(s["timings"]["sig_refresh"], 3600);
    EXPECT_EQ(s["timings"]["ds_ttl"], 90);
    EXPECT_EQ(load().begin()->second.dnskeyTtl, 60u);
    expectFails({"dnssec", "set", kZone, "--sig-refresh", "3h"},
                "must be shorter than sig-validity");
    expectFails({"dnssec", "set", kZone, "--zsk-lifetime", "90s"}, "must be longer than");
    expectFails({"dnssec", "set", kZone, "--dnskey-ttl", "5x"}, "--dnskey-ttl");
    expectFails({"dnssec", "set", kZone, "--dnskey-ttl", "1500ms"}, "whole seconds");
    expectFails({"dnssec", "set", kZone}, "nothing to set");
}

TEST_F(DnssecKeysCli, BadArgumentsChangeNothing) {
    expectFails({"dnssec", "enable", kZone, "--algorithm", "rsasha1"},
                "unknown --algorithm 'rsasha1'");
    expectFails({"dnssec", "enable", "nope.example."}, "no zone nope.example.");
    expectFails({"dnssec", "enable", "bad..name"}, "bad zone name");
    expectFails({"dnssec", "enable"}, "a ZONE is needed");
    expectFails({"dnssec", "ds", kZone}, "is not signed");
    expectFails({"dnssec", "status", kZone}, "is not signed");
    expectFails({"dnssec", "disable", kZone}, "is not signed");
    expectFails({"dnssec", "roll", kZone, "zsk"}, "is not signed");
    expectFails({"dnssec", "set", kZone, "--dnskey-ttl", "1h"}, "is not signed");
    ok({"dnssec", "enable", kZone});
    expectFails({"dnssec", "enable", kZone}, "already signed");
    expectFails({"dnssec", "roll", kZone, "csk"}, "unknown key role 'csk'");
    expectFails({"dnssec", "roll", kZone}, "ksk or zsk");
}

TEST_F(DnssecKeysCli, FailedTransactionLeavesNoKeyFile) {
    {
        SQLite::Database db(db_, SQLite::OPEN_READWRITE);
        db.exec(
            "CREATE TRIGGER injected BEFORE INSERT ON dnssec_keys BEGIN "
            "SELECT RAISE(ABORT, 'injected failure'); END");
    }
    expectFails({"dnssec", "enable", kZone}, "injected failure");
    EXPECT_TRUE(keyFiles().empty()) << "files written before the commit are removed";
}

}  // namespace
