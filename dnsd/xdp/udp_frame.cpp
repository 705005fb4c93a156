#include "dnsd/xdp/udp_frame.hpp"

#include <cstring>

namespace dnsd {
namespace {

constexpr size_t kEth = 14, kIp4 = 20, kIp6 = 40, kUdp = 8;

uint16_t get16(const uint8_t* p) {
    return uint16_t(p[0] << 8 | p[1]);
}
void put16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}

// RFC 1071 one's-complement sum of big-endian 16-bit words.
uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc) {
    for (; n >= 2; p += 2, n -= 2) acc += get16(p);
    if (n) acc += uint32_t(p[0]) << 8;
    return acc;
}
uint16_t fold(uint32_t acc) {
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return uint16_t(~acc);
}

}  // namespace

bool UdpFrame::parse(std::span<const uint8_t> f) {
    if (f.size() < kEth + kIp4 + kUdp) return false;
    std::memcpy(dstMac, f.data(), 6);
    std::memcpy(srcMac, f.data() + 6, 6);
    const uint16_t ethType = get16(f.data() + 12);
    const uint8_t* ip = f.data() + kEth;
    size_t ipLen = 0;
    if (ethType == 0x0800) {
        if (ip[0] != 0x45 || ip[9] != 17) return false;
        family = 4;
        std::memcpy(srcAddr, ip + 12, 4);
        std::memcpy(dstAddr, ip + 16, 4);
        const size_t total = get16(ip + 2);
        if (total < kIp4 + kUdp || kEth + total > f.size()) return false;
        ipLen = total;  // the frame may carry Ethernet padding beyond it
        headerSize = kEth + kIp4 + kUdp;
    } else if (ethType == 0x86DD) {
        if (f.size() < kEth + kIp6 + kUdp || (ip[0] >> 4) != 6 || ip[6] != 17) return false;
        family = 6;
        std::memcpy(srcAddr, ip + 8, 16);
        std::memcpy(dstAddr, ip + 24, 16);
        const size_t payloadLen = get16(ip + 4);
        if (kEth + kIp6 + payloadLen > f.size()) return false;
        ipLen = kIp6 + payloadLen;
        headerSize = kEth + kIp6 + kUdp;
    } else {
        return false;
    }
    const uint8_t* udp = f.data() + headerSize - kUdp;
    std::memcpy(&srcPort, udp, 2);
    std::memcpy(&dstPort, udp + 2, 2);
    const size_t udpLen = get16(udp + 4);
    const size_t ipHeader = headerSize - kEth - kUdp;
    if (udpLen < kUdp || ipHeader + udpLen > ipLen) return false;
    payload = f.subspan(headerSize, udpLen - kUdp);
    return true;
}

size_t UdpFrame::build(uint8_t* out, size_t payloadSize) const {
    std::memcpy(out, srcMac, 6);
    std::memcpy(out + 6, dstMac, 6);
    uint8_t* ip = out + kEth;
    uint8_t* udp = out + headerSize - kUdp;
    const size_t udpLen = kUdp + payloadSize;
    uint32_t pseudo = 0;
    if (family == 4) {
        put16(out + 12, 0x0800);
        ip[0] = 0x45;
        ip[1] = 0;
        put16(ip + 2, uint16_t(kIp4 + udpLen));
        put16(ip + 4, 0);       // ID: unused with DF (RFC 6864)
        put16(ip + 6, 0x4000);  // DF, as the socket path sends (RFC 9715 §3.1)
        ip[8] = hopLimit;
        ip[9] = 17;
        put16(ip + 10, 0);
        std::memcpy(ip + 12, dstAddr, 4);
        std::memcpy(ip + 16, srcAddr, 4);
        put16(ip + 10, fold(sum16(ip, kIp4, 0)));
        pseudo = sum16(ip + 12, 8, 17 + uint32_t(udpLen));
    } else {
        put16(out + 12, 0x86DD);
        ip[0] = 0x60;
        ip[1] = ip[2] = ip[3] = 0;
        put16(ip + 4, uint16_t(udpLen));
        ip[6] = 17;
        ip[7] = hopLimit;
        std::memcpy(ip + 8, dstAddr, 16);
        std::memcpy(ip + 24, srcAddr, 16);
        pseudo = sum16(ip + 8, 32, 17 + uint32_t(udpLen));
    }
    std::memcpy(udp, &dstPort, 2);
    std::memcpy(udp + 2, &srcPort, 2);
    put16(udp + 4, uint16_t(udpLen));
    put16(udp + 6, 0);
    uint16_t sum = fold(sum16(udp, udpLen, pseudo));
    put16(udp + 6, sum ? sum : 0xffff);  // 0 means "no checksum" (RFC 768)
    return headerSize + payloadSize;
}

}  // namespace dnsd
