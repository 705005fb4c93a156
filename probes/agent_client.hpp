// probes::AgentClient — the agent's side of the controller connection.
//
// Contract: one request at a time (call the next from `done` or later), on the caller's
// io_context. Each request is signed (probes/agent_protocol.hpp) with a time that is the
// system clock in ms, raised to one more than the previous request's if needed (strictly
// increasing). The TCP connection is kept alive and reopened when it fails; a request that
// fails on a kept-alive connection before any byte of an answer (the controller closed it
// meanwhile: idle timeout, restart) is sent once more on a fresh one, re-signed. A 200 response
// whose signature does not verify is reported as an error (status 0), never as a body. `done`
// is called exactly once per request, within `timeoutMs` (resolve + connect + send + receive),
// on the loop thread; `close` calls it at once (error "closed") for a request in flight, and
// destroying the client drops that request without calling it. Call from the loop thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "probes/agent_protocol.hpp"

namespace probes {

struct AgentClientOptions {
    std::string url;  // http://HOST:PORT (https is not supported: see probes/README.md)
    std::string vantage;
    AgentKey key;
    int timeoutMs = 5000;
};

struct AgentResponse {
    int status = 0;              // 0 = no (verified) HTTP response: error says why
    std::string body;            // verified when status is 200; else the refusal's text
    std::string error;           // transport or verification failure; "" when a response arrived
    int64_t controllerTime = 0;  // X-Dnsd-Time of a verified 200
    size_t bytesSent = 0, bytesReceived = 0;
};

class AgentClient {
  public:
    // Throws std::runtime_error on a URL that is not http://HOST:PORT.
    AgentClient(boost::asio::io_context& io, AgentClientOptions options);
    ~AgentClient();
    void request(const std::string& method, const std::string& target, std::string body,
                 std::function<void(AgentResponse)> done);
    // Drops the connection (at stop).
    void close();

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace probes
