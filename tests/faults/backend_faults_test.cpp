// Backends that misbehave: one that flaps, one that accepts and never answers, one that answers
// slowly. Hysteresis bounds the failovers; timeouts fire on schedule; nobody else's probes
// are delayed.
#include <numeric>

#include "tests/faults/faults_fixture.hpp"

namespace faults {
namespace {

struct Observation {
    int64_t at = 0;
    bool ok = false;
    int64_t latencyUs = 0;
    std::string message;
};

class BackendFault : public FaultScenario {
  protected:
    void probe(const std::string& name, uint16_t port, const std::string& timeout = "80ms") {
        ok({"probe", "add", name, "--type", "http", "--port", std::to_string(port), "--path", "/",
            "--interval", "100ms", "--timeout", timeout, "--rise", "2", "--fall", "2"});
    }
    std::vector<Observation> observations(const std::string& member, int64_t since) const {
        auto db = open();
        SQLite::Statement q(*db,
                            "SELECT o.at, o.ok, o.latency_us, o.message FROM observations o JOIN "
                            "members m ON m.id = o.member_id WHERE m.value = ? AND o.at >= ? "
                            "ORDER BY o.at");
        q.bind(1, member);
        q.bind(2, since);
        std::vector<Observation> out;
        while (q.executeStep())
            out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt() != 0,
                           q.getColumn(2).getInt64(), q.getColumn(3).getString()});
        return out;
    }
    static std::vector<int64_t> gaps(const std::vector<Observation>& obs) {
        std::vector<int64_t> out;
        for (size_t i = 1; i < obs.size(); ++i) out.push_back(obs[i].at - obs[i - 1].at);
        return out;
    }
    static int64_t median(std::vector<int64_t> v) {
        if (v.empty()) return 0;
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    }
    static std::string describe(const std::vector<Observation>& obs) {
        std::string out;
        for (const auto& o : obs)
            out += std::to_string(o.at % 100000) + (o.ok ? " ok " : " FAIL ") +
                   std::to_string(o.latencyUs / 1000) + "ms " + o.message + "\n";
        return out;
    }
};

TEST_F(BackendFault, FlappingBackendsFailOverNoMoreThanHysteresisAllows) {
    // Pool web: the primary alternates ok/fail on every probe. With rise = fall = 2 it never
    // has two equal results in a row, so it never changes state: no failover at all.
    PatternBackend alternating(kPrimary, "ox");
    // Pool web2: the primary goes ok, ok, fail, fail, ...: down and up every 400 ms, which
    // hysteresis lets through; the 1 s failback hold-down then keeps the pool on its backup, so
    // it fails over exactly once instead of looping.
    PatternBackend pairs("127.0.0.13", "ooxx");
    probe("alternating", alternating.port());
    probe("pairs", pairs.port());
    probe("steady", secondary_->port());
    ok({"pool", "create", "web", "--zone", "svc.test", "--name", "www", "--hold-down", "0s"});
    ok({"member", "add", "web", kPrimary, "--priority", "1", "--probe", "alternating"});
    ok({"member", "add", "web", kSecondary, "--priority", "2", "--probe", "steady"});
    ok({"pool", "create", "web2", "--zone", "svc.test", "--name", "www2", "--hold-down", "1s"});
    ok({"member", "add", "web2", "127.0.0.13", "--priority", "1", "--probe", "pairs"});
    ok({"member", "add", "web2", kSecondary, "--priority", "2", "--probe", "steady"});
    startDnsd();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kPrimary; }, 2s));
    AnswerWatcher www([&] { return dnsdAnswer(); }, kPrimary);
    ASSERT_TRUE(waitUntil([&] { return served("web2") == kSecondary; }, 3s)) << eventDump();

    // 5 s of flapping: 50 probes of each.
    int a = alternating.requests(), p = pairs.requests();
    ASSERT_TRUE(waitUntil(
        [&] { return alternating.requests() >= a + 50 && pairs.requests() >= p + 50; }, 15s));
    www.stop();

    EXPECT_EQ(served("web"), kPrimary);
    EXPECT_EQ(events("failover", "web"), 0) << eventDump();
    EXPECT_EQ(events("member-down", "web"), 0) << eventDump();
    EXPECT_TRUE(www.wrong().empty()) << "dnsd moved off the flapping primary: " << www.wrongText();
    EXPECT_GE(www.total(), 200);

    EXPECT_EQ(served("web2"), kSecondary);
    EXPECT_EQ(events("failover", "web2"), 1) << eventDump();
    EXPECT_EQ(events("failback", "web2"), 0) << eventDump();
    EXPECT_GE(events("member-down", "web2"), 10) << "the flaps did pass hysteresis";
    EXPECT_EQ(dnsdAnswer("www2.svc.test."), kSecondary);
}

TEST_F(BackendFault, HungAndSlowBackendsTimeOutOnScheduleWithoutDelayingOthers) {
    SilentBackend hung("127.0.0.12");
    Backend slow("127.0.0.13", Backend::Kind::Http);  // slower than the timeout
    slow.delayMs = 150;
    Backend sluggish("127.0.0.14", Backend::Kind::Http);  // slow, but within the timeout
    sluggish.delayMs = 30;
    probe("healthy", primary_->port());
    probe("hung", hung.port());
    probe("slow", slow.port());
    probe("sluggish", sluggish.port());
    ok({"pool", "create", "web", "--zone", "svc.test", "--name", "www"});
    ok({"member", "add", "web", kPrimary, "--probe", "healthy"});
    ok({"member", "add", "web", "127.0.0.12", "--probe", "hung"});
    ok({"member", "add", "web", "127.0.0.13", "--probe", "slow"});
    ok({"member", "add", "web", "127.0.0.14", "--probe", "sluggish"});
    int64_t started = zones::nowMs();
    startProbe();
    std::string up = std::string(kPrimary) + " 127.0.0.14";
    ASSERT_TRUE(waitServed(up)) << eventDump();

    // 3 s of probing; observations are written with the heartbeat, every second.
    int before = primary_->requests;
    ASSERT_TRUE(waitUntil([&] { return primary_->requests >= before + 30; }, 10s));
    ASSERT_TRUE(waitUntil([&] { return observations(kPrimary, started).size() >= 30; }, 3s));
    // The first round starts all probes at once; judge the steady state after it.
    int64_t from = started + 500;
    auto healthy = observations(kPrimary, from), hangs = observations("127.0.0.12", from),
         slows = observations("127.0.0.13", from), sluggishes = observations("127.0.0.14", from);
    ASSERT_GE(hangs.size(), 20u) << describe(hangs);
    ASSERT_GE(slows.size(), 20u) << describe(slows);

    // Timeouts on schedule: every hung/slow check fails at 80 ms, give or take scheduling.
    for (const auto* obs : {&hangs, &slows}) {
        for (const auto& o : *obs) {
            EXPECT_FALSE(o.ok) << describe(*obs);
            EXPECT_GE(o.latencyUs, 80000) << describe(*obs);
            EXPECT_LT(o.latencyUs, 140000) << describe(*obs);
        }
        EXPECT_NE(obs->back().message.find("timeout after 80ms"), std::string::npos)
            << obs->back().message;
        // A check that times out still starts every interval.
        EXPECT_NEAR(double(median(gaps(*obs))), 100.0, 25.0) << describe(*obs);
    }
    for (const auto& o : sluggishes) {
        EXPECT_TRUE(o.ok) << describe(sluggishes);
        EXPECT_GE(o.latencyUs, 30000) << describe(sluggishes);
    }
    // The healthy member's cadence is the interval, not interval + someone's timeout.
    auto g = gaps(healthy);
    ASSERT_GE(g.size(), 20u);
    EXPECT_NEAR(double(median(g)), 100.0, 20.0) << describe(healthy);
    EXPECT_LT(*std::max_element(g.begin(), g.end()), 250) << describe(healthy);
    for (const auto& o : healthy) {
        EXPECT_TRUE(o.ok) << describe(healthy);
        EXPECT_LT(o.latencyUs, 50000) << describe(healthy);
    }
    EXPECT_EQ(served(), up);
    EXPECT_GE(hung.accepted(), 20) << "the hung backend did accept the connections";
}

}  // namespace
}  // namespace faults
