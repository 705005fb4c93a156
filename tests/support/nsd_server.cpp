#include "tests/support/nsd_server.hpp"

#include <filesystem>
#include <stdexcept>

#include "tests/support/free_port.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/server_readiness.hpp"

namespace testsupport {

NsdServer::NsdServer(const std::vector<ZoneFile>& zones, uint16_t port)
    : dir_("dnsd-nsd"), port_(port) {
    if (!std::filesystem::exists(kBinary)) {
        throw std::runtime_error(std::string(kBinary) + " not found (apt-get install nsd)");
    }
    const std::string d = dir_.path().string();
    std::string c;
    c += "server:\n";
    c += "  ip-address: 127.0.0.1@" + std::to_string(port) + "\n";
    if (haveIpv6Loopback()) c += "  ip-address: ::1@" + std::to_string(port) + "\n";
    c += "  username: \"\"\n";
    c += "  chroot: \"\"\n";
    c += "  database: \"\"\n";
    c += "  zonesdir: \"" + d + "\"\n";
    c += "  zonelistfile: \"" + d + "/zone.list\"\n";
    c += "  xfrdfile: \"" + d + "/xfrd.state\"\n";
    c += "  xfrdir: \"" + d + "\"\n";
    c += "  pidfile: \"" + d + "/nsd.pid\"\n";
    c += "  server-count: 1\n";
    c += "  verbosity: 1\n";
    c += "  hide-version: yes\n";
    c += "  hide-identity: yes\n";
    c += "  zonefiles-write: 0\n";
    // Answers up to the client's advertised size are allowed (NSD caps at 1232 by default);
    // dnsd honours the client's buffer size, so the reference must too.
    c += "  ipv4-edns-size: 4096\n";
    c += "  ipv6-edns-size: 4096\n";
    // RRL would turn repeated identical queries into truncated "slip" answers.
    c += "  rrl-ratelimit: 0\n";
    c += "  rrl-whitelist-ratelimit: 0\n";
    c += "remote-control:\n";
    c += "  control-enable: no\n";
    for (const auto& z : zones) {
        c += "zone:\n";
        c += "  name: \"" + z.origin + "\"\n";
        c += "  zonefile: \"" + std::filesystem::absolute(z.path).string() + "\"\n";
        // Tests may AXFR what NSD serves (e.g. to verify a signed zone as served); no query
        // of the conformance catalog is a transfer, so answers are unchanged.
        c += "  provide-xfr: 127.0.0.1 NOKEY\n";
    }
    config_ = c;
    std::string confPath = dir_.writeFile("nsd.conf", config_);

    process_ = std::make_unique<Process>(kBinary, std::vector<std::string>{"-d", "-c", confPath},
                                         std::vector<std::string>{}, dir_.path());
    DnsClient cl = client();
    for (const auto& z : zones) {
        auto probe = QueryBuilder(z.origin, LDNS_RR_TYPE_SOA).build();
        waitForServer(*process_, cl, probe, std::chrono::seconds(10), [](const DnsMessage& m) {
            return (m.flags() & 0xF) == LDNS_RCODE_NOERROR && m.aa();
        });
    }
}

}  // namespace testsupport
