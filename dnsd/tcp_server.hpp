// dnsd::TcpServer — DNS over TCP (RFC 7766) on one epoll thread.
//
// Contract: non-blocking throughout; one slow or silent client never delays another.
// Queries on a connection may be pipelined; each is answered as soon as it is complete,
// in order. A connection is closed after `idleTimeoutMs` without a complete query, when the
// client closes, on a zero-length message, or on any socket error. Beyond `maxConnections` (or
// `maxPerClient` from one address) new connections are accepted and closed at once, and counted.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "common/fd.hpp"
#include "dnsd/served_state.hpp"
#include "dnsd/stats.hpp"
#include "dnsd/update/update_queue.hpp"
#include "dnsd/xfr/zone_transfer.hpp"

#include <functional>

namespace dnsd {

using common::Fd;  // sockets are owned the same way in both daemons

struct TcpConfig {
    int idleTimeoutMs = 10000;
    size_t maxConnections = 1000;
    // One client (address) may hold at most this many: one busy resolver must not starve
    // the rest (RFC 7766 §6.2.2 leaves the number to the operator).
    size_t maxPerClient = 20;
};

class TcpServer {
  public:
    TcpServer(std::vector<Fd> listeners, const StateHolder& state, const EngineConfig& config,
              TcpConfig tcp, ThreadStats& stats, const std::atomic<bool>& stop, std::string name);
    void run();
    // Called on the TCP thread when a transfer request has been answered (a whole stream, or
    // one response): the Notifier keeps it as the secondary's last transfer. Set before run().
    void onTransfer(std::function<void(const TransferReport&)> f) { onTransfer_ = std::move(f); }
    // Where UPDATEs go (dnsd/update/): the answer comes back on the same connection, and the
    // connection's next message waits for it. Without a queue: SERVFAIL. Set before run().
    void updates(UpdateQueue* queue) { updates_ = queue; }

  private:
    std::vector<Fd> listeners_;
    const StateHolder& state_;
    const EngineConfig& config_;
    TcpConfig tcp_;
    ThreadStats& stats_;
    const std::atomic<bool>& stop_;
    std::string name_;
    std::function<void(const TransferReport&)> onTransfer_;
    UpdateQueue* updates_ = nullptr;
};

}  // namespace dnsd
