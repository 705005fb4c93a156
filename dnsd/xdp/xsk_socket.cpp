#include "dnsd/xdp/xsk_socket.hpp"

#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef AF_XDP
#define AF_XDP 44
#endif

namespace dnsd {
namespace {

uint32_t loadAcquire(const uint32_t* p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
void storeRelease(uint32_t* p, uint32_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

}  // namespace

XskSocket::XskSocket(const std::string& interface, unsigned ifindex, unsigned queue) {
    try {
        open(interface, ifindex, queue);
    } catch (...) {
        release();
        throw;
    }
}

void XskSocket::open(const std::string& interface, unsigned ifindex, unsigned queue) {
    const std::string where = "--xdp " + interface + " queue " + std::to_string(queue) + ": ";
    auto fail = [&](const std::string& what) {
        int e = errno;
        return std::runtime_error(where + what + ": " + std::strerror(e));
    };
    fd_ = common::Fd(::socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0));
    if (!fd_.valid()) throw fail("cannot create an AF_XDP socket");
    umemSize_ = size_t(kFrameSize) * kRingSize * 2;
    void* m = ::mmap(nullptr, umemSize_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (m == MAP_FAILED) throw fail("cannot map the frame memory");
    umem_ = static_cast<uint8_t*>(m);
    xdp_umem_reg reg{};
    reg.addr = reinterpret_cast<uint64_t>(umem_);
    reg.len = umemSize_;
    reg.chunk_size = kFrameSize;
    reg.headroom = 0;
    if (::setsockopt(fd(), SOL_XDP, XDP_UMEM_REG, &reg, sizeof reg) != 0)
        throw fail("cannot register the frame memory");
    const uint32_t n = kRingSize;
    if (::setsockopt(fd(), SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof n) != 0 ||
        ::setsockopt(fd(), SOL_XDP, XDP_UMEM_COMPLETION_RING, &n, sizeof n) != 0 ||
        ::setsockopt(fd(), SOL_XDP, XDP_RX_RING, &n, sizeof n) != 0 ||
        ::setsockopt(fd(), SOL_XDP, XDP_TX_RING, &n, sizeof n) != 0)
        throw fail("cannot size the rings");
    xdp_mmap_offsets off{};
    socklen_t len = sizeof off;
    if (::getsockopt(fd(), SOL_XDP, XDP_MMAP_OFFSETS, &off, &len) != 0)
        throw fail("cannot read the ring offsets");
    mapRing(fill_, XDP_UMEM_PGOFF_FILL_RING, off.fr, sizeof(uint64_t), where);
    mapRing(comp_, XDP_UMEM_PGOFF_COMPLETION_RING, off.cr, sizeof(uint64_t), where);
    mapRing(rx_, XDP_PGOFF_RX_RING, off.rx, sizeof(xdp_desc), where);
    mapRing(tx_, XDP_PGOFF_TX_RING, off.tx, sizeof(xdp_desc), where);
    // Our indexes start where the kernel's do (zero on a fresh socket).
    fill_.cached = *fill_.producer;
    comp_.cached = *comp_.consumer;
    rx_.cached = *rx_.consumer;
    tx_.cached = *tx_.producer;

    auto* fillDescs = static_cast<uint64_t*>(fill_.descs);
    for (uint32_t i = 0; i < n; ++i)
        fillDescs[(fill_.cached + i) & (n - 1)] = uint64_t(i) * kFrameSize;
    fill_.cached += n;
    storeRelease(fill_.producer, fill_.cached);
    freeTx_.reserve(n);
    for (uint32_t i = n; i < 2 * n; ++i) freeTx_.push_back(uint64_t(i) * kFrameSize);

    sockaddr_xdp sa{};
    sa.sxdp_family = AF_XDP;
    sa.sxdp_ifindex = ifindex;
    sa.sxdp_queue_id = queue;
    // Zero copy where the driver has it, copy mode otherwise (veth, most virtual NICs).
    sa.sxdp_flags = XDP_USE_NEED_WAKEUP | XDP_ZEROCOPY;
    if (::bind(fd(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
        zeroCopy_ = true;
    } else {
        sa.sxdp_flags = XDP_USE_NEED_WAKEUP | XDP_COPY;
        if (::bind(fd(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
            throw fail("cannot bind the AF_XDP socket");
    }
}

void XskSocket::mapRing(Ring& r, uint64_t offset, const xdp_ring_offset& off, size_t descSize,
                        const std::string& where) {
    r.mapSize = off.desc + kRingSize * descSize;
    void* m = ::mmap(nullptr, r.mapSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd(),
                     off_t(offset));
    if (m == MAP_FAILED) {
        int e = errno;
        throw std::runtime_error(where + "cannot map a ring: " + std::strerror(e));
    }
    r.map = m;
    auto* base = static_cast<uint8_t*>(m);
    r.producer = reinterpret_cast<uint32_t*>(base + off.producer);
    r.consumer = reinterpret_cast<uint32_t*>(base + off.consumer);
    r.flags = reinterpret_cast<uint32_t*>(base + off.flags);
    r.descs = base + off.desc;
}

XskSocket::~XskSocket() {
    release();
}

void XskSocket::release() {
    for (Ring* r : {&fill_, &comp_, &rx_, &tx_})
        if (r->map) ::munmap(r->map, r->mapSize);
    fd_ = common::Fd();  // unbind before the frame memory goes
    if (umem_) ::munmap(umem_, umemSize_);
    umem_ = nullptr;
    for (Ring* r : {&fill_, &comp_, &rx_, &tx_}) r->map = nullptr;
}

uint32_t XskSocket::receive(xdp_desc* out, uint32_t max) {
    uint32_t avail = loadAcquire(rx_.producer) - rx_.cached;
    if (avail > max) avail = max;
    const auto* descs = static_cast<const xdp_desc*>(rx_.descs);
    for (uint32_t i = 0; i < avail; ++i) out[i] = descs[(rx_.cached + i) & (kRingSize - 1)];
    rx_.cached += avail;
    storeRelease(rx_.consumer, rx_.cached);
    return avail;
}

void XskSocket::refill(const xdp_desc* done, uint32_t n) {
    // The fill ring has room for every frame we took from rx: frames only circulate.
    auto* descs = static_cast<uint64_t*>(fill_.descs);
    for (uint32_t i = 0; i < n; ++i)
        descs[(fill_.cached + i) & (kRingSize - 1)] = done[i].addr & ~uint64_t(kFrameSize - 1);
    fill_.cached += n;
    storeRelease(fill_.producer, fill_.cached);
}

bool XskSocket::takeTxFrame(uint64_t& addr) {
    if (freeTx_.empty()) reclaim();
    if (freeTx_.empty()) return false;
    addr = freeTx_.back();
    freeTx_.pop_back();
    return true;
}

void XskSocket::queueTx(uint64_t addr, uint32_t len) {
    auto* descs = static_cast<xdp_desc*>(tx_.descs);
    xdp_desc& d = descs[(tx_.cached + txQueued_) & (kRingSize - 1)];
    d.addr = addr;
    d.len = len;
    d.options = 0;
    ++txQueued_;
}

void XskSocket::flushTx() {
    if (txQueued_ == 0) return;
    tx_.cached += txQueued_;
    txQueued_ = 0;
    storeRelease(tx_.producer, tx_.cached);
    kick();
}

bool XskSocket::txPending() const {
    return loadAcquire(tx_.consumer) != tx_.cached;
}

void XskSocket::kick() {
    // Copy mode always needs the kick; zero-copy drivers say through the flag. In copy mode
    // one call sends at most 32 frames and answers EAGAIN while more wait: go on until the
    // ring is empty (bounded: a stuck device must not stall the worker).
    if (zeroCopy_ && !(__atomic_load_n(tx_.flags, __ATOMIC_RELAXED) & XDP_RING_NEED_WAKEUP)) return;
    for (int i = 0; i < 64 && txPending(); ++i)
        if (::sendto(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) != 0 && errno != EAGAIN &&
            errno != EBUSY && errno != ENOBUFS)
            return;
}

xdp_statistics XskSocket::kernelStats() const {
    xdp_statistics st{};
    socklen_t len = sizeof st;
    if (::getsockopt(fd(), SOL_XDP, XDP_STATISTICS, &st, &len) != 0) st = xdp_statistics{};
    return st;
}

void XskSocket::reclaim() {
    uint32_t avail = loadAcquire(comp_.producer) - comp_.cached;
    const auto* descs = static_cast<const uint64_t*>(comp_.descs);
    for (uint32_t i = 0; i < avail; ++i)
        freeTx_.push_back(descs[(comp_.cached + i) & (kRingSize - 1)]);
    comp_.cached += avail;
    storeRelease(comp_.consumer, comp_.cached);
}

}  // namespace dnsd
