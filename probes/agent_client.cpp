// The agent's connection to its controller. A Connection (socket + read buffer) lives as long
// as the controller keeps it open; an Exchange (one request, its parser, deadline and `done`)
// lives for one request. Both are shared with the handlers, so a timed-out exchange's late
// completions never touch the next one's state, and a failed connection is simply dropped:
// the next request opens a new one.
#include "probes/agent_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <optional>
#include <stdexcept>

#include "probes/check_op.hpp"        // resolveHost
#include "probes/webhook_sender.hpp"  // parseWebhookUrl: the one http:// URL parser
#include "zones/schema.hpp"

namespace probes {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

std::string_view sv(beast::string_view s) {
    return {s.data(), s.size()};
}

// A config for thousands of checks is a few MB; anything far beyond is not our controller.
constexpr uint64_t kResponseBodyLimit = 64 << 20;

struct Connection {
    explicit Connection(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    beast::flat_buffer buffer;
    bool connected = false;
};

struct Exchange {
    explicit Exchange(asio::io_context& io) : timer(io) {}
    uint64_t id = 0;
    asio::steady_timer timer;
    http::request<http::string_body> request;
    http::response_parser<http::string_body> parser;
    std::string signature;  // of the request: the response's signature covers it
    std::string stage;      // what a timeout interrupted
    AgentResponse response;
    std::function<void(AgentResponse)> done;
    bool finished = false;
    bool reused = false;  // sent on a connection kept alive from an earlier request
    bool retried = false;
};

}  // namespace

struct AgentClient::Impl : std::enable_shared_from_this<AgentClient::Impl> {
    Impl(asio::io_context& io, AgentClientOptions o) : io(io), options(std::move(o)) {}

    asio::io_context& io;
    AgentClientOptions options;
    std::string host, hostHeader;
    int port = 0;
    int64_t lastTime = 0;
    uint64_t nextId = 1;
    std::shared_ptr<Connection> conn;
    std::shared_ptr<Exchange> current;

    void start(const std::shared_ptr<Exchange>& ex);
    void connect(const std::shared_ptr<Exchange>& ex);
    void send(const std::shared_ptr<Exchange>& ex);
    void receive(const std::shared_ptr<Exchange>& ex);
    void fail(const std::shared_ptr<Exchange>& ex, const std::string& error);
    void sign(Exchange& ex);
    bool retry(const std::shared_ptr<Exchange>& ex);
    void finish(const std::shared_ptr<Exchange>& ex);
    void dropConnection() {
        if (!conn) return;
        boost::system::error_code ignored;
        conn->socket.close(ignored);
        conn.reset();
    }
    bool live(const std::shared_ptr<Exchange>& ex) const { return current == ex && !ex->finished; }
};

void AgentClient::Impl::start(const std::shared_ptr<Exchange>& ex) {
    ex->timer.expires_after(std::chrono::milliseconds(options.timeoutMs));
    ex->timer.async_wait([self = shared_from_this(), ex](boost::system::error_code ec) {
        if (ec || !self->live(ex)) return;
        self->fail(ex, "timeout after " + std::to_string(self->options.timeoutMs) + " ms (" +
                           ex->stage + ")");
    });
    ex->reused = conn && conn->connected && conn->socket.is_open();
    if (ex->reused)
        send(ex);
    else
        connect(ex);
}

void AgentClient::Impl::sign(Exchange& ex) {
    // Strictly increasing, even when two requests fall in one millisecond or the clock steps
    // back: the controller refuses a time it has already seen (the replay guard).
    int64_t time = std::max(zones::nowMs(), lastTime + 1);
    lastTime = time;
    auto& req = ex.request;
    ex.signature = requestSignature(options.key, sv(req.method_string()), sv(req.target()),
                                    options.vantage, time, req.body());
    req.set(kTimeHeader, std::to_string(time));
    req.set(kSignatureHeader, ex.signature);
}

// A kept-alive connection the controller closed meanwhile (its idle timeout, a restart) fails
// the next request before any answer: send it once more on a fresh connection, re-signed (the
// controller may have seen the first time). Not after any byte of an answer: then the
// controller did take the request.
bool AgentClient::Impl::retry(const std::shared_ptr<Exchange>& ex) {
    if (!ex->reused || ex->retried || ex->parser.got_some()) return false;
    ex->retried = true;
    sign(*ex);
    connect(ex);
    return true;
}

void AgentClient::Impl::connect(const std::shared_ptr<Exchange>& ex) {
    dropConnection();
    conn = std::make_shared<Connection>(io);
    ex->stage = "resolve " + host;
    resolveHost(io, host,
                [self = shared_from_this(), ex, c = conn](const boost::system::error_code& ec,
                                                          std::vector<asio::ip::address> addrs) {
                    if (!self->live(ex) || self->conn != c) return;
                    if (ec || addrs.empty())
                        return self->fail(ex, "resolve " + self->host + ": " +
                                                  (ec ? ec.message() : "no address"));
                    std::vector<tcp::endpoint> eps;
                    for (const auto& a : addrs) eps.emplace_back(a, uint16_t(self->port));
                    ex->stage = "connect";
                    asio::async_connect(
                        c->socket, eps,
                        [self, ex, c](const boost::system::error_code& ec, const tcp::endpoint&) {
                            if (!self->live(ex) || self->conn != c) return;
                            if (ec)
                                return self->fail(
                                    ex, "connect to " + self->options.url + ": " + ec.message());
                            c->connected = true;
                            self->send(ex);
                        });
                });
}

void AgentClient::Impl::send(const std::shared_ptr<Exchange>& ex) {
    ex->stage = "send";
    auto c = conn;
    http::async_write(c->socket, ex->request,
                      [self = shared_from_this(), ex, c](beast::error_code ec, size_t n) {
                          if (!self->live(ex)) return;
                          if (ec && self->retry(ex)) return;
                          if (ec) return self->fail(ex, "send: " + ec.message());
                          ex->response.bytesSent = n;
                          self->receive(ex);
                      });
}

void AgentClient::Impl::receive(const std::shared_ptr<Exchange>& ex) {
    ex->stage = "response";
    ex->parser.body_limit(kResponseBodyLimit);
    auto c = conn;
    http::async_read(
        c->socket, c->buffer, ex->parser,
        [self = shared_from_this(), ex, c](beast::error_code ec, size_t n) {
            if (!self->live(ex)) return;
            if (ec && self->retry(ex)) return;
            if (ec) return self->fail(ex, "response: " + ec.message());
            ex->response.bytesReceived = n;
            auto res = ex->parser.release();
            if (!res.keep_alive()) self->dropConnection();
            AgentResponse& out = ex->response;
            int status = int(res.result_int());
            if (status != 200) {
                // A refusal: its one-line reason is for the log, and nothing is acted on.
                out.status = status;
                out.body = std::move(res.body());
                return self->finish(ex);
            }
            std::string_view timeText = sv(res[kTimeHeader]);
            int64_t time = 0;
            auto [end, tec] =
                std::from_chars(timeText.data(), timeText.data() + timeText.size(), time);
            bool timeOk =
                !timeText.empty() && tec == std::errc() && end == timeText.data() + timeText.size();
            std::string expected =
                timeOk ? responseSignature(self->options.key, ex->signature, 200, time, res.body())
                       : std::string();
            if (!timeOk || !sameSignature(expected, sv(res[kSignatureHeader]))) {
                // Not from a controller that holds our key, or changed on the way: drop the
                // connection too, whatever is on it is not to be trusted.
                self->dropConnection();
                return self->fail(ex, "response from " + self->options.url +
                                          " does not verify (bad or missing " + kSignatureHeader +
                                          "): ignored");
            }
            out.status = 200;
            out.body = std::move(res.body());
            out.controllerTime = time;
            self->finish(ex);
        });
}

void AgentClient::Impl::fail(const std::shared_ptr<Exchange>& ex, const std::string& error) {
    dropConnection();
    ex->response.status = 0;
    ex->response.body.clear();
    ex->response.error = error;
    finish(ex);
}

void AgentClient::Impl::finish(const std::shared_ptr<Exchange>& ex) {
    ex->finished = true;
    ex->timer.cancel();
    current.reset();
    auto done = std::move(ex->done);
    done(std::move(ex->response));
}

AgentClient::AgentClient(asio::io_context& io, AgentClientOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {
    const std::string& url = impl_->options.url;
    const std::string want = "want http://HOST:PORT, HOST an IPv4 address, [IPv6] or a name";
    if (url.rfind("https://", 0) == 0)
        throw std::runtime_error("bad --controller URL '" + url +
                                 "': https is not supported (agents sign every request and "
                                 "answer with HMAC; see probes/README.md), " +
                                 want);
    WebhookUrl u;
    try {
        u = parseWebhookUrl(url);
    } catch (const std::runtime_error&) {
        throw std::runtime_error("bad --controller URL '" + url + "': " + want);
    }
    if (u.target != "/")
        throw std::runtime_error("bad --controller URL '" + url + "': no path allowed, " + want);
    if (impl_->options.key.empty()) throw std::runtime_error("agent client: no key");
    if (impl_->options.timeoutMs <= 0)
        throw std::runtime_error("agent client: timeout must be positive");
    impl_->host = u.host;
    impl_->port = u.port;
    bool v6 = u.host.find(':') != std::string::npos;
    impl_->hostHeader = (v6 ? "[" + u.host + "]" : u.host) + ":" + std::to_string(u.port);
}

AgentClient::~AgentClient() {
    // The owner is going away: its `done` must not be called any more.
    if (impl_->current) impl_->current->finished = true;
    impl_->current.reset();
    impl_->dropConnection();
}

void AgentClient::request(const std::string& method, const std::string& target, std::string body,
                          std::function<void(AgentResponse)> done) {
    Impl& impl = *impl_;
    if (impl.current) {
        // The contract is one at a time; say so rather than corrupt the exchange in flight.
        AgentResponse r;
        r.error = "agent client: a request is already in flight";
        asio::post(impl.io,
                   [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
        return;
    }
    auto ex = std::make_shared<Exchange>(impl.io);
    ex->id = impl.nextId++;
    ex->done = std::move(done);
    auto verb = http::string_to_verb(method);
    ex->request = {verb, target, 11};
    if (verb == http::verb::unknown) ex->request.method_string(method);
    ex->request.set(http::field::host, impl.hostHeader);
    ex->request.set(http::field::user_agent, "dnsd-probe agent");
    ex->request.set(kVantageHeader, impl.options.vantage);
    if (!body.empty()) ex->request.set(http::field::content_type, "application/json");
    ex->request.keep_alive(true);
    ex->request.body() = std::move(body);
    ex->request.prepare_payload();
    try {
        impl.sign(*ex);
    } catch (const std::invalid_argument& e) {
        AgentResponse r;
        r.error = e.what();
        asio::post(impl.io, [done = std::move(ex->done), r = std::move(r)]() mutable {
            done(std::move(r));
        });
        return;
    }
    impl.current = ex;
    impl.start(ex);
}

void AgentClient::close() {
    if (impl_->current) return impl_->fail(impl_->current, "closed");
    impl_->dropConnection();
}

}  // namespace probes
