// common::ListenAddress — an address and port to serve on, from "127.0.0.1:53" or "[::1]:53".
//
// Contract: `parse` accepts only numeric addresses (no name lookups at start-up) and throws
// std::runtime_error with the offending text otherwise. `bindSocket` returns a bound socket
// or throws naming the address and the errno text.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "common/fd.hpp"

namespace common {

struct ListenAddress {
    sockaddr_storage addr{};
    socklen_t len = 0;
    std::string text;

    static ListenAddress parse(const std::string& text);
    int family() const { return addr.ss_family; }
    // SOCK_DGRAM or SOCK_STREAM, non-blocking for TCP; SO_REUSEPORT so each UDP worker
    // can have its own socket and the kernel spreads queries across them.
    Fd bindSocket(int type, bool reusePort) const;
};

// For an --http option: "none", or what `parse` accepts; throws as `parse` does.
void checkListenAddressOrNone(const std::string& text);

}  // namespace common
