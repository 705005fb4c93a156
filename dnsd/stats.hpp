// dnsd::Stats — counters shared by all I/O threads.
//
// Contract: increments are relaxed atomics on per-thread-padded slots, so counting never
// makes threads contend; readers (the control thread, logs, metrics) sum the slots.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "dnsd/answer/answer.hpp"

namespace dnsd {

// Query types counted by name in metrics; everything else is "other".
constexpr uint16_t kCountedTypes[] = {1, 2, 5, 6, 12, 15, 16, 28, 33, 43, 48, 64, 65, 255, 257};
constexpr size_t kTypeSlots = sizeof(kCountedTypes) / sizeof(kCountedTypes[0]) + 1;
inline size_t typeSlot(uint16_t qtype) {
    for (size_t i = 0; i + 1 < kTypeSlots; ++i)
        if (kCountedTypes[i] == qtype) return i;
    return kTypeSlots - 1;
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

    std::atomic<uint64_t> qtypes[kTypeSlots]{};
    std::atomic<uint64_t> rcodes[16]{};

    void count(const AnswerResult& r, Transport t) {
        if (r.action == Action::Send) {
            qtypes[typeSlot(r.qtype)].fetch_add(1, std::memory_order_relaxed);
            rcodes[r.rcode & 15].fetch_add(1, std::memory_order_relaxed);
        }
        (t == Transport::Udp ? udpQueries : tcpQueries).fetch_add(1, std::memory_order_relaxed);
        outcomes[size_t(r.outcome) & 15].fetch_add(1, std::memory_order_relaxed);
        if (r.truncated) truncated.fetch_add(1, std::memory_order_relaxed);
    }
};

}  // namespace dnsd
