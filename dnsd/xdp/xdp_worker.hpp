// dnsd::XdpWorker — one thread per receive queue of an --xdp interface: takes the queries the
// XDP program steered to its AF_XDP socket, answers them with the same engine, TSIG and RRL as
// UdpWorker (DatagramPath), and transmits the answers from the same frame memory, without the
// kernel's UDP/IP stack on either side.
//
// Contract: the worker owns its XskSocket; the loop makes only poll() when idle and one
// sendto() kick per batch, and one atomic load per batch to find the current state. A frame
// that does not parse is dropped and counted (xdpDropped); so is an answer when every
// transmit frame is in flight. Stops within 200 ms of `stop`. NOTIFY and UPDATE never come
// here (the program passes them to the socket path).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "dnsd/datagram_path.hpp"
#include "dnsd/xdp/xsk_socket.hpp"

namespace dnsd {

class XdpWorker {
  public:
    // `path` is this worker's alone (its Scratch and state reader); `stats` is the one
    // `path` counts into.
    XdpWorker(std::unique_ptr<XskSocket> socket, uint16_t mtu, DatagramPath path,
              ThreadStats& stats, const std::atomic<bool>& stop, std::string name);
    void run();

  private:
    std::unique_ptr<XskSocket> socket_;
    uint16_t mtu_;
    DatagramPath path_;
    ThreadStats& stats_;
    const std::atomic<bool>& stop_;
    std::string name_;
};

}  // namespace dnsd
