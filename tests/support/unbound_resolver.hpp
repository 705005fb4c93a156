// testsupport::UnboundResolver — a validating Unbound (Debian's /usr/sbin/unbound) on a loopback
// port, resolving only the zones it is given, from the authoritative servers it is given, with
// their DS or DNSKEY RRs as trust anchors.
//
// Contract: the constructor writes unbound.conf into its own temp dir (logs there too), starts
// `unbound -d` on 127.0.0.1 at a port chosen by freePort() and returns once it answers (throws
// with its log otherwise, within 10 s). Each zone is a stub-zone: Unbound queries the given
// 127.0.0.x:port itself with RD clear, as it would the zone's real name servers (a forward-zone
// would send RD=1 queries meant for a recursive server). Validation is on (validator module,
// the given trust anchors, nothing else: no root key, no root hints used). Nothing leaves
// loopback: Unbound sends from 127.0.0.1, may not query any address outside 127.0.0.0/8, IPv6
// is off, and every name outside the given zones is REFUSED by a local zone at the root.
// Aggressive NSEC and prefetch are off so every answer comes from a query to the server, and
// cached entries live at most `cacheMaxTtl` seconds; flush() empties the cache for a name and
// everything below it through unbound-control (enabled on 127.0.0.1 only, no certificates).
// Stopped on destruction.
//
// query() asks with RD, DO and EDNS 4096 (TCP when the UDP answer is truncated) and returns the
// rcode, the AD flag and the answer/authority RRs as sorted canonical text; a bogus answer is
// SERVFAIL and the reason is in the EDE option (see answer.message) and in logText(). A server
// that stops answering gets SERVFAIL within seconds (infra-cache-max-rtt 1000 ms) and that late
// verdict is still sent (discard-timeout 0). DNSD_UNBOUND_VERBOSITY=4 (with DNSD_KEEP_TEMP=1)
// keeps a log of every query Unbound sent and why.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/dns_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace testsupport {

struct StubZone {
    std::string name;                   // "sec.test."
    std::string address = "127.0.0.1";  // an authoritative server for it (loopback only)
    uint16_t port = 53;
};

struct UnboundOptions {
    std::vector<StubZone> zones;
    // DS or DNSKEY RRs in presentation form, e.g. LdnsZoneSigner::dsRecord() or the lines
    // `dnsctl dnssec ds` prints. Empty: no validation of these zones (they are insecure).
    std::vector<std::string> trustAnchors;
    int cacheMaxTtl = 1;  // seconds, for positive and negative answers
};

struct ResolverAnswer {
    uint16_t rcode = 0;
    bool ad = false;
    std::vector<std::string> answer;     // sorted canonical RR text (DnsMessage::canonicalRrs)
    std::vector<std::string> authority;  // the same for the authority section
    DnsMessage message;                  // the whole response
    // "NOERROR AD" plus the message, for assertion messages.
    std::string describe() const;
};

class UnboundResolver {
  public:
    static constexpr const char* kBinary = "/usr/sbin/unbound";

    explicit UnboundResolver(UnboundOptions options);

    uint16_t port() const { return port_; }
    DnsClient client() const { return DnsClient("127.0.0.1", port_); }
    // Throws (with the log's tail) when Unbound does not answer within 10 s.
    ResolverAnswer query(const std::string& name, uint16_t type) const;
    // unbound-control flush_zone NAME: every cached RRset, message and key at or below NAME.
    void flush(const std::string& name) const;
    const std::string& configText() const { return config_; }
    std::string logText() const;
    Process& process() { return *process_; }

  private:
    TempDir dir_;
    uint16_t port_;
    std::string configPath_;
    std::string config_;
    std::unique_ptr<Process> process_;
};

}  // namespace testsupport
