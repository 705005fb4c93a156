// probes::IcmpPinger — ICMP echo for every icmp probe of one address family, on one socket.
//
// Contract: opened once at start-up, preferring an unprivileged ping socket (SOCK_DGRAM,
// IPPROTO_ICMP, allowed by net.ipv4.ping_group_range) and falling back to a raw socket (root
// or CAP_NET_RAW). If neither is permitted, `available()` is false, `status()` says why, and
// every ping reports an error result at once. Replies are matched by source address and
// sequence number (ping sockets rewrite the identifier), so any number of probes share it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>

#include "probes/check_runner.hpp"

namespace probes {

class IcmpPinger {
  public:
    IcmpPinger(boost::asio::io_context& io, bool v6);
    bool available() const { return socket_.is_open(); }
    const std::string& status() const { return status_; }
    void ping(const boost::asio::ip::address& to, int timeoutMs, CheckDone done);

  private:
    struct Pending;
    void readLoop();
    void onReadable();
    void complete(uint16_t seq, bool ok, const std::string& message);

    boost::asio::io_context& io_;
    bool v6_;
    bool raw_ = false;
    std::string status_;
    boost::asio::posix::stream_descriptor socket_;
    uint16_t nextSeq_ = 1;
    uint16_t ident_;
    std::map<uint16_t, std::shared_ptr<Pending>> pending_;
};

}  // namespace probes
