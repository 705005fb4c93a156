#include "dnsd/rate_limiter.hpp"

#include <cstring>

namespace dnsd {

RateLimiter::RateLimiter(RrlConfig config) : config_(config) {
    uint32_t size = 1;
    while (size < config_.tableSize) size <<= 1;
    mask_ = size - 1;
    buckets_ = std::make_unique<std::atomic<uint64_t>[]>(size);
    for (uint32_t i = 0; i < size; ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

RateLimiter::Verdict RateLimiter::check(const Client& client, uint64_t rrlKey,
                                        uint32_t nowSeconds) noexcept {
    if (!enabled()) return Verdict::Pass;
    if (config_.exemptLoopback) {
        static const uint8_t v6loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        if ((client.family == 4 && client.addr[0] == 127) ||
            (client.family == 6 && std::memcmp(client.addr, v6loopback, 16) == 0))
            return Verdict::Pass;
    }
    // Client prefix, folded into the class key.
    uint8_t prefix[16] = {};
    size_t bits = client.family == 6 ? config_.ipv6Prefix : config_.ipv4Prefix;
    size_t bytes = client.family == 6 ? 16 : 4;
    std::memcpy(prefix, client.addr, bytes);
    for (size_t i = 0; i < bytes; ++i) {
        size_t keep = bits > i * 8 ? bits - i * 8 : 0;
        if (keep < 8) prefix[i] &= uint8_t(0xFF << (8 - keep));
    }
    uint64_t h = rrlKey ^ 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < bytes; ++i) h = (h ^ prefix[i]) * 1099511628211ull;
    h ^= h >> 29;

    std::atomic<uint64_t>& bucket = buckets_[h & mask_];
    const uint64_t second = nowSeconds & 0xFFFFFF;
    const uint64_t finger = (h >> 48) & 0xFFFF;
    uint64_t old = bucket.load(std::memory_order_relaxed);
    uint64_t count;
    for (;;) {
        bool same = (old >> 40) == second && ((old >> 24) & 0xFFFF) == finger;
        count = same ? (old & 0xFFFFFF) + 1 : 1;
        if (count > 0xFFFFFF) count = 0xFFFFFF;
        uint64_t next = (second << 40) | (finger << 24) | count;
        if (bucket.compare_exchange_weak(old, next, std::memory_order_relaxed)) break;
    }
    if (count <= config_.ratePerSecond) return Verdict::Pass;
    if (config_.slip == 0) return Verdict::Drop;
    return (count - config_.ratePerSecond) % config_.slip == 0 ? Verdict::Slip : Verdict::Drop;
}

}  // namespace dnsd
