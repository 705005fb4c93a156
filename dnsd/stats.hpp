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

struct alignas(64) ThreadStats {
    std::atomic<uint64_t> udpQueries{0};
    std::atomic<uint64_t> tcpQueries{0};
    std::atomic<uint64_t> truncated{0};
    std::atomic<uint64_t> outcomes[16]{};
    std::atomic<uint64_t> tcpConnections{0};
    std::atomic<uint64_t> tcpRefused{0};  // over the connection limit
    std::atomic<uint64_t> rrlDropped{0};
    std::atomic<uint64_t> rrlSlipped{0};

    void count(const AnswerResult& r, Transport t) {
        (t == Transport::Udp ? udpQueries : tcpQueries).fetch_add(1, std::memory_order_relaxed);
        outcomes[size_t(r.outcome) & 15].fetch_add(1, std::memory_order_relaxed);
        if (r.truncated) truncated.fetch_add(1, std::memory_order_relaxed);
    }
};

}  // namespace dnsd
