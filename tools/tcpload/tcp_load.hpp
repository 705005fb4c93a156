// tcpload::TcpLoad — a DNS-over-TCP load generator: many connections on one epoll thread.
//
// Contract: run() keeps `connections` TCP connections to `server` open for `seconds`, each
// with up to `pipeline` queries in flight (a new query goes out as soon as an answer comes
// back, so the server, not a timer, sets the pace unless `rate` caps the queries per second).
// With `queriesPerConnection` > 0 a connection is closed by us after that many answers and
// replaced at once by a new one (churn); with 0 it is kept for the whole run (hold). Connection
// slot i always connects from address `firstSource` + i % `sourceCount`, so a server sees many
// clients, as it would in real life, and no address ever holds more than its share
// (ceil(connections / sourceCount)) at once, whatever the churn. Every way a
// connection can go wrong is counted, never retried silently: connect refused or failed, reset
// by the server, closed by the server with queries unanswered, no answer within `timeoutMs`.
// Nothing here throws once run() has started; setup errors throw std::runtime_error.
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tcpload {

struct TcpLoadConfig {
    sockaddr_in server{};
    in_addr firstSource{};
    uint32_t sourceCount = 1;
    size_t connections = 1000;
    size_t pipeline = 4;
    size_t queriesPerConnection = 0;  // 0: hold each connection for the whole run
    double seconds = 5;
    uint64_t rate = 0;  // queries per second over all connections; 0: no cap
    int timeoutMs = 3000;
    // Each query as a framed message (2-byte length first); the ID (bytes 2-3) is overwritten.
    std::vector<std::vector<uint8_t>> queries;
};

struct TcpLoadResult {
    double seconds = 0;          // from the first connect to the end of sending
    uint64_t connectsTried = 0;  // connect() calls
    uint64_t connected = 0;      // connections established
    uint64_t refused = 0;        // connect failed with ECONNREFUSED
    uint64_t connectFailed = 0;  // connect failed otherwise (or timed out)
    uint64_t reset = 0;          // ECONNRESET / EPIPE on an established connection
    uint64_t closedEarly = 0;    // EOF from the server with queries unanswered or to come
    uint64_t timeouts = 0;       // queries not answered within timeoutMs (connection dropped)
    uint64_t completed = 0;      // churn: connections closed by us after all their answers
    uint64_t sent = 0;
    uint64_t answered = 0;
    uint64_t malformed = 0;  // a response shorter than a header, or not a response
    uint64_t unansweredAtEnd = 0;
    size_t peakOpen = 0;  // most connections established at once
    std::array<uint64_t, 16> rcodes{};
};

class TcpLoad {
  public:
    explicit TcpLoad(TcpLoadConfig config) : config_(std::move(config)) {}
    TcpLoadResult run();

  private:
    TcpLoadConfig config_;
};

}  // namespace tcpload
