// libFuzzer target: any bytes as a query, over UDP and TCP, against a zone that exercises
// every answer path (referral, CNAME chains and loops, wildcards, pools, truncation).
#include <cstdint>
#include <memory>
#include <vector>

#include "dnsd/answer/answer.hpp"
#include "zones/zone_file.hpp"

namespace {

const char* kZone = R"(
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

struct World {
    std::shared_ptr<const zones::Snapshot> snapshot;
    dnsd::PoolTable pools;
    dnsd::EngineConfig config;
    dnsd::Scratch scratch;
    World() {
        auto zf = zones::parseZoneText(kZone, "fuzz.zone");
        std::vector<zones::PoolBinding> bindings = {
            {*zones::Name::fromText("pool.example.com."), zones::rrtype::A, 1},
            {*zones::Name::fromText("cpool.example.com."), zones::rrtype::CNAME, 2}};
        snapshot = zones::Snapshot::make({zones::ZoneSnapshot::build(zf.origin, zf.records, bindings, 1)}, 1);
        dnsd::PoolAnswer a;
        a.type = zones::rrtype::A;
        a.maxAnswers = 2;
        for (uint8_t i = 1; i <= 3; ++i) a.rdatas.push_back({30, {192, 0, 2, i}});
        pools.set(1, a);
        dnsd::PoolAnswer c;
        c.type = zones::rrtype::CNAME;
        zones::Name target = *zones::Name::fromText("alias.example.com.");
        c.rdatas.push_back({30, std::vector<uint8_t>(target.wire().begin(), target.wire().end())});
        pools.set(2, c);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static World* world = new World();
    static std::vector<uint8_t> out(65535);
    for (auto t : {dnsd::Transport::Udp, dnsd::Transport::Tcp}) {
        auto r = dnsd::answer(*world->snapshot, world->pools, world->config, {data, size}, out, t,
                              world->scratch);
        if (r.action == dnsd::Action::Send) {
            size_t limit = t == dnsd::Transport::Udp ? world->config.maxUdpPayload : 65535;
            if (r.size < 12 || r.size > limit) __builtin_trap();
        }
    }
    return 0;
}
