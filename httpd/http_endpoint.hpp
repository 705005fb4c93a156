// httpd::HttpEndpoint — a small HTTP endpoint for metrics and status (control path only),
// shared by dnsd and dnsd-probe.
//
// Contract: binds one numeric address ("127.0.0.1:8053", "[::1]:8053") at construction, so a
// bad or busy address is reported at start-up (std::runtime_error naming it: "cannot bind
// TCP ADDR: ..."). `run` serves GET/HEAD requests on the calling thread (named `threadName`),
// every connection at once and non-blocking, one request per connection. Each connection has
// one total deadline from accept (`HttpLimits::requestDeadlineMs`, read and write together);
// whichever comes first, the deadline or the end of the response, ends it. Beyond
// `maxConnections` in all, or `maxPerClient` from one address, new connections are closed at
// once. A malformed request gets 400, headers beyond `maxHeaderBytes` 431, a body beyond
// `maxBodyBytes` 413, and the connection is closed. So no client can hold the endpoint, and
// none can reach the daemon's real work, which runs on other threads. Routes map a path to a
// function that renders the body (called on this thread: it must be thread-safe against the
// daemon, and its time is the only thing that delays other connections); unknown paths get
// 404, other methods 405. `run` returns within ~100 ms of `stop` becoming true.
// `metricsText` renders the endpoint's own counters for the owner's /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/fd.hpp"

namespace httpd {

class ConnectionCaps;
class HttpConnection;

struct HttpRoute {
    std::string contentType;
    std::function<std::string()> render;
};

// Constants rather than flags: sized for Prometheus and a few people looking at the status page.
struct HttpLimits {
    // Read and write of one request together: a slow client is cut off however it trickles.
    int requestDeadlineMs = 5000;
    // Each connection costs an fd and a few KB; 64 is far more than scrapers and viewers need.
    size_t maxConnections = 64;
    // One host (a broken script, a slowloris) cannot take the slots of the Prometheus host.
    size_t maxPerClient = 8;
    // Beast's default header limit; real scrapers send a few hundred bytes.
    size_t maxHeaderBytes = 8192;
    // GET and HEAD carry no body; a small one is read so the client hears 405, not a reset.
    size_t maxBodyBytes = 4096;
};

class HttpEndpoint {
  public:
    HttpEndpoint(const std::string& address, std::map<std::string, HttpRoute> routes,
                 const std::atomic<bool>& stop, std::string threadName = "dnsd/http",
                 HttpLimits limits = {});
    ~HttpEndpoint();
    HttpEndpoint(const HttpEndpoint&) = delete;
    HttpEndpoint& operator=(const HttpEndpoint&) = delete;

    void run();
    // The bound port (useful when the address asked for port 0).
    int port() const;
    // Prometheus text of the endpoint's counters, every name starting with `prefix` (e.g.
    // "dnsd_http"): connections accepted, refused (by cap), timed out, bad requests, open.
    // Thread-safe; meant to be appended to the owner's /metrics body.
    std::string metricsText(const std::string& prefix) const;

  private:
    using Connections = std::vector<std::unique_ptr<HttpConnection>>;
    void acceptPending(ConnectionCaps& caps, Connections& conns, int64_t nowMs);
    void serve(HttpConnection& conn, short revents);
    // The whole response (head and body) to a complete request.
    std::string respond(const HttpConnection& conn) const;

    common::Fd listener_;
    std::map<std::string, HttpRoute> routes_;
    const std::atomic<bool>& stop_;
    std::string threadName_;
    HttpLimits limits_;
    int64_t acceptPausedUntilMs_ = 0;  // only touched by run()

    std::atomic<uint64_t> accepted_{0};
    std::atomic<uint64_t> refusedTotal_{0};
    std::atomic<uint64_t> refusedPerClient_{0};
    std::atomic<uint64_t> timedOut_{0};
    std::atomic<uint64_t> badRequests_{0};
    std::atomic<uint64_t> open_{0};
};

}  // namespace httpd
