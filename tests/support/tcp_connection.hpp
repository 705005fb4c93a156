// testsupport::TcpConnection — one client TCP connection to a DNS server on loopback.
//
// Contract: open() connects (throws on failure), from `source` when given (every 127.x.y.z is
// a client address of its own, for per-client limits); sendFramed() writes the RFC 1035 §4.2.2
// two-byte length then the message, sendRaw() writes bytes as given (for malformed-framing
// tests); receive() returns the next complete framed message or nullopt on timeout / close;
// waitClosed() tells whether the server closed the connection within a timeout. Sends never
// raise SIGPIPE. The socket is closed on destruction. Move-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tests/support/dns_message.hpp"
#include "tests/support/unique_fd.hpp"

namespace testsupport {

class TcpConnection {
  public:
    static TcpConnection open(const std::string& address, uint16_t port,
                              const std::string& source = {});

    bool sendFramed(std::span<const uint8_t> message);
    bool sendRaw(std::span<const uint8_t> bytes);
    std::optional<DnsMessage> receive(std::chrono::milliseconds timeout);
    // True once the peer has closed (EOF or reset) within `timeout`; data read meanwhile is
    // discarded.
    bool waitClosed(std::chrono::milliseconds timeout);
    bool closedByPeer() const { return closed_; }
    int fd() const { return fd_.get(); }

  private:
    explicit TcpConnection(UniqueFd fd) : fd_(std::move(fd)) {}
    // Reads whatever is available within the deadline into buffer_; false on timeout/close.
    bool fill(std::chrono::steady_clock::time_point deadline);

    UniqueFd fd_;
    std::vector<uint8_t> buffer_;
    bool closed_ = false;
};

}  // namespace testsupport
