// dnsd::XdpServer — everything --xdp sets up: per interface the XDP program and one AF_XDP
// socket per receive queue, then one XdpWorker thread per socket.
//
// Contract: the constructor runs at start-up while dnsd is still root, and throws
// std::runtime_error naming the interface and the problem (the caller exits 1: an operator who
// asked for XDP gets it or a clear refusal, never a silent fallback). The programs stay
// attached for the object's lifetime and are detached by the kernel if dnsd dies. Queries
// the program does not take (TCP, NOTIFY, UPDATE, other addresses) reach the ordinary sockets.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/listen_address.hpp"
#include "dnsd/xdp/xdp_program.hpp"
#include "dnsd/xdp/xdp_worker.hpp"

namespace dnsd {

class XdpServer {
  public:
    XdpServer(const std::vector<std::string>& interfaces,
              const std::vector<common::ListenAddress>& listen);
    // One worker per socket; each gets a ThreadStats appended to `stats`. Call once.
    std::vector<std::unique_ptr<XdpWorker>> workers(
        const StateHolder& state, const EngineConfig& config, RateLimiter& rrl,
        std::vector<std::unique_ptr<ThreadStats>>& stats, const std::atomic<bool>& stop);
    // "eth0 (2 queues, copy mode)", for the start-up log.
    const std::string& describe() const { return description_; }

  private:
    struct Queue {
        std::unique_ptr<XskSocket> socket;
        uint16_t mtu;
        std::string name;
    };
    std::vector<std::unique_ptr<XdpProgram>> programs_;
    std::vector<Queue> queues_;
    std::string description_;
};

}  // namespace dnsd
