// dnsd::UdpFrame — the Ethernet, IP and UDP headers of a query frame from the XDP program,
// and the answer frame built from them (addresses and ports swapped, lengths and checksums
// new). The DNS message itself is the engine's business.
//
// Contract: parse() accepts what xdp_dns.bpf.c redirects (IPv4 without options or fragments,
// IPv6 with UDP as the next header) and checks every length against the frame; false means
// drop. build() writes the headers in front of `payload` bytes already at
// out + headerSize(); it reads only the parsed query, never the query frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dnsd {

struct UdpFrame {
    uint8_t srcMac[6], dstMac[6];
    uint8_t family = 0;  // 4 or 6
    uint8_t srcAddr[16], dstAddr[16];
    uint16_t srcPort = 0, dstPort = 0;  // network order
    uint8_t hopLimit = 64;
    size_t headerSize = 0;  // Ethernet + IP + UDP
    std::span<const uint8_t> payload;

    bool parse(std::span<const uint8_t> frame);
    // The answer's frame size (headers + payload).
    size_t build(uint8_t* out, size_t payloadSize) const;
};

}  // namespace dnsd
