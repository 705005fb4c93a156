// `dnsctl vantage add|list|delete` and `dnsctl pool create|set --quorum` with the real dnsctl on
// a real database: the key is printed once with the commands that install the agent, bad input
// is refused with one message and changes nothing, listings show what the controller recorded
// (rows written here directly, as dnsd-probe's controller writes them).
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "tests/failover/failover_fixture.hpp"
#include "tests/support/run_command.hpp"
#include "zones/schema.hpp"
#include "zones/tsig.hpp"

namespace {

using namespace failover;
using nlohmann::json;

class VantageCli : public FailoverScenario {
  protected:
    // Every row of the tables the vantage and pool commands touch, as text.
    std::string fingerprint() const {
        auto db = open();
        std::string out;
        for (const char* table : {"vantages", "member_views", "pools", "events"}) {
            SQLite::Statement q(*db, std::string("SELECT * FROM ") + table + " ORDER BY 1, 2");
            out += std::string("[") + table + "]\n";
            while (q.executeStep()) {
                for (int i = 0; i < q.getColumnCount(); ++i)
                    out += q.getColumn(i).getString() + "|";
                out += "\n";
            }
        }
        return out;
    }
    void refused(const std::vector<std::string>& args, const std::string& message) {
        std::string before = fingerprint();
        auto r = dnsctl(args);
        EXPECT_NE(r.exitCode, 0) << r.command << " was accepted";
        EXPECT_NE(r.err.find(message), std::string::npos) << r.command << "\nstderr: " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1)
            << "one clear message, not a dump: " << r.err;
        EXPECT_TRUE(r.out.empty()) << r.command << " printed: " << r.out;
        EXPECT_EQ(fingerprint(), before) << r.command << " changed the database";
    }
    // Vantage events belong to no pool.
    int eventCount(const std::string& kind) const {
        auto db = open();
        SQLite::Statement q(*db, "SELECT count(*) FROM events WHERE kind = ?");
        q.bind(1, kind);
        q.executeStep();
        return q.getColumn(0).getInt();
    }
    std::string secretOf(const std::string& name) const {
        auto db = open();
        SQLite::Statement q(*db, "SELECT coalesce(secret, 'NULL') FROM vantages WHERE name = ?");
        q.bind(1, name);
        return q.executeStep() ? q.getColumn(0).getString() : "<none>";
    }
    // The line of `text` that holds `needle` ("" if none).
    static std::string lineWith(const std::string& text, const std::string& needle) {
        auto at = text.find(needle);
        if (at == std::string::npos) return "";
        auto start = text.rfind('\n', at);
        start = start == std::string::npos ? 0 : start + 1;
        return text.substr(start, text.find('\n', at) - start);
    }
    static std::string utcClock(int64_t ms) {
        std::time_t t = std::time_t(ms / 1000);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[16];
        std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
        return buf;
    }
};

TEST_F(VantageCli, AddPrintsTheKeyOnceWithTheAgentCommandLine) {
    auto r = dnsctl({"vantage", "add", "fra", "--controller", "http://192.0.2.1:8055"});
    ASSERT_TRUE(r.ok()) << r.command << r.err;
    std::string secret = secretOf("fra");
    ASSERT_NE(secret, "<none>");
    auto key = zones::base64Decode(secret);
    ASSERT_TRUE(key.has_value()) << secret;
    EXPECT_EQ(key->size(), 32u);
    // Printed once: on a line of its own, and in the line that writes the key file.
    EXPECT_EQ(lineWith(r.out, secret), "  " + secret) << r.out;
    EXPECT_NE(r.out.find("install -m 600 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("dnsd-probe --vantage fra --controller http://192.0.2.1:8055 --key-file "
                         "/etc/dnsd/vantage-fra.key"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("--agents-listen"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("CONTROLLER"), std::string::npos) << "no placeholder when given" << r.out;

    // The line that writes the key file, run as printed (into a file of ours): the file holds
    // exactly the key.
    std::string write = lineWith(r.out, "printf");
    std::string file = dir_->file("vantage-fra.key");
    auto at = write.find("/etc/dnsd/vantage-fra.key");
    ASSERT_NE(at, std::string::npos) << write;
    write.replace(at, std::string("/etc/dnsd/vantage-fra.key").size(), file);
    auto sh = runCommand("/bin/sh", {"-euc", write});
    ASSERT_EQ(sh.exitCode, 0) << write << sh.err;
    std::ifstream in(file);
    std::string written;
    std::getline(in, written);
    EXPECT_EQ(written, secret);

    // Never shown again.
    for (auto args : std::vector<std::vector<std::string>>{{"vantage", "list"},
                                                           {"vantage", "list", "--json"},
                                                           {"status"},
                                                           {"status", "--json"},
                                                           {"events"}}) {
        auto again = dnsctl(args);
        ASSERT_TRUE(again.ok()) << again.command << again.err;
        EXPECT_EQ(again.out.find(secret), std::string::npos) << again.command << again.out;
    }
    EXPECT_EQ(eventCount("admin-vantage-add"), 1);

    // Without --controller: a placeholder, and a fresh key for every vantage.
    auto nyc = dnsctl({"vantage", "add", "nyc"});
    ASSERT_TRUE(nyc.ok()) << nyc.err;
    EXPECT_NE(nyc.out.find("dnsd-probe --vantage nyc --controller http://CONTROLLER:8055 "
                           "--key-file /etc/dnsd/vantage-nyc.key"),
              std::string::npos)
        << nyc.out;
    EXPECT_NE(secretOf("nyc"), secret);
    EXPECT_NE(nyc.out.find(secretOf("nyc")), std::string::npos);
}

TEST_F(VantageCli, BadAddsAndDeletesAreRefusedAndChangeNothing) {
    ok({"vantage", "add", "fra"});
    refused({"vantage", "add", "fra"}, "vantage fra already exists");
    refused({"vantage", "add", "local"}, "'local' is the controller's own checks");
    refused({"vantage", "add", "Fra"}, "vantage name 'Fra' must be 1..32 characters");
    refused({"vantage", "add", "--", "-fra"}, "must be 1..32 characters of a-z, 0-9 and '-'");
    refused({"vantage", "add", std::string(33, 'a')}, "must be 1..32 characters");
    refused({"vantage", "add", "fra/2"}, "vantage name 'fra/2' must be");
    refused({"vantage", "add"}, "a vantage NAME is needed");
    refused({"vantage", "add", "ams", "--controller", "192.0.2.1:8055"},
            "--controller must be a URL like http://HOST:PORT (got '192.0.2.1:8055')");
    refused({"vantage", "delete", "nyc"}, "no vantage named nyc");
    refused({"vantage", "delete", "local"}, "'local' cannot be deleted");
    refused({"vantage", "delete"}, "a vantage NAME is needed");
}

TEST_F(VantageCli, ListShowsWhatTheControllerRecorded) {
    auto empty = dnsctl({"vantage", "list"});
    ASSERT_TRUE(empty.ok()) << empty.err;
    EXPECT_NE(empty.out.find("no vantages"), std::string::npos) << empty.out;
    EXPECT_EQ(dnsctl({"vantage", "list", "--json"}).out, "[]\n");

    ok({"vantage", "add", "fra"});
    ok({"vantage", "add", "sin"});
    ok({"vantage", "add", "nyc"});
    int64_t now = zones::nowMs();
    // fra reports (its last report stamped ahead, so that no slow machine ages it past the 3 s
    // a reporting vantage has); sin went silent a minute ago; nyc never reported.
    int64_t silentAt = now - 60000;
    execSql("INSERT INTO vantages (name, created_at, last_report_at) VALUES ('local', 1, " +
            std::to_string(now + 600000) + ")");
    execSql("UPDATE vantages SET last_report_at = " + std::to_string(now + 600000) +
            ", last_address = '198.51.100.7', offset_ms = -4, lag_ms = 12, checks_per_s = 12.5, "
            "reports = 40, results = 500, dropped = 7, version = '0.9.0', host = 'fra-probe-1' "
            "WHERE name = 'fra'");
    execSql("UPDATE vantages SET last_report_at = " + std::to_string(silentAt - 3000) +
            ", silent_since = " + std::to_string(silentAt) +
            ", refused = 3, last_refusal = 'clock skew 45 s' WHERE name = 'sin'");

    auto r = dnsctl({"vantage", "list"});
    ASSERT_TRUE(r.ok()) << r.err;
    std::string fra = lineWith(r.out, "fra  ");
    EXPECT_EQ(fra.rfind("fra  reporting  last report ", 0), 0u) << r.out;
    for (const char* want : {"lag 12 ms", "12.5 checks/s", "offset -4 ms", "dropped 7", "refused 0",
                             "from 198.51.100.7", "version 0.9.0", "host fra-probe-1"})
        EXPECT_NE(fra.find(want), std::string::npos) << want << "\n" << r.out;
    std::string sin = lineWith(r.out, "sin  ");
    EXPECT_EQ(sin.rfind("sin  SILENT since " + utcClock(silentAt), 0), 0u) << r.out;
    EXPECT_NE(sin.find("refused 3 (last: clock skew 45 s)"), std::string::npos) << r.out;
    EXPECT_EQ(lineWith(r.out, "nyc  ").rfind("nyc  never reported", 0), 0u) << r.out;
    // 'local' first, then by name.
    EXPECT_EQ(r.out.rfind("local (controller's own checks)  reporting", 0), 0u) << r.out;
    EXPECT_LT(r.out.find("fra  "), r.out.find("nyc  "));
    EXPECT_LT(r.out.find("nyc  "), r.out.find("sin  "));

    auto j = dnsctl({"vantage", "list", "--json"});
    ASSERT_TRUE(j.ok()) << j.err;
    json doc = json::parse(j.out);
    ASSERT_EQ(doc.size(), 4u) << j.out;
    EXPECT_EQ(doc[0]["name"], "local");
    EXPECT_EQ(doc[0]["local"], true);
    const json& f = doc[1];
    EXPECT_EQ(f["name"], "fra");
    EXPECT_EQ(f["local"], false);
    EXPECT_EQ(f["state"], "reporting");
    EXPECT_EQ(f["lag_ms"], 12);
    EXPECT_EQ(f["offset_ms"], -4);
    EXPECT_EQ(f["checks_per_s"], 12.5);
    EXPECT_EQ(f["dropped"], 7);
    EXPECT_EQ(f["last_address"], "198.51.100.7");
    EXPECT_EQ(f["version"], "0.9.0");
    EXPECT_EQ(f["host"], "fra-probe-1");
    EXPECT_EQ(f["silent_since"], nullptr);
    EXPECT_EQ(doc[2]["name"], "nyc");
    EXPECT_EQ(doc[2]["state"], "never-reported");
    EXPECT_EQ(doc[2]["last_report_at"], nullptr);
    EXPECT_EQ(doc[3]["state"], "silent");
    EXPECT_EQ(doc[3]["silent_since"], silentAt);
    EXPECT_EQ(doc[3]["refused"], 3);
    EXPECT_EQ(doc[3]["last_refusal"], "clock skew 45 s");
    for (const auto& v : doc) EXPECT_FALSE(v.contains("secret")) << v;

    // A vantage whose reports stopped without the controller marking it (the controller is
    // gone too) is silent since its last report.
    execSql("UPDATE vantages SET last_report_at = " + std::to_string(now - 10000) +
            " WHERE name = 'fra'");
    EXPECT_EQ(lineWith(dnsctl({"vantage", "list"}).out, "fra  ")
                  .rfind("fra  SILENT since " + utcClock(now - 10000), 0),
              0u);
}

TEST_F(VantageCli, DeleteRemovesTheVantageAndItsViews) {
    standardPool();
    ok({"vantage", "add", "fra"});
    ok({"vantage", "add", "nyc"});
    execSql(
        "INSERT INTO member_views (member_id, vantage, health) SELECT id, 'fra', 'up' FROM "
        "members");
    execSql(
        "INSERT INTO member_views (member_id, vantage, health) SELECT id, 'nyc', 'up' FROM "
        "members");
    auto r = dnsctl({"vantage", "delete", "fra"});
    ASSERT_TRUE(r.ok()) << r.err;
    EXPECT_EQ(r.out, "deleted vantage fra\n");
    EXPECT_EQ(secretOf("fra"), "<none>");
    EXPECT_NE(secretOf("nyc"), "<none>");
    auto db = open();
    SQLite::Statement q(*db, "SELECT vantage, count(*) FROM member_views GROUP BY vantage");
    ASSERT_TRUE(q.executeStep());
    EXPECT_EQ(q.getColumn(0).getString(), "nyc");
    EXPECT_EQ(q.getColumn(1).getInt(), 2);
    EXPECT_FALSE(q.executeStep()) << "fra's views are left";
    EXPECT_EQ(lineWith(dnsctl({"vantage", "list"}).out, "fra"), "");
    EXPECT_EQ(eventCount("admin-vantage-delete"), 1);
}

TEST_F(VantageCli, PoolQuorumIsSetShownAndChecked) {
    ok({"pool", "create", "web", "--zone", "svc.test", "--name", "www", "--quorum", "2"});
    ok({"pool", "create", "api", "--zone", "svc.test", "--name", "api"});
    auto list = dnsctl({"pool", "list"});
    EXPECT_NE(lineWith(list.out, "web  ").find(", quorum 2"), std::string::npos) << list.out;
    EXPECT_NE(lineWith(list.out, "api  ").find(", quorum majority"), std::string::npos) << list.out;
    json pools = json::parse(dnsctl({"pool", "list", "--json"}).out);
    ASSERT_EQ(pools.size(), 2u);
    for (const auto& p : pools) EXPECT_EQ(p["quorum"], p["name"] == "web" ? "2" : "majority") << p;

    auto set = dnsctl({"pool", "set", "web", "--quorum", "all"});
    ASSERT_TRUE(set.ok()) << set.err;
    EXPECT_NE(set.out.find("quorum all"), std::string::npos) << set.out;
    auto show = dnsctl({"pool", "show", "web"});
    EXPECT_NE(show.out.find("all-down serve-all, quorum all)"), std::string::npos) << show.out;
    json status = json::parse(dnsctl({"pool", "show", "web", "--json"}).out);
    EXPECT_EQ(status["pools"][0]["quorum"], "all");
    EXPECT_EQ(status["pools"][0]["quorum_lost"], false);
    EXPECT_EQ(status["pools"][0]["quorum_lost_since"], nullptr);
    ok({"pool", "set", "web", "--quorum", "any"});
    for (const auto& p : json::parse(dnsctl({"pool", "list", "--json"}).out))
        if (p["name"] == "web") EXPECT_EQ(p["quorum"], "any");

    for (const char* bad : {"0", "65", "two", "most", "-1", "1.5", ""})
        refused({"pool", "set", "web", "--quorum", bad},
                "--quorum must be majority, all, any or a number 1..64 (got '" + std::string(bad) +
                    "')");
    refused({"pool", "create", "x", "--zone", "svc.test", "--name", "x", "--quorum", "half"},
            "--quorum must be majority, all, any or a number 1..64 (got 'half')");
}

}  // namespace
