// dnsd::clientFrom — fills the engine's Client from a socket address; clientText words it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

#include "dnsd/answer/answer.hpp"

namespace dnsd {

inline void clientFrom(const sockaddr_storage& sa, Client& c) {
    if (sa.ss_family == AF_INET) {
        c.family = 4;
        std::memcpy(c.addr, &reinterpret_cast<const sockaddr_in&>(sa).sin_addr, 4);
    } else if (sa.ss_family == AF_INET6) {
        c.family = 6;
        std::memcpy(c.addr, &reinterpret_cast<const sockaddr_in6&>(sa).sin6_addr, 16);
    } else {
        c.family = 0;
    }
}

// "192.0.2.1", "2001:db8::1", for logs and events.
inline std::string clientText(const Client& c) {
    char buf[64];
    return inet_ntop(c.family == 6 ? AF_INET6 : AF_INET, c.addr, buf, sizeof buf) ? buf : "?";
}

}  // namespace dnsd
