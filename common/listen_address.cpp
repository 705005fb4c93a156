#include "common/listen_address.hpp"

#include <arpa/inet.h>
#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace common {

ListenAddress ListenAddress::parse(const std::string& text) {
    ListenAddress la;
    la.text = text;
    std::string host, port;
    if (!text.empty() && text[0] == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            throw std::runtime_error("bad listen address '" + text + "' (want [v6addr]:port)");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon)
            throw std::runtime_error("bad listen address '" + text +
                                     "' (want ADDR:PORT or [v6addr]:PORT)");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p < 0 || p > 65535)
        throw std::runtime_error("bad port in listen address '" + text + "'");
    auto* v4 = reinterpret_cast<sockaddr_in*>(&la.addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&la.addr);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(uint16_t(p));
        la.len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(uint16_t(p));
        la.len = sizeof(sockaddr_in6);
    } else {
        throw std::runtime_error("bad address in listen address '" + text +
                                 "' (numeric IPv4 or IPv6 only)");
    }
    return la;
}

void checkListenAddressOrNone(const std::string& text) {
    if (text != "none") ListenAddress::parse(text);
}

Fd ListenAddress::bindSocket(int type, bool reusePort) const {
    Fd fd(::socket(family(), type | SOCK_CLOEXEC | (type == SOCK_STREAM ? SOCK_NONBLOCK : 0), 0));
    if (!fd.valid()) throw std::runtime_error("socket for " + text + ": " + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reusePort) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (family() == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0)
        throw std::runtime_error("cannot bind " +
                                 std::string(type == SOCK_STREAM ? "TCP " : "UDP ") + text + ": " +
                                 std::strerror(errno));
    if (type == SOCK_STREAM && ::listen(fd.get(), 1024) != 0)
        throw std::runtime_error("cannot listen on " + text + ": " + std::strerror(errno));
    return fd;
}

}  // namespace common
