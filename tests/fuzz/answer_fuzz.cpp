// libFuzzer target: any bytes as a query, over UDP and TCP, into dnsd::answer() against
// fuzzWorld() (every answer path, pools included).
//
// Beyond "no crash, no sanitizer report", every response must: be at least a header; echo
// the query ID with QR set; fit 65535 bytes over TCP, the server's UDP maximum over UDP, and
// 512 bytes over UDP when the query has no additional record (so it cannot carry EDNS); and
// parse strictly, its header counts describing exactly its bytes (no records left uncounted
// after a truncation, no question but the one asked).
#include <cstdint>
#include <vector>

#include "tests/fuzz/fuzz_world.hpp"
#include "tests/support/strict_message.hpp"

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
        std::span<const uint8_t> response(out.data(), r.size);
        if (!testsupport::strictMessageProblem(response).empty()) __builtin_trap();
        if (out[4] != 0 || out[5] > 1) __builtin_trap();  // QDCOUNT 0 or 1
    }
    return 0;
}
