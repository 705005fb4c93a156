// `dnsctl dump` -> `dnsctl apply` on an empty database gives the same configuration; apply is
// idempotent (a second apply writes nothing, the serial stays); the example file in
// zones/examples applies as written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/tools/config_fixture.hpp"

namespace configtest {
namespace {

const std::string kExampleZone =
    std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone";
const std::string kExampleConfig =
    std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.yaml";

// Every configured value of the database, ids and times left out, in a fixed order: equal
// exactly when two databases hold the same configuration. The SOA is left out: its serial is
// dnsd's (each database's own history moves it).
std::string configRows(const std::string& path) {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    const char* queries[] = {
        "SELECT z.name, r.owner, r.type, r.class, r.ttl, hex(r.rdata) FROM records r JOIN zones "
        "z ON z.id = r.zone_id WHERE r.type != 6 ORDER BY 1, 2, 3, 6",
        "SELECT name, journal_max_entries, journal_max_age_ms FROM zones ORDER BY name",
        "SELECT name, algorithm, secret FROM tsig_keys ORDER BY name",
        "SELECT z.name, s.address, s.port, coalesce(k.name, ''), s.notify FROM secondaries s "
        "JOIN zones z ON z.id = s.zone_id LEFT JOIN tsig_keys k ON k.id = s.key_id ORDER BY 1, 2, "
        "3",
        "SELECT name, type, coalesce(port, ''), interval_ms, timeout_ms, rise, fall, "
        "coalesce(target, ''), method, path, coalesce(host_header, ''), coalesce(user_agent, ''), "
        "headers, expect, coalesce(body, ''), coalesce(sni, ''), verify, coalesce(query, ''), "
        "qtype, coalesce(command, '') FROM probes ORDER BY name",
        "SELECT p.name, z.name, owner, rtype, ttl, max_answers, all_down, coalesce(fallback, ''), "
        "failback, hold_down_ms, approval, degraded_ttl, quorum FROM pools p JOIN zones z ON z.id "
        "= p.zone_id ORDER BY p.name",
        "SELECT p.name, m.value, m.priority, m.weight, (SELECT group_concat(name) FROM (SELECT "
        "pr.name FROM member_probes mp JOIN probes pr ON pr.id = mp.probe_id WHERE mp.member_id "
        "= m.id ORDER BY pr.name)) FROM members m JOIN pools p ON p.id = m.pool_id ORDER BY 1, 2",
        "SELECT z.name, k.name, p.name, p.types FROM update_policies p JOIN zones z ON z.id = "
        "p.zone_id JOIN tsig_keys k ON k.id = p.key_id ORDER BY 1, 2, 3, 4",
        "SELECT z.name, d.state, d.algorithm, dnskey_ttl, sig_validity, sig_refresh, "
        "zsk_lifetime, propagation_delay, ds_ttl, (SELECT count(*) FROM dnssec_keys k WHERE "
        "k.zone_id = d.zone_id AND k.state = 'active') FROM dnssec_zones d JOIN zones z ON z.id "
        "= d.zone_id ORDER BY 1",
    };
    std::string out;
    for (const char* q : queries) {
        SQLite::Statement s(db, q);
        while (s.executeStep()) {
            for (int i = 0; i < s.getColumnCount(); ++i) out += s.getColumn(i).getString() + "|";
            out += "\n";
        }
        out += "--\n";
    }
    return out;
}

std::string withoutSerial(const std::string& yaml) {
    return std::regex_replace(yaml, std::regex("SOA (\\S+) (\\S+) [0-9]+ "), "SOA $1 $2 N ");
}

TEST_F(ConfigTest, DumpThenApplyOnAnEmptyDatabaseGivesTheSameConfiguration) {
    ok({"init"});
    ok({"zone", "import", kExampleZone});
    ok({"zone", "journal", "svc.example.com", "--max-entries", "50", "--max-age", "2d"});
    ok({"record", "add", "svc.example.com", "txt 60 IN TXT \"hello world\" \"two\""});
    ok({"tsig", "add", "xfr-nsd", "--algorithm", "hmac-sha512", "--secret", kSecret});
    ok({"secondary", "add", "svc.example.com", "198.51.100.53", "--key", "xfr-nsd"});
    ok({"secondary", "add", "svc.example.com", "[2001:db8::53]:5300", "--no-notify"});
    ok({"probe", "add", "web-tcp", "--type", "tcp", "--port", "443", "--rise", "3"});
    ok({"probe",
        "add",
        "web-http",
        "--type",
        "https",
        "--port",
        "8443",
        "--path",
        "/healthz",
        "--expect",
        "200,204",
        "--host",
        "app.example",
        "--header",
        "X-A: 1",
        "--header",
        "X-B: two words",
        "--body",
        "ok",
        "--sni",
        "app.example",
        "--verify",
        "off",
        "--user-agent",
        "probe/1",
        "--method",
        "HEAD",
        "--target",
        "https://192.0.2.1:8443/"});
    ok({"probe", "add", "ns", "--type", "dns", "--query", "svc.example.com", "--qtype", "SOA",
        "--interval", "500ms", "--timeout", "200ms"});
    ok({"probe", "add", "script", "--type", "exec", "--command", "test -n \"$DNSD_MEMBER\""});
    ok({"pool",
        "create",
        "app",
        "--zone",
        "svc.example.com",
        "--name",
        "app",
        "--type",
        "A",
        "--ttl",
        "20",
        "--degraded-ttl",
        "3",
        "--max-answers",
        "2",
        "--all-down",
        "fallback",
        "--fallback",
        "192.0.2.99",
        "--failback",
        "manual",
        "--hold-down",
        "90s",
        "--approval",
        "manual",
        "--quorum",
        "2"});
    ok({"member", "add", "app", "192.0.2.10", "--weight", "3", "--probe", "web-tcp", "--probe",
        "web-http"});
    ok({"member", "add", "app", "198.51.100.20", "--priority", "2", "--probe", "web-tcp"});
    ok({"pool", "create", "v6", "--name", "v6.svc.example.com.", "--type", "AAAA", "--all-down",
        "nodata"});
    ok({"member", "add", "v6", "2001:DB8:0::10", "--probe", "ns", "--probe", "script"});
    ok({"pool", "create", "alias", "--zone", "svc.example.com", "--name", "alias", "--type",
        "CNAME"});
    ok({"member", "add", "alias", "www.svc.example.com."});
    ok({"update-policy", "add", "svc.example.com", "--key", "xfr-nsd", "--name",
        "_acme-challenge.*", "--type", "TXT"});
    ok({"update-policy", "add", "svc.example.com", "--key", "xfr-nsd", "--name", "*.dyn"});
    ok({"dnssec", "enable", "svc.example.com", "--algorithm", "ed25519"});
    ok({"dnssec", "set", "svc.example.com", "--zsk-lifetime", "30d", "--ds-ttl", "2h",
        "--sig-refresh", "3d"});

    std::string file = dir_.file("dump.yaml");
    ok({"dump", file, "--secrets-dir", dir_.file("secrets")});
    auto plan = dnsctl({"plan", file});
    EXPECT_EQ(plan.exitCode, 0) << "the dump does not describe its own database:\n" << plan.out;

    std::string copy = dir_.file("copy.db");
    ok({"init"}, copy);
    auto applied = ok({"apply", file}, copy);
    EXPECT_NE(applied.out.find("+ pool app"), std::string::npos) << applied.out;
    EXPECT_EQ(configRows(copy), configRows(db_));
    auto again = dnsctl({"plan", file}, copy);
    EXPECT_EQ(again.exitCode, 0) << again.out;

    auto first = ok({"dump"});
    auto second = ok({"dump"}, copy);
    EXPECT_EQ(withoutSerial(second.out), withoutSerial(first.out));
    EXPECT_EQ(first.out.find(kSecret), std::string::npos) << "a secret in the dump itself";
    EXPECT_NE(first.out.find("algorithm: hmac-sha512"), std::string::npos) << first.out;
    EXPECT_NE(first.out.find("zsk-lifetime: 30d"), std::string::npos) << first.out;
    EXPECT_NE(first.out.find("name: _acme-challenge.*"), std::string::npos) << first.out;
    // The signed zone is signed again on the new database, with keys of its own.
    const char* keys =
        "SELECT group_concat(hex(public_key)) FROM (SELECT public_key FROM "
        "dnssec_keys ORDER BY role)";
    EXPECT_EQ(sql("SELECT count(*) FROM dnssec_keys", copy), "2");
    EXPECT_NE(sql(keys, copy), sql(keys));
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(copy + ".keys"),
                            std::filesystem::directory_iterator()),
              2);
}

TEST_F(ConfigTest, ASecondApplyWritesNothingAndKeepsTheSerial) {
    ok({"init"});
    std::string file = write("base.yaml", kBase);
    auto first = ok({"apply", file});
    EXPECT_NE(first.out.find("+ zone svc.test."), std::string::npos) << first.out;
    std::string serialBefore = serial();
    std::string before = dump();
    auto second = ok({"apply", file});
    EXPECT_EQ(second.out, "no changes\n");
    EXPECT_EQ(dump(), before) << "the second apply wrote";
    EXPECT_EQ(serial(), serialBefore);
    auto plan = dnsctl({"plan", file});
    EXPECT_EQ(plan.exitCode, 0);
    EXPECT_EQ(plan.out, "no changes\n");
}

TEST_F(ConfigTest, RecordChangesAreOneSerialStepAndOneJournalEntry) {
    ok({"init"});
    std::string file = write("base.yaml", kBase);
    ok({"apply", file});
    std::string before = serial();
    std::string entries = sql("SELECT count(*) FROM zone_journal");
    std::string text = kBase;
    text.replace(text.find("static 300"), 10, "static 60");
    text.replace(text.find("    secondaries:"), 0, "      - \"new 300 IN A 127.0.0.5\"\n");
    ok({"apply", write("edited.yaml", text)});
    EXPECT_EQ(std::stoll(serial()), std::stoll(before) + 1);
    EXPECT_EQ(std::stoll(sql("SELECT count(*) FROM zone_journal")), std::stoll(entries) + 1);
    // The journal entry holds the difference dnsd serves by IXFR: the old A out, two in.
    auto r = ok({"record", "list", "svc.test", "--name", "static"});
    EXPECT_NE(r.out.find("\t60\t"), std::string::npos) << r.out;
}

TEST_F(ConfigTest, TheExampleFileAppliesAsWritten) {
    ok({"init"});
    ok({"tsig", "add", "xfr-nsd"});
    auto plan = dnsctl({"plan", kExampleConfig});
    EXPECT_EQ(plan.exitCode, 2) << plan.out << plan.err;
    EXPECT_NE(plan.out.find("+ pool app"), std::string::npos) << plan.out;
    ok({"apply", kExampleConfig});
    auto again = dnsctl({"plan", kExampleConfig});
    EXPECT_EQ(again.exitCode, 0) << again.out << again.err;
    EXPECT_EQ(sql("SELECT count(*) FROM members m JOIN pools p ON p.id = m.pool_id WHERE p.name "
                  "= 'app'"),
              "2");
    std::string copy = dir_.file("imported.db");
    ok({"init"}, copy);
    ok({"zone", "import", kExampleZone}, copy);
    EXPECT_EQ(sql("SELECT count(*) FROM records"), sql("SELECT count(*) FROM records", copy));
}

// The first ```yaml block after `marker` in a docs page.
std::string yamlBlock(const std::string& page, const std::string& marker) {
    std::ifstream in(std::string(DNSD_SOURCE_DIR) + "/docs/" + page);
    std::stringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    size_t at = text.find(marker);
    size_t open = text.find("```yaml\n", at == std::string::npos ? text.size() : at);
    size_t close = open == std::string::npos ? open : text.find("\n```\n", open + 8);
    if (close == std::string::npos) return "";
    return text.substr(open + 8, close - open - 8 + 1);
}

// The examples in docs/config-file.md, docs/redundancy.md and docs/automation.md apply as
// written.
TEST_F(ConfigTest, TheDocumentedFilesApplyAsWritten) {
    std::filesystem::copy_file(kExampleZone, dir_.file("svc.example.com.zone"));
    std::filesystem::create_directory(dir_.file("keys"));
    write("keys/xfr-knot.key", std::string(kSecret) + "\n");
    for (auto [page, marker] :
         {std::pair<std::string, std::string>{"config-file.md", "## The format"},
          {"redundancy.md", "**Same content on both.**"},
          {"automation.md", "## Policies in the configuration file"}}) {
        std::string text = yamlBlock(page, marker);
        ASSERT_FALSE(text.empty()) << page << " has no yaml block after " << marker;
        std::string db = dir_.file(page + ".db");
        ok({"init"}, db);
        for (const char* key : {"xfr-nsd", "acme", "external-dns"}) ok({"tsig", "add", key}, db);
        std::string file = write(page + ".yaml", text);
        auto applied = dnsctl({"apply", file}, db);
        EXPECT_EQ(applied.exitCode, 0) << page << "\n" << applied.err;
        auto plan = dnsctl({"plan", file}, db);
        EXPECT_EQ(plan.exitCode, 0) << page << "\n" << plan.out << plan.err;
    }
}

}  // namespace
}  // namespace configtest
