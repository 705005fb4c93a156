// testsupport::DnsdServer — the real dnsd binary serving a database on loopback.
//
// Contract: starts DNSD_BIN `--db dbPath --listen 127.0.0.1:port` (plus `--listen [::1]:port`
// when the host has IPv6 loopback) and `extraArgs`, and returns once it answers a query
// (throws with dnsd's stderr if it exits or stays silent for 10 s). If `readyZone` is given,
// readiness means that zone's SOA is answered authoritatively. `env` ("NAME=value")
// is added to the environment. Stopped on destruction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/dns_client.hpp"
#include "tests/support/process.hpp"

namespace testsupport {

class DnsdServer {
  public:
    DnsdServer(std::string dbPath, uint16_t port, std::vector<std::string> extraArgs = {},
               std::string readyZone = {}, std::vector<std::string> env = {});

    uint16_t port() const { return port_; }
    bool ipv6() const { return ipv6_; }
    DnsClient client() const { return DnsClient("127.0.0.1", port_); }
    DnsClient client6() const { return DnsClient("::1", port_); }
    Process& process() { return *process_; }

  private:
    std::string dbPath_;
    uint16_t port_;
    bool ipv6_;
    std::unique_ptr<Process> process_;
};

}  // namespace testsupport
