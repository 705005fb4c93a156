// dnsd::RateLimiter — response rate limiting (RRL) for UDP, as NSD and Knot do it.
//
// Contract: `check` classifies a response by client prefix (IPv4 /24, IPv6 /56 by default)
// and by what it is about (AnswerResult::rrlKey: the name and outcome), and allows at most
// `ratePerSecond` such responses per second. Over the limit, every `slip`-th response is
// sent truncated (TC, no records: a real client retries over TCP, a spoofed victim gets
// nothing amplified) and the rest are dropped. Lock-free and allocation-free: a fixed table
// of atomic buckets shared by all UDP threads; two classes that collide on a bucket simply
// share a limit. A rate of 0 turns it off.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "dnsd/answer/answer.hpp"

namespace dnsd {

struct RrlConfig {
    uint32_t ratePerSecond = 200;  // NSD's default
    uint32_t slip = 2;             // 0 = never slip, 1 = always slip
    uint8_t ipv4Prefix = 24;
    uint8_t ipv6Prefix = 56;
    uint32_t tableSize = 1 << 16;  // buckets, a power of two
    // Loopback sources cannot be spoofed from outside (the kernel drops martians), so local
    // monitoring and a local resolver are never limited unless this is turned off.
    bool exemptLoopback = true;
};

class RateLimiter {
  public:
    enum class Verdict : uint8_t { Pass, Drop, Slip };

    explicit RateLimiter(RrlConfig config);
    bool enabled() const { return config_.ratePerSecond > 0; }
    Verdict check(const Client& client, uint64_t rrlKey, uint32_t nowSeconds) noexcept;

  private:
    RrlConfig config_;
    uint64_t mask_;
    // Each bucket: second (low 24 bits) << 40 | fingerprint (16 bits) << 24 | count (24 bits).
    std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
};

}  // namespace dnsd
