// dnsctl failover commands: bad input is refused with one clear message and leaves the
// database exactly as it was; listings and --json output are well-formed.
#include <cstdio>

#include "tests/failover/failover_fixture.hpp"

namespace failover {
namespace {

class FailoverCli : public FailoverScenario {
  protected:
    // Every row of every table the commands touch, as text.
    std::string fingerprint() const {
        auto db = open();
        std::string out;
        for (const char* table : {"zones", "records", "pools", "members", "probes", "member_probes",
                                  "events", "pool_requests", "pool_decisions"}) {
            SQLite::Statement q(*db, std::string("SELECT * FROM ") + table + " ORDER BY 1");
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
        EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 2)
            << "one clear message, not a dump: " << r.err;
        EXPECT_EQ(fingerprint(), before) << r.command << " changed the database";
    }
};

TEST_F(FailoverCli, BadProbeDefinitionsAreRefused) {
    ok({"probe", "add", "good", "--type", "tcp", "--port", "80"});
    refused({"probe", "add", "x", "--type", "bogus"}, "unknown type 'bogus'");
    refused({"probe", "add", "x", "--type", "tcp", "--port", "80", "--interval", "0"},
            "interval must be greater than zero");
    refused({"probe", "add", "x", "--type", "tcp", "--port", "80", "--interval", "50ms"},
            "below the 100ms minimum");
    refused({"probe", "add", "x", "--type", "tcp", "--port", "80", "--interval", "1s", "--timeout",
             "1s"},
            "timeout 1s must be shorter than the interval 1s");
    refused({"probe", "add", "x", "--type", "tcp", "--port", "80", "--interval", "1s", "--timeout",
             "2s"},
            "must be shorter than the interval");
    refused({"probe", "add", "x", "--type", "tcp"}, "tcp needs --port");
    refused({"probe", "add", "x", "--type", "http", "--expect", "600"}, "is not a status list");
    refused({"probe", "add", "x", "--type", "exec"}, "exec needs --command");
    refused({"probe", "add", "x", "--type", "dns"}, "dns needs --query");
    refused({"probe", "add", "x", "--type", "tcp", "--port", "80", "--interval", "soon"},
            "is not a duration");
    refused({"probe", "add", "good", "--type", "tcp", "--port", "80"}, "already exists");
    refused({"probe", "set", "good", "--interval", "100ms"}, "must be shorter than the interval");
    refused({"probe", "delete", "nosuch"}, "does not exist");
}

TEST_F(FailoverCli, BadPoolDefinitionsAreRefused) {
    ok({"probe", "add", "t", "--type", "tcp", "--port", "80"});
    ok({"pool", "create", "web", "--zone", "svc.test", "--name", "www", "--type", "A"});
    refused({"pool", "create", "x", "--name", "www.other.test.", "--type", "A"},
            "outside every zone");
    refused({"pool", "create", "x", "--zone", "other.test", "--name", "www"},
            "no zone other.test.");
    refused(
        {"pool", "create", "x", "--zone", "svc.test", "--name", "www.elsewhere.", "--type", "A"},
        "outside zone svc.test.");
    refused({"pool", "create", "x", "--zone", "svc.test", "--name", "static", "--type", "A"},
            "already has static A records");
    refused({"pool", "create", "x", "--zone", "svc.test", "--name", "ns1", "--type", "CNAME"},
            "already has static A records");
    refused({"pool", "create", "x", "--zone", "svc.test", "--name", "www", "--type", "A"},
            "already bound to pool web");
    refused({"pool", "create", "x", "--zone", "svc.test", "--name", "www", "--type", "CNAME"},
            "already bound to pool web");
    refused({"pool", "create", "web", "--zone", "svc.test", "--name", "other"}, "already exists");
    refused({"pool", "create", "x", "--zone", "svc.test", "--name", "y", "--type", "MX"},
            "--type must be A, AAAA or CNAME");
    refused({"pool", "create", "x", "--zone", "svc.test", "--name", "y", "--all-down", "maybe"},
            "all-down must be");
    refused({"pool", "create", "x", "--zone", "svc.test", "--name", "y", "--all-down", "fallback"},
            "needs --fallback");
    refused({"pool", "create", "x", "--zone", "svc.test", "--name", "y", "--fallback", "::1"},
            "is not an IPv4 address");
    refused({"pool", "set", "web", "--failback", "sometimes"}, "failback must be auto or manual");
    refused({"pool", "set", "web", "--max-answers", "-1"}, "max-answers");
    refused({"pool", "delete", "nosuch"}, "no pool named nosuch");
}

TEST_F(FailoverCli, BadMembersAreRefused) {
    ok({"probe", "add", "t", "--type", "tcp", "--port", "80"});
    ok({"pool", "create", "web", "--zone", "svc.test", "--name", "www", "--type", "A"});
    ok({"pool", "create", "web6", "--zone", "svc.test", "--name", "www", "--type", "AAAA"});
    ok({"pool", "create", "alias", "--zone", "svc.test", "--name", "cdn", "--type", "CNAME"});
    ok({"member", "add", "web", "127.0.0.11", "--probe", "t"});
    refused({"member", "add", "web", "2001:db8::1"},
            "'2001:db8::1' is not an IPv4 address (pool web is type A)");
    refused({"member", "add", "web6", "127.0.0.1"}, "is not an IPv6 address");
    refused({"member", "add", "alias", "127.0.0.1"}, "is not a host name");
    refused({"member", "add", "web", "127.0.0.12", "--probe", "nosuch"}, "no probe named nosuch");
    refused({"member", "add", "web", "127.0.0.11"}, "already a member");
    refused({"member", "add", "web", "127.0.0.12", "--priority", "0"}, "priority must be");
    refused({"member", "remove", "web", "127.0.0.99"}, "is not a member of pool web");
    refused({"member", "drain", "web", "127.0.0.11", "--start", "+2s", "--end", "+1s"},
            "--end must be after");
    refused({"member", "drain", "web", "127.0.0.11", "--start", "tomorrow"}, "is not a time");
    refused({"member", "force", "up", "nosuch", "127.0.0.11"}, "no pool named nosuch");
    ok({"member", "add", "alias", "Backup.Example.NET."});
    auto list = dnsctl({"pool", "show", "alias"});
    EXPECT_NE(list.out.find("backup.example.net."), std::string::npos)
        << "stored canonical: " << list.out;
}

TEST_F(FailoverCli, EveryAdminActionIsAnEvent) {
    ok({"probe", "add", "t", "--type", "tcp", "--port", "80"});
    ok({"probe", "set", "t", "--rise", "3"});
    ok({"pool", "create", "web", "--zone", "svc.test", "--name", "www"});
    ok({"pool", "set", "web", "--ttl", "20"});
    ok({"member", "add", "web", "127.0.0.11", "--probe", "t"});
    ok({"member", "set", "web", "127.0.0.11", "--weight", "3"});
    ok({"member", "drain", "web", "127.0.0.11"});
    ok({"member", "undrain", "web", "127.0.0.11"});
    ok({"member", "force", "down", "web", "127.0.0.11"});
    ok({"pool", "failback", "web", "--wait", "0s"});
    ok({"member", "remove", "web", "127.0.0.11"});
    ok({"pool", "delete", "web"});
    ok({"probe", "delete", "t"});
    auto r = dnsctl({"events", "--json"});
    for (const char* kind : {"admin-probe-add", "admin-probe-set", "admin-pool-create",
                             "admin-pool-set", "admin-member-add", "admin-member-set",
                             "admin-drain", "admin-undrain", "admin-force-down", "admin-failback",
                             "admin-member-remove", "admin-pool-delete", "admin-probe-delete"})
        EXPECT_NE(r.out.find(std::string("\"kind\":\"") + kind + "\""), std::string::npos)
            << kind << "\n"
            << r.out;
}

bool validJson(const std::string& text, std::string& why) {
    TempDir d("json");
    std::string file = d.writeFile("x.json", text);
    std::string cmd =
        "python3 -c 'import json,sys\nfor l in ([open(sys.argv[1]).read()] if sys.argv[2]==\"doc\" "
        "else "
        "open(sys.argv[1]).read().splitlines()): json.loads(l)' ";
    bool lines = text.find("\n{") != std::string::npos && text[0] == '{' &&
                 text.find("\"id\":") != std::string::npos;
    FILE* p = popen((cmd + file + (lines ? " lines" : " doc") + " 2>&1").c_str(), "r");
    char buf[512];
    while (p && fgets(buf, sizeof buf, p)) why += buf;
    return p && pclose(p) == 0;
}

TEST_F(FailoverCli, JsonOutputsParse) {
    if (std::system("python3 -c 'import json' >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "python3 needed to parse JSON";
    standardPool();
    startProbe();
    ASSERT_TRUE(waitServed(kPrimary));
    for (auto args : std::vector<std::vector<std::string>>{{"status", "--json"},
                                                           {"pool", "list", "--json"},
                                                           {"probe", "list", "--json"},
                                                           {"events", "--json"},
                                                           {"pool", "show", "web", "--json"}}) {
        auto r = dnsctl(args);
        ASSERT_TRUE(r.ok()) << r.command << r.err;
        std::string why;
        EXPECT_TRUE(validJson(r.out, why)) << r.command << "\n" << r.out << "\n" << why;
    }
    auto plain = dnsctl({"status"});
    EXPECT_NE(plain.out.find("dnsd-probe: running"), std::string::npos) << plain.out;
    EXPECT_NE(plain.out.find(std::string(kPrimary) + "  priority 1  UP since"), std::string::npos)
        << plain.out;
    EXPECT_NE(plain.out.find("last ok"), std::string::npos) << plain.out;
}

TEST_F(FailoverCli, EventsFollowPrintsNewEvents) {
    Process follow(DNSCTL_BIN, {"--db", db_, "events", "--follow", "--since", "1m"});
    ok({"probe", "add", "t", "--type", "tcp", "--port", "80"});
    ASSERT_TRUE(waitUntil(
        [&] { return follow.stdoutText().find("admin-probe-add") != std::string::npos; }, 3s))
        << follow.stdoutText() << follow.stderrText();
    ok({"probe", "delete", "t"});
    EXPECT_TRUE(waitUntil(
        [&] { return follow.stdoutText().find("admin-probe-delete") != std::string::npos; }, 3s));
}

}  // namespace
}  // namespace failover
