#include "tests/support/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <stdexcept>
#include <utility>

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

namespace {

// The kernel's ephemeral range: the ports it hands to every outgoing connection.
std::pair<int, int> ephemeralRange() {
    int lo = 32768, hi = 60999;
    if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
        if (std::fscanf(f, "%d %d", &lo, &hi) != 2) lo = 32768, hi = 60999;
        std::fclose(f);
    }
    return {lo, hi};
}

// True if `port` binds on loopback for UDP and TCP (and IPv6 where there is one).
bool bindsEverywhere(uint16_t port) {
    UniqueFd udp4, tcp4, udp6, tcp6;
    if (bindLoopback(AF_INET, SOCK_DGRAM, port, udp4) != port) return false;
    if (bindLoopback(AF_INET, SOCK_STREAM, port, tcp4) != port) return false;
    if (haveIpv6Loopback()) {
        if (bindLoopback(AF_INET6, SOCK_DGRAM, port, udp6) != port) return false;
        if (bindLoopback(AF_INET6, SOCK_STREAM, port, tcp6) != port) return false;
    }
    return true;
}

}  // namespace

uint16_t freePort() {
    // Below the ephemeral range: a port the kernel picked for us (bind to port 0) comes from
    // that range, and so does the source port of every connection the tests' servers and
    // probers open (thousands a second), so between our choice and the server's bind a client
    // socket could take it ("address already in use" from a secondary, seen under ASan).
    // Ports below the range are only ever taken by an explicit bind.
    static std::mt19937 random(std::random_device{}() ^ unsigned(::getpid()));
    auto [lo, hi] = ephemeralRange();
    (void)hi;
    const int first = 10000, last = lo - 1;
    if (last - first > 1000) {
        std::uniform_int_distribution<int> pick(first, last);
        for (int attempt = 0; attempt < 200; ++attempt) {
            auto port = uint16_t(pick(random));
            if (bindsEverywhere(port)) return port;
        }
    }
    for (int attempt = 0; attempt < 100; ++attempt) {
        UniqueFd keep;
        uint16_t port = bindLoopback(AF_INET, SOCK_DGRAM, 0, keep);
        keep = UniqueFd();
        if (port != 0 && bindsEverywhere(port)) return port;
    }
    throw std::runtime_error("freePort: no port free for UDP and TCP on loopback after 300 tries");
}

}  // namespace testsupport
