// Shared set-up for failover scenarios: a real database built with the real dnsctl (zone
// svc.test.), real HTTP backends on 127.0.0.11 and 127.0.0.12 (same port), the real
// dnsd-probe with an --on-change hook writing to a file, and, where a test asks, the real dnsd.
//
// Contract: helpers read the database the way an operator would (pool_decisions, events) and
// query dnsd over UDP; every wait is a waitUntil with a deadline, never a fixed sleep.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/probes/fake_backends.hpp"
#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/process.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"
#include "zones/schema.hpp"

namespace failover {

using namespace testsupport;
using namespace std::chrono_literals;
using fakes::Backend;

constexpr const char* kPrimary = "127.0.0.11";
constexpr const char* kSecondary = "127.0.0.12";

class FailoverScenario : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::make_unique<TempDir>("dnsd-failover");
        db_ = dir_->file("dnsd.db");
        hookFile_ = dir_->file("hook.log");
        std::string zone = dir_->writeFile("svc.test.zone",
                                           "$ORIGIN svc.test.\n$TTL 300\n"
                                           "@ SOA ns1 hostmaster 1 3600 600 86400 300\n"
                                           "@ NS ns1\nns1 A 127.0.0.1\nstatic A 127.0.0.9\n");
        createDatabase(db_, {zone});
        // Both backends share one port (probes name one port); retry if a parallel test
        // already holds it on the second address.
        for (int attempt = 0; !secondary_; ++attempt) {
            primary_ = std::make_unique<Backend>(kPrimary, Backend::Kind::Http);
            try {
                secondary_ =
                    std::make_unique<Backend>(kSecondary, Backend::Kind::Http, primary_->port());
            } catch (const std::exception&) {
                if (attempt == 20) throw;
            }
        }
    }

    void TearDown() override {
        if (probe_) {
            EXPECT_TRUE(probe_->alive()) << "dnsd-probe died: " << probe_->describe();
        }
    }

    std::string port() const { return std::to_string(primary_->port()); }

    DnsctlResult dnsctl(const std::vector<std::string>& args) const { return runDnsctl(db_, args); }
    void ok(const std::vector<std::string>& args) const {
        auto r = dnsctl(args);
        ASSERT_TRUE(r.ok()) << r.command << "\n" << r.out << r.err;
    }

    // The usual pool: an HTTP probe at 100 ms, primary at priority 1, secondary at 2. A test
    // that must see no failure but the one it causes, on a machine slowed by sanitizers and
    // parallel tests, asks for a larger `fall` (a healthy backend answering late twice in a
    // row is then not a member-down).
    void standardPool(std::vector<std::string> poolFlags = {}, std::string interval = "100ms",
                      std::string fall = "2") {
        ok({"probe", "add", "web-http", "--type", "http", "--port", port(), "--path", "/healthz",
            "--interval", interval, "--timeout", "80ms", "--rise", "2", "--fall", fall});
        std::vector<std::string> create = {"pool",   "create", "web",    "--zone", "svc.test",
                                           "--name", "www",    "--type", "A"};
        create.insert(create.end(), poolFlags.begin(), poolFlags.end());
        ok(create);
        ok({"member", "add", "web", kPrimary, "--priority", "1", "--probe", "web-http"});
        ok({"member", "add", "web", kSecondary, "--priority", "2", "--probe", "web-http"});
    }

    void startProbe() {
        probe_ = std::make_unique<Process>(
            DNSD_PROBE_BIN, std::vector<std::string>{"--db", db_, "--on-change",
                                                     "echo \"env $DNSD_EVENT $DNSD_POOL\" >> " +
                                                         hookFile_ + "; cat >> " + hookFile_});
    }
    void startDnsd() {
        dnsd_ =
            std::make_unique<DnsdServer>(db_, freePort(), std::vector<std::string>{}, "svc.test.");
    }

    std::unique_ptr<SQLite::Database> open() const {
        return std::make_unique<SQLite::Database>(db_, SQLite::OPEN_READONLY, 2000);
    }
    // Writes rows the way dnsd-probe would (for what no running process should decide).
    void execSql(const std::string& sql) const {
        SQLite::Database db(db_, SQLite::OPEN_READWRITE, 5000);
        db.exec(sql);
    }
    // Three agents fra, nyc and sin reporting, as the controller records them (their last
    // report stamped ahead, so that no slow machine ages them past the 3 s a reporting vantage
    // has); for every member of the standard pool fra and nyc see it up, and sin sees the
    // primary down since `downSince` (the secondary up). Pool web keeps its decision (primary
    // served) with quorum lost since `quorumLostSince`.
    void seedVantageViews(int64_t downSince, int64_t quorumLostSince) {
        for (const char* v : {"fra", "nyc", "sin"}) ok({"vantage", "add", v});
        std::string ahead = std::to_string(zones::nowMs() + 600000);
        execSql("UPDATE vantages SET last_report_at = " + ahead + ", lag_ms = 15, offset_ms = 2");
        execSql(
            "INSERT INTO member_views (member_id, vantage, health, health_since, last_ok, "
            "last_message, checked_at) SELECT m.id, v.name, CASE WHEN v.name = 'sin' AND m.value "
            "= '" +
            std::string(kPrimary) + "' THEN 'down' ELSE 'up' END, CASE WHEN v.name = 'sin' AND " +
            "m.value = '" + kPrimary + "' THEN " + std::to_string(downSince) +
            " ELSE 1 END, 1, 'ok', " + ahead + " FROM members m, vantages v");
        execSql(
            "INSERT INTO pool_decisions (pool_id, served, ttl, decided_at, reason, active_tier, "
            "quorum_lost, quorum_lost_since) SELECT id, '" +
            std::string(kPrimary) + "', 30, " + std::to_string(quorumLostSince) +
            ", 'priority 1 is up', 1, 1, " + std::to_string(quorumLostSince) +
            " FROM pools WHERE name = 'web'");
    }
    // How many of `member`'s probes have reported a result (member_probes.last_*).
    int probesReported(const std::string& member) const {
        auto db = open();
        SQLite::Statement q(*db,
                            "SELECT count(*) FROM member_probes mp JOIN members m ON m.id = "
                            "mp.member_id WHERE m.value = ? AND mp.last_checked_at > 0");
        q.bind(1, member);
        q.executeStep();
        return q.getColumn(0).getInt();
    }
    // pool_decisions.served for a pool, or "<none>" when there is no decision row.
    std::string served(const std::string& pool = "web") const {
        auto db = open();
        SQLite::Statement q(*db,
                            "SELECT d.served FROM pool_decisions d JOIN pools p ON p.id = "
                            "d.pool_id WHERE p.name = ?");
        q.bind(1, pool);
        return q.executeStep() ? q.getColumn(0).getString() : "<none>";
    }
    std::string column(const std::string& col, const std::string& pool = "web") const {
        auto db = open();
        SQLite::Statement q(*db, "SELECT coalesce(d." + col +
                                     ", 'NULL') FROM pool_decisions d JOIN pools p ON p.id = "
                                     "d.pool_id WHERE p.name = ?");
        q.bind(1, pool);
        return q.executeStep() ? q.getColumn(0).getString() : "<none>";
    }
    int events(const std::string& kind, const std::string& pool = "web") const {
        auto db = open();
        SQLite::Statement q(*db, "SELECT count(*) FROM events WHERE kind = ? AND pool = ?");
        q.bind(1, kind);
        q.bind(2, pool);
        q.executeStep();
        return q.getColumn(0).getInt();
    }
    int64_t eventAt(const std::string& kind, const std::string& member = "") const {
        auto db = open();
        SQLite::Statement q(*db,
                            "SELECT max(at) FROM events WHERE kind = ? AND (? = '' OR member = ?)");
        q.bind(1, kind);
        q.bind(2, member);
        q.bind(3, member);
        q.executeStep();
        return q.getColumn(0).isNull() ? 0 : q.getColumn(0).getInt64();
    }
    bool waitServed(const std::string& want, std::chrono::milliseconds timeout = 5s) const {
        return waitUntil([&] { return served() == want; }, timeout);
    }
    std::string hookLog() const {
        std::ifstream in(hookFile_);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    std::string eventDump() const {
        auto r = dnsctl({"events", "--limit", "60"});
        return r.out;
    }

    // One UDP answer from dnsd, read once so the addresses and the TTL belong together.
    struct Seen {
        std::string answer;  // as dnsdAnswer()
        uint32_t ttl = 0;    // of the first answer RR, 0 when there is none
        bool operator==(const Seen&) const = default;
        friend void PrintTo(const Seen& s, std::ostream* os) {
            *os << "'" << s.answer << "' ttl " << s.ttl;
        }
    };
    Seen dnsdSeen(const std::string& name = "www.svc.test.") const {
        auto m = dnsd_->client().udp(QueryBuilder(name, LDNS_RR_TYPE_A).build(), 1s);
        if (!m || !m->parsed()) return {"<no answer>", 0};
        if (m->rcode() != 0) return {"<rcode " + std::to_string(m->rcode()) + ">", 0};
        Seen seen;
        std::vector<std::string> out;
        const ldns_rr_list* list = m->rrs(testsupport::Section::Answer);
        for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
            const ldns_rr* rr = ldns_rr_list_rr(list, i);
            if (i == 0) seen.ttl = ldns_rr_ttl(rr);
            if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A || ldns_rr_rd_count(rr) < 1) continue;
            char* text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
            out.push_back(text);
            free(text);
        }
        std::sort(out.begin(), out.end());
        for (const auto& v : out) seen.answer += (seen.answer.empty() ? "" : " ") + v;
        return seen;
    }
    // The A records dnsd serves for www.svc.test., sorted, space separated ("" for NODATA,
    // "<no answer>" / "<rcode N>" otherwise).
    std::string dnsdAnswer(const std::string& name = "www.svc.test.") const {
        return dnsdSeen(name).answer;
    }
    // Sorted presentation rdata of every answer RR of `type` for `name`.
    std::vector<std::string> dnsdRdata(const std::string& name, uint16_t type) const {
        std::vector<std::string> out;
        auto m = dnsd_->client().udp(QueryBuilder(name, type).build(), 1s);
        if (!m || !m->parsed()) return {"<no answer>"};
        const ldns_rr_list* list = m->rrs(testsupport::Section::Answer);
        for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
            const ldns_rr* rr = ldns_rr_list_rr(list, i);
            if (ldns_rr_get_type(rr) != type || ldns_rr_rd_count(rr) < 1) continue;
            char* text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
            out.push_back(text);
            free(text);
        }
        std::sort(out.begin(), out.end());
        return out;
    }
    uint32_t dnsdTtl(const std::string& name = "www.svc.test.") const { return dnsdSeen(name).ttl; }

    std::unique_ptr<TempDir> dir_;
    std::string db_, hookFile_;
    std::unique_ptr<Backend> primary_, secondary_;
    std::unique_ptr<Process> probe_;
    std::unique_ptr<DnsdServer> dnsd_;
};

}  // namespace failover
