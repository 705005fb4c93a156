// What `dnsctl status` and `status --json` show of the vantage points: each member's view per
// vantage with the quorum count, each pool's quorum and QUORUM LOST, the vantages reporting or
// silent; and that a single prober's status reads exactly as it did before vantages existed.
// The views and decisions are written into the real database as dnsd-probe's controller
// writes them; dnsctl is the real binary.
#include <nlohmann/json.hpp>

#include "tests/failover/failover_fixture.hpp"

namespace {

using namespace failover;
using nlohmann::json;

class VantageStatus : public FailoverScenario {
  protected:
    static std::string utcClock(int64_t ms) {
        std::time_t t = std::time_t(ms / 1000);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[16];
        std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
        return buf;
    }
    // The line after the one starting with `start` ("" if none).
    static std::string lineAfter(const std::string& text, const std::string& start) {
        auto at = text.find("\n" + start);
        if (at == std::string::npos) return "";
        auto next = text.find('\n', at + 1);
        if (next == std::string::npos) return "";
        return text.substr(next + 1, text.find('\n', next + 1) - next - 1);
    }
    static const json& member(const json& doc, const std::string& value) {
        for (const auto& m : doc["pools"][0]["members"])
            if (m["value"] == value) return m;
        throw std::runtime_error("no member " + value);
    }
};

TEST_F(VantageStatus, ShowsEachVantagesViewAndQuorumLost) {
    standardPool();
    int64_t now = zones::nowMs();
    int64_t downSince = now - 30000, lostSince = now - 20000;
    seedVantageViews(downSince, lostSince);

    auto r = dnsctl({"status"});
    ASSERT_TRUE(r.ok()) << r.err;
    EXPECT_NE(r.out.find("all-down serve-all, quorum majority)\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\n  QUORUM LOST since " + utcClock(lostSince) +
                         " (keeping the last decision): 3 of 3 vantages reporting, quorum "
                         "majority needs 2\n"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(lineAfter(r.out, std::string("  ") + kPrimary + "  priority 1"),
              "      vantages up 2/3: fra up, nyc up, sin DOWN since " + utcClock(downSince) +
                  "  (2 needed)")
        << r.out;
    EXPECT_EQ(lineAfter(r.out, std::string("  ") + kSecondary + "  priority 2"),
              "      vantages up 3/3: fra up, nyc up, sin up  (2 needed)")
        << r.out;
    EXPECT_NE(r.out.find("\nvantages (3 of 3 reporting)\n  fra  reporting, last report "),
              std::string::npos)
        << r.out;

    json doc = json::parse(dnsctl({"status", "--json"}).out);
    const json& pool = doc["pools"][0];
    EXPECT_EQ(pool["quorum"], "majority");
    EXPECT_EQ(pool["quorum_lost"], true);
    EXPECT_EQ(pool["quorum_lost_since"], lostSince);
    const json& primary = member(doc, kPrimary);
    ASSERT_EQ(primary["views"].size(), 3u) << primary;
    EXPECT_EQ(primary["views"][2], json({{"vantage", "sin"},
                                         {"health", "down"},
                                         {"since", downSince},
                                         {"last_ok", true},
                                         {"message", "ok"},
                                         {"checked_at", primary["views"][2]["checked_at"]},
                                         {"counted", true}}));
    EXPECT_EQ(primary["quorum"]["up"], 2);
    EXPECT_EQ(primary["quorum"]["of"], 3);
    EXPECT_EQ(primary["quorum"]["needed"], 2);
    EXPECT_EQ(primary["quorum"]["summary"],
              "up 2/3: fra up, nyc up, sin DOWN since " + utcClock(downSince));
    EXPECT_EQ(member(doc, kSecondary)["quorum"]["up"], 3);
    ASSERT_EQ(doc["vantages"].size(), 3u);
    EXPECT_EQ(doc["vantages"][0]["name"], "fra");
    EXPECT_EQ(doc["vantages"][0]["state"], "reporting");

    // sin goes silent: its view is out of the count, and says so.
    execSql("UPDATE vantages SET silent_since = " + std::to_string(now - 5000) +
            " WHERE name = 'sin'");
    r = dnsctl({"status"});
    EXPECT_EQ(lineAfter(r.out, std::string("  ") + kPrimary + "  priority 1"),
              "      vantages up 2/2: fra up, nyc up, sin DOWN since " + utcClock(downSince) +
                  " (silent, not counted)  (2 needed)")
        << r.out;
    EXPECT_NE(r.out.find("\nvantages (2 of 3 reporting)\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\n  sin  SILENT since " + utcClock(now - 5000)), std::string::npos)
        << r.out;
    doc = json::parse(dnsctl({"status", "--json"}).out);
    EXPECT_EQ(member(doc, kPrimary)["views"][2]["counted"], false);
    EXPECT_EQ(member(doc, kPrimary)["quorum"]["of"], 2);
    EXPECT_EQ(doc["vantages"][2]["state"], "silent");

    // The quorum needed follows the pool's setting; regained, the QUORUM LOST line goes.
    ok({"pool", "set", "web", "--quorum", "all"});
    execSql("UPDATE pool_decisions SET quorum_lost = 0, quorum_lost_since = NULL");
    r = dnsctl({"status"});
    EXPECT_NE(lineAfter(r.out, std::string("  ") + kPrimary + "  priority 1").find("(3 needed)"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("quorum all)"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("QUORUM LOST"), std::string::npos) << r.out;
    doc = json::parse(dnsctl({"status", "--json"}).out);
    EXPECT_EQ(doc["pools"][0]["quorum_lost"], false);
    EXPECT_EQ(doc["pools"][0]["quorum_lost_since"], nullptr);
    EXPECT_EQ(member(doc, kPrimary)["quorum"]["needed"], 3);
}

TEST_F(VantageStatus, ASingleProberPrintsWhatItAlwaysDid) {
    standardPool();
    auto before = dnsctl({"status"});
    ASSERT_TRUE(before.ok()) << before.err;
    // The controller's own vantage, reporting, with its view of every member: one vantage,
    // nothing to add to the picture.
    std::string now = std::to_string(zones::nowMs());
    execSql("INSERT INTO vantages (name, created_at, last_report_at) VALUES ('local', " + now +
            ", " + now + ")");
    execSql(
        "INSERT INTO member_views (member_id, vantage, health, health_since, last_ok, "
        "checked_at) SELECT id, 'local', 'down', " +
        now + ", 0, " + now + " FROM members");
    auto after = dnsctl({"status"});
    EXPECT_EQ(after.out, before.out);
    EXPECT_EQ(after.out.find("vantage"), std::string::npos) << after.out;
    EXPECT_EQ(after.out.find("quorum"), std::string::npos) << after.out;
    json doc = json::parse(dnsctl({"status", "--json"}).out);
    EXPECT_EQ(doc["pools"][0]["quorum_lost"], false);
    EXPECT_EQ(member(doc, kPrimary)["views"].size(), 1u);
    EXPECT_EQ(member(doc, kPrimary)["quorum"]["needed"], 1);

    // An agent added (even before it reports) brings the per-vantage lines.
    ok({"vantage", "add", "fra"});
    auto withAgent = dnsctl({"status"});
    EXPECT_NE(withAgent.out.find("      vantages up 0/1: local DOWN since "), std::string::npos)
        << withAgent.out;
    EXPECT_NE(withAgent.out.find("\n  fra  never reported"), std::string::npos) << withAgent.out;
}

}  // namespace
