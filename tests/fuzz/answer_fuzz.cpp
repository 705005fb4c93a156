// libFuzzer target: any bytes as a query, over UDP and TCP, into dnsd::answer() against
// fuzzWorld() (every answer path, pools included).
//
// Beyond "no crash, no sanitizer report", every response must: be at least a header; echo
// the query ID with QR set; fit 65535 bytes over TCP, the server's UDP maximum over UDP, and
// 512 bytes over UDP when the query has no additional record (so it cannot carry EDNS).
#include <cstdint>
#include <vector>

#include "tests/fuzz/fuzz_world.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static fuzzsupport::FuzzWorld* world = fuzzsupport::makeFuzzWorld(true);
    static auto* scratch = new dnsd::Scratch();
    static std::vector<uint8_t> out(65535);
    for (auto t : {dnsd::Transport::Udp, dnsd::Transport::Tcp}) {
        auto r = dnsd::answer(*world->snapshot, *world->pools, world->config, {data, size}, out, t,
                              *scratch);
        if (r.action != dnsd::Action::Send) continue;
        size_t limit = t == dnsd::Transport::Tcp ? 65535 : world->config.maxUdpPayload;
        bool noAdditional = size >= 12 && data[10] == 0 && data[11] == 0;
        if (t == dnsd::Transport::Udp && noAdditional) limit = 512;
        if (r.size < 12 || r.size > limit) __builtin_trap();
        if (size < 2 || out[0] != data[0] || out[1] != data[1]) __builtin_trap();
        if ((out[2] & 0x80) == 0) __builtin_trap();
    }
    return 0;
}
