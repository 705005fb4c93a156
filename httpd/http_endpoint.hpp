// httpd::HttpEndpoint — a tiny local HTTP endpoint for metrics and status (control path only),
// shared by dnsd and dnsd-probe.
//
// Contract: binds one numeric address ("127.0.0.1:8053", "[::1]:8053") at construction, so a
// bad or busy address is reported at start-up (std::runtime_error naming it: "cannot bind
// TCP ADDR: ..."). `run` serves GET/HEAD requests on the calling thread (named `threadName`),
// one request per connection, each with a 2 s read/write deadline, so a stuck client can
// delay a scrape but never the daemon's real work, which runs on other threads. Routes map a
// path to a function that renders the body (called on this thread: it must be thread-safe
// against the daemon); unknown paths get 404, other methods 405. `run` returns within
// ~100 ms of `stop` becoming true.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "common/fd.hpp"

namespace httpd {

struct HttpRoute {
    std::string contentType;
    std::function<std::string()> render;
};

class HttpEndpoint {
  public:
    HttpEndpoint(const std::string& address, std::map<std::string, HttpRoute> routes,
                 const std::atomic<bool>& stop, std::string threadName = "dnsd/http");
    HttpEndpoint(const HttpEndpoint&) = delete;
    HttpEndpoint& operator=(const HttpEndpoint&) = delete;

    void run();
    // The bound port (useful when the address asked for port 0).
    int port() const;

  private:
    common::Fd listener_;
    std::map<std::string, HttpRoute> routes_;
    const std::atomic<bool>& stop_;
    std::string threadName_;
};

}  // namespace httpd
