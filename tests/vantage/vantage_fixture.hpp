// Shared set-up for the vantage scenarios (issue #12): a real database built with the real
// dnsctl (zone svc.test.), two real TCP backends on 127.0.0.41 (priority 1) and 127.0.0.42
// (priority 2) in the root namespace, one TCP probe (200 ms, rise 2, fall 2), three vantages
// fra, nyc and sin made with `dnsctl vantage add`, the real controller
// (`dnsd-probe --db --agents-listen 127.0.0.1:PORT --no-local-vantage`), each agent
// (`dnsd-probe --vantage`) in its own network namespace (tests/support/net_namespace.hpp), so
// a test can cut one agent's route to one backend, and, where a test asks, the real dnsd. The
// controller's --on-change hook logs each notified event to hook.log.
//
// Contract: helpers read the database the way an operator would (pool_decisions, events,
// member_views, vantages, `dnsctl status --json`) and query dnsd over UDP; every wait is a
// waitUntil with a deadline. Processes are stopped before the namespaces they run in go.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/probes/fake_backends.hpp"
#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/net_namespace.hpp"
#include "tests/support/process.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"
#include "zones/schema.hpp"

namespace vantage {

using namespace testsupport;
using namespace std::chrono_literals;
using fakes::Backend;
using Json = nlohmann::json;

constexpr const char* kPrimary = "127.0.0.41";
constexpr const char* kSecondary = "127.0.0.42";
inline const std::vector<std::string> kVantages = {"fra", "nyc", "sin"};

// The probe every member has, and what the timing bounds are made of.
constexpr auto kInterval = 200ms;
constexpr int kFall = 2;

class VantageScenario : public ::testing::Test {
  protected:
    void SetUp() override {
        if (std::string why = NetNamespace::unavailable(); !why.empty()) GTEST_SKIP() << why;
        dir_ = std::make_unique<TempDir>("dnsd-vantage");
        db_ = dir_->file("dnsd.db");
        std::string zone = dir_->writeFile("svc.test.zone",
                                           "$ORIGIN svc.test.\n$TTL 300\n"
                                           "@ SOA ns1 hostmaster 1 3600 600 86400 300\n"
                                           "@ NS ns1\nns1 A 127.0.0.1\n");
        createDatabase(db_, {zone});
        // Both backends share one port (a probe names one port); retry if a parallel test
        // already holds it on the second address.
        for (int attempt = 0; !secondary_; ++attempt) {
            primary_ = std::make_unique<Backend>(kPrimary, Backend::Kind::Tcp);
            try {
                secondary_ =
                    std::make_unique<Backend>(kSecondary, Backend::Kind::Tcp, primary_->port());
            } catch (const std::exception&) {
                if (attempt == 20) throw;
            }
        }
        ok({"probe", "add", "web-tcp", "--type", "tcp", "--port", std::to_string(primary_->port()),
            "--interval", "200ms", "--timeout", "150ms", "--rise", "2", "--fall",
            std::to_string(kFall)});
        ok({"pool", "create", "web", "--zone", "svc.test", "--name", "www", "--type", "A", "--ttl",
            "30"});
        ok({"member", "add", "web", kPrimary, "--priority", "1", "--probe", "web-tcp"});
        ok({"member", "add", "web", kSecondary, "--priority", "2", "--probe", "web-tcp"});
        for (const auto& v : kVantages) {
            keyFile_[v] = addVantage(v);
            ns_[v] = std::make_unique<NetNamespace>(v);
        }
        agentsPort_ = freePort();
    }

    void TearDown() override {
        if (controller_) {
            EXPECT_TRUE(controller_->alive()) << "controller died: " << controller_->describe();
        }
        for (auto& [v, agent] : agents_) {
            if (agent) {
                EXPECT_TRUE(agent->alive()) << "agent " << v << " died: " << agent->describe();
            }
        }
    }

    DnsctlResult dnsctl(const std::vector<std::string>& args) const { return runDnsctl(db_, args); }
    void ok(const std::vector<std::string>& args) const {
        auto r = dnsctl(args);
        ASSERT_TRUE(r.ok()) << r.command << "\n" << r.out << r.err;
    }

    // `dnsctl vantage add NAME`: the key it prints once (checked against the database) is
    // written to a key file only we can read; returns the file.
    std::string addVantage(const std::string& name) {
        auto r = dnsctl({"vantage", "add", name});
        if (!r.ok()) throw std::runtime_error(r.command + " failed:\n" + r.out + r.err);
        static const std::regex base64Key(R"([A-Za-z0-9+/]{43}=)");
        std::smatch m;
        if (!std::regex_search(r.out, m, base64Key))
            throw std::runtime_error("no key in the output of " + r.command + ":\n" + r.out);
        std::string key = m.str();
        if (text("SELECT coalesce(secret, '') FROM vantages WHERE name = '" + name + "'") != key)
            throw std::runtime_error(r.command + " printed a key that is not the vantage's:\n" +
                                     r.out);
        std::string file = dir_->writeFile(name + ".key", key + "\n");
        ::chmod(file.c_str(), 0600);
        return file;
    }

    // The controller's --on-change hook writes a line "KIND POOL" per notified event here.
    std::string hookFile() const { return dir_->file("hook.log"); }
    std::string hookLog() const {
        std::ifstream in(hookFile());
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    std::vector<std::string> controllerArgs() const {
        return {"--db",
                db_,
                "--agents-listen",
                "127.0.0.1:" + std::to_string(agentsPort_),
                "--no-local-vantage",
                "--http",
                "none",
                "--on-change",
                "echo \"$DNSD_EVENT $DNSD_POOL\" >> " + hookFile()};
    }
    // Starts the controller and waits until it says it accepts agents.
    void startController() {
        controller_ = std::make_unique<Process>(DNSD_PROBE_BIN, controllerArgs(),
                                                std::vector<std::string>{}, dir_->path());
        std::string listening = "agents: listening on 127.0.0.1:" + std::to_string(agentsPort_);
        ASSERT_TRUE(waitUntil(
            [&] {
                return controller_->stderrText().find(listening) != std::string::npos ||
                       !controller_->alive();
            },
            10s));
        ASSERT_TRUE(controller_->alive()) << controller_->describe();
        ASSERT_NE(controller_->stderrText().find(listening), std::string::npos)
            << controller_->describe();
    }
    // Starts agent `v` in its namespace (`env` adds to its environment).
    void startAgent(const std::string& v, std::vector<std::string> env = {}) {
        agents_[v] = ns_.at(v)->spawn(
            DNSD_PROBE_BIN,
            {"--vantage", v, "--controller", "http://127.0.0.1:" + std::to_string(agentsPort_),
             "--key-file", keyFile_.at(v), "--http", "none"},
            env, dir_->path().string());
    }
    // SIGTERM, and the agent is gone (TearDown no longer expects it alive).
    void stopAgent(const std::string& v) {
        int status = agents_.at(v)->stop();
        EXPECT_EQ(status, 0) << agents_[v]->describe();
        agents_[v].reset();
    }
    // The controller, the given agents, then: every one of them has reported and the pool is
    // decided (primary served).
    void startAll(const std::vector<std::string>& vantages = kVantages) {
        startController();
        if (HasFatalFailure()) return;
        int64_t started = zones::nowMs();
        for (const auto& v : vantages) startAgent(v);
        ASSERT_TRUE(waitUntil(
            [&] {
                for (const auto& v : vantages)
                    if (lastReportAt(v) < started) return false;
                return served() == kPrimary;
            },
            15s))
            << "served " << served() << "\n"
            << logs();
        for (const auto& v : vantages) {
            EXPECT_NE(agents_[v]->stderrText().find("agent " + v + ": config 2 checks"),
                      std::string::npos)
                << agents_[v]->describe();
        }
    }
    void startDnsd() {
        dnsd_ =
            std::make_unique<DnsdServer>(db_, freePort(), std::vector<std::string>{}, "svc.test.");
    }

    std::unique_ptr<SQLite::Database> open() const {
        return std::make_unique<SQLite::Database>(db_, SQLite::OPEN_READONLY, 2000);
    }
    int64_t scalar(const std::string& sql) const {
        auto db = open();
        SQLite::Statement q(*db, sql);
        return q.executeStep() && !q.getColumn(0).isNull() ? q.getColumn(0).getInt64() : 0;
    }
    std::string text(const std::string& sql) const {
        auto db = open();
        SQLite::Statement q(*db, sql);
        return q.executeStep() && !q.getColumn(0).isNull() ? q.getColumn(0).getString() : "<none>";
    }
    std::string served() const {
        return text(
            "SELECT d.served FROM pool_decisions d JOIN pools p ON p.id = d.pool_id WHERE p.name = "
            "'web'");
    }
    int64_t decidedAt() const {
        return scalar(
            "SELECT d.decided_at FROM pool_decisions d JOIN pools p ON p.id = d.pool_id WHERE "
            "p.name = 'web'");
    }
    int events(const std::string& kind) const {
        return int(scalar("SELECT count(*) FROM events WHERE kind = '" + kind + "'"));
    }
    int64_t lastEventId() const { return scalar("SELECT coalesce(max(id), 0) FROM events"); }
    // Messages of the events of `kind` (about `member`, when given), oldest first.
    std::vector<std::string> eventMessages(const std::string& kind,
                                           const std::string& member = "") const {
        auto db = open();
        SQLite::Statement q(*db,
                            "SELECT message FROM events WHERE kind = ? AND (? = '' OR member = ?) "
                            "ORDER BY id");
        q.bind(1, kind);
        q.bind(2, member);
        q.bind(3, member);
        std::vector<std::string> out;
        while (q.executeStep()) out.push_back(q.getColumn(0).getString());
        return out;
    }
    // One vantage's view of a member (member_views.health), "<none>" without a row.
    std::string view(const std::string& member, const std::string& v) const {
        return text(
            "SELECT mv.health FROM member_views mv JOIN members m ON m.id = mv.member_id WHERE "
            "m.value = '" +
            member + "' AND mv.vantage = '" + v + "'");
    }
    int64_t lastReportAt(const std::string& v) const {
        return scalar("SELECT coalesce(last_report_at, 0) FROM vantages WHERE name = '" + v + "'");
    }
    int64_t reports(const std::string& v) const {
        return scalar("SELECT reports FROM vantages WHERE name = '" + v + "'");
    }
    std::string eventDump() const { return dnsctl({"events", "--limit", "60"}).out; }
    std::string logs() const {
        std::string out = controller_ ? "controller: " + controller_->describe() + "\n" : "";
        for (const auto& [v, agent] : agents_)
            if (agent) out += "agent " + v + ": " + agent->describe() + "\n";
        return out + "events:\n" + eventDump();
    }
    Json status() const {
        auto r = dnsctl({"status", "--json"});
        if (!r.ok()) throw std::runtime_error(r.command + ": " + r.err);
        return Json::parse(r.out);
    }
    static const Json& find(const Json& list, const std::string& key, const std::string& value) {
        for (const auto& item : list)
            if (item.value(key, "") == value) return item;
        throw std::runtime_error("no " + key + " " + value + " in " + list.dump());
    }
    // The checks every running agent has made of `backend`, counted by the backend (connections):
    // how a test waits for a number of probe rounds without a clock.
    bool waitRounds(Backend& backend, int rounds, std::chrono::milliseconds timeout = 15s) {
        int before = backend.accepted();
        return waitUntil([&] { return backend.accepted() >= before + rounds; }, timeout);
    }

    // The A records dnsd serves for www.svc.test., sorted, space separated.
    std::string dnsdAnswer() const {
        auto m = dnsd_->client().udp(QueryBuilder("www.svc.test.", LDNS_RR_TYPE_A).build(), 1s);
        if (!m || !m->parsed()) return "<no answer>";
        if (m->rcode() != 0) return "<rcode " + std::to_string(m->rcode()) + ">";
        std::string out;
        for (const auto& rr : m->canonicalRrs(Section::Answer)) {
            // "www.svc.test.\t30\tIN\tA\t127.0.0.41": the address is the last field.
            std::string address = rr.substr(rr.find_last_of(" \t") + 1);
            out += (out.empty() ? "" : " ") + address;
        }
        return out;
    }

    std::unique_ptr<TempDir> dir_;
    std::string db_;
    std::unique_ptr<Backend> primary_, secondary_;
    std::map<std::string, std::string> keyFile_;
    uint16_t agentsPort_ = 0;
    // Declared before the processes: destroyed after them.
    std::map<std::string, std::unique_ptr<NetNamespace>> ns_;
    std::unique_ptr<Process> controller_;
    std::map<std::string, std::unique_ptr<Process>> agents_;
    std::unique_ptr<DnsdServer> dnsd_;
};

}  // namespace vantage
