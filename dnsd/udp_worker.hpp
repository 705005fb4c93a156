// dnsd::UdpWorker — one UDP socket, one thread: receive a batch, answer it, send it.
//
// Contract: the thread owns its socket (SO_REUSEPORT: one per worker per address) and its
// buffers and Scratch, all allocated before the loop; the loop itself makes only the
// recvmmsg/sendmmsg system calls and one atomic load per batch to find the current state.
// It stops within the socket's receive timeout after `stop` is set.
#pragma once

#include <atomic>
#include <string>

#include "common/fd.hpp"
#include "dnsd/rate_limiter.hpp"
#include "dnsd/served_state.hpp"
#include "dnsd/stats.hpp"

namespace dnsd {

using common::Fd;  // sockets are owned the same way in both daemons

class UdpWorker {
  public:
    UdpWorker(Fd socket, const StateHolder& state, const EngineConfig& config, RateLimiter& rrl,
              ThreadStats& stats, const std::atomic<bool>& stop, std::string name);
    void run();

  private:
    Fd socket_;
    const StateHolder& state_;
    const EngineConfig& config_;
    RateLimiter& rrl_;
    ThreadStats& stats_;
    const std::atomic<bool>& stop_;
    std::string name_;
};

}  // namespace dnsd
