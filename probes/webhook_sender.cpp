#include "probes/webhook_sender.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>

#include "probes/check_op.hpp"

namespace probes {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

WebhookUrl parseWebhookUrl(const std::string& text) {
    WebhookUrl u;
    u.text = text;
    std::string rest;
    if (text.rfind("http://", 0) == 0) {
        rest = text.substr(7);
    } else if (text.rfind("https://", 0) == 0) {
        rest = text.substr(8);
        u.tls = true;
        u.port = 443;
    } else {
        throw std::runtime_error("bad --webhook URL '" + text +
                                 "' (want http://... or https://...)");
    }
    auto slash = rest.find_first_of("/?");
    std::string authority = rest.substr(0, slash);
    if (slash != std::string::npos)
        u.target = rest[slash] == '/' ? rest.substr(slash) : "/" + rest.substr(slash);
    std::string port;
    if (!authority.empty() && authority[0] == '[') {
        auto close = authority.find(']');
        if (close == std::string::npos)
            throw std::runtime_error("bad --webhook URL '" + text + "' (unclosed [)");
        u.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':')
                throw std::runtime_error("bad --webhook URL '" + text + "'");
            port = authority.substr(close + 2);
        }
    } else {
        auto colon = authority.find(':');
        u.host = authority.substr(0, colon);
        if (colon != std::string::npos) port = authority.substr(colon + 1);
    }
    if (u.host.empty() || authority.find('@') != std::string::npos)
        throw std::runtime_error("bad --webhook URL '" + text + "' (no host, or user info)");
    if (!port.empty()) {
        char* end = nullptr;
        long p = std::strtol(port.c_str(), &end, 10);
        if (*end != '\0' || p < 1 || p > 65535)
            throw std::runtime_error("bad port in --webhook URL '" + text + "'");
        u.port = int(p);
    }
    return u;
}

namespace {

// One POST with a deadline, on the CheckOp skeleton (finish once: ok = 2xx).
template <typename Stream>
class WebhookPost : public CheckOp {
  public:
    template <typename... Args>
    WebhookPost(asio::io_context& io, int timeoutMs, CheckDone done, Args&&... args)
        : CheckOp(io, timeoutMs, std::move(done)), stream_(std::forward<Args>(args)...) {}

    void start(const WebhookUrl& url, const std::string& body) {
        armDeadline();
        url_ = url;
        bool v6 = url.host.find(':') != std::string::npos;
        std::string host = v6 ? "[" + url.host + "]" : url.host;
        if (url.port != (url.tls ? 443 : 80)) host += ":" + std::to_string(url.port);
        req_ = {http::verb::post, url.target, 11};
        req_.set(http::field::host, host);
        req_.set(http::field::user_agent, "dnsd-probe");
        req_.set(http::field::content_type, "application/json");
        req_.set(http::field::connection, "close");
        req_.body() = body;
        req_.prepare_payload();
        auto self = std::static_pointer_cast<WebhookPost>(shared_from_this());
        resolveAndConnect(lowest(), url.host, url.port, [self] { self->afterConnect(); });
    }

  protected:
    void onTimeout() override {
        boost::system::error_code ignored;
        lowest().close(ignored);
    }

  private:
    tcp::socket& lowest() {
        if constexpr (std::is_same_v<Stream, tcp::socket>)
            return stream_;
        else
            return stream_.next_layer();
    }

    void afterConnect() {
        auto self = std::static_pointer_cast<WebhookPost>(shared_from_this());
        if constexpr (std::is_same_v<Stream, tcp::socket>) {
            send();
        } else {
            boost::system::error_code ec;
            asio::ip::make_address(url_.host, ec);
            if (ec) SSL_set_tlsext_host_name(stream_.native_handle(), url_.host.c_str());
            stream_.set_verify_mode(asio::ssl::verify_peer);
            stream_.set_verify_callback(asio::ssl::host_name_verification(url_.host));
            stage_ = "tls handshake";
            stream_.async_handshake(
                asio::ssl::stream_base::client, [self](const boost::system::error_code& ec) {
                    if (self->finished()) return;
                    if (ec) return self->finish(false, "tls handshake: " + ec.message());
                    self->send();
                });
        }
    }

    void send() {
        auto self = std::static_pointer_cast<WebhookPost>(shared_from_this());
        stage_ = "send";
        http::async_write(stream_, req_, [self](const boost::system::error_code& ec, size_t) {
            if (self->finished()) return;
            if (ec) return self->finish(false, "send: " + ec.message());
            self->stage_ = "response";
            self->parser_.body_limit(64 * 1024);
            http::async_read(self->stream_, self->buffer_, self->parser_,
                             [self](const boost::system::error_code& ec, size_t) {
                                 if (self->finished()) return;
                                 if (ec) return self->finish(false, "response: " + ec.message());
                                 unsigned code = self->parser_.get().result_int();
                                 self->finish(code >= 200 && code < 300,
                                              "HTTP " + std::to_string(code));
                                 boost::system::error_code ignored;
                                 self->lowest().close(ignored);
                             });
        });
    }

    Stream stream_;
    WebhookUrl url_;
    http::request<http::string_body> req_;
    http::response_parser<http::string_body> parser_;
    boost::beast::flat_buffer buffer_;
};

}  // namespace

WebhookSender::WebhookSender(asio::io_context& io, WebhookOptions options, ProbeMetrics& metrics,
                             Log log)
    : io_(io),
      options_(std::move(options)),
      metrics_(metrics),
      log_(std::move(log)),
      tls_(asio::ssl::context::tls_client),
      alive_(std::make_shared<bool>(true)) {
    if (options_.queueLimit < 2) throw std::runtime_error("--webhook-queue must be at least 2");
    tls_.set_default_verify_paths();
    for (const auto& u : options_.urls) {
        auto t = std::make_unique<Target>();
        t->url = parseWebhookUrl(u);
        t->backoff = std::make_unique<asio::steady_timer>(io_);
        targets_.push_back(std::move(t));
    }
}

WebhookSender::~WebhookSender() {
    *alive_ = false;
}

void WebhookSender::stop() {
    *alive_ = false;
    for (auto& t : targets_) t->backoff->cancel();
}

void WebhookSender::queuedChanged() {
    size_t n = 0;
    for (const auto& t : targets_) n += t->queue.size();
    metrics_.webhookQueued(n);
}

void WebhookSender::post(const std::string& kind, const std::string& json) {
    for (auto& t : targets_) {
        // The event being posted right now (the front) is not the one to drop: drop the
        // oldest one waiting (an event waiting for its retry is waiting too).
        if (t->queue.size() >= options_.queueLimit) {
            auto victim = t->inFlight ? t->queue.begin() + 1 : t->queue.begin();
            std::string lost = victim->kind;
            t->queue.erase(victim);
            ++t->dropped;
            metrics_.webhook("dropped");
            log_(Level::Error, "webhook " + t->url.text + ": queue full (" +
                                   std::to_string(options_.queueLimit) +
                                   "), dropped the oldest event (" + lost + "); " +
                                   std::to_string(t->dropped) + " dropped so far");
        }
        t->queue.push_back({kind, json, 0});
        pump(*t);
    }
    queuedChanged();
}

void WebhookSender::pump(Target& t) {
    if (t.busy || t.queue.empty() || !*alive_) return;
    t.busy = true;
    t.inFlight = true;
    Item& item = t.queue.front();
    ++item.attempts;
    auto alive = alive_;
    Target* tp = &t;
    CheckDone done = [this, alive, tp](CheckResult r) {
        if (!*alive) return;
        Target& t = *tp;
        t.inFlight = false;
        Item& item = t.queue.front();
        if (r.ok) {
            metrics_.webhook("delivered");
            if (item.attempts > 1)
                log_(Level::Info, "webhook " + t.url.text + ": " + item.kind +
                                      " event delivered on attempt " +
                                      std::to_string(item.attempts));
            t.queue.pop_front();
            t.busy = false;
            queuedChanged();
            pump(t);
            return;
        }
        if (item.attempts >= options_.maxAttempts) {
            metrics_.webhook("failed");
            log_(Level::Error, "webhook " + t.url.text + ": giving up on a " + item.kind +
                                   " event after " + std::to_string(item.attempts) + " attempts (" +
                                   r.message + ")");
            t.queue.pop_front();
            t.busy = false;
            queuedChanged();
            pump(t);
            return;
        }
        metrics_.webhook("retried");
        int64_t delay = options_.initialBackoffMs;
        for (int i = 1; i < item.attempts && delay < options_.maxBackoffMs; ++i) delay *= 2;
        delay = std::min<int64_t>(delay, options_.maxBackoffMs);
        if (item.attempts == 1)
            log_(Level::Warn, "webhook " + t.url.text + ": posting a " + item.kind +
                                  " event failed (" + r.message + "); retrying with backoff");
        t.backoff->expires_after(std::chrono::milliseconds(delay));
        t.backoff->async_wait([this, alive, tp](const boost::system::error_code& ec) {
            if (ec || !*alive) return;
            tp->busy = false;
            pump(*tp);
        });
    };
    if (t.url.tls) {
        auto op = std::make_shared<WebhookPost<asio::ssl::stream<tcp::socket>>>(
            io_, options_.timeoutMs, std::move(done), io_, tls_);
        op->start(t.url, item.json);
    } else {
        auto op = std::make_shared<WebhookPost<tcp::socket>>(io_, options_.timeoutMs,
                                                             std::move(done), io_);
        op->start(t.url, item.json);
    }
}

}  // namespace probes
