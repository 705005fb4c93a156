// testsupport::NsdServer — NSD (the reference implementation) serving zone files on loopback.
//
// Contract: the constructor writes an nsd.conf into its own temp dir (no chroot, no privilege
// drop, no database, no remote control, RRL off, identity/version hidden, foreground `-d`,
// AXFR allowed to 127.0.0.1),
// listens on 127.0.0.1 (and ::1 when available) at `port`, starts /usr/sbin/nsd and returns
// once every zone's SOA is answered (throws with NSD's stderr otherwise, within 10 s).
// Stopped on destruction. The options that change answers are documented in configText().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/dns_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace testsupport {

struct ZoneFile {
    std::string origin;  // "example.test."
    std::string path;    // master file
};

class NsdServer {
  public:
    static constexpr const char* kBinary = "/usr/sbin/nsd";

    NsdServer(const std::vector<ZoneFile>& zones, uint16_t port);

    uint16_t port() const { return port_; }
    DnsClient client() const { return DnsClient("127.0.0.1", port_); }
    const std::string& configText() const { return config_; }
    Process& process() { return *process_; }

  private:
    TempDir dir_;
    uint16_t port_;
    std::string config_;
    std::unique_ptr<Process> process_;
};

}  // namespace testsupport
