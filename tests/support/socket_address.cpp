#include "tests/support/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <cstring>
#include <stdexcept>

namespace testsupport {

SocketAddress::SocketAddress(const std::string& address, uint16_t port) {
    std::memset(&storage, 0, sizeof storage);
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (inet_pton(AF_INET, address.c_str(), &sin->sin_addr) == 1) {
        if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
            throw std::runtime_error("tests only talk to loopback, not " + address);
        }
        family = AF_INET;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, address.c_str(), &sin6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
            throw std::runtime_error("tests only talk to loopback, not " + address);
        }
        family = AF_INET6;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        len = sizeof(sockaddr_in6);
    } else {
        throw std::runtime_error("not an IP address literal: " + address);
    }
}

}  // namespace testsupport
