// probes::WebhookSender — posts every notification event (the --on-change JSON) to each
// --webhook URL with HTTP POST, http:// or https://, on dnsd-probe's event loop.
//
// Contract: `post` never blocks and never throws: it appends to each URL's bounded queue and
// returns; when the queue is full the oldest event is dropped, counted and logged at error (a
// notification is lost). Each URL has one request in flight at a time, so events arrive in
// order. A delivery is a 2xx answer; any other answer, a connection error or the timeout is
// retried after a backoff that doubles from `initialBackoffMs` to `maxBackoffMs`, up to
// `maxAttempts` attempts, then given up (counted, logged at error). An event's first failed
// attempt is logged at warn and a delivery after retries at info. https verifies the
// certificate chain (system CAs) and the host name, and sends SNI. `parseWebhookUrl` throws
// std::runtime_error naming a bad URL (start-up).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "probes/daemon_log.hpp"
#include "probes/probe_metrics.hpp"

namespace probes {

struct WebhookUrl {
    std::string text;  // as given, for logs
    bool tls = false;
    std::string host;  // no brackets for IPv6
    int port = 80;
    std::string target = "/";  // path and query
};
WebhookUrl parseWebhookUrl(const std::string& url);

struct WebhookOptions {
    std::vector<std::string> urls;
    size_t queueLimit = 1000;
    int maxAttempts = 10;
    int initialBackoffMs = 500;
    int maxBackoffMs = 30000;
    int timeoutMs = 10000;
};

class WebhookSender {
  public:
    using Log = LogSink;
    // Throws on a bad URL.
    WebhookSender(boost::asio::io_context& io, WebhookOptions options, ProbeMetrics& metrics,
                  Log log);
    ~WebhookSender();
    void post(const std::string& kind, const std::string& json);
    void stop();

  private:
    struct Item {
        std::string kind, json;
        int attempts = 0;
    };
    struct Target {
        WebhookUrl url;
        std::deque<Item> queue;
        bool busy = false;      // a request in flight or a retry waiting: one at a time
        bool inFlight = false;  // the front item is being posted right now
        std::unique_ptr<boost::asio::steady_timer> backoff;
        uint64_t dropped = 0;
    };
    void pump(Target& t);
    void queuedChanged();

    boost::asio::io_context& io_;
    WebhookOptions options_;
    ProbeMetrics& metrics_;
    Log log_;
    boost::asio::ssl::context tls_;
    std::vector<std::unique_ptr<Target>> targets_;
    std::shared_ptr<bool> alive_;
};

}  // namespace probes
