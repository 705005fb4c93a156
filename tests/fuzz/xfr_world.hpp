// xfrWorld() — what xfr_fuzz transfers from and who it lets transfer (tests/README.md "Fuzzing").
//
// Contract: built once per process, never freed (as fuzzWorld()). A ServedState holding
// fuzzWorld()'s zones with their pools bound, plus big.xfr.test. (about 60 KB: a transfer of
// several messages), and an XfrAcl whose terms the fuzzer's client (kXfrClient, 127.0.0.1) meets in
// different ways per zone:
//
//   example.com.         127.0.0.1 unsigned
//   example.test.        127.0.0.1 port 53 signed with xfr-key., port 5300 with other-key.
//   big.xfr.test.        127.0.0.1 signed with xfr-key.
//   other.test.          192.0.2.1 only (our client is not listed: REFUSED)
//   child.example.test.  nobody
//
// Keys: xfr-key. (hmac-sha256), other-key. (hmac-sha1), example.com. (hmac-sha512, no
// secondary uses it: a valid signature that is refused; named after a zone, as keys often
// are, so a query below example.com. can carry its key name as a compression pointer). Every TSIG
// is judged at kXfrNow, a fixed time, so the signed seeds stay valid and a run is deterministic.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnsd/served_state.hpp"
#include "tests/fuzz/fuzz_world.hpp"
#include "zones/tsig.hpp"

namespace fuzzsupport {

constexpr uint64_t kXfrNow = 1767225600;  // 2026-01-01T00:00:00Z
constexpr size_t kBigZoneRecords = 600;

inline dnsd::Client xfrClient(dnsd::Transport t) {
    dnsd::Client c;
    c.transport = t;
    c.family = 4;
    c.addr[0] = 127;
    c.addr[3] = 1;
    c.now = uint32_t(kXfrNow);
    return c;
}

inline zones::TsigKey xfrKey(const char* name, zones::TsigAlgorithm a, const char* secret) {
    std::string s(secret);
    return {*zones::Name::fromText(name), a, std::vector<uint8_t>(s.begin(), s.end())};
}

// The keys, in XfrAcl::keys order (the seeds sign with them).
inline const std::vector<zones::TsigKey>& xfrKeys() {
    static const auto* keys = new std::vector<zones::TsigKey>{
        xfrKey("xfr-key.", zones::TsigAlgorithm::HmacSha256, "xfr-fuzz-secret-sha256-32-bytes!"),
        xfrKey("other-key.", zones::TsigAlgorithm::HmacSha1, "xfr-fuzz-secret-sha1"),
        xfrKey("example.com.", zones::TsigAlgorithm::HmacSha512, "xfr-fuzz-secret-sha512")};
    return *keys;
}

inline std::string bigZoneText() {
    std::string t =
        "$ORIGIN big.xfr.test.\n$TTL 300\n"
        "@ IN SOA ns1 hostmaster 7 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n";
    for (size_t i = 0; i < kBigZoneRecords; ++i)
        t += "r" + std::to_string(i) + " IN TXT \"record " + std::to_string(i) +
             " of a zone that needs several messages, padded to about a hundred octets\"\n";
    // One record larger than a transfer message (16 KB): it gets a message of its own.
    t += "huge IN TXT";
    for (int i = 0; i < 80; ++i) t += " \"" + std::string(250, 'h') + "\"";
    t += "\n";
    return t;
}

inline dnsd::XfrAcl::Secondary xfrSecondary(const char* ip, uint16_t port, int key) {
    dnsd::XfrAcl::Secondary s;
    s.family = 4;
    inet_pton(AF_INET, ip, s.addr);
    s.port = port;
    s.key = key;
    s.endpoint = std::string(ip) + ":" + std::to_string(port);
    return s;
}

inline std::shared_ptr<const dnsd::ServedState> xfrWorld() {
    // Kept reachable (as the other targets keep theirs), or LeakSanitizer reports it at exit.
    static FuzzWorld* const w = makeFuzzWorld(true);
    static const auto* state = [] {
        auto zonesNow = w->snapshot->zones();
        auto big = zones::parseZoneText(bigZoneText(), "big.xfr.test.zone");
        zonesNow.push_back(zones::ZoneSnapshot::build(big.origin, big.records, {}, 1));
        auto acl = std::make_shared<dnsd::XfrAcl>();
        acl->keys = xfrKeys();
        auto zone = [&](const char* name, std::vector<dnsd::XfrAcl::Secondary> secondaries) {
            zones::Name n = *zones::Name::fromText(name);
            acl->zones.push_back({std::string(n.key()), name, std::move(secondaries)});
        };
        zone("example.com.", {xfrSecondary("127.0.0.1", 53, -1)});
        zone("example.test.",
             {xfrSecondary("127.0.0.1", 53, 0), xfrSecondary("127.0.0.1", 5300, 1)});
        zone("big.xfr.test.", {xfrSecondary("127.0.0.1", 53, 0)});
        zone("other.test.", {xfrSecondary("192.0.2.1", 53, -1)});
        auto s = std::make_shared<dnsd::ServedState>();
        s->zones = zones::Snapshot::make(std::move(zonesNow), 1);
        s->pools = w->pools;
        s->xfr = std::move(acl);
        return new std::shared_ptr<const dnsd::ServedState>(std::move(s));
    }();
    return *state;
}

}  // namespace fuzzsupport
