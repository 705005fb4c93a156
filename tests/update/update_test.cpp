// RFC 2136 UPDATE against the real dnsd binary and a real database, driven by the real
// clients operators use: BIND's nsupdate and Knot's knsupdate, TSIG-signed, over UDP and TCP.
// Every refused or failed update is checked to leave the database byte for byte as it was
// (tests/tools/db_dump.hpp); every accepted one to be served, journaled and logged as an event.
#include <gtest/gtest.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <sstream>

#include "tests/support/dns_client.hpp"
#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/socket_address.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/unique_fd.hpp"
#include "tests/support/wait_until.hpp"
#include "tests/tools/db_dump.hpp"

using namespace testsupport;
using namespace std::chrono_literals;

namespace {

const std::string kZone = "upd.test.";
const char* kZoneText = R"(
$ORIGIN upd.test.
$TTL 300
@       IN SOA ns1 hostmaster 1 3600 600 86400 60
@       IN NS  ns1
ns1     IN A   127.0.0.1
www     IN A   192.0.2.1
alias   IN CNAME www
)";
// 32-octet secrets (hmac-sha256), base64.
const std::string kOpsSecret = "b3BzLW9wcy1vcHMtb3BzLW9wcy1vcHMtb3BzLW9wcy0=";
const std::string kAcmeSecret = "YWNtZS1hY21lLWFjbWUtYWNtZS1hY21lLWFjbWUtYWM=";
const std::string kWrongSecret = "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3I=";

enum class Client { Nsupdate, Knsupdate };

struct Reply {
    bool ok = false;
    std::string text;  // stdout and stderr
};

class Update : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = dir_.file("dnsd.db");
        createDatabase(db_, {dir_.writeFile("upd.test.zone", kZoneText)});
        ok({"tsig", "add", "ops", "--secret", kOpsSecret});
        ok({"tsig", "add", "acme", "--secret", kAcmeSecret});
        ok({"update-policy", "add", kZone, "--key", "ops"});  // every name, every type
        ok({"update-policy", "add", kZone, "--key", "acme", "--name", "_acme-challenge.*", "--type",
            "TXT"});
        httpPort_ = freePort();
        server_ = std::make_unique<DnsdServer>(
            db_, freePort(),
            std::vector<std::string>{"--http", "127.0.0.1:" + std::to_string(httpPort_)}, kZone);
    }

    void ok(const std::vector<std::string>& args) {
        auto r = runDnsctl(db_, args);
        ASSERT_TRUE(r.ok()) << r.command << "\n" << r.err;
    }

    // Runs `commands` (update/prereq lines) with the client, signed with key:secret.
    Reply send(Client client, const std::string& commands, const std::string& key = "ops",
               const std::string& secret = kOpsSecret, bool tcp = false,
               const std::string& zone = kZone) {
        std::string script = "server 127.0.0.1 " + std::to_string(server_->port()) + "\n" +
                             "zone " + zone + "\n" + commands + "send\n";
        std::string file = dir_.writeFile("script.txt", script);
        std::vector<std::string> args;
        if (!key.empty()) args = {"-y", "hmac-sha256:" + key + ":" + secret};
        if (tcp) args.push_back("-v");  // both: TCP
        args.push_back(file);
        CommandResult r =
            runCommand(client == Client::Nsupdate ? "nsupdate" : "knsupdate", args, {}, 30s);
        return {r.ok(), r.out + r.err};
    }

    std::vector<std::string> answer(const std::string& name, uint16_t type) {
        auto m = server_->client().udp(QueryBuilder(name, type).build(), 2s);
        if (!m || !m->parsed()) return {"<no answer>"};
        if (m->rcode() != 0) return {"rcode " + std::to_string(m->rcode())};
        return m->canonicalRrs(Section::Answer);
    }

    bool served(const std::string& name, uint16_t type, const std::string& rr) {
        return waitUntil(
            [&] {
                auto rrs = answer(name, type);
                return std::find(rrs.begin(), rrs.end(), rr) != rrs.end();
            },
            5s);
    }

    int64_t count(const std::string& sql) {
        SQLite::Database db(db_, SQLite::OPEN_READONLY);
        return db.execAndGet(sql).getInt64();
    }

    // The update is refused with `rcode` (as the client words it) and nothing is written.
    void refused(Client client, const std::string& commands, const std::string& rcode,
                 const std::string& key = "ops", const std::string& secret = kOpsSecret,
                 const std::string& zone = kZone) {
        std::string before = dumpDatabase(db_);
        Reply r = send(client, commands, key, secret, false, zone);
        EXPECT_FALSE(r.ok) << commands << r.text;
        EXPECT_NE(r.text.find(rcode), std::string::npos) << commands << "\n" << r.text;
        EXPECT_EQ(dumpDatabase(db_), before) << commands;
    }

    TempDir dir_{"dnsd-update"};
    std::string db_;
    uint16_t httpPort_ = 0;
    std::unique_ptr<DnsdServer> server_;
};

constexpr uint16_t A = 1, TXT = 16, SOA = 6;

// An UPDATE of upd.test. with no prerequisites, no updates and no TSIG (dnsd refuses it).
std::vector<uint8_t> unsignedUpdate(uint16_t id) {
    std::vector<uint8_t> m = {uint8_t(id >> 8), uint8_t(id), 0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    for (const char* label : {"upd", "test"}) {
        m.push_back(uint8_t(std::strlen(label)));
        m.insert(m.end(), label, label + std::strlen(label));
    }
    m.insert(m.end(), {0, 0, 6, 0, 1});  // root, SOA, IN
    return m;
}

TEST_F(Update, NsupdateAddsAndDeletesTxtAndAOverUdpAndTcp) {
    int64_t events = count("SELECT count(*) FROM events WHERE kind = 'update'");
    int64_t journal = count("SELECT count(*) FROM zone_journal");
    Reply r = send(Client::Nsupdate,
                   "update add _acme-challenge.www.upd.test. 60 TXT \"token-1\"\n"
                   "update add host1.upd.test. 120 A 192.0.2.51\n");
    ASSERT_TRUE(r.ok) << r.text;
    EXPECT_TRUE(served("_acme-challenge.www.upd.test.", TXT,
                       "_acme-challenge.www.upd.test.\t60\tIN\tTXT\t\"token-1\""));
    EXPECT_TRUE(served("host1.upd.test.", A, "host1.upd.test.\t120\tIN\tA\t192.0.2.51"));
    // One serial step, one journal entry and one event naming the key and the client.
    EXPECT_TRUE(served(kZone, SOA,
                       "upd.test.\t300\tIN\tSOA\tns1.upd.test. hostmaster.upd.test. 2 "
                       "3600 600 86400 60"));
    EXPECT_EQ(count("SELECT count(*) FROM zone_journal"), journal + 1);
    EXPECT_EQ(count("SELECT count(*) FROM events WHERE kind = 'update'"), events + 1);
    EXPECT_EQ(count("SELECT count(*) FROM events WHERE kind = 'update' AND message LIKE "
                    "'%key ops.%from 127.0.0.1%+2 -0%'"),
              1);

    r = send(Client::Nsupdate,
             "update delete _acme-challenge.www.upd.test. TXT \"token-1\"\n"
             "update delete host1.upd.test. A\n",
             "ops", kOpsSecret, /*tcp=*/true);
    ASSERT_TRUE(r.ok) << r.text;
    EXPECT_TRUE(waitUntil(
        [&] { return answer("host1.upd.test.", A) == std::vector<std::string>{"rcode 3"}; }, 5s));
    EXPECT_EQ(answer("_acme-challenge.www.upd.test.", TXT), std::vector<std::string>{"rcode 3"});
    EXPECT_EQ(count("SELECT count(*) FROM records WHERE owner LIKE '%host1%' OR owner LIKE "
                    "'_acme%'"),
              0);
}

TEST_F(Update, KnsupdateAddsAndDeletesTxtAndAOverUdpAndTcp) {
    Reply r = send(Client::Knsupdate,
                   "update add _acme-challenge.upd.test. 60 TXT \"knot-token\"\n"
                   "update add host2.upd.test. 60 A 192.0.2.52\n",
                   "ops", kOpsSecret, /*tcp=*/true);
    ASSERT_TRUE(r.ok) << r.text;
    EXPECT_TRUE(served("_acme-challenge.upd.test.", TXT,
                       "_acme-challenge.upd.test.\t60\tIN\tTXT\t\"knot-token\""));
    EXPECT_TRUE(served("host2.upd.test.", A, "host2.upd.test.\t60\tIN\tA\t192.0.2.52"));
    r = send(Client::Knsupdate,
             "update delete _acme-challenge.upd.test. TXT\n"
             "update delete host2.upd.test.\n");
    ASSERT_TRUE(r.ok) << r.text;
    EXPECT_TRUE(waitUntil(
        [&] { return answer("host2.upd.test.", A) == std::vector<std::string>{"rcode 3"}; }, 5s));
    EXPECT_EQ(count("SELECT count(*) FROM records WHERE owner LIKE '%host2%' OR owner LIKE "
                    "'_acme%'"),
              0);
}

TEST_F(Update, PrerequisitesThatHoldApplyAndThoseThatFailChangeNothing) {
    for (Client c : {Client::Nsupdate, Client::Knsupdate}) {
        SCOPED_TRACE(c == Client::Nsupdate ? "nsupdate" : "knsupdate");
        refused(c, "prereq nxrrset www.upd.test. A\nupdate add www.upd.test. 60 TXT \"x\"\n",
                "YXRRSET");
        refused(c, "prereq yxrrset www.upd.test. TXT\nupdate add www.upd.test. 60 TXT \"x\"\n",
                "NXRRSET");
        refused(c, "prereq nxdomain www.upd.test.\nupdate add www.upd.test. 60 TXT \"x\"\n",
                "YXDOMAIN");
        refused(c, "prereq yxdomain nothere.upd.test.\nupdate add www.upd.test. 60 TXT \"x\"\n",
                "NXDOMAIN");
        // Value-dependent (§2.4.2): the RRset must be exactly this.
        refused(c,
                "prereq yxrrset www.upd.test. A 192.0.2.99\n"
                "update add www.upd.test. 60 TXT \"x\"\n",
                "NXRRSET");
    }
    Reply r = send(Client::Nsupdate,
                   "prereq yxrrset www.upd.test. A 192.0.2.1\n"
                   "prereq nxdomain fresh.upd.test.\n"
                   "prereq yxdomain alias.upd.test.\n"
                   "update add fresh.upd.test. 60 A 192.0.2.77\n");
    ASSERT_TRUE(r.ok) << r.text;
    EXPECT_TRUE(served("fresh.upd.test.", A, "fresh.upd.test.\t60\tIN\tA\t192.0.2.77"));
}

TEST_F(Update, PolicyRefusesWhatItDoesNotName) {
    for (Client c : {Client::Nsupdate, Client::Knsupdate}) {
        SCOPED_TRACE(c == Client::Nsupdate ? "nsupdate" : "knsupdate");
        // acme may change TXT at _acme-challenge.* only.
        refused(c, "update add www.upd.test. 60 A 192.0.2.9\n", "REFUSED", "acme", kAcmeSecret);
        refused(c, "update add www.upd.test. 60 TXT \"x\"\n", "REFUSED", "acme", kAcmeSecret);
        // (Not an A: nsupdate refuses an address at a name with '_' itself, check-names.)
        refused(c, "update add _acme-challenge.www.upd.test. 60 CAA 0 issue \"ca.test\"\n",
                "REFUSED", "acme", kAcmeSecret);
        // One RR outside the policy refuses the whole update.
        refused(c,
                "update add _acme-challenge.www.upd.test. 60 TXT \"ok\"\n"
                "update add www.upd.test. 60 TXT \"not ok\"\n",
                "REFUSED", "acme", kAcmeSecret);
        // The apex SOA and NS need a policy naming them: `*` with any type is not enough.
        refused(c, "update add upd.test. 300 NS ns2.upd.test.\n", "REFUSED");
        // Unsigned: every policy names a key.
        refused(c, "update add www.upd.test. 60 TXT \"x\"\n", "REFUSED", "", "");
    }
    Reply r = send(Client::Knsupdate, "update add _acme-challenge.www.upd.test. 60 TXT \"ok\"\n",
                   "acme", kAcmeSecret);
    ASSERT_TRUE(r.ok) << r.text;
    EXPECT_TRUE(served("_acme-challenge.www.upd.test.", TXT,
                       "_acme-challenge.www.upd.test.\t60\tIN\tTXT\t\"ok\""));
}

TEST_F(Update, NoPolicyForTheZoneMeansRefused) {
    ok({"update-policy", "delete", "1"});
    ok({"update-policy", "delete", "2"});
    refused(Client::Nsupdate, "update add www.upd.test. 60 TXT \"x\"\n", "REFUSED");
}

TEST_F(Update, BadSignatureUnknownKeyAndForeignZoneAreNotauth) {
    for (Client c : {Client::Nsupdate, Client::Knsupdate}) {
        SCOPED_TRACE(c == Client::Nsupdate ? "nsupdate" : "knsupdate");
        // nsupdate prints the RCODE and TSIG error; knsupdate only that the (unsigned) answer
        // does not verify.
        const bool bind = c == Client::Nsupdate;
        refused(c, "update add www.upd.test. 60 TXT \"x\"\n",
                bind ? "NOTAUTH(BADSIG)" : "failed to verify TSIG", "ops", kWrongSecret);
        refused(c, "update add www.upd.test. 60 TXT \"x\"\n",
                bind ? "NOTAUTH(BADKEY)" : "failed to verify TSIG", "nobody", kOpsSecret);
        refused(c, "update add www.other.test. 60 TXT \"x\"\n", "NOTAUTH", "ops", kOpsSecret,
                "other.test.");
    }
}

TEST_F(Update, PoolNamesAreRefusedUnlessNamedAndNeverForThePoolType) {
    ok({"pool", "create", "web", "--zone", kZone, "--name", "app", "--type", "A"});
    for (Client c : {Client::Nsupdate, Client::Knsupdate}) {
        SCOPED_TRACE(c == Client::Nsupdate ? "nsupdate" : "knsupdate");
        refused(c, "update add app.upd.test. 60 TXT \"x\"\n", "REFUSED");
        refused(c, "update add app.upd.test. 60 A 192.0.2.8\n", "REFUSED");
        refused(c, "update delete app.upd.test.\n", "REFUSED");
    }
    ok({"update-policy", "add", kZone, "--key", "ops", "--name", "app"});
    refused(Client::Nsupdate, "update add app.upd.test. 60 A 192.0.2.8\n", "REFUSED");
    Reply r = send(Client::Nsupdate, "update add app.upd.test. 60 TXT \"named\"\n");
    ASSERT_TRUE(r.ok) << r.text;
    EXPECT_TRUE(served("app.upd.test.", TXT, "app.upd.test.\t60\tIN\tTXT\t\"named\""));
}

TEST_F(Update, AChangeThatBreaksTheZoneIsRefusedAndWritesNothing) {
    for (Client c : {Client::Nsupdate, Client::Knsupdate}) {
        SCOPED_TRACE(c == Client::Nsupdate ? "nsupdate" : "knsupdate");
        // CNAME beside other data, either way round.
        refused(c, "update add www.upd.test. 60 CNAME alias.upd.test.\n", "REFUSED");
        refused(c, "update add alias.upd.test. 60 TXT \"x\"\n", "REFUSED");
        // A delegation without the glue it needs.
        refused(c, "update add sub.upd.test. 60 NS ns.sub.upd.test.\n", "REFUSED");
        // The whole update goes or nothing does.
        refused(c,
                "update add ok.upd.test. 60 TXT \"fine\"\n"
                "update add www.upd.test. 60 CNAME alias.upd.test.\n",
                "REFUSED");
    }
}

TEST_F(Update, OutOfZoneNamesAreNotzone) {
    refused(Client::Nsupdate, "update add www.elsewhere.test. 60 TXT \"x\"\n", "NOTZONE");
}

TEST_F(Update, MetricsCountUpdatesByResult) {
    ASSERT_TRUE(send(Client::Nsupdate, "update add m.upd.test. 60 TXT \"x\"\n").ok);
    send(Client::Nsupdate, "update add www.upd.test. 60 CNAME alias.upd.test.\n");
    std::string metrics = httpGet(httpPort_, "/metrics");
    EXPECT_EQ(promValue(metrics, "dnsd_updates_total{rcode=\"NOERROR\"}"), 1) << metrics;
    EXPECT_EQ(promValue(metrics, "dnsd_updates_total{rcode=\"REFUSED\"}"), 1);
    EXPECT_EQ(promValue(metrics, "dnsd_updates_applied_total"), 1);
    EXPECT_EQ(promValue(metrics, "dnsd_outcomes_total{outcome=\"update\"}"), 2);
}

// certbot's rfc2136 plugin (Debian python3-certbot-dns-rfc2136), its own client class: what
// the authenticator's perform and cleanup call. It finds the zone with signed SOA queries,
// then adds and deletes the challenge TXT by UPDATE over TCP. certbot itself needs an ACME
// server (even --dry-run talks to Let's Encrypt's staging one), which this machine cannot
// reach; the plugin's DNS half is all of it that talks to dnsd.
TEST_F(Update, CertbotRfc2136PluginAddsAndRemovesTheChallenge) {
    const std::string python = "/usr/bin/python3";
    if (!runCommand(python, {"-c", "import certbot_dns_rfc2136"}).ok())
        GTEST_SKIP() << "python3-certbot-dns-rfc2136 is not installed (tools/install-deps)";
    auto script = [&](const std::string& call) {
        return "import dns.tsig\n"
               "from certbot_dns_rfc2136._internal.dns_rfc2136 import _RFC2136Client\n"
               "c = _RFC2136Client('127.0.0.1', " +
               std::to_string(server_->port()) + ", 'acme', '" + kAcmeSecret +
               "', dns.tsig.HMAC_SHA256)\n" + call + "\n";
    };
    auto run = [&](const std::string& call) {
        CommandResult r = runCommand(python, {"-c", script(call)}, {}, 30s);
        return std::make_pair(r.ok(), r.out + r.err);
    };
    auto [added, addText] =
        run("c.add_txt_record('_acme-challenge.www.upd.test.', 'certbot-validation-token', 120)");
    ASSERT_TRUE(added) << addText;
    EXPECT_TRUE(
        served("_acme-challenge.www.upd.test.", TXT,
               "_acme-challenge.www.upd.test.\t120\tIN\tTXT\t\"certbot-validation-token\""));
    EXPECT_EQ(count("SELECT count(*) FROM events WHERE kind = 'update' AND message LIKE "
                    "'%key acme.%'"),
              1);
    auto [deleted, deleteText] =
        run("c.del_txt_record('_acme-challenge.www.upd.test.', 'certbot-validation-token')");
    ASSERT_TRUE(deleted) << deleteText;
    EXPECT_TRUE(waitUntil(
        [&] {
            return answer("_acme-challenge.www.upd.test.", TXT) ==
                   std::vector<std::string>{"rcode 3"};
        },
        5s));
    // A name its policy does not cover: the plugin reports the refusal.
    std::string before = dumpDatabase(db_);
    auto [refusedOk, refusedText] = run("c.add_txt_record('www.upd.test.', 'x', 120)");
    EXPECT_FALSE(refusedOk);
    EXPECT_NE(refusedText.find("REFUSED"), std::string::npos) << refusedText;
    EXPECT_EQ(dumpDatabase(db_), before);
}

// The update queue is bounded: while another writer holds the database, UPDATEs wait in it (up
// to 1,024); beyond that each is answered SERVFAIL at once and counted, and once the writer
// lets go the queue drains and updates work again.
TEST_F(Update, AFullQueueAnswersServfailAtOnceAndDrainsAfterwards) {
    constexpr int kSent = 1100;
    SQLite::Database writer(db_, SQLite::OPEN_READWRITE);
    writer.exec("BEGIN IMMEDIATE");  // the update thread's first transaction waits for this
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(sock.valid());
    SocketAddress to("127.0.0.1", server_->port());
    for (int i = 0; i < kSent; ++i) {
        auto m = unsignedUpdate(uint16_t(i));
        ASSERT_EQ(::sendto(sock.get(), m.data(), m.size(), 0, to.addr(), to.len),
                  ssize_t(m.size()));
    }
    int servfail = 0;
    for (pollfd p{sock.get(), POLLIN, 0}; ::poll(&p, 1, 1000) > 0;) {
        uint8_t buf[512];
        ssize_t n = ::recv(sock.get(), buf, sizeof buf, 0);
        if (n >= 12 && (buf[3] & 0x0F) == 2) ++servfail;
    }
    std::string metrics = httpGet(httpPort_, "/metrics");
    double full = promValue(metrics, "dnsd_updates_queue_full_total");
    EXPECT_GE(full, kSent - 1024 - 1) << metrics;  // the one being worked on is not queued
    EXPECT_EQ(servfail, int(full));
    EXPECT_GE(promValue(metrics, "dnsd_updates_queued"), 1000);
    writer.exec("ROLLBACK");
    EXPECT_TRUE(waitUntil(
        [&] { return promValue(httpGet(httpPort_, "/metrics"), "dnsd_updates_queued") == 0; },
        60s));
    Reply r = send(Client::Nsupdate, "update add after.upd.test. 60 TXT \"drained\"\n");
    ASSERT_TRUE(r.ok) << r.text;
    EXPECT_TRUE(served("after.upd.test.", TXT, "after.upd.test.\t60\tIN\tTXT\t\"drained\""));
}

// Over TCP an UPDATE is answered on its connection by the update thread, and what the client
// pipelined after it waits: the answers come back in the order the messages were sent.
TEST_F(Update, PipelinedOverTcpAnswersStayInOrder) {
    auto query = QueryBuilder("www.upd.test.", A).build();
    const uint16_t queryId = uint16_t(query[0] << 8 | query[1]);
    std::vector<std::vector<uint8_t>> messages = {unsignedUpdate(1), unsignedUpdate(2), query,
                                                  unsignedUpdate(3)};
    auto answers = server_->client().tcpPipelined(messages, 10s);
    ASSERT_EQ(answers.size(), 4u);
    const uint16_t ids[] = {1, 2, queryId, 3};
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(answers[i].id(), ids[i]) << i;
        EXPECT_EQ(answers[i].opcode(), i == 2 ? 0 : 5) << i;
        EXPECT_EQ(answers[i].rcode(), i == 2 ? 0 : 5) << i;  // unsigned UPDATE: REFUSED
    }
}

}  // namespace
