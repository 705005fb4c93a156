#include "tests/support/unbound_resolver.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "tests/support/free_port.hpp"
#include "tests/support/ldns_zone_signer.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/server_readiness.hpp"
#include "tests/support/socket_address.hpp"

namespace testsupport {
namespace {

// Every IPv4 block but 127.0.0.0/8: Unbound's do-not-query-address takes blocks to avoid, so
// the complement of loopback keeps it from sending anything off the machine even when a name
// server address (glue, a referral) points elsewhere.
constexpr const char* kOffLoopback[] = {"0.0.0.0/2",   "64.0.0.0/3",  "96.0.0.0/4",
                                        "112.0.0.0/5", "120.0.0.0/6", "124.0.0.0/7",
                                        "126.0.0.0/8", "128.0.0.0/1", "::/0"};

std::string quoted(const std::string& s) {
    return "\"" + s + "\"";
}

std::string lastLines(const std::string& text, size_t n) {
    size_t pos = text.size();
    for (size_t i = 0; i <= n && pos != std::string::npos && pos > 0; ++i) {
        pos = text.rfind('\n', pos - 1);
    }
    return pos == std::string::npos ? text : text.substr(pos + 1);
}

}  // namespace

std::string ResolverAnswer::describe() const {
    char* rc = ldns_pkt_rcode2str(static_cast<ldns_pkt_rcode>(rcode & 0xF));
    std::string out = std::string(rc ? rc : "?") + (ad ? " AD" : " no-AD") + "\n";
    free(rc);
    return out + message.toString();
}

UnboundResolver::UnboundResolver(UnboundOptions options) : dir_("dnsd-unbound"), port_(freePort()) {
    if (!std::filesystem::exists(kBinary)) {
        throw std::runtime_error(std::string(kBinary) + " not found (apt-get install unbound)");
    }
    if (options.zones.empty()) throw std::runtime_error("UnboundResolver needs a zone");
    const std::string d = dir_.path().string();
    const uint16_t controlPort = freePort();
    std::string c;
    c += "server:\n";
    c += "  interface: 127.0.0.1@" + std::to_string(port_) + "\n";
    c += "  port: " + std::to_string(port_) + "\n";
    c += "  outgoing-interface: 127.0.0.1\n";
    c += "  do-ip6: no\n";
    c += "  do-daemonize: no\n";
    c += "  username: \"\"\n";
    c += "  chroot: \"\"\n";
    c += "  directory: " + quoted(d) + "\n";
    c += "  pidfile: " + quoted(d + "/unbound.pid") + "\n";
    c += "  logfile: " + quoted(d + "/unbound.log") + "\n";
    c += "  use-syslog: no\n";
    c += "  log-time-ascii: yes\n";
    // DNSD_UNBOUND_VERBOSITY=4 logs every query Unbound sends and why, for a post-mortem
    // (with DNSD_KEEP_TEMP=1 to keep the log).
    const char* verbosity = std::getenv("DNSD_UNBOUND_VERBOSITY");
    c += "  verbosity: " + std::string(verbosity && *verbosity ? verbosity : "1") + "\n";
    // Level 2 logs why an answer is bogus, with the name and the failing record.
    c += "  val-log-level: 2\n";
    c += "  ede: yes\n";
    c += "  num-threads: 1\n";
    c += "  access-control: 127.0.0.0/8 allow\n";
    // The test's servers are on loopback, which Unbound refuses to query by default.
    c += "  do-not-query-localhost: no\n";
    for (const char* block : kOffLoopback)
        c += "  do-not-query-address: " + std::string(block) + "\n";
    c += "  local-zone: \".\" refuse\n";
    for (const auto& z : options.zones) c += "  local-zone: " + quoted(z.name) + " transparent\n";
    c += "  module-config: \"validator iterator\"\n";
    for (const auto& ta : options.trustAnchors) c += "  trust-anchor: " + quoted(ta) + "\n";
    // RFC 8145 key-tag queries and root sentinel checks would add queries the tests don't ask.
    c += "  trust-anchor-signaling: no\n";
    c += "  root-key-sentinel: no\n";
    // Answers synthesised from cached NSEC records or refreshed early would hide what the
    // server itself answers now.
    c += "  aggressive-nsec: no\n";
    c += "  prefetch: no\n";
    c += "  prefetch-key: no\n";
    c += "  serve-expired: no\n";
    c += "  qname-minimisation: no\n";
    c += "  cache-max-ttl: " + std::to_string(options.cacheMaxTtl) + "\n";
    c += "  cache-max-negative-ttl: " + std::to_string(options.cacheMaxTtl) + "\n";
    c += "  infra-host-ttl: 1\n";
    // A server that stopped answering gets SERVFAIL within seconds instead of minutes of
    // back-off, and that late verdict is still sent (Unbound drops replies older than
    // discard-timeout, 1.9 s by default, leaving the test with no answer at all).
    c += "  infra-cache-max-rtt: 1000\n";
    c += "  discard-timeout: 0\n";
    c += "remote-control:\n";
    c += "  control-enable: yes\n";
    c += "  control-interface: 127.0.0.1\n";
    c += "  control-port: " + std::to_string(controlPort) + "\n";
    c += "  control-use-cert: no\n";
    for (const auto& z : options.zones) {
        SocketAddress check(z.address, z.port);  // throws unless loopback
        (void)check;
        c += "stub-zone:\n";
        c += "  name: " + quoted(z.name) + "\n";
        c += "  stub-addr: " + z.address + "@" + std::to_string(z.port) + "\n";
    }
    config_ = c;
    configPath_ = dir_.writeFile("unbound.conf", config_);

    CommandResult check = runCommand("unbound-checkconf", {configPath_});
    if (!check.ok()) throw std::runtime_error("unbound-checkconf: " + check.out + check.err);

    process_ = std::make_unique<Process>(kBinary, std::vector<std::string>{"-d", "-c", configPath_},
                                         std::vector<std::string>{}, dir_.path());
    // version.server CH TXT is answered by Unbound itself: readiness without touching the cache.
    auto probe = QueryBuilder("version.server.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH).build();
    try {
        waitForServer(*process_, client(), probe, std::chrono::seconds(10));
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string(e.what()) + "\nunbound.log:\n" + logText());
    }
}

std::string UnboundResolver::logText() const {
    std::string path = dir_.file("unbound.log");
    return std::filesystem::exists(path) ? readTextFile(path) : std::string();
}

ResolverAnswer UnboundResolver::query(const std::string& name, uint16_t type) const {
    auto wire = QueryBuilder(name, type).rd().edns(4096).dnssecOk().build();
    DnsClient cl = client();
    auto reply = cl.udp(wire, std::chrono::seconds(10));
    if (reply && reply->tc()) reply = cl.tcp(wire, std::chrono::seconds(10));
    if (!reply || !reply->parsed()) {
        throw std::runtime_error("unbound gave no usable answer to " + name + " type " +
                                 std::to_string(type) + "\n" + lastLines(logText(), 20));
    }
    ResolverAnswer a{reply->rcode(), reply->ad(), reply->canonicalRrs(Section::Answer),
                     reply->canonicalRrs(Section::Authority), *reply};
    return a;
}

void UnboundResolver::flush(const std::string& name) const {
    CommandResult r = runCommand("unbound-control", {"-c", configPath_, "flush_zone", name});
    if (!r.ok()) throw std::runtime_error(r.command + ": " + r.out + r.err);
}

}  // namespace testsupport
