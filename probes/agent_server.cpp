// The controller's agent endpoint: Beast over the controller's io_context. One Session per
// connection reads a request (header first, so an oversized body is refused before it is
// read), authenticates it, answers and either waits for the next request (keep-alive) or
// closes. Everything runs on the loop thread, so the server's state needs no lock.
#include "probes/agent_server.hpp"

#include <fcntl.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "common/listen_address.hpp"
#include "zones/schema.hpp"

namespace probes {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr uint32_t kHeaderLimit = 16 * 1024;
// After an answer that closes the connection with request bytes still unread (a refused
// body), keep reading and discarding for this long: closing with unread input sends a RST,
// which can destroy the answer before the agent has read it.
constexpr int kLingerMs = 2000;
constexpr int64_t kLogEveryMs = 60000;
constexpr size_t kMaxShownVantage = 64;

std::string endpointText(const tcp::endpoint& ep) {
    std::string a = ep.address().to_string();
    return (ep.address().is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(ep.port());
}

std::string_view sv(beast::string_view s) {
    return {s.data(), s.size()};
}

// A claimed vantage name is the client's text: shown shortened, never trusted.
std::string shown(const std::string& vantage) {
    if (vantage.size() <= kMaxShownVantage) return vantage;
    return vantage.substr(0, kMaxShownVantage) + "...";
}

std::string seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", s);
    return buf;
}

std::string limitSeconds(int64_t ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", double(ms) / 1000.0);
    return buf;
}

std::optional<int64_t> parseTime(std::string_view text) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return v;
}

class Session;

// What AgentServer::Impl holds; sessions keep it alive while they run.
class Server : public std::enable_shared_from_this<Server> {
  public:
    Server(asio::io_context& io, AgentServerOptions options, AgentServer::KeyLookup keys,
           AgentServer::ConfigHandler config, AgentServer::ReportHandler report,
           AgentServer::RefusedHandler refused, LogSink log)
        : io_(io),
          options_(std::move(options)),
          keys_(std::move(keys)),
          config_(std::move(config)),
          report_(std::move(report)),
          refused_(std::move(refused)),
          log_(std::move(log)),
          acceptor_(io),
          retry_(io) {}

    void start();
    void stop();
    uint16_t port() const { return port_; }
    void setLastTime(const std::string& vantage, int64_t t) {
        auto& last = lastTime_[vantage];
        last = std::max(last, t);
    }

    int64_t now() const { return options_.clock ? options_.clock() : zones::nowMs(); }
    bool stopped() const { return stopped_; }
    const AgentServerOptions& options() const { return options_; }

    // The outcome of a complete request, as the session answers it.
    struct Answer {
        http::status status = http::status::ok;
        std::string body;
        std::string signature;  // X-Dnsd-Signature of a 200 ("" for a refusal)
        int64_t time = 0;
    };
    Answer handle(const http::request<http::string_body>& req, const std::string& peer,
                  size_t bytes);
    // Counts and logs a refused request (the log at most once a minute per vantage and kind).
    void refuse(const std::string& vantage, const std::string& kind, const std::string& message,
                const std::string& peer);
    bool knownVantage(const std::string& vantage) const {
        return !vantage.empty() && keys_(vantage) != nullptr;
    }

    void add(Session* s) {
        sessions_.insert(s);
        ++open_;
    }
    void remove(Session* s) {
        sessions_.erase(s);
        --open_;
    }

  private:
    void accept();
    void rateLimitedLog(const std::string& key, const std::string& kind, const std::string& line);
    Answer refusal(http::status status, const std::string& vantage, const std::string& kind,
                   const std::string& message, const std::string& peer) {
        refuse(vantage, kind, message, peer);
        return Answer{status, message + "\n", {}, 0};
    }

    asio::io_context& io_;
    AgentServerOptions options_;
    AgentServer::KeyLookup keys_;
    AgentServer::ConfigHandler config_;
    AgentServer::ReportHandler report_;
    AgentServer::RefusedHandler refused_;
    LogSink log_;
    tcp::acceptor acceptor_;
    asio::steady_timer retry_;  // after an accept error (out of descriptors): try again later
    uint16_t port_ = 0;
    bool stopped_ = false;
    int open_ = 0;
    std::unordered_set<Session*> sessions_;
    std::unordered_map<std::string, int64_t> lastTime_;  // the replay guard, per vantage
    struct Logged {
        int64_t at = 0;
        uint64_t suppressed = 0;
    };
    std::map<std::pair<std::string, std::string>, Logged> logged_;
};

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(std::shared_ptr<Server> server, tcp::socket socket, std::string peer)
        : server_(std::move(server)), stream_(std::move(socket)), peer_(std::move(peer)) {
        server_->add(this);
    }
    ~Session() { server_->remove(this); }

    void start() { readHeader(); }
    void close() {
        beast::error_code ignored;
        stream_.socket().close(ignored);
    }

  private:
    void readHeader() {
        parser_.emplace();
        parser_->header_limit(kHeaderLimit);
        // The body limit is applied once the header is in, so an oversized request is answered
        // 413 with the vantage it claimed (Beast would fail the header read itself). Not
        // boost::none for "no limit": Beast 1.74 compares `length > none` as true.
        parser_->body_limit(std::numeric_limits<uint64_t>::max());
        bytes_ = 0;
        stream_.expires_after(std::chrono::milliseconds(server_->options().idleTimeoutMs));
        http::async_read_header(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, size_t n) { self->onHeader(ec, n); });
    }

    void onHeader(beast::error_code ec, size_t n) {
        if (server_->stopped()) return;
        if (ec) return readFailed(ec, "");
        bytes_ += n;
        const auto& req = parser_->get();
        std::string vantage(req[kVantageHeader]);
        size_t limit = server_->options().maxBodyBytes;
        if (auto len = parser_->content_length(); len && *len > limit) {
            return tooLarge(vantage, "request body of " + std::to_string(*len) +
                                         " bytes is over the limit of " + std::to_string(limit));
        }
        parser_->body_limit(limit);
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, size_t n) { self->onBody(ec, n); });
    }

    void onBody(beast::error_code ec, size_t n) {
        if (server_->stopped()) return;
        std::string vantage(parser_->get()[kVantageHeader]);
        if (ec == http::error::body_limit)
            return tooLarge(vantage, "request body is over the limit of " +
                                         std::to_string(server_->options().maxBodyBytes) +
                                         " bytes");
        if (ec) return readFailed(ec, vantage);
        bytes_ += n;
        http::request<http::string_body> req = parser_->release();
        Server::Answer a = server_->handle(req, peer_, bytes_);
        if (server_->stopped()) return;  // a handler stopped the server
        respond(a, req.keep_alive(), false);
    }

    // A request that did not parse: the client went away or timed out (close quietly), or
    // sent something that is not HTTP (400, refused as malformed).
    void readFailed(beast::error_code ec, const std::string& vantage) {
        bool parseError =
            ec.category() == http::make_error_code(http::error::bad_target).category() &&
            ec != http::error::end_of_stream && ec != http::error::partial_message;
        if (!parseError) return close();
        if (ec == http::error::header_limit) {
            std::string m =
                "request header over the limit of " + std::to_string(kHeaderLimit) + " bytes";
            server_->refuse(vantage, "too-large", m, peer_);
            return respond({http::status::request_header_fields_too_large, m + "\n", {}, 0}, false,
                           true);
        }
        std::string m = "malformed HTTP request: " + ec.message();
        server_->refuse(vantage, "malformed", m, peer_);
        respond({http::status::bad_request, m + "\n", {}, 0}, false, true);
    }

    void tooLarge(const std::string& vantage, const std::string& message) {
        server_->refuse(vantage, "too-large", message, peer_);
        respond({http::status::payload_too_large, message + "\n", {}, 0}, false, true);
    }

    // Writes the answer; `unread` says request bytes may still be coming (drain them).
    void respond(const Server::Answer& a, bool keepAlive, bool unread) {
        res_ = {};
        res_.version(11);
        res_.result(a.status);
        res_.set(http::field::server, "dnsd-probe");
        if (a.status == http::status::ok) {
            res_.set(http::field::content_type, "application/json");
            res_.set(kTimeHeader, std::to_string(a.time));
            res_.set(kSignatureHeader, a.signature);
        } else {
            res_.set(http::field::content_type, "text/plain; charset=utf-8");
        }
        res_.keep_alive(keepAlive);
        res_.body() = a.body;
        res_.prepare_payload();
        stream_.expires_after(std::chrono::milliseconds(server_->options().idleTimeoutMs));
        http::async_write(
            stream_, res_,
            [self = shared_from_this(), keepAlive, unread](beast::error_code ec, size_t) {
                if (self->server_->stopped()) return;
                if (ec) return self->close();
                if (keepAlive) return self->readHeader();
                if (unread) return self->linger();
                beast::error_code ignored;
                self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                self->close();
            });
    }

    void linger() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.expires_after(std::chrono::milliseconds(kLingerMs));
        drainMore();
    }
    void drainMore() {
        stream_.async_read_some(asio::buffer(drain_),
                                [self = shared_from_this()](beast::error_code ec, size_t n) {
                                    self->drained_ += n;
                                    // Bounded: a client that keeps sending is cut off at the body
                                    // limit.
                                    if (ec || self->server_->stopped() ||
                                        self->drained_ > self->server_->options().maxBodyBytes)
                                        return self->close();
                                    self->drainMore();
                                });
    }

    std::shared_ptr<Server> server_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> res_;
    std::string peer_;
    size_t bytes_ = 0;
    std::array<char, 4096> drain_{};
    size_t drained_ = 0;
};

void Server::start() {
    auto address = common::ListenAddress::parse(options_.listen);
    common::Fd fd = address.bindSocket(SOCK_STREAM, false);
    // asio takes its own descriptor; ours is closed by the Fd.
    int own = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0);
    if (own < 0)
        throw std::runtime_error("agents: cannot listen on " + options_.listen + ": " +
                                 std::strerror(errno));
    boost::system::error_code ec;
    acceptor_.assign(address.family() == AF_INET6 ? tcp::v6() : tcp::v4(), own, ec);
    if (ec) {
        ::close(own);
        throw std::runtime_error("agents: cannot listen on " + options_.listen + ": " +
                                 ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    stopped_ = false;
    accept();
}

void Server::stop() {
    stopped_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
    for (Session* s : sessions_) s->close();
}

void Server::accept() {
    acceptor_.async_accept(
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
            if (self->stopped_) return;
            if (ec) {
                if (ec == asio::error::operation_aborted) return;
                // Out of descriptors, most likely: say so and try again shortly, without spinning.
                self->rateLimitedLog("", "accept", "agents: accept failed: " + ec.message());
                self->retry_.expires_after(std::chrono::milliseconds(100));
                self->retry_.async_wait([self](boost::system::error_code ec) {
                    if (!ec && !self->stopped_) self->accept();
                });
                return;
            }
            boost::system::error_code peerEc;
            auto ep = socket.remote_endpoint(peerEc);
            std::string peer = peerEc ? "?" : endpointText(ep);
            if (self->open_ >= self->options_.maxConnections) {
                self->rateLimitedLog("", "connections",
                                     "agents: connection from " + peer +
                                         " closed: " + std::to_string(self->open_) +
                                         " agent connections open (the limit)");
                socket.close(peerEc);
            } else {
                std::make_shared<Session>(self, std::move(socket), peer)->start();
            }
            self->accept();
        });
}

void Server::rateLimitedLog(const std::string& key, const std::string& kind,
                            const std::string& line) {
    auto& l = logged_[{key, kind}];
    int64_t t = now();
    if (l.at != 0 && t - l.at < kLogEveryMs) {
        ++l.suppressed;
        return;
    }
    std::string text = line;
    if (l.suppressed > 0)
        text += " (" + std::to_string(l.suppressed) + " more like it since the last such line)";
    l.at = t;
    l.suppressed = 0;
    if (log_) log_(Level::Warn, text);
}

void Server::refuse(const std::string& vantage, const std::string& kind, const std::string& message,
                    const std::string& peer) {
    // Only known vantages get a log line each: the names of unknown ones are the client's
    // choice, and must not grow our state.
    std::string key = knownVantage(vantage) ? vantage : "";
    rateLimitedLog(key, kind,
                   "agents: refused a request from " + peer +
                       (vantage.empty() ? "" : " (vantage " + shown(vantage) + ")") + ": " +
                       message);
    if (refused_) refused_(vantage, kind, message);
}

Server::Answer Server::handle(const http::request<http::string_body>& req, const std::string& peer,
                              size_t bytes) {
    AgentRequest r;
    r.vantage = std::string(req[kVantageHeader]);
    r.receivedAt = now();
    r.peer = peer;
    r.bytes = bytes;
    const AgentKey* found = r.vantage.empty() ? nullptr : keys_(r.vantage);
    if (!found)
        return refusal(http::status::unauthorized, r.vantage, "unknown-vantage",
                       r.vantage.empty()
                           ? std::string("no ") + kVantageHeader + " header"
                           : "unknown vantage '" + shown(r.vantage) +
                                 "' (add it with `dnsctl vantage add`, or check --vantage)",
                       peer);
    // A copy: a handler may change the keys (a vantage deleted) before the answer is signed.
    const AgentKey key = *found;
    auto time = parseTime(sv(req[kTimeHeader]));
    std::string signature(req[kSignatureHeader]);
    if (!time || signature.empty())
        return refusal(
            http::status::unauthorized, r.vantage, "bad-signature",
            std::string("missing or bad ") + (!time ? kTimeHeader : kSignatureHeader) + " header",
            peer);
    r.agentTime = *time;
    std::string expected;
    try {
        expected = requestSignature(key, sv(req.method_string()), sv(req.target()), r.vantage,
                                    r.agentTime, req.body());
    } catch (const std::invalid_argument& e) {
        return refusal(http::status::unauthorized, r.vantage, "bad-signature", e.what(), peer);
    }
    if (!sameSignature(expected, signature))
        return refusal(http::status::unauthorized, r.vantage, "bad-signature",
                       "bad signature from vantage " + r.vantage +
                           " (a wrong key, or the request was changed on the way)",
                       peer);
    // A time near the int64 limits (only a key holder can sign one) must not overflow.
    int64_t skew = 0;
    bool overflow = __builtin_sub_overflow(r.agentTime, r.receivedAt, &skew);
    if (overflow || skew > options_.maxSkewMs || skew < -options_.maxSkewMs)
        return refusal(http::status::forbidden, r.vantage, "skew",
                       "clock skew: vantage " + r.vantage + " is " +
                           seconds(std::fabs(double(r.agentTime) - double(r.receivedAt)) / 1000.0) +
                           " s " + (r.agentTime > r.receivedAt ? "ahead of" : "behind") +
                           " the controller (limit ±" + limitSeconds(options_.maxSkewMs) +
                           " s); fix its clock (NTP)",
                       peer);
    auto last = lastTime_.find(r.vantage);
    if (last != lastTime_.end() && r.agentTime <= last->second)
        return refusal(http::status::conflict, r.vantage, "replay",
                       "replay: vantage " + r.vantage + " sent time " +
                           std::to_string(r.agentTime) + ", not after the last one accepted (" +
                           std::to_string(last->second) +
                           "): a replayed request, or its clock stepped back",
                       peer);
    lastTime_[r.vantage] = r.agentTime;

    Answer a;
    bool isConfig = req.target() == kAgentConfigPath;
    bool isReport = req.target() == kAgentReportPath;
    try {
        if (isConfig && req.method() == http::verb::get) {
            a.body = encodeConfig(config_(r));
        } else if (isReport && req.method() == http::verb::post) {
            AgentReport report = decodeReport(req.body());
            a.body = encodeReply(report_(r, std::move(report)));
        } else {
            return refusal(
                isConfig || isReport ? http::status::method_not_allowed : http::status::not_found,
                r.vantage, "malformed",
                "no such request: " + std::string(req.method_string()) + " " +
                    std::string(req.target()),
                peer);
        }
    } catch (const std::runtime_error& e) {
        return refusal(http::status::bad_request, r.vantage, "malformed", e.what(), peer);
    } catch (const std::exception& e) {
        if (log_)
            log_(Level::Error, "agents: answering " + std::string(req.target()) + " from vantage " +
                                   r.vantage + " failed: " + e.what());
        return Answer{http::status::internal_server_error,
                      std::string("controller error: ") + e.what() + "\n",
                      {},
                      0};
    }
    a.time = now();
    a.signature = responseSignature(key, signature, 200, a.time, a.body);
    return a;
}

}  // namespace

struct AgentServer::Impl {
    std::shared_ptr<Server> server;
};

AgentServer::AgentServer(asio::io_context& io, AgentServerOptions options, KeyLookup keys,
                         ConfigHandler config, ReportHandler report, RefusedHandler refused,
                         LogSink log)
    : impl_(std::make_shared<Impl>()) {
    if (options.maxSkewMs <= 0) throw std::runtime_error("--agent-max-skew must be positive");
    impl_->server =
        std::make_shared<Server>(io, std::move(options), std::move(keys), std::move(config),
                                 std::move(report), std::move(refused), std::move(log));
}

AgentServer::~AgentServer() {
    stop();
}

void AgentServer::start() {
    impl_->server->start();
}

void AgentServer::stop() {
    impl_->server->stop();
}

uint16_t AgentServer::port() const {
    return impl_->server->port();
}

void AgentServer::setLastTime(const std::string& vantage, int64_t agentTime) {
    impl_->server->setLastTime(vantage, agentTime);
}

}  // namespace probes
