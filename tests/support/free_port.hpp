// testsupport::freePort — a loopback port nobody is using right now.
//
// Contract: returns a port that could just be bound on 127.0.0.1 for both UDP and TCP, and
// also on ::1 (both protocols) when the host has IPv6 loopback; throws if none is found.
// The port is picked at random below the kernel's ephemeral range (10000 up to
// ip_local_port_range's low end), so no outgoing connection's source port can take it before
// the test's server binds it; another test could still pick the same port (rare), and a
// server started on it then fails loudly. The sockets are closed before returning.
#pragma once

#include <cstdint>

#include "tests/support/unique_fd.hpp"

namespace testsupport {

uint16_t freePort();
// True if a socket can be bound on ::1 (some containers have no IPv6 loopback).
bool haveIpv6Loopback();

// A TCP socket listening on 127.0.0.1 at a port the kernel chose, for a test that needs an
// address in use; closed when the value goes. Throws if the socket cannot be made.
struct BusyTcpPort {
    UniqueFd socket;
    uint16_t port = 0;
};
BusyTcpPort busyTcpPort();

}  // namespace testsupport
