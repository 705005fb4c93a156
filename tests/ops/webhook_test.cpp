// --webhook: the sender alone (retry with backoff, bounded queue) and the real dnsd-probe
// posting a real failover to a local receiver.
#include <boost/asio/executor_work_guard.hpp>

#include "probes/webhook_sender.hpp"
#include "tests/failover/failover_fixture.hpp"
#include "tests/ops/webhook_receiver.hpp"
#include "tests/support/http_get.hpp"

namespace {

using namespace failover;
using ops::WebhookReceiver;

// What the sender logged, with the level it chose.
struct LogLines {
    std::vector<std::pair<probes::Level, std::string>> lines;
    probes::LogSink sink() {
        return [this](probes::Level level, const std::string& l) { lines.emplace_back(level, l); };
    }
    // The levels of the lines containing `text`, in order.
    std::vector<probes::Level> levelsOf(const std::string& text) const {
        std::vector<probes::Level> out;
        for (const auto& [level, l] : lines)
            if (l.find(text) != std::string::npos) out.push_back(level);
        return out;
    }
};
using Levels = std::vector<probes::Level>;
constexpr auto kInfo = probes::Level::Info;
constexpr auto kWarn = probes::Level::Warn;
constexpr auto kError = probes::Level::Error;

// Runs the loop until `cond` holds or the deadline passes.
template <typename Cond>
bool runUntil(boost::asio::io_context& io, Cond cond, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > end) return false;
        io.run_for(20ms);
    }
    return true;
}

TEST(WebhookUrl, ParsesAndRefuses) {
    auto u = probes::parseWebhookUrl("https://hooks.example.net:8443/a/b?x=1");
    EXPECT_TRUE(u.tls);
    EXPECT_EQ(u.host, "hooks.example.net");
    EXPECT_EQ(u.port, 8443);
    EXPECT_EQ(u.target, "/a/b?x=1");
    auto v6 = probes::parseWebhookUrl("http://[::1]/");
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.port, 80);
    EXPECT_THROW(probes::parseWebhookUrl("ftp://x/"), std::runtime_error);
    EXPECT_THROW(probes::parseWebhookUrl("http://:80/"), std::runtime_error);
    EXPECT_THROW(probes::parseWebhookUrl("http://h:99999/"), std::runtime_error);
}

TEST(WebhookSender, RetriesUntilTheReceiverIsUpAndDropsTheOldestWhenFull) {
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    uint16_t port = freePort();
    WebhookReceiver receiver(port);  // not started: connections are refused
    probes::ProbeMetrics metrics;
    LogLines logs;
    probes::WebhookOptions o;
    o.urls = {"http://127.0.0.1:" + std::to_string(port) + "/hook"};
    o.queueLimit = 3;
    o.initialBackoffMs = 50;
    o.maxBackoffMs = 200;
    o.timeoutMs = 2000;
    probes::WebhookSender sender(io, o, metrics, logs.sink());
    for (int i = 1; i <= 5; ++i) sender.post("failover", "{\"n\":" + std::to_string(i) + "}\n");
    // Event 1 is in flight (being posted), 2 and 3 were the oldest waiting: dropped.
    std::string m = metrics.render(0, "t");
    EXPECT_EQ(
        testsupport::promValue("\n" + m, "dnsd_probe_webhook_deliveries_total{result=\"dropped\"}"),
        2)
        << m;
    ASSERT_TRUE(runUntil(
        io,
        [&] {
            return testsupport::promValue(
                       "\n" + metrics.render(0, "t"),
                       "dnsd_probe_webhook_deliveries_total{result=\"retried\"}") >= 2;
        },
        5s));
    EXPECT_TRUE(receiver.requests().empty());
    receiver.start();
    ASSERT_TRUE(runUntil(
        io, [&] { return receiver.requests().size() == 3; }, 5s))
        << receiver.requests().size();
    auto got = receiver.requests();
    EXPECT_EQ(got[0].body, "{\"n\":1}\n");
    EXPECT_EQ(got[1].body, "{\"n\":4}\n");
    EXPECT_EQ(got[2].body, "{\"n\":5}\n");
    EXPECT_NE(got[0].head.find("POST /hook HTTP/1.1"), std::string::npos) << got[0].head;
    EXPECT_NE(got[0].head.find("application/json"), std::string::npos) << got[0].head;
    m = "\n" + metrics.render(0, "t");
    EXPECT_EQ(
        testsupport::promValue(m, "dnsd_probe_webhook_deliveries_total{result=\"delivered\"}"), 3);
    EXPECT_EQ(testsupport::promValue(m, "dnsd_probe_webhook_queue_length"), 0);
    // A lost notification is an error; a retry is not (it may still arrive), and the delivery
    // that follows is good news. Event 1 failed first, then came through.
    EXPECT_EQ(logs.levelsOf("queue full (3), dropped the oldest"), (Levels{kError, kError}));
    EXPECT_EQ(logs.levelsOf("posting a failover event failed"), (Levels{kWarn}));
    EXPECT_EQ(logs.levelsOf("failover event delivered on attempt"), (Levels{kInfo}));
}

TEST(WebhookSender, GivesUpAfterMaxAttemptsOnAnErrorStatus) {
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    uint16_t port = freePort();
    WebhookReceiver receiver(port);
    receiver.status = 500;
    receiver.start();
    probes::ProbeMetrics metrics;
    probes::WebhookOptions o;
    o.urls = {"http://127.0.0.1:" + std::to_string(port) + "/"};
    o.maxAttempts = 3;
    o.initialBackoffMs = 20;
    LogLines logs;
    probes::WebhookSender sender(io, o, metrics, logs.sink());
    sender.post("failback", "{}\n");
    ASSERT_TRUE(runUntil(
        io,
        [&] {
            return testsupport::promValue(
                       "\n" + metrics.render(0, "t"),
                       "dnsd_probe_webhook_deliveries_total{result=\"failed\"}") == 1;
        },
        5s));
    EXPECT_EQ(testsupport::promValue("\n" + metrics.render(0, "t"),
                                     "dnsd_probe_webhook_deliveries_total{result=\"retried\"}"),
              2);
    // Giving up loses the event: more serious than the retry before it.
    EXPECT_EQ(logs.levelsOf("posting a failback event failed"), (Levels{kWarn}));
    EXPECT_EQ(logs.levelsOf("giving up on a failback event after 3 attempts"), (Levels{kError}));
    EXPECT_EQ(logs.lines.size(), 2u);
}

// The real dnsd-probe: a failover is posted with the same JSON the --on-change hook gets, even
// when the receiver only comes up after the event (retry).
TEST_F(FailoverScenario, WebhookPostsTheFailoverEventAfterTheReceiverComesUp) {
    standardPool();
    uint16_t port = freePort();
    WebhookReceiver receiver(port);
    probe_ = std::make_unique<Process>(
        DNSD_PROBE_BIN,
        std::vector<std::string>{"--db", db_, "--http", "none", "--webhook",
                                 "http://127.0.0.1:" + std::to_string(port) + "/dnsd",
                                 "--on-change", "cat >> " + hookFile_});
    ASSERT_TRUE(waitServed(kPrimary)) << probe_->describe();
    primary_->stop();
    ASSERT_TRUE(waitServed(kSecondary)) << eventDump();
    ASSERT_TRUE(waitUntil(
        [&] { return hookLog().find("\"kind\":\"failover\"") != std::string::npos; }, 5s));
    // The receiver was down when the event happened: the first attempt failed.
    ASSERT_TRUE(waitUntil(
        [&] {
            return probe_->stderrText().find(
                       "level=warn prog=dnsd-probe msg=\"webhook http://"
                       "127.0.0.1:" +
                       std::to_string(port) + "/dnsd: posting a failover event failed") !=
                   std::string::npos;
        },
        5s))
        << probe_->describe();
    receiver.start();
    ASSERT_TRUE(waitUntil([&] { return !receiver.requests().empty(); }, 5s)) << probe_->describe();
    auto got = receiver.requests();
    ASSERT_EQ(got.size(), 1u);
    // Byte for byte what the hook got on stdin.
    std::string hook = hookLog();
    auto at = hook.find("{\"at\":");
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(got[0].body, hook.substr(at, hook.find('\n', at) + 1 - at));
    EXPECT_NE(got[0].body.find("\"pool\":\"web\""), std::string::npos);
    EXPECT_NE(got[0].body.find("\"served\":\"127.0.0.12\""), std::string::npos) << got[0].body;
    EXPECT_NE(got[0].head.find("POST /dnsd HTTP/1.1"), std::string::npos);
    EXPECT_TRUE(waitUntil(
        [&] {
            return probe_->stderrText().find(
                       "level=info prog=dnsd-probe msg=\"webhook http://127.0.0.1:" +
                       std::to_string(port) + "/dnsd: failover event delivered on attempt") !=
                   std::string::npos;
        },
        5s));
}

}  // namespace
