// dnsd as the primary of real NSD, Knot and BIND secondaries on loopback, each configured
// with what `dnsctl secondary config` prints and its own TSIG key: the first transfer, each
// secondary's copy equal to dnsd's as a set of RRs, and a record edit reaching every one of
// them through NOTIFY.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "tests/probes/fake_backends.hpp"
#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/secondary_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

using namespace testsupport;
using fakes::Backend;

namespace {

const std::string kZone = "svc.example.com.";
const std::vector<SecondaryKind> kKinds = {SecondaryKind::Nsd, SecondaryKind::Knot,
                                           SecondaryKind::Bind};

// An AXFR by dig, as a sorted set of RRs (whitespace normalised; the closing SOA dropped).
std::set<std::string> axfr(uint16_t port, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"@127.0.0.1", "-p",      std::to_string(port), "AXFR", kZone,
                                     "+noall",     "+answer", "+nocookie"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = runCommand("dig", args);
    std::set<std::string> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == ';') continue;
        std::istringstream f(line);
        std::string w, norm;
        while (f >> w) norm += (norm.empty() ? "" : " ") + w;
        if (norm.find(" TSIG ") != std::string::npos) continue;
        out.insert(norm);
    }
    return out;
}

std::string digShort(uint16_t port, const std::string& name, const std::string& type) {
    auto r = runCommand(
        "dig", {"@127.0.0.1", "-p", std::to_string(port), name, type, "+short", "+nocookie"});
    return r.out;
}

class Secondaries : public ::testing::Test {
  protected:
    void SetUp() override {
        for (SecondaryKind k : kKinds)
            if (secondaryBinary(k).empty())
                GTEST_SKIP() << secondaryKindName(k) << " is not installed (tools/install-deps)";
        if (findProgram("dig").empty()) GTEST_SKIP() << "dig is not installed";
        db_ = dir_.file("dnsd.db");
        createDatabase(db_,
                       {std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone"});
        // A pool whose members are two local TCP backends on one port, checked fast.
        primary_ = std::make_unique<Backend>("127.0.0.21", Backend::Kind::Tcp);
        standby_ = std::make_unique<Backend>("127.0.0.22", Backend::Kind::Tcp, primary_->port());
        dnsctl({"probe", "add", "tcp", "--type", "tcp", "--port", std::to_string(primary_->port()),
                "--interval", "200ms", "--timeout", "100ms", "--rise", "1", "--fall", "1"});
        dnsctl({"pool", "create", "web", "--zone", kZone, "--name", "app", "--type", "A", "--ttl",
                "30", "--hold-down", "1s"});
        dnsctl({"member", "add", "web", "127.0.0.21", "--priority", "1", "--probe", "tcp"});
        dnsctl({"member", "add", "web", "127.0.0.22", "--priority", "2", "--probe", "tcp"});
        // A secondary that is never there: its NOTIFYs are retried and counted, and nobody
        // else waits for it.
        dead_ = "127.0.0.9:" + std::to_string(freePort());
        dnsctl({"secondary", "add", kZone, dead_});
        httpPort_ = freePort();
        dnsd_ = std::make_unique<DnsdServer>(
            db_, freePort(),
            std::vector<std::string>{"--http", "127.0.0.1:" + std::to_string(httpPort_)}, kZone);
        for (SecondaryKind k : kKinds) {
            std::string name = std::string(secondaryKindName(k)) + "-key";
            dnsctl({"tsig", "add", name});
            uint16_t port = freePort();
            dnsctl({"secondary", "add", kZone, "127.0.0.1:" + std::to_string(port), "--key", name});
            auto config = dnsctl({"secondary", "config", kZone, "127.0.0.1:" + std::to_string(port),
                                  "--for", secondaryKindName(k), "--primary",
                                  "127.0.0.1:" + std::to_string(dnsd_->port())});
            blocks_.push_back({k, port, config});
        }
        // dnsd picks the secondaries up from the database (within a poll interval).
    }

    std::string dnsctl(const std::vector<std::string>& args) {
        auto r = runDnsctl(db_, args);
        EXPECT_TRUE(r.ok()) << r.command << "\n" << r.err;
        return r.out;
    }

    struct Transfers {
        double ixfr = 0, full = 0;  // incremental; whole zone (AXFR or IXFR answered in full)
    };
    Transfers transfers() {
        std::string m = httpGet(httpPort_, "/metrics");
        auto v = [&](const char* o) {
            return promValue(m, std::string("dnsd_xfr_requests_total{outcome=\"") + o + "\"}");
        };
        return {v("ixfr"), v("axfr") + v("ixfr-full")};
    }

    std::optional<uint32_t> dnsdSerial() {
        auto out = digShort(dnsd_->port(), kZone, "SOA");
        std::istringstream in(out);
        std::string mname, rname;
        uint32_t serial = 0;
        if (in >> mname >> rname >> serial) return serial;
        return std::nullopt;
    }

    // dnsd's own AXFR, signed with the first secondary's key (nobody else may transfer).
    std::set<std::string> dnsdAxfr() {
        auto keys = dnsctl({"tsig", "list", "--show-secrets"});
        std::istringstream in(keys);
        std::string name, alg, secret;
        in >> name >> alg >> secret;
        return axfr(dnsd_->port(), {"-y", alg + ":" + name + ":" + secret});
    }

    void startSecondaries() {
        for (const auto& b : blocks_)
            secondaries_.push_back(
                std::make_unique<SecondaryServer>(b.kind, kZone, b.config, b.port));
    }

    bool allAt(uint32_t serial, std::chrono::milliseconds timeout) {
        return waitUntil(
            [&] {
                for (auto& s : secondaries_)
                    if (s->serial() != serial) return false;
                return true;
            },
            timeout, std::chrono::milliseconds(50));
    }

    std::string state() {
        std::string s;
        for (auto& sec : secondaries_) {
            auto serial = sec->serial();
            s += std::string(secondaryKindName(sec->kind())) + " serial " +
                 (serial ? std::to_string(*serial) : "none") + "\n" + sec->describe() + "\n";
        }
        return s + "dnsd: " + dnsd_->process().describe();
    }

    struct Block {
        SecondaryKind kind;
        uint16_t port;
        std::string config;
    };
    TempDir dir_;
    std::string db_;
    std::unique_ptr<Backend> primary_, standby_;
    std::string dead_;
    uint16_t httpPort_ = 0;
    std::unique_ptr<DnsdServer> dnsd_;
    std::vector<Block> blocks_;
    std::vector<std::unique_ptr<SecondaryServer>> secondaries_;
};

TEST_F(Secondaries, EachTakesTheZoneWithTsigAndFollowsARecordEdit) {
    // Until dnsd has loaded the secondaries, transfers are refused: wait for it.
    ASSERT_TRUE(waitUntil([&] { return !dnsdAxfr().empty(); }, std::chrono::seconds(5)));
    auto serial = dnsdSerial();
    ASSERT_TRUE(serial);
    startSecondaries();
    ASSERT_TRUE(allAt(*serial, std::chrono::seconds(20))) << state();

    // Every copy is dnsd's zone, pool owner included as dnsd serves it (without dnsd-probe,
    // by the pool's all-down rule: both members).
    std::set<std::string> primary = dnsdAxfr();
    ASSERT_GT(primary.size(), 20u);
    EXPECT_EQ(std::count_if(
                  primary.begin(), primary.end(),
                  [](const std::string& rr) { return rr.rfind("app.svc.example.com. ", 0) == 0; }),
              2);
    for (auto& s : secondaries_)
        EXPECT_EQ(axfr(s->port()), primary) << secondaryKindName(s->kind());

    // A record edit: a new serial, NOTIFY, and each secondary fetches the difference by IXFR
    // (not the whole zone) and serves the record.
    const Transfers before = transfers();
    dnsctl({"record", "add", kZone, "fresh 60 IN A 192.0.2.77"});
    ASSERT_TRUE(waitUntil([&] { return dnsdSerial() != serial; }, std::chrono::seconds(5)));
    auto next = dnsdSerial();
    ASSERT_TRUE(allAt(*next, std::chrono::seconds(10))) << state();
    for (auto& s : secondaries_)
        EXPECT_EQ(digShort(s->port(), "fresh." + kZone, "A"), "192.0.2.77\n")
            << secondaryKindName(s->kind());
    const Transfers after = transfers();
    EXPECT_GE(after.ixfr - before.ixfr, 3) << "each secondary took the difference";
    EXPECT_EQ(after.full, before.full) << "nobody needed the whole zone";
    primary = dnsdAxfr();
    for (auto& s : secondaries_)
        EXPECT_EQ(axfr(s->port()), primary) << secondaryKindName(s->kind()) << " after IXFR";
    // The dead secondary: NOTIFYs sent again and again, never acknowledged, counted.
    std::string labels = "{zone=\"" + kZone + "\",secondary=\"" + dead_ + "\"}";
    ASSERT_TRUE(waitUntil(
        [&] {
            return promValue(httpGet(httpPort_, "/metrics"),
                             "dnsd_notify_retries_total" + labels) >= 1;
        },
        std::chrono::seconds(5)));
    std::string metrics = httpGet(httpPort_, "/metrics");
    EXPECT_EQ(promValue(metrics, "dnsd_notify_acked_total" + labels), 0) << metrics;
    for (auto& s : secondaries_) {
        std::string l =
            "{zone=\"" + kZone + "\",secondary=\"127.0.0.1:" + std::to_string(s->port()) + "\"}";
        EXPECT_GE(promValue(metrics, "dnsd_notify_acked_total" + l), 1) << l << metrics;
        // dnsd confirms each secondary's serial by asking its SOA after the acknowledgement.
        EXPECT_TRUE(waitUntil(
            [&] {
                std::string m = httpGet(httpPort_, "/metrics");
                return promValue(m, "dnsd_secondary_serial" + l) == double(*next) &&
                       promValue(m, "dnsd_secondary_behind_serials" + l) == 0;
            },
            std::chrono::seconds(5)))
            << l;
    }
    // dnsctl status shows each secondary as dnsd saw it: current ones at the serial, the dead
    // one behind; after 10 s behind, that is an event (which feeds webhooks).
    EXPECT_TRUE(waitUntil(
        [&] {
            auto st = dnsctl({"status"});
            return st.find("127.0.0.1:" + std::to_string(secondaries_[0]->port()) + "  at serial " +
                           std::to_string(*next)) != std::string::npos &&
                   st.find(dead_ + "  BEHIND") != std::string::npos &&
                   st.find("; last transfer ") != std::string::npos;
        },
        std::chrono::seconds(5)))
        << dnsctl({"status"});
    EXPECT_NE(dnsctl({"status", "--json"}).find("\"endpoint\":\"" + dead_ + "\""),
              std::string::npos);
    EXPECT_TRUE(
        waitUntil([&] { return dnsctl({"events"}).find("secondary-behind") != std::string::npos; },
                  std::chrono::seconds(15)))
        << dnsctl({"events"});
    EXPECT_EQ(dnsctl({"events"}).find("secondary-behind  secondary 127.0.0.1:"), std::string::npos)
        << "only the dead one is behind";
    // A pool edit by dnsctl (no dnsd-probe here: the pool answers by its all-down rule, which
    // leaves a drained member out) is journaled like a decision and reaches every secondary.
    const Transfers beforeDrain = transfers();
    dnsctl({"member", "drain", "web", "127.0.0.21"});
    EXPECT_TRUE(waitUntil(
        [&] {
            for (auto& s : secondaries_)
                if (digShort(s->port(), "app." + kZone, "A") != "127.0.0.22\n") return false;
            return true;
        },
        std::chrono::seconds(10)))
        << state();
    EXPECT_EQ(transfers().full, beforeDrain.full);
    EXPECT_GE(transfers().ixfr - beforeDrain.ixfr, 3);
}

TEST_F(Secondaries, EachFailoverAndFailbackReachesEverySecondary) {
    Process probe(DNSD_PROBE_BIN, {"--db", db_, "--http", "none"});
    auto served = [&](uint16_t port) { return digShort(port, "app." + kZone, "A"); };
    ASSERT_TRUE(waitUntil([&] { return served(dnsd_->port()) == "127.0.0.21\n"; },
                          std::chrono::seconds(10)))
        << served(dnsd_->port()) << probe.describe();
    ASSERT_TRUE(waitUntil([&] { return !dnsdAxfr().empty(); }, std::chrono::seconds(5)));
    startSecondaries();
    auto onEvery = [&](const std::string& want) {
        return waitUntil(
            [&] {
                for (auto& s : secondaries_)
                    if (served(s->port()) != want) return false;
                return true;
            },
            std::chrono::seconds(10), std::chrono::milliseconds(20));
    };
    ASSERT_TRUE(onEvery("127.0.0.21\n")) << state();
    // The primary dies: the decision bumps the serial, dnsd NOTIFYs, every secondary serves
    // the standby.
    auto before = dnsdSerial();
    const Transfers xfrBefore = transfers();
    primary_->stop();
    ASSERT_TRUE(onEvery("127.0.0.22\n")) << state() << probe.describe();
    EXPECT_NE(dnsdSerial(), before);
    // It comes back: after the 1 s hold-down, failback reaches every secondary too.
    primary_->start();
    ASSERT_TRUE(onEvery("127.0.0.21\n")) << state() << probe.describe();
    // Both by IXFR, and each copy is still exactly dnsd's zone.
    const Transfers xfrAfter = transfers();
    EXPECT_GE(xfrAfter.ixfr - xfrBefore.ixfr, 6);
    EXPECT_EQ(xfrAfter.full, xfrBefore.full);
    auto primary = dnsdAxfr();
    for (auto& s : secondaries_)
        EXPECT_EQ(axfr(s->port()), primary) << secondaryKindName(s->kind());
}

TEST_F(Secondaries, AStoppedSecondaryCatchesUpByIxfrUnlessTheJournalWasOutrun) {
    ASSERT_TRUE(waitUntil([&] { return !dnsdAxfr().empty(); }, std::chrono::seconds(5)));
    startSecondaries();
    ASSERT_TRUE(allAt(*dnsdSerial(), std::chrono::seconds(20))) << state();
    // BIND keeps its copy in a file across a restart, so it comes back asking for IXFR.
    SecondaryServer& bind = *secondaries_[2];
    ASSERT_EQ(bind.kind(), SecondaryKind::Bind);
    auto editWhileDown = [&](int n, const std::string& tag) {
        bind.stop();
        for (int i = 0; i < n; ++i)
            dnsctl({"record", "add", kZone,
                    tag + std::to_string(i) + " 60 IN A 192.0.2." + std::to_string(100 + i)});
    };
    // Three changes while it is down: the journal covers them, one IXFR catches up.
    editWhileDown(3, "down");
    ASSERT_TRUE(waitUntil([&] { return secondaries_[0]->serial() == dnsdSerial(); },
                          std::chrono::seconds(10)));
    Transfers before = transfers();
    bind.start();
    ASSERT_TRUE(waitUntil([&] { return bind.serial() == dnsdSerial(); }, std::chrono::seconds(15)))
        << state();
    Transfers after = transfers();
    EXPECT_GE(after.ixfr - before.ixfr, 1);
    EXPECT_EQ(after.full, before.full);
    EXPECT_EQ(axfr(bind.port()), dnsdAxfr());
    // Four more with a journal of two: outrun, so the answer to its IXFR is the whole zone.
    dnsctl({"zone", "journal", kZone, "--max-entries", "2"});
    editWhileDown(4, "outrun");
    before = transfers();
    bind.start();
    ASSERT_TRUE(waitUntil([&] { return bind.serial() == dnsdSerial(); }, std::chrono::seconds(15)))
        << state();
    after = transfers();
    EXPECT_GE(after.full - before.full, 1);
    EXPECT_EQ(axfr(bind.port()), dnsdAxfr());
}

TEST_F(Secondaries, ChangesMadeWhileDnsdWasDownReachThemByIxfrAfterItsRestart) {
    ASSERT_TRUE(waitUntil([&] { return !dnsdAxfr().empty(); }, std::chrono::seconds(5)));
    startSecondaries();
    ASSERT_TRUE(allAt(*dnsdSerial(), std::chrono::seconds(20))) << state();
    const uint16_t port = dnsd_->port();
    dnsd_.reset();  // stopped
    dnsctl({"record", "add", kZone, "whiledown 60 IN A 192.0.2.55"});
    dnsctl({"record", "add", kZone, "whiledown2 60 IN A 192.0.2.56"});
    dnsd_ = std::make_unique<DnsdServer>(
        db_, port, std::vector<std::string>{"--http", "127.0.0.1:" + std::to_string(httpPort_)},
        kZone);
    // At start dnsd NOTIFYs every secondary; the journal in the database has both changes.
    ASSERT_TRUE(allAt(*dnsdSerial(), std::chrono::seconds(15))) << state();
    Transfers t = transfers();
    EXPECT_GE(t.ixfr, 3);
    EXPECT_EQ(t.full, 0);
    for (auto& s : secondaries_)
        EXPECT_EQ(digShort(s->port(), "whiledown2." + kZone, "A"), "192.0.2.56\n");
}

}  // namespace
