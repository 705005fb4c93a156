// probes::Agent — dnsd-probe as a remote vantage point (--vantage NAME --controller URL).
//
// Contract: the agent has no database. It asks the controller what to check (GET /v1/config),
// runs those checks with the same CheckScheduler and CheckRunner as the controller, and sends
// every result, timed by its own clock, in batches (POST /v1/report): a report leaves as soon
// as the previous one is answered (so a result waits at most one round trip plus 20 ms), and at
// least every `reportMs` the controller asked for, empty if need be (that is how the controller
// knows the vantage is alive). A report's reply carries the controller's config version; a new
// version is fetched before the next report, so changes reach the agent within one report
// period. Through a controller outage the agent keeps checking with the config it has and
// buffers results (at most `bufferLimit`; the oldest are dropped and counted, and the count goes
// with every report); when the controller answers again the buffer is sent, oldest first.
// Refusals (bad key, clock skew, replay) are logged with the controller's words, once a
// minute at most while they repeat.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "probes/agent_client.hpp"
#include "probes/agent_protocol.hpp"
#include "probes/check_runner.hpp"
#include "probes/check_scheduler.hpp"
#include "probes/daemon_log.hpp"

namespace probes {

struct AgentOptions {
    std::string vantage;
    std::string controllerUrl;
    AgentKey key;
    size_t bufferLimit = 100000;  // results kept while the controller is unreachable
    bool allowExec = false;       // run exec probes the controller sends (commands on this host)
    int maxBatch = 5000;          // results per report
};

// Counters for /metrics and tests.
struct AgentStats {
    uint64_t results = 0, sent = 0, dropped = 0, reports = 0, failures = 0;
    uint64_t bytesSent = 0, bytesReceived = 0;
    size_t buffered = 0, checks = 0;
    bool connected = false;
};

class Agent {
  public:
    Agent(boost::asio::io_context& io, AgentOptions options, LogSink log);
    ~Agent();
    void start();
    void stop();
    AgentStats stats() const;

  private:
    void fetchConfig();
    void applyConfig(const AgentConfig& config);
    void pump();  // sends the next request if none is in flight and one is due
    void sendReport();
    void succeeded();
    void onFailure(const AgentResponse& response);  // logs (rate-limited), retries with backoff
    void updateTraffic(const AgentResponse& response);
    void armHeartbeat();

    boost::asio::io_context& io_;
    AgentOptions options_;
    LogSink log_;
    CheckRunner runner_;
    std::unique_ptr<CheckScheduler> scheduler_;
    std::unique_ptr<AgentClient> client_;
    boost::asio::steady_timer retry_, heartbeat_, gap_;
    // Results not yet acknowledged, oldest first, each with a sequence number (the buffer may
    // drop its oldest while a report is in flight). Guarded by statsMutex_ with stats_, which
    // the metrics thread reads.
    std::deque<std::pair<uint64_t, AgentResult>> buffer_;
    uint64_t nextSeq_ = 1;
    mutable std::mutex statsMutex_;
    AgentStats stats_;
    std::string configVersion_;
    int reportMs_ = 1000;
    bool inFlight_ = false, waiting_ = false, stopped_ = false, needConfig_ = true;
    bool gapArmed_ = false;
    int backoffMs_ = 0;
    int64_t lastSentAt_ = -1000000;  // steady ms
    int64_t lastFailureLog_ = 0;
    uint64_t failures_ = 0;
    std::string lastFailure_;
    std::string host_;
};

}  // namespace probes
