// testsupport::DnsClient — sends raw query bytes to one server on loopback over UDP or TCP.
//
// Contract: every call uses a fresh socket (so a late answer to an earlier query can never be
// mistaken for the current one) and returns the first response received, or nullopt when
// nothing arrives within the timeout (or the server refuses / closes). The bytes are sent as
// given: malformed queries are the point of some tests. Only loopback addresses are accepted.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tests/support/dns_message.hpp"
#include "tests/support/tcp_connection.hpp"

namespace testsupport {

enum class Transport { Udp, Tcp };

class DnsClient {
  public:
    DnsClient(std::string address, uint16_t port);

    std::optional<DnsMessage> udp(std::span<const uint8_t> query,
                                  std::chrono::milliseconds timeout) const;
    std::optional<DnsMessage> tcp(std::span<const uint8_t> query,
                                  std::chrono::milliseconds timeout) const;
    std::optional<DnsMessage> query(std::span<const uint8_t> query, Transport transport,
                                    std::chrono::milliseconds timeout) const;
    // Writes all queries on one TCP connection in a single send, then collects responses in
    // arrival order until as many as queries arrived, the server closed, or `timeout` passed.
    std::vector<DnsMessage> tcpPipelined(const std::vector<std::vector<uint8_t>>& queries,
                                         std::chrono::milliseconds timeout) const;
    TcpConnection connectTcp() const;

    const std::string& address() const { return address_; }
    uint16_t port() const { return port_; }

  private:
    std::string address_;
    uint16_t port_;
};

std::string transportName(Transport t);

}  // namespace testsupport
