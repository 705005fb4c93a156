// dnsd::UdpWorker — one UDP socket, one thread: receive a batch, answer it, send it.
//
// Contract: the thread owns its socket (SO_REUSEPORT: one per worker per address) and its
// buffers and Scratch, all allocated before the loop; the loop itself makes only the
// recvmmsg/sendmmsg system calls and one atomic load per batch to find the current state.
// It stops within the socket's receive timeout after `stop` is set. An UPDATE is handed to the
// update thread with the client's address; that thread sends the answer from this socket.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <span>
#include <string>

#include "common/fd.hpp"
#include "dnsd/rate_limiter.hpp"
#include "dnsd/served_state.hpp"
#include "dnsd/stats.hpp"
#include "dnsd/update/update_queue.hpp"

namespace dnsd {

using common::Fd;  // sockets are owned the same way in both daemons

class UdpWorker {
  public:
    UdpWorker(Fd socket, const StateHolder& state, const EngineConfig& config, RateLimiter& rrl,
              ThreadStats& stats, const std::atomic<bool>& stop, std::string name);
    void run();
    // Where UPDATEs go (dnsd/update/); without a queue they are answered SERVFAIL. Set
    // before run().
    void updates(UpdateQueue* queue) { updates_ = queue; }

  private:
    Fd socket_;
    const StateHolder& state_;
    const EngineConfig& config_;
    RateLimiter& rrl_;
    ThreadStats& stats_;
    const std::atomic<bool>& stop_;
    std::string name_;
    UpdateQueue* updates_ = nullptr;

    // Hands an UPDATE to the update thread; false if there is none or it is full.
    bool submitUpdate(std::span<const uint8_t> message, const sockaddr_storage& peer,
                      socklen_t peerLen, const Client& client);
};

}  // namespace dnsd
