// dnsd::siphash24 — SipHash-2-4 (Aumasson and Bernstein), the keyed hash RFC 9018 specifies
// for interoperable DNS server cookies. Written out here (about 40 lines) because the answer
// path must not allocate, and OpenSSL only offers SipHash through its allocating EVP_MAC API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dnsd {

inline uint64_t siphash24(const uint8_t key[16], const uint8_t* in, size_t len) {
    auto rotl = [](uint64_t x, int b) { return (x << b) | (x >> (64 - b)); };
    auto load = [](const uint8_t* p) {
        uint64_t v;
        std::memcpy(&v, p, 8);  // little-endian hosts only (x86-64, arm64)
        return v;
    };
    uint64_t k0 = load(key), k1 = load(key + 8);
    uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
    auto round = [&] {
        v0 += v1, v1 = rotl(v1, 13), v1 ^= v0, v0 = rotl(v0, 32);
        v2 += v3, v3 = rotl(v3, 16), v3 ^= v2;
        v0 += v3, v3 = rotl(v3, 21), v3 ^= v0;
        v2 += v1, v1 = rotl(v1, 17), v1 ^= v2, v2 = rotl(v2, 32);
    };
    size_t full = len & ~size_t(7);
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load(in + i);
        v3 ^= m;
        round(), round();
        v0 ^= m;
    }
    uint64_t last = uint64_t(len) << 56;
    for (size_t i = 0; i < (len & 7); ++i) last |= uint64_t(in[full + i]) << (8 * i);
    v3 ^= last;
    round(), round();
    v0 ^= last;
    v2 ^= 0xff;
    round(), round(), round(), round();
    return v0 ^ v1 ^ v2 ^ v3;
}

}  // namespace dnsd
