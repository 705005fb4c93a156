// dnsd::clientFrom — fills the engine's Client from a socket address.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

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

}  // namespace dnsd
