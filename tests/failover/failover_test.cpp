// Failover scenarios with the real dnsd-probe, dnsctl, dnsd and real HTTP backends.
#include <cstdio>
#include <set>

#include "tests/failover/failover_fixture.hpp"

namespace failover {
namespace {

TEST_F(FailoverScenario, KillPrimaryMovesAnswersToSecondaryThenFailsBackAfterHoldDown) {
    standardPool({"--hold-down", "1s", "--ttl", "30"});
    startDnsd();
    EXPECT_EQ(dnsdAnswer(), std::string(kPrimary) + " " + kSecondary)
        << "no decision yet: serve-all";
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << served() << "\n" << probe_->describe();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kPrimary; }, 5s)) << dnsdAnswer();
    EXPECT_EQ(dnsdTtl(), 30u);

    auto killed = std::chrono::steady_clock::now();
    primary_->stop();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kSecondary; }, 5s)) << dnsdAnswer() << "\n"
                                                                           << eventDump();
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - killed);
    // interval 100ms x fall 2 + timeouts + dnsd pickup; generous bound for a loaded machine.
    EXPECT_LT(took.count(), 1500) << "failover took " << took.count() << " ms";
    EXPECT_EQ(served(), kSecondary);
    EXPECT_EQ(column("active_tier"), "2");
    EXPECT_EQ(column("degraded"), "1");
    EXPECT_LE(dnsdTtl(), 5u) << "TTL is lowered while degraded";
    EXPECT_EQ(events("failover"), 1);

    // Decision written within milliseconds of the member-down transition that caused it.
    int64_t down = eventAt("member-down", kPrimary), fo = eventAt("failover");
    EXPECT_GE(fo, down);
    EXPECT_LT(fo - down, 50) << eventDump();

    primary_->start();
    ASSERT_TRUE(waitUntil([&] { return eventAt("member-up", kPrimary) > down; }, 5s))
        << eventDump();
    int64_t up = eventAt("member-up", kPrimary);
    EXPECT_EQ(served(), kSecondary) << "failback must wait for the hold-down";
    ASSERT_TRUE(waitServed(kPrimary, 4s)) << eventDump();
    int64_t fb = eventAt("failback");
    EXPECT_GE(fb - up, 1000) << "failback came before the 1s hold-down";
    EXPECT_LT(fb - up, 1500);
    EXPECT_TRUE(waitUntil([&] { return dnsdAnswer() == kPrimary; }, 5s));

    // The hook saw both, with the event as JSON on stdin.
    ASSERT_TRUE(
        waitUntil([&] { return hookLog().find("\"kind\":\"failback\"") != std::string::npos; }, 5s))
        << hookLog();
    EXPECT_NE(hookLog().find("\"kind\":\"failover\""), std::string::npos);
    EXPECT_NE(hookLog().find("\"to_tier\":2"), std::string::npos) << hookLog();
    EXPECT_NE(hookLog().find("env failover web\n"), std::string::npos) << hookLog();
    EXPECT_NE(hookLog().find("env failback web\n"), std::string::npos) << hookLog();
}

TEST_F(FailoverScenario, FlappingBackendCausesNoFailoverLoop) {
    primary_->alternate = true;  // 200, 503, 200, 503, ...
    standardPool({"--hold-down", "0s"});
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
    int before = primary_->requests;
    ASSERT_TRUE(waitUntil([&] { return primary_->requests >= before + 30; }, 10s));
    EXPECT_EQ(served(), kPrimary);
    EXPECT_EQ(events("failover"), 0) << eventDump();
    EXPECT_EQ(events("member-down"), 0) << eventDump();
}

TEST_F(FailoverScenario, AllDownModes) {
    standardPool();
    startDnsd();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary));
    primary_->stop();
    secondary_->stop();
    ASSERT_TRUE(waitServed(std::string(kPrimary) + " " + kSecondary)) << eventDump();
    EXPECT_EQ(column("all_down"), "1");
    EXPECT_EQ(events("all-down"), 1);
    EXPECT_TRUE(
        waitUntil([&] { return dnsdAnswer() == std::string(kPrimary) + " " + kSecondary; }, 5s))
        << dnsdAnswer();

    // Switching the pool to nodata while running takes effect at once.
    ok({"pool", "set", "web", "--all-down", "nodata"});
    ASSERT_TRUE(waitServed("", 5s)) << served();
    EXPECT_TRUE(waitUntil([&] { return dnsdAnswer() == ""; }, 5s)) << dnsdAnswer();

    ok({"pool", "set", "web", "--all-down", "fallback", "--fallback", "127.0.0.77"});
    ASSERT_TRUE(waitServed("127.0.0.77", 5s)) << served();
    EXPECT_TRUE(waitUntil([&] { return dnsdAnswer() == "127.0.0.77"; }, 5s)) << dnsdAnswer();

    secondary_->start();
    ASSERT_TRUE(waitServed(kSecondary)) << eventDump();
    EXPECT_EQ(events("recovered"), 1);
}

TEST_F(FailoverScenario, ManualApprovalWaitsForOperator) {
    standardPool({"--approval", "manual"});
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary));
    auto early = dnsctl({"pool", "approve", "web"});
    EXPECT_FALSE(early.ok());
    EXPECT_NE(early.err.find("no failover pending"), std::string::npos) << early.err;

    primary_->stop();
    ASSERT_TRUE(waitUntil([&] { return column("pending_tier") == "2"; }, 5s)) << eventDump();
    EXPECT_EQ(served(), kPrimary) << "nothing moves before approval";
    EXPECT_EQ(events("failover-pending"), 1);
    auto status = dnsctl({"status"});
    EXPECT_NE(status.out.find("PENDING"), std::string::npos) << status.out;
    auto json = dnsctl({"status", "--json"});
    EXPECT_NE(json.out.find("\"pending\":{\"tier\":2"), std::string::npos) << json.out;

    auto approve = dnsctl({"pool", "approve", "web"});
    ASSERT_TRUE(approve.ok()) << approve.err;
    EXPECT_NE(approve.out.find("approved"), std::string::npos) << approve.out;
    ASSERT_TRUE(waitServed(kSecondary, 5s));
    EXPECT_EQ(column("pending_tier"), "NULL");
    EXPECT_EQ(events("admin-approve"), 1);
}

TEST_F(FailoverScenario, ManualFailbackStaysOnBackupUntilAsked) {
    standardPool({"--failback", "manual"});
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary));
    primary_->stop();
    ASSERT_TRUE(waitServed(kSecondary));
    primary_->start();
    ASSERT_TRUE(waitUntil(
        [&] {
            return events("member-up") >= 1 && eventAt("member-up", kPrimary) > eventAt("failover");
        },
        3s));
    // Well past any hold-down: still on the backup.
    int before = primary_->requests;
    ASSERT_TRUE(waitUntil([&] { return primary_->requests >= before + 5; }, 5s));
    EXPECT_EQ(served(), kSecondary);
    auto r = dnsctl({"pool", "failback", "web"});
    ASSERT_TRUE(r.ok()) << r.err;
    EXPECT_NE(r.out.find("failed back to priority 1"), std::string::npos) << r.out;
    EXPECT_EQ(served(), kPrimary);
}

TEST_F(FailoverScenario, DrainAndScheduledMaintenanceWindow) {
    ok({"probe", "add", "web-http", "--type", "http", "--port", port(), "--interval", "100ms"});
    ok({"pool", "create", "web", "--zone", "svc.test", "--name", "www"});
    ok({"member", "add", "web", kPrimary, "--probe", "web-http"});
    ok({"member", "add", "web", kSecondary, "--probe", "web-http"});
    startProbe();
    std::string both = std::string(kPrimary) + " " + kSecondary;
    ASSERT_TRUE(waitServed(both));

    ok({"member", "drain", "web", kPrimary});
    ASSERT_TRUE(waitServed(kSecondary, 5s));
    int before = primary_->requests;
    EXPECT_TRUE(waitUntil([&] { return primary_->requests > before; }, 5s))
        << "probes keep running while drained";
    ok({"member", "undrain", "web", kPrimary});
    ASSERT_TRUE(waitServed(both, 5s));

    // A window that starts in 600ms and lasts 600ms drains and restores by itself.
    auto set = std::chrono::steady_clock::now();
    ok({"member", "drain", "web", kSecondary, "--start", "+600ms", "--end", "+1200ms"});
    EXPECT_EQ(served(), both);
    ASSERT_TRUE(waitServed(kPrimary, 5s)) << eventDump();
    EXPECT_GE(std::chrono::steady_clock::now() - set, 500ms);
    ASSERT_TRUE(waitServed(both, 5s)) << eventDump();
    EXPECT_EQ(events("drain-start"), 1);
    EXPECT_EQ(events("drain-end"), 1);
    EXPECT_EQ(events("admin-drain"), 2);
    EXPECT_EQ(events("admin-undrain"), 1);
}

TEST_F(FailoverScenario, ForceUpDownAuto) {
    standardPool({"--hold-down", "0s"});
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary));
    ok({"member", "force", "down", "web", kPrimary});
    ASSERT_TRUE(waitServed(kSecondary, 5s));
    primary_->stop();
    ok({"member", "force", "up", "web", kPrimary});
    ASSERT_TRUE(waitServed(kPrimary, 5s)) << "force up beats the failing probe";
    ok({"member", "force", "auto", "web", kPrimary});
    ASSERT_TRUE(waitServed(kSecondary, 5s));
    EXPECT_EQ(events("admin-force-down"), 1);
    EXPECT_EQ(events("admin-force-up"), 1);
    EXPECT_EQ(events("admin-force-auto"), 1);
}

TEST_F(FailoverScenario, DnsctlChangesArePickedUpLive) {
    standardPool();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary));

    // A new member of the primary tier joins once its first check passes.
    Backend third("127.0.0.13", Backend::Kind::Http, primary_->port());
    ok({"member", "add", "web", "127.0.0.13", "--probe", "web-http"});
    ASSERT_TRUE(waitServed(std::string(kPrimary) + " 127.0.0.13", 5s)) << served();

    // Removing a member takes it out; its probes stop.
    ok({"member", "remove", "web", "127.0.0.13"});
    ASSERT_TRUE(waitServed(kPrimary, 5s));
    int after = third.requests;
    int primaryBefore = primary_->requests;
    ASSERT_TRUE(waitUntil([&] { return primary_->requests >= primaryBefore + 5; }, 5s));
    EXPECT_LE(third.requests, after + 1) << "probes of a removed member must stop";

    // Deleting the probe stops checks; a member without probes counts as up.
    ok({"probe", "delete", "web-http"});
    int p = primary_->requests;
    int s = secondary_->requests;
    primary_->stop();  // would fail over if it were still probed
    Backend marker("127.0.0.14", Backend::Kind::Tcp);
    ok({"probe", "add", "other", "--type", "tcp", "--port", std::to_string(marker.port()),
        "--interval", "100ms"});
    ok({"member", "add", "web", "127.0.0.14", "--priority", "3", "--probe", "other"});
    ASSERT_TRUE(waitUntil([&] { return marker.accepted() >= 5; }, 5s));
    EXPECT_LE(primary_->requests, p + 1);
    EXPECT_LE(secondary_->requests, s + 1);
    EXPECT_EQ(served(), kPrimary);

    // Probe settings change while running (a new interval is used at once).
    ok({"probe", "set", "other", "--interval", "200ms"});
    // Pool deletion removes its decision.
    ok({"pool", "delete", "web"});
    EXPECT_EQ(served(), "<none>");
}

TEST_F(FailoverScenario, ProbeKilledDnsdKeepsServingAndReportsStale) {
    standardPool({"--hold-down", "500ms"});
    startDnsd();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary));
    primary_->stop();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kSecondary; }, 5s));
    ::kill(probe_->pid(), SIGKILL);
    probe_->waitExit(2s);
    probe_.reset();
    primary_->start();
    // Nobody decides any more: dnsd keeps the last decision.
    ASSERT_TRUE(
        waitUntil([&] { return dnsctl({"status"}).out.find("STALE") != std::string::npos; }, 6s))
        << dnsctl({"status"}).out;
    EXPECT_EQ(dnsdAnswer(), kSecondary);
    EXPECT_EQ(served(), kSecondary);

    // A restarted dnsd-probe carries the decision over: no spurious failover on start.
    int failovers = events("failover");
    startProbe();
    ASSERT_TRUE(
        waitUntil([&] { return dnsctl({"status"}).out.find("running") != std::string::npos; }, 5s));
    // The hold-down restarts with the new process (conservative), then it fails back.
    ASSERT_TRUE(waitServed(kPrimary, 5s)) << eventDump();
    EXPECT_EQ(events("failover"), failovers);
    EXPECT_EQ(events("failback"), 1);
}

TEST_F(FailoverScenario, LockedDatabaseIsRetriedNotFatal) {
    standardPool({"--hold-down", "0s"});
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary));
    {
        // Another writer holds the write lock while the primary dies.
        SQLite::Database locker(db_, SQLite::OPEN_READWRITE, 100);
        locker.exec("BEGIN IMMEDIATE");
        primary_->stop();
        ASSERT_TRUE(waitUntil(
            [&] { return probe_->stderrText().find("database is locked") != std::string::npos; },
            5s))
            << probe_->stderrText();
        EXPECT_EQ(served(), kPrimary) << "nothing can be committed while locked";
        locker.exec("COMMIT");
    }
    ASSERT_TRUE(waitServed(kSecondary, 5s)) << probe_->stderrText();
    EXPECT_TRUE(waitUntil(
        [&] { return probe_->stderrText().find("database writable again") != std::string::npos; },
        3s));
    EXPECT_EQ(events("failover"), 1);
    EXPECT_TRUE(probe_->alive());
}

TEST_F(FailoverScenario, DnsProbeAgainstStubServers) {
    fakes::DnsStub first(kPrimary);
    fakes::DnsStub second(kSecondary, first.port());
    ok({"probe", "add", "ns", "--type", "dns", "--port", std::to_string(first.port()), "--query",
        "www.example.test", "--interval", "100ms", "--timeout", "50ms", "--fall", "2", "--rise",
        "2"});
    ok({"pool", "create", "web", "--zone", "svc.test", "--name", "www"});
    ok({"member", "add", "web", kPrimary, "--probe", "ns"});
    ok({"member", "add", "web", kSecondary, "--priority", "2", "--probe", "ns"});
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
    first.rcode = 2;  // SERVFAIL
    ASSERT_TRUE(waitServed(kSecondary, 5s)) << eventDump();
    auto status = dnsctl({"status"});
    EXPECT_NE(status.out.find("rcode SERVFAIL"), std::string::npos) << status.out;
}

TEST_F(FailoverScenario, MaxAnswersCapsAndRotatesActiveActiveSet) {
    ok({"probe", "add", "web-http", "--type", "http", "--port", port(), "--interval", "100ms"});
    ok({"pool", "create", "web", "--zone", "svc.test", "--name", "www", "--max-answers", "1"});
    ok({"member", "add", "web", kPrimary, "--probe", "web-http"});
    ok({"member", "add", "web", kSecondary, "--probe", "web-http"});
    startDnsd();
    startProbe();
    ASSERT_TRUE(waitServed(std::string(kPrimary) + " " + kSecondary)) << eventDump();
    std::set<std::string> seen;
    ASSERT_TRUE(waitUntil(
        [&] {
            auto a = dnsdAnswer();
            EXPECT_TRUE(a == kPrimary || a == kSecondary || a.find(' ') == std::string::npos) << a;
            if (a == kPrimary || a == kSecondary) seen.insert(a);
            return seen.size() == 2;
        },
        5s))
        << "rotation should show both members one at a time";
}

TEST_F(FailoverScenario, AaaaAndCnamePoolsServeCanonicalValues) {
    ok({"pool", "create", "web6", "--zone", "svc.test", "--name", "www", "--type", "AAAA"});
    ok({"member", "add", "web6", "0:0:0:0:0:0:0:1"});  // no probes: always up
    ok({"member", "add", "web6", "2001:DB8::1", "--priority", "2"});
    ok({"pool", "create", "cdn", "--zone", "svc.test", "--name", "cdn", "--type", "CNAME"});
    ok({"member", "add", "cdn", "Primary.Example.NET."});
    ok({"member", "add", "cdn", "backup.example.net", "--priority", "2"});
    ok({"member", "force", "down", "cdn", "primary.example.net."});
    startDnsd();
    startProbe();
    ASSERT_TRUE(waitUntil([&] { return served("web6") == "::1"; }, 5s)) << served("web6");
    ASSERT_TRUE(waitUntil([&] { return served("cdn") == "backup.example.net."; }, 5s))
        << served("cdn");
    EXPECT_TRUE(waitUntil(
        [&] {
            return dnsdRdata("www.svc.test.", LDNS_RR_TYPE_AAAA) == std::vector<std::string>{"::1"};
        },
        5s));
    EXPECT_TRUE(waitUntil(
        [&] {
            return dnsdRdata("cdn.svc.test.", LDNS_RR_TYPE_CNAME) ==
                   std::vector<std::string>{"backup.example.net."};
        },
        5s))
        << dnsdRdata("cdn.svc.test.", LDNS_RR_TYPE_CNAME).front();
}

TEST_F(FailoverScenario, EveryProbeOfAMemberMustPass) {
    standardPool({"--hold-down", "0s"});
    Backend side("127.0.0.11", Backend::Kind::Tcp);  // a second port on the primary
    ok({"probe", "add", "side", "--type", "tcp", "--port", std::to_string(side.port()),
        "--interval", "100ms"});
    ok({"probe", "add", "script", "--type", "exec", "--command", "test -e " + dir_->file("healthy"),
        "--interval", "100ms"});
    ok({"member", "set", "web", kPrimary, "--probe", "web-http", "--probe", "side", "--probe",
        "script"});
    dir_->writeFile("healthy", "");
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
    side.stop();  // http still passes, tcp fails
    ASSERT_TRUE(waitServed(kSecondary, 5s)) << eventDump();
    side.start();
    ASSERT_TRUE(waitServed(kPrimary, 5s)) << eventDump();
    std::remove(dir_->file("healthy").c_str());  // exec probe fails
    ASSERT_TRUE(waitServed(kSecondary, 5s)) << eventDump();
    EXPECT_NE(eventDump().find("script failed 2 times in a row (exit 1)"), std::string::npos)
        << eventDump();
}

}  // namespace
}  // namespace failover
