// Every probe kind against real tiny servers on 127.0.0.x (probes/check_runner.hpp).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <optional>

#include "probes/check_runner.hpp"
#include "tests/probes/fake_backends.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

namespace probes {
namespace {

using fakes::Backend;

struct Runner {
    boost::asio::io_context io;
    CheckRunner runner{io};
    CheckResult run(const zones::ProbeDef& probe, const std::string& member) {
        std::optional<CheckResult> result;
        runner.run(probe, member, [&](CheckResult r) { result = r; });
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!result && std::chrono::steady_clock::now() < deadline)
            io.run_one_for(std::chrono::milliseconds(50));
        EXPECT_TRUE(result) << "check never completed";
        return result.value_or(CheckResult{});
    }
};

zones::ProbeDef probe(const std::string& type, int port = 0) {
    zones::ProbeDef p;
    p.name = "p";
    p.type = type;
    if (port) p.port = port;
    p.intervalMs = 1000;
    p.timeoutMs = 500;
    return p;
}

TEST(TcpCheck, ConnectsToListener) {
    Backend b("127.0.0.2", Backend::Kind::Tcp);
    Runner r;
    auto res = r.run(probe("tcp", b.port()), "127.0.0.2");
    EXPECT_TRUE(res.ok) << res.message;
    EXPECT_GT(res.latencyUs, 0);
    // The backend's accept loop runs on its own thread: wait for it to count the connection.
    EXPECT_TRUE(testsupport::waitUntil([&] { return b.accepted() >= 1; }, std::chrono::seconds(5)))
        << "the backend never accepted the check's connection";
}

TEST(TcpCheck, RefusedWhenStopped) {
    Backend b("127.0.0.2", Backend::Kind::Tcp);
    b.stop();
    Runner r;
    auto res = r.run(probe("tcp", b.port()), "127.0.0.2");
    EXPECT_FALSE(res.ok);
    EXPECT_NE(res.message.find("refused"), std::string::npos) << res.message;
}

TEST(TcpCheck, AlternateTargetIsCheckedOnMembersBehalf) {
    Backend b("127.0.0.7", Backend::Kind::Tcp);
    Runner r;
    auto p = probe("tcp");
    p.target = "127.0.0.7:" + std::to_string(b.port());
    auto res = r.run(p, "127.0.0.99");  // nothing listens on the member itself
    EXPECT_TRUE(res.ok) << res.message;
}

TEST(HttpCheck, SendsMethodPathHostUserAgentHeaders) {
    Backend b("127.0.0.3", Backend::Kind::Http);
    Runner r;
    auto p = probe("http", b.port());
    p.method = "HEAD";
    p.path = "/healthz";
    p.hostHeader = "www.example.test";
    p.userAgent = "probe-test/1";
    p.headers = "X-Check: yes\nX-Other: 2";
    auto res = r.run(p, "127.0.0.3");
    EXPECT_TRUE(res.ok) << res.message;
    std::string req = b.lastRequest();
    EXPECT_EQ(req.rfind("HEAD /healthz HTTP/1.1\r\n", 0), 0u) << req;
    EXPECT_NE(req.find("Host: www.example.test\r\n"), std::string::npos) << req;
    EXPECT_NE(req.find("User-Agent: probe-test/1\r\n"), std::string::npos) << req;
    EXPECT_NE(req.find("X-Check: yes\r\n"), std::string::npos) << req;
    EXPECT_NE(req.find("X-Other: 2\r\n"), std::string::npos) << req;
}

TEST(HttpCheck, StatusRanges) {
    Backend b("127.0.0.3", Backend::Kind::Http);
    Runner r;
    auto p = probe("http", b.port());
    b.status = 302;
    EXPECT_TRUE(r.run(p, "127.0.0.3").ok);
    b.status = 503;
    auto res = r.run(p, "127.0.0.3");
    EXPECT_FALSE(res.ok);
    EXPECT_EQ(res.message, "HTTP 503 not in 200-399");
    p.expect = "200,503";
    EXPECT_TRUE(r.run(p, "127.0.0.3").ok);
}

TEST(HttpCheck, BodySubstring) {
    Backend b("127.0.0.3", Backend::Kind::Http);
    b.setBody("status: all good");
    Runner r;
    auto p = probe("http", b.port());
    p.body = "all good";
    EXPECT_TRUE(r.run(p, "127.0.0.3").ok);
    p.body = "degraded";
    auto res = r.run(p, "127.0.0.3");
    EXPECT_FALSE(res.ok);
    EXPECT_NE(res.message.find("body lacks"), std::string::npos);
}

TEST(HttpCheck, TimeoutWhenServerHangs) {
    Backend b("127.0.0.3", Backend::Kind::Http);
    b.delayMs = 1500;
    Runner r;
    auto p = probe("http", b.port());
    p.timeoutMs = 200;
    auto start = std::chrono::steady_clock::now();
    auto res = r.run(p, "127.0.0.3");
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(res.ok);
    EXPECT_NE(res.message.find("timeout after 200ms"), std::string::npos) << res.message;
    EXPECT_LT(took, std::chrono::milliseconds(600));
}

TEST(HttpCheck, UrlTargetGivesHostPortAndPath) {
    Backend b("127.0.0.8", Backend::Kind::Http);
    Runner r;
    auto p = probe("http");
    p.target = "http://127.0.0.8:" + std::to_string(b.port()) + "/private/health";
    auto res = r.run(p, "127.0.0.99");
    EXPECT_TRUE(res.ok) << res.message;
    EXPECT_EQ(b.lastRequest().rfind("GET /private/health HTTP/1.1", 0), 0u) << b.lastRequest();
}

class HttpsCheck : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string cmd =
            "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=www.example.test "
            "-keyout " +
            dir.file("key.pem") + " -out " + dir.file("cert.pem") + " >/dev/null 2>&1";
        if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl cannot make a test certificate";
    }
    testsupport::TempDir dir{"probe-tls"};
};

TEST_F(HttpsCheck, VerifyOffAcceptsSelfSignedAndSendsSni) {
    Backend b("127.0.0.4", Backend::Kind::Https, 0, dir.file("cert.pem"), dir.file("key.pem"));
    Runner r;
    auto p = probe("https", b.port());
    p.verify = false;
    p.sni = "www.example.test";
    auto res = r.run(p, "127.0.0.4");
    EXPECT_TRUE(res.ok) << res.message;
    EXPECT_EQ(res.message, "HTTP 200");
}

TEST_F(HttpsCheck, VerifyOnRejectsUntrustedCertificate) {
    Backend b("127.0.0.4", Backend::Kind::Https, 0, dir.file("cert.pem"), dir.file("key.pem"));
    Runner r;
    auto p = probe("https", b.port());
    p.sni = "www.example.test";
    auto res = r.run(p, "127.0.0.4");
    EXPECT_FALSE(res.ok);
    EXPECT_NE(res.message.find("tls:"), std::string::npos) << res.message;
}

TEST(DnsCheck, NoerrorWithAnswerIsHealthy) {
    fakes::DnsStub s("127.0.0.5");
    Runner r;
    auto p = probe("dns", s.port());
    p.query = "www.example.test.";
    auto res = r.run(p, "127.0.0.5");
    EXPECT_TRUE(res.ok) << res.message;
    EXPECT_EQ(s.queries, 1);
}

TEST(DnsCheck, ErrorsAndEmptyAnswersAreFailures) {
    fakes::DnsStub s("127.0.0.5");
    Runner r;
    auto p = probe("dns", s.port());
    p.query = "www.example.test.";
    s.rcode = 2;
    EXPECT_EQ(r.run(p, "127.0.0.5").message, "rcode SERVFAIL");
    s.rcode = 0;
    s.answer = false;
    EXPECT_EQ(r.run(p, "127.0.0.5").message, "NOERROR without an answer");
    s.silent = true;
    p.timeoutMs = 150;
    auto res = r.run(p, "127.0.0.5");
    EXPECT_FALSE(res.ok);
    EXPECT_NE(res.message.find("timeout"), std::string::npos);
}

TEST(ExecCheck, ExitZeroIsHealthyAndMemberIsInEnvironment) {
    Runner r;
    auto p = probe("exec");
    p.command = "test \"$DNSD_MEMBER\" = 127.0.0.5";
    EXPECT_TRUE(r.run(p, "127.0.0.5").ok);
    auto res = r.run(p, "127.0.0.6");
    EXPECT_FALSE(res.ok);
    EXPECT_EQ(res.message, "exit 1");
}

TEST(ExecCheck, TimeoutKillsTheWholeGroup) {
    Runner r;
    auto p = probe("exec");
    p.command = "sleep 5; sleep 5";
    p.timeoutMs = 200;
    auto start = std::chrono::steady_clock::now();
    auto res = r.run(p, "127.0.0.5");
    EXPECT_FALSE(res.ok);
    EXPECT_EQ(res.message, "timeout (killed)");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(IcmpCheck, PingsLoopbackOrSaysWhyNot) {
    Runner r;
    auto p = probe("icmp");
    auto res = r.run(p, "127.0.0.1");
    if (r.runner.icmpStatus().find("icmp: NOT AVAILABLE") != std::string::npos) {
        EXPECT_FALSE(res.ok);
        EXPECT_NE(res.message.find("NOT AVAILABLE"), std::string::npos);
    } else {
        EXPECT_TRUE(res.ok) << res.message << " / " << r.runner.icmpStatus();
    }
}

TEST(CheckRunner, ManyConcurrentChecksOnOneThread) {
    Backend b("127.0.0.2", Backend::Kind::Tcp);
    Runner r;
    int done = 0, ok = 0;
    auto slow = probe("tcp", b.port());
    slow.timeoutMs = 3000;  // a loaded CI machine, not the probe, is the bottleneck here
    slow.intervalMs = 5000;
    for (int i = 0; i < 200; ++i)
        r.runner.run(slow, "127.0.0.2", [&](CheckResult res) {
            ++done;
            ok += res.ok;
        });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (done < 200 && std::chrono::steady_clock::now() < deadline)
        r.io.run_one_for(std::chrono::milliseconds(50));
    EXPECT_EQ(done, 200);
    EXPECT_EQ(ok, 200);
}

TEST(ResolveTarget, Forms) {
    auto p = probe("http", 8080);
    auto t = resolveTarget(p, "127.0.0.1");
    EXPECT_EQ(t.host, "127.0.0.1");
    EXPECT_EQ(t.port, 8080);
    p.target = "[::1]:9000";
    t = resolveTarget(p, "x");
    EXPECT_EQ(t.host, "::1");
    EXPECT_EQ(t.port, 9000);
    p.target = "https://health.example.test/x?y";
    t = resolveTarget(p, "x");
    EXPECT_TRUE(t.tls);
    EXPECT_EQ(t.port, 443);
    EXPECT_EQ(t.path, "/x?y");
    EXPECT_EQ(resolveTarget(probe("tcp", 1), "backup.example.net.").host, "backup.example.net");
    p.target = "ftp://x/";
    EXPECT_THROW(resolveTarget(p, "x"), std::runtime_error);
}

}  // namespace
}  // namespace probes
