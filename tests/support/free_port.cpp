#include "tests/support/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdexcept>

#include "tests/support/unique_fd.hpp"

namespace testsupport {
namespace {

// Binds a socket of `type` on the loopback of `family` at `port` (0 = any); returns the
// bound port or 0 on failure. The socket is kept open in `keep` so the caller can hold it.
uint16_t bindLoopback(int family, int type, uint16_t port, UniqueFd& keep) {
    UniqueFd fd(::socket(family, type | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return 0;
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(sockaddr_in);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        sin6->sin6_addr = in6addr_loopback;
        len = sizeof(sockaddr_in6);
    }
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return 0;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
    uint16_t bound = family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                       : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    keep = std::move(fd);
    return bound;
}

}  // namespace

bool haveIpv6Loopback() {
    static const bool have = [] {
        UniqueFd keep;
        return bindLoopback(AF_INET6, SOCK_DGRAM, 0, keep) != 0;
    }();
    return have;
}

BusyTcpPort busyTcpPort() {
    BusyTcpPort busy{UniqueFd(::socket(AF_INET, SOCK_STREAM, 0)), 0};
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (!busy.socket.valid() ||
        ::bind(busy.socket.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(busy.socket.get(), 1) != 0 ||
        ::getsockname(busy.socket.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("busyTcpPort: cannot listen on 127.0.0.1");
    busy.port = ntohs(a.sin_port);
    return busy;
}

uint16_t freePort() {
    for (int attempt = 0; attempt < 100; ++attempt) {
        UniqueFd udp4, tcp4, udp6, tcp6;
        uint16_t port = bindLoopback(AF_INET, SOCK_DGRAM, 0, udp4);
        if (port == 0) continue;
        if (bindLoopback(AF_INET, SOCK_STREAM, port, tcp4) != port) continue;
        if (haveIpv6Loopback()) {
            if (bindLoopback(AF_INET6, SOCK_DGRAM, port, udp6) != port) continue;
            if (bindLoopback(AF_INET6, SOCK_STREAM, port, tcp6) != port) continue;
        }
        return port;
    }
    throw std::runtime_error("freePort: no port free for UDP and TCP on loopback after 100 tries");
}

}  // namespace testsupport
