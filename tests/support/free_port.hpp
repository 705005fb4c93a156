// testsupport::freePort — a loopback port nobody is using right now.
//
// Contract: returns a port that could just be bound on 127.0.0.1 for both UDP and TCP, and
// also on ::1 (both protocols) when the host has IPv6 loopback; throws if none is found.
// The sockets are closed before returning, so another process could take the port in the
// meantime; servers started on it fail loudly in that case and the test reports it.
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
