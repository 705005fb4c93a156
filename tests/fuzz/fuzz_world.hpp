// fuzzWorld() — the zones every query fuzz target answers from.
//
// Contract: built once per process, never freed (libFuzzer calls the target millions of
// times; a static that outlives main keeps LeakSanitizer quiet and exit cheap). It holds the
// example.com. zone below, which reaches every answer path (referral, CNAME chains and loops,
// wildcards, pools, CNAMEs into pools, truncation), plus the conformance zones
// (tests/conformance/zones: DS, unknown types, ENTs, a nested child zone, big RRsets, a 13-NS
// referral). Pools are bound only when asked for: pool answers rotate per Scratch, so a target that
// compares two engines' bytes (tcp_framing_fuzz) must not use them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dnsd/answer/answer.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_signer.hpp"

#ifndef DNSD_SOURCE_DIR
#error "DNSD_SOURCE_DIR must name the source tree (set by tests/fuzz/CMakeLists.txt)"
#endif

namespace fuzzsupport {

inline const char* kExampleZone = R"(
$ORIGIN example.com.
$TTL 3600
@       IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@       IN NS  ns1
@       IN MX  10 mail
ns1     IN A   192.0.2.53
mail    IN A   192.0.2.25
mail    IN AAAA 2001:db8::25
www     IN A   192.0.2.80
alias   IN CNAME www
palias  IN CNAME bigpool
loop1   IN CNAME loop2
loop2   IN CNAME loop1
*.wild  IN A   192.0.2.99
*.wildc IN CNAME loop1
a.b.ent IN A   192.0.2.7
sub     IN NS  ns.sub
ns.sub  IN A   192.0.2.54
_s._tcp IN SRV 0 5 5060 mail
big     IN TXT "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big     IN TXT "1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big     IN TXT "2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big     IN TXT "3123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big     IN TXT "4123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big     IN TXT "5123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
)";

struct FuzzWorld {
    std::shared_ptr<const zones::Snapshot> snapshot;
    std::shared_ptr<dnsd::PoolTable> pools = std::make_shared<dnsd::PoolTable>();
    dnsd::EngineConfig config;
};

inline FuzzWorld* makeFuzzWorld(bool withPools) {
    auto* w = new FuzzWorld();
    std::vector<std::shared_ptr<const zones::ZoneSnapshot>> built;
    auto ex = zones::parseZoneText(kExampleZone, "example.com.zone");
    std::vector<zones::PoolBinding> bindings;
    if (withPools) {
        bindings = {{*zones::Name::fromText("pool.example.com."), zones::rrtype::A, 1},
                    {*zones::Name::fromText("cpool.example.com."), zones::rrtype::CNAME, 2},
                    {*zones::Name::fromText("bigpool.example.com."), zones::rrtype::A, 3}};
        dnsd::PoolAnswer a;
        a.type = zones::rrtype::A;
        a.maxAnswers = 2;
        for (uint8_t i = 1; i <= 3; ++i) {
            dnsd::PoolRecord r;
            r.ttl = 30;
            r.bytes = {192, 0, 2, i};
            a.rdatas.push_back(r);
        }
        w->pools->set(1, a);
        dnsd::PoolAnswer c;
        c.type = zones::rrtype::CNAME;
        zones::Name target = *zones::Name::fromText("alias.example.com.");
        dnsd::PoolRecord r;
        r.ttl = 30;
        r.bytes.assign(target.wire().begin(), target.wire().end());
        c.rdatas.push_back(r);
        w->pools->set(2, c);
        // Reached through palias's CNAME and too big for 512 bytes: truncation after a CNAME.
        dnsd::PoolAnswer big;
        big.type = zones::rrtype::A;
        for (uint8_t i = 1; i <= 40; ++i)
            big.rdatas.push_back({30, {198, 51, 100, i}, nullptr, {}});
        w->pools->set(3, big);
    }
    built.push_back(zones::ZoneSnapshot::build(ex.origin, ex.records, bindings, 1));
    for (const char* file : {"example.test.zone", "child.example.test.zone", "other.test.zone"}) {
        auto zf =
            zones::loadZoneFile(std::string(DNSD_SOURCE_DIR) + "/tests/conformance/zones/" + file);
        if (std::string_view(file) != "other.test.zone") {
            built.push_back(zones::ZoneSnapshot::build(zf.origin, zf.records, {}, 1));
            continue;
        }
        // Signed (big RRsets, glue, an apex wildcard): the DO paths, RRSIGs and NSEC proofs.
        zones::SigningPolicy policy;
        policy.epoch = 1'800'000'000;
        zones::ZoneSigner signer(zf.origin, policy,
                                 {{zones::SigningKey::generate(13, 257), true, true, true},
                                  {zones::SigningKey::generate(13, 256), true, true, false}});
        built.push_back(signer.build(zones::RecordBatch(zf.records), {}, 1, nullptr));
    }
    w->snapshot = zones::Snapshot::make(std::move(built), 1);
    return w;
}

}  // namespace fuzzsupport
