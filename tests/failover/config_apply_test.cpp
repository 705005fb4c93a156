// `dnsctl apply` while the real dnsd and dnsd-probe run: the new records and pool settings are
// served without a restart, and nothing that did not change moves: the members keep their
// health (same health_since), the pool keeps serving its primary, and no member-down or
// failover event is written.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "tests/failover/failover_fixture.hpp"

namespace failover {
namespace {

std::string configText(const std::string& port, bool edited) {
    std::string zone = edited ? "    records:\n"
                                "      - \"@ 300 IN SOA ns1 hostmaster 1 3600 600 86400 300\"\n"
                                "      - \"@ 300 IN NS ns1\"\n"
                                "      - \"ns1 300 IN A 127.0.0.1\"\n"
                                "      - \"static 300 IN A 127.0.0.9\"\n"
                                "      - \"new 300 IN A 127.0.0.42\"\n"
                              : "    file: svc.test.zone\n";
    return "version: 1\nzones:\n  svc.test:\n" + zone +
           "probes:\n"
           "  web-http:\n"
           "    type: http\n"
           "    port: " +
           port +
           "\n"
           "    path: /healthz\n"
           "    interval: 100ms\n"
           "    timeout: 80ms\n"
           "pools:\n"
           "  web:\n"
           "    zone: svc.test\n"
           "    name: www\n"
           "    ttl: " +
           (edited ? "45" : "30") +
           "\n"
           "    members:\n"
           "      - value: 127.0.0.11\n"
           "        priority: 1\n"
           "        probes: [web-http]\n"
           "      - value: 127.0.0.12\n"
           "        priority: 2\n"
           "        probes: [web-http]\n" +
           (edited ? "      - value: 127.0.0.13\n        priority: 3\n" : "");
}

TEST_F(FailoverScenario, ApplyWhileRunningChangesAnswersWithoutAFailover) {
    std::string first = dir_->writeFile("dnsd.yaml", configText(port(), false));
    auto applied = dnsctl({"apply", first});
    ASSERT_TRUE(applied.ok()) << applied.out << applied.err;
    EXPECT_EQ(applied.out.find("zone svc.test."), std::string::npos)
        << "the zone matches its file already:\n"
        << applied.out;
    startDnsd();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary)) << served() << "\n" << probe_->describe();
    ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kPrimary; }, 5s)) << dnsdAnswer();
    ASSERT_TRUE(waitUntil([&] { return dnsdTtl() == 30u; }, 5s)) << dnsdTtl();

    auto health = [&](const std::string& value) {
        auto db = open();
        SQLite::Statement q(*db,
                            "SELECT health || ' ' || health_since FROM members WHERE value = ?");
        q.bind(1, value);
        return q.executeStep() ? q.getColumn(0).getString() : "<none>";
    };
    ASSERT_TRUE(waitUntil([&] { return health(kSecondary).rfind("up ", 0) == 0; }, 5s))
        << health(kSecondary);
    std::string primaryBefore = health(kPrimary), secondaryBefore = health(kSecondary);
    ASSERT_EQ(primaryBefore.rfind("up ", 0), 0u) << primaryBefore;
    int failovers = events("failover"), downs = events("member-down");

    std::string second = dir_->writeFile("dnsd.yaml", configText(port(), true));
    auto plan = dnsctl({"plan", second});
    EXPECT_EQ(plan.exitCode, 2) << plan.out << plan.err;
    applied = dnsctl({"apply", second});
    ASSERT_TRUE(applied.ok()) << applied.out << applied.err;
    EXPECT_NE(applied.out.find("+ new.svc.test. 300 IN A 127.0.0.42"), std::string::npos)
        << applied.out;
    EXPECT_NE(applied.out.find("ttl: 30 -> 45"), std::string::npos) << applied.out;
    EXPECT_NE(applied.out.find("+ member 127.0.0.13"), std::string::npos) << applied.out;

    // Served by the same dnsd, without a restart, and the pool never left its primary.
    bool stayed = true;
    EXPECT_TRUE(waitUntil(
        [&] {
            stayed = stayed && dnsdAnswer() == kPrimary && served() == kPrimary;
            return dnsdRdata("new.svc.test.", LDNS_RR_TYPE_A) ==
                       std::vector<std::string>{"127.0.0.42"} &&
                   dnsdTtl() == 45u;
        },
        5s))
        << dnsdTtl() << " " << dnsdAnswer();
    EXPECT_TRUE(stayed) << "the answer left the primary during the apply\n" << eventDump();
    EXPECT_TRUE(dnsd_->process().alive()) << "dnsd restarted or died";
    // A round of checks after the apply (100 ms interval): still nothing moved.
    int requests = primary_->requests;
    ASSERT_TRUE(waitUntil([&] { return primary_->requests >= requests + 5; }, 5s));
    EXPECT_EQ(served(), kPrimary);
    EXPECT_EQ(dnsdAnswer(), kPrimary);
    EXPECT_EQ(health(kPrimary), primaryBefore) << "the unchanged primary lost its health state";
    EXPECT_EQ(health(kSecondary), secondaryBefore);
    EXPECT_EQ(events("failover"), failovers) << eventDump();
    EXPECT_EQ(events("member-down"), downs) << eventDump();

    // Applying the same file again writes nothing at all.
    auto again = dnsctl({"apply", second});
    EXPECT_TRUE(again.ok());
    EXPECT_EQ(again.out, "no changes\n");
}

}  // namespace
}  // namespace failover
