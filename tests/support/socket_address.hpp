// testsupport::SocketAddress — a sockaddr for an IP literal and port ("127.0.0.1", "::1").
//
// Contract: the constructor accepts only numeric loopback literals (127.0.0.0/8, ::1) and
// throws on anything else, so no test traffic can leave the machine by accident.
#pragma once

#include <sys/socket.h>
#include <cstdint>
#include <string>

namespace testsupport {

struct SocketAddress {
    SocketAddress(const std::string& address, uint16_t port);
    const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&storage); }
    int family;
    sockaddr_storage storage;
    socklen_t len;
};

}  // namespace testsupport
