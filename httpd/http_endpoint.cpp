#include "httpd/http_endpoint.hpp"

#include "common/listen_address.hpp"
#include "common/prometheus.hpp"
#include "httpd/connection_caps.hpp"
#include "httpd/http_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <chrono>
#include <sstream>
#include <utility>

namespace httpd {
namespace {

namespace http = boost::beast::http;

// How often `run` looks at the stop flag when nothing else wakes it.
constexpr int kStopPollMs = 100;

int64_t monotonicMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// The address bytes without the port: what the per-client cap counts.
std::string clientKey(const sockaddr_storage& peer) {
    if (peer.ss_family == AF_INET6) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr;
        return std::string(reinterpret_cast<const char*>(&a), sizeof a);
    }
    const auto& a = reinterpret_cast<const sockaddr_in&>(peer).sin_addr;
    return std::string(reinterpret_cast<const char*>(&a), sizeof a);
}

std::string serialize(http::response<http::string_body>& res, bool withBody) {
    res.keep_alive(false);
    res.prepare_payload();
    std::ostringstream head;
    head << res.base();
    std::string out = head.str();
    if (withBody) out += res.body();
    return out;
}

std::string plainResponse(http::status status, unsigned version, const std::string& server,
                          std::string body) {
    http::response<http::string_body> res(status, version);
    res.set(http::field::server, server);
    res.set(http::field::content_type, "text/plain");
    res.body() = std::move(body);
    return serialize(res, true);
}

}  // namespace

HttpEndpoint::HttpEndpoint(const std::string& address, std::map<std::string, HttpRoute> routes,
                           const std::atomic<bool>& stop, std::string threadName, HttpLimits limits)
    : listener_(common::ListenAddress::parse(address).bindSocket(SOCK_STREAM, false)),
      routes_(std::move(routes)),
      stop_(stop),
      threadName_(std::move(threadName)),
      limits_(limits) {}

HttpEndpoint::~HttpEndpoint() = default;

int HttpEndpoint::port() const {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

void HttpEndpoint::run() {
    pthread_setname_np(pthread_self(), threadName_.substr(0, 15).c_str());
    ConnectionCaps caps(limits_.maxConnections, limits_.maxPerClient);
    Connections conns;
    // Reserved once, so admitting a connection never allocates after the caps counted it.
    conns.reserve(limits_.maxConnections);
    std::vector<pollfd> fds;
    fds.reserve(limits_.maxConnections + 1);
    while (!stop_.load(std::memory_order_relaxed)) {
        try {
            int64_t now = monotonicMs();
            int64_t timeout = kStopPollMs;
            fds.clear();
            // While accept is out of descriptors the listener stays readable: leave it out for
            // a round rather than spin on it.
            fds.push_back({now < acceptPausedUntilMs_ ? -1 : listener_.get(), POLLIN, 0});
            for (const auto& c : conns) {
                fds.push_back({c->fd(), c->events(), 0});
                timeout = std::min(timeout, std::max<int64_t>(0, c->deadlineMs() - now));
            }
            if (::poll(fds.data(), fds.size(), int(timeout)) < 0) continue;  // EINTR
            now = monotonicMs();
            for (size_t i = 0; i < conns.size(); ++i) serve(*conns[i], fds[i + 1].revents);
            // Done, or out of time: a connection still reading or writing at its deadline is
            // cut off and counted; one lingering after its response just goes.
            std::erase_if(conns, [&](const std::unique_ptr<HttpConnection>& c) {
                auto phase = c->phase();
                if (phase != HttpConnection::Phase::Done && now < c->deadlineMs()) return false;
                if (phase == HttpConnection::Phase::Reading ||
                    phase == HttpConnection::Phase::Writing)
                    timedOut_.fetch_add(1, std::memory_order_relaxed);
                caps.release(c->clientKey());
                return true;
            });
            if (fds[0].revents & POLLIN) acceptPending(caps, conns, now);
            open_.store(caps.open(), std::memory_order_relaxed);
        } catch (const std::exception&) {
            // Only allocation can throw here (renderers are caught in respond): the round is
            // lost, every connection keeps its state and its deadline.
        }
    }
}

void HttpEndpoint::acceptPending(ConnectionCaps& caps, Connections& conns, int64_t nowMs) {
    // At most one cap's worth per round, so a connect flood cannot starve the connections held.
    for (size_t i = 0; i < limits_.maxConnections; ++i) {
        sockaddr_storage peer{};
        socklen_t peerLen = sizeof peer;
        common::Fd fd(::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&peer), &peerLen,
                                SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd.valid()) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                acceptPausedUntilMs_ = nowMs + kStopPollMs;
            return;  // EAGAIN: none left
        }
        std::string key = clientKey(peer);
        auto conn =
            std::make_unique<HttpConnection>(std::move(fd), key, nowMs + limits_.requestDeadlineMs,
                                             limits_.maxHeaderBytes, limits_.maxBodyBytes);
        switch (caps.admit(key)) {
            case ConnectionCaps::Admit::Ok:
                accepted_.fetch_add(1, std::memory_order_relaxed);
                conns.push_back(std::move(conn));
                break;
            case ConnectionCaps::Admit::TotalFull:
                refusedTotal_.fetch_add(1, std::memory_order_relaxed);
                break;  // closed as `conn` goes
            case ConnectionCaps::Admit::ClientFull:
                refusedPerClient_.fetch_add(1, std::memory_order_relaxed);
                break;
        }
    }
}

void HttpEndpoint::serve(HttpConnection& conn, short revents) {
    if (revents == 0) return;
    switch (conn.phase()) {
        case HttpConnection::Phase::Reading:
            switch (conn.onReadable()) {
                case HttpConnection::Input::Complete:
                    conn.respond(respond(conn));
                    break;
                case HttpConnection::Input::Malformed:
                    badRequests_.fetch_add(1, std::memory_order_relaxed);
                    conn.respond(plainResponse(
                        http::status(conn.errorStatus()), 11,
                        threadName_.substr(0, threadName_.find('/')),
                        conn.errorStatus() == 400 ? "bad request\n" : "request too large\n"));
                    break;
                case HttpConnection::Input::NeedMore:
                    break;
            }
            break;
        case HttpConnection::Phase::Draining:
            conn.onReadable();
            break;
        case HttpConnection::Phase::Writing:
            conn.onWritable();
            break;
        case HttpConnection::Phase::Done:
            break;
    }
}

std::string HttpEndpoint::respond(const HttpConnection& conn) const {
    const auto& req = conn.request();
    http::response<http::string_body> res;
    res.version(req.version());
    res.set(http::field::server, threadName_.substr(0, threadName_.find('/')));
    res.set(http::field::cache_control, "no-store");
    std::string target(req.target());
    if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
    auto route = routes_.find(target);
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
        res.result(http::status::method_not_allowed);
        res.set(http::field::content_type, "text/plain");
        res.body() = "only GET\n";
    } else if (route == routes_.end()) {
        res.result(http::status::not_found);
        res.set(http::field::content_type, "text/plain");
        res.body() = "not found; try";
        for (const auto& [path, r] : routes_) res.body() += " " + path;
        res.body() += "\n";
    } else {
        try {
            res.body() = route->second.render();
            res.result(http::status::ok);
            res.set(http::field::content_type, route->second.contentType);
        } catch (const std::exception& e) {
            res.result(http::status::internal_server_error);
            res.set(http::field::content_type, "text/plain");
            res.body() = std::string("error: ") + e.what() + "\n";
        }
    }
    return serialize(res, req.method() != http::verb::head);
}

std::string HttpEndpoint::metricsText(const std::string& prefix) const {
    std::string out;
    auto counter = [&](const std::string& name, const char* help) {
        common::promHeader(out, name.c_str(), "counter", help);
    };
    auto line = [&](const std::string& name, const std::atomic<uint64_t>& v) {
        out += name + " " + std::to_string(v.load(std::memory_order_relaxed)) + "\n";
    };
    counter(prefix + "_connections_total", "Connections the HTTP endpoint accepted.");
    line(prefix + "_connections_total", accepted_);
    counter(prefix + "_refused_total",
            "Connections closed at once because a cap was full: all connections or one client's.");
    line(prefix + "_refused_total{cap=\"total\"}", refusedTotal_);
    line(prefix + "_refused_total{cap=\"per_client\"}", refusedPerClient_);
    counter(prefix + "_timed_out_total",
            "Connections closed at the request deadline before the response was written.");
    line(prefix + "_timed_out_total", timedOut_);
    counter(prefix + "_bad_requests_total",
            "Requests answered 400 (malformed), 413 (body) or 431 (headers too large).");
    line(prefix + "_bad_requests_total", badRequests_);
    common::promHeader(out, (prefix + "_open_connections").c_str(), "gauge",
                       "Connections the HTTP endpoint holds now.");
    line(prefix + "_open_connections", open_);
    return out;
}

}  // namespace httpd
