// dnsd::Stats — counters shared by all I/O threads.
//
// Contract: each ThreadStats is written by exactly one I/O thread (its owner) and read by
// others (the control thread, logs, metrics), which sum them. The owner bumps with a relaxed
// load + store instead of fetch_add: no locked instruction on the per-query path, and readers
// still never see torn values.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "dnsd/answer/answer.hpp"

namespace dnsd {

// Query types counted by name in metrics; everything else is "other".
constexpr uint16_t kCountedTypes[] = {1, 2, 5, 6, 12, 15, 16, 28, 33, 43, 48, 64, 65, 255, 257};
constexpr size_t kTypeSlots = sizeof(kCountedTypes) / sizeof(kCountedTypes[0]) + 1;
// One table load per query instead of a search through kCountedTypes.
inline constexpr auto kTypeSlotTable = [] {
    std::array<uint8_t, 258> t{};
    t.fill(uint8_t(kTypeSlots - 1));
    for (size_t i = 0; i + 1 < kTypeSlots; ++i) t[kCountedTypes[i]] = uint8_t(i);
    return t;
}();
inline size_t typeSlot(uint16_t qtype) {
    return qtype < kTypeSlotTable.size() ? kTypeSlotTable[qtype] : kTypeSlots - 1;
}

struct alignas(64) ThreadStats {
    std::atomic<uint64_t> udpQueries{0};
    std::atomic<uint64_t> tcpQueries{0};
    std::atomic<uint64_t> truncated{0};
    std::atomic<uint64_t> outcomes[16]{};
    std::atomic<uint64_t> tcpConnections{0};
    std::atomic<uint64_t> tcpRefused{0};  // over the connection limit
    std::atomic<uint64_t> rrlDropped{0};
    std::atomic<uint64_t> rrlSlipped{0};
    std::atomic<uint64_t> rrlBadCookie{0};     // slips answered BADCOOKIE (client sent a cookie)
    std::atomic<uint64_t> rrlCookieExempt{0};  // let through unlimited: valid server cookie
    std::atomic<uint64_t> cookies[4]{};        // queries by CookieState
    std::atomic<uint64_t> xfr[8]{};            // transfer requests by XfrOutcome
    std::atomic<uint64_t> xfrMessages{0};      // transfer messages sent
    std::atomic<uint64_t> xfrBytes{0};

    std::atomic<uint64_t> xdpAnswers{0};  // sent by an XdpWorker (also in udpQueries)
    std::atomic<uint64_t> xdpDropped{0};  // frames an XdpWorker could not parse or answer
    // The kernel's counts for the worker's AF_XDP socket (XDP_STATISTICS), copied in now and
    // then: queries lost before dnsd saw them (receive ring full, no free frame, other).
    std::atomic<uint64_t> xdpRingFull{0}, xdpNoFrame{0}, xdpKernelDropped{0};
    std::atomic<uint64_t> qtypes[kTypeSlots]{};
    std::atomic<uint64_t> rcodes[16]{};

    // Owner thread only.
    static void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    void count(const AnswerResult& r, Transport t) {
        if (r.action == Action::Send) {
            bump(qtypes[typeSlot(r.qtype)]);
            bump(rcodes[r.rcode & 15]);
        }
        bump(t == Transport::Udp ? udpQueries : tcpQueries);
        bump(outcomes[size_t(r.outcome) & 15]);
        if (r.cookie != CookieState::None) bump(cookies[size_t(r.cookie) & 3]);
        if (r.truncated) bump(truncated);
    }
};

}  // namespace dnsd
