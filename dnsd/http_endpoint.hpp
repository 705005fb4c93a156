// dnsd::HttpEndpoint — the local HTTP endpoint for metrics and status (control path only).
//
// Contract: serves GET requests on one address from its own thread ("dnsd/http"), one
// request per connection, each with a 2 s read/write deadline, so a stuck client can delay
// a scrape but never a DNS answer. Routes map a path to a function that renders the body;
// unknown paths get 404, other methods 405. `run` returns within ~100 ms of `stop`.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "dnsd/listen_address.hpp"

namespace dnsd {

struct HttpRoute {
    std::string contentType;
    std::function<std::string()> render;
};

class HttpEndpoint {
  public:
    // Binds now, so a bad or busy address is reported at start-up. Throws std::runtime_error.
    HttpEndpoint(const ListenAddress& address, std::map<std::string, HttpRoute> routes,
                 const std::atomic<bool>& stop);
    void run();

  private:
    Fd listener_;
    std::map<std::string, HttpRoute> routes_;
    const std::atomic<bool>& stop_;
};

}  // namespace dnsd
