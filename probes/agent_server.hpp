// probes::AgentServer — the controller's endpoint for remote probe agents (--agents-listen).
//
// Contract: an HTTP/1.1 server on the controller's io_context (no thread of its own), with
// keep-alive, a body limit, a connection cap and idle/read deadlines. Each request is
// authenticated before anything else is looked at (except its size: a body over the limit is
// refused 413 as soon as the header says so): the vantage must be known (KeyLookup), the
// signature must match (probes/agent_protocol.hpp), the agent's clock must be within
// `maxSkewMs` of ours (else 403 naming the skew: "clock skew: vantage sin is 95.3 s ahead of
// the controller (limit ±30 s)"), and its time must be later than the last one accepted from
// that vantage (else 409: a replay, or its clock stepped back). Refusals are answered with a
// one-line text body, counted through `onRefused`, and logged at most once a minute per
// (vantage, reason). Accepted requests go to the handlers on the loop thread. A report that
// does not decode, or a handler that throws std::runtime_error (or a subclass, e.g. the
// decoders' errors), gets 400 with the message (refused as malformed); any other exception gets
// 500 and an error log line. Only 200 answers are signed. Call everything on the loop thread
// (or with the loop stopped); destroy the server before its io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "probes/agent_protocol.hpp"
#include "probes/daemon_log.hpp"

namespace probes {

struct AgentServerOptions {
    std::string listen;  // ADDR:PORT or [V6]:PORT (common/listen_address)
    int64_t maxSkewMs = 30000;
    size_t maxBodyBytes = 16 << 20;
    int maxConnections = 256;
    int idleTimeoutMs = 60000;
    std::function<int64_t()> clock;  // ms since 1970; zones::nowMs when empty
};

// An authenticated request, as the handlers see it.
struct AgentRequest {
    std::string vantage;
    int64_t agentTime = 0;   // X-Dnsd-Time
    int64_t receivedAt = 0;  // our clock
    std::string peer;        // ADDR:PORT it came from
    size_t bytes = 0;        // request size on the wire (headers + body), for the metrics
};

class AgentServer {
  public:
    // The key of a vantage, or nullptr if there is no such agent vantage.
    using KeyLookup = std::function<const AgentKey*(const std::string& vantage)>;
    using ConfigHandler = std::function<AgentConfig(const AgentRequest&)>;
    using ReportHandler = std::function<AgentReply(const AgentRequest&, AgentReport&&)>;
    // Every refused request: the vantage it claimed ("" if none), a short reason kind
    // (unknown-vantage, bad-signature, skew, replay, malformed, too-large) and the message.
    using RefusedHandler = std::function<void(const std::string& vantage, const std::string& kind,
                                              const std::string& message)>;

    AgentServer(boost::asio::io_context& io, AgentServerOptions options, KeyLookup keys,
                ConfigHandler config, ReportHandler report, RefusedHandler refused, LogSink log);
    ~AgentServer();
    // Binds and starts accepting; throws with a clear message if the address cannot be used.
    void start();
    void stop();
    uint16_t port() const;  // the bound port (for --agents-listen 127.0.0.1:0 in tests)
    // The last time accepted from a vantage, carried over a restart so replays stay refused.
    void setLastTime(const std::string& vantage, int64_t agentTime);

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace probes
