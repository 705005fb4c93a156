// testsupport::SecondaryServer — NSD, Knot or BIND running as a secondary of one zone on a
// loopback port, configured with the block `dnsctl secondary config` prints.
//
// Contract: the constructor writes the server's configuration into its own temp dir (its
// server-wide part here, the zone and key block as given, plus permission for the test to
// AXFR the secondary's copy), starts the real daemon in the foreground and returns once it
// answers on its port (any rcode: the zone may still be loading). `serial()` asks the
// secondary's SOA over UDP (nullopt while it has none). stop()/start() restart the same
// server with the same files (the copy of the zone it kept survives for BIND and Knot).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tests/support/dns_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace testsupport {

enum class SecondaryKind { Nsd, Knot, Bind };
const char* secondaryKindName(SecondaryKind k);  // "nsd", "knot", "bind"
// The daemon's path, or "" if it is not installed.
std::string secondaryBinary(SecondaryKind k);

class SecondaryServer {
  public:
    SecondaryServer(SecondaryKind kind, std::string zone, const std::string& zoneBlock,
                    uint16_t port);
    ~SecondaryServer();

    SecondaryKind kind() const { return kind_; }
    uint16_t port() const { return port_; }
    DnsClient client() const { return DnsClient("127.0.0.1", port_); }
    std::optional<uint32_t> serial() const;
    void stop();
    void start();
    std::string describe() const;

  private:
    SecondaryKind kind_;
    std::string zone_;
    uint16_t port_;
    TempDir dir_;
    std::string configPath_;
    std::unique_ptr<Process> process_;
};

}  // namespace testsupport
