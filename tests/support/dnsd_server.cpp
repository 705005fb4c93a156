#include "tests/support/dnsd_server.hpp"

#include <filesystem>
#include <stdexcept>

#include "tests/support/free_port.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/server_readiness.hpp"

namespace testsupport {

DnsdServer::DnsdServer(std::string dbPath, uint16_t port, std::vector<std::string> extraArgs,
                       std::string readyZone, std::vector<std::string> env)
    : dbPath_(std::move(dbPath)), port_(port), ipv6_(haveIpv6Loopback()) {
    if (!std::filesystem::exists(DNSD_BIN)) {
        throw std::runtime_error(std::string("dnsd binary not built: ") + DNSD_BIN);
    }
    std::vector<std::string> args{"--db", dbPath_, "--listen", "127.0.0.1:" + std::to_string(port)};
    if (ipv6_) {
        args.push_back("--listen");
        args.push_back("[::1]:" + std::to_string(port));
    }
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());
    process_ = std::make_unique<Process>(DNSD_BIN, args, std::move(env));

    std::function<bool(const DnsMessage&)> accept;
    std::string probeName = readyZone.empty() ? "." : readyZone;
    if (!readyZone.empty()) {
        accept = [](const DnsMessage& m) { return (m.flags() & 0xF) == 0 && m.aa(); };
    }
    waitForServer(*process_, client(), QueryBuilder(probeName, LDNS_RR_TYPE_SOA).build(),
                  std::chrono::seconds(10), accept);
}

}  // namespace testsupport
