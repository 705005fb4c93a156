// `dnsctl probe test NAME TARGET` with the real dnsctl against real backends on loopback
// (tests/probes/fake_backends.hpp): it runs dnsd-probe's check once, prints what it saw
// (connect, TLS and certificate, HTTP status and body match, DNS answer) and exits 0 on a
// pass, 1 on a failure, 2 on bad arguments; it writes nothing.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/probes/fake_backends.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/tools/db_dump.hpp"

namespace {

using fakes::Backend;
using testsupport::CommandResult;

class ProbeTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = dir_.file("dnsd.db");
        ok({"init"});
    }
    CommandResult dnsctl(std::vector<std::string> args) {
        args.insert(args.begin(), {"--db", db_});
        return testsupport::runCommand(DNSCTL_BIN, args, {"DNSD_DB="});
    }
    CommandResult ok(std::vector<std::string> args) {
        CommandResult r = dnsctl(std::move(args));
        EXPECT_EQ(r.exitCode, 0) << r.command << "\nstderr: " << r.err;
        return r;
    }
    // Runs `probe test` and checks the exit status and that every `expected` text is shown.
    CommandResult test(const std::string& probe, const std::string& target, int exitCode,
                       const std::vector<std::string>& expected) {
        std::string before = testsupport::dumpDatabase(db_);
        CommandResult r = dnsctl({"probe", "test", probe, target});
        EXPECT_EQ(r.exitCode, exitCode)
            << r.command << "\nstdout: " << r.out << "stderr: " << r.err;
        for (const auto& e : expected)
            EXPECT_NE(r.out.find(e), std::string::npos)
                << r.command << "\nstdout: " << r.out << "expected: " << e;
        EXPECT_EQ(testsupport::dumpDatabase(db_), before) << "probe test wrote to the database";
        return r;
    }
    testsupport::TempDir dir_{"dnsctl-probe-test"};
    std::string db_;
};

TEST_F(ProbeTest, HttpStatusAndBody) {
    Backend b("127.0.0.21", Backend::Kind::Http);
    b.setBody("all systems ok\n");
    std::string port = std::to_string(b.port());
    ok({"probe", "add", "web", "--type", "http", "--port", port, "--path", "/healthz", "--body",
        "systems ok"});
    test("web", "127.0.0.21", 0,
         {"probe web (http, timeout 500ms) on 127.0.0.21:\n", "connected to 127.0.0.21:" + port,
          "sent GET /healthz, Host 127.0.0.21:" + port, "HTTP 200 ", ", 15 body bytes",
          "body contains 'systems ok'", "\nPASS: HTTP 200 ("});
    EXPECT_NE(b.lastRequest().find("GET /healthz HTTP/1.1"), std::string::npos);

    b.status = 503;
    test("web", "127.0.0.21", 1, {"HTTP 503 ", "\nFAIL: HTTP 503 not in 200-399 ("});
    b.status = 200;
    b.setBody("degraded\n");
    test("web", "127.0.0.21", 1,
         {"body lacks 'systems ok'", "\nFAIL: HTTP 200, body lacks 'systems ok' ("});
    b.stop();
    test("web", "127.0.0.21", 1, {"\nFAIL: connect: Connection refused ("});
}

TEST_F(ProbeTest, TcpConnect) {
    Backend b("127.0.0.22", Backend::Kind::Tcp);
    ok({"probe", "add", "t", "--type", "tcp", "--port", std::to_string(b.port())});
    test("t", "127.0.0.22", 0,
         {"connected to 127.0.0.22:" + std::to_string(b.port()), "\nPASS: connected ("});
    EXPECT_EQ(b.accepted(), 1);
}

TEST_F(ProbeTest, HttpsShowsTheCertificate) {
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=www.example.test -keyout " +
        dir_.file("key.pem") + " -out " + dir_.file("cert.pem") + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl cannot make a test certificate";
    Backend b("127.0.0.23", Backend::Kind::Https, 0, dir_.file("cert.pem"), dir_.file("key.pem"));
    std::string port = std::to_string(b.port());
    ok({"probe", "add", "tls", "--type", "https", "--port", port, "--sni", "www.example.test"});
    // Self-signed: verification fails, and the output says which certificate and why.
    test("tls", "127.0.0.23", 1,
         {"TLS handshake, SNI www.example.test", "certificate subject /CN=www.example.test",
          "issuer /CN=www.example.test", "valid until ", "verification failed: ", "\nFAIL: tls: "});
    ok({"probe", "set", "tls", "--verify", "off"});
    test("tls", "127.0.0.23", 0,
         {"TLS TLSv1.", "certificate subject /CN=www.example.test", "not verified (verify off)",
          "HTTP 200 ", "\nPASS: HTTP 200 ("});
}

TEST_F(ProbeTest, DnsAnswer) {
    fakes::DnsStub s("127.0.0.24");
    ok({"probe", "add", "ns", "--type", "dns", "--port", std::to_string(s.port()), "--query",
        "www.example.test"});
    test("ns", "127.0.0.24", 0,
         {"sent query www.example.test. A to 127.0.0.24 port " + std::to_string(s.port()),
          "answer NOERROR, aa, 1 answer, 0 authority, 0 additional: A ttl 60 127.0.0.1",
          "\nPASS: NOERROR, 1 answer(s) ("});
    s.rcode = 3;
    test("ns", "127.0.0.24", 1, {"answer NXDOMAIN, aa, 0 answer", "\nFAIL: rcode NXDOMAIN ("});
}

TEST_F(ProbeTest, BadArguments) {
    ok({"probe", "add", "t", "--type", "tcp", "--port", "9"});
    CommandResult r = dnsctl({"probe", "test", "nosuch", "127.0.0.1"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_EQ(r.err,
              "dnsctl probe test: no probe named 'nosuch' (see dnsctl probe list) (see dnsctl "
              "probe test --help)\n");
    r = dnsctl({"probe", "test", "t"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("missing argument TARGET"), std::string::npos) << r.err;
    r = dnsctl({"probe", "test", "t", "127.0.0.1", "extra"});
    EXPECT_EQ(r.exitCode, 2) << r.err;
}

}  // namespace
