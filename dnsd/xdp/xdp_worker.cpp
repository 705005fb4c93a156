#include "dnsd/xdp/xdp_worker.hpp"

#include <poll.h>
#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "dnsd/xdp/udp_frame.hpp"

namespace dnsd {

XdpWorker::XdpWorker(std::unique_ptr<XskSocket> socket, uint16_t mtu, DatagramPath path,
                     ThreadStats& stats, const std::atomic<bool>& stop, std::string name)
    : socket_(std::move(socket)),
      mtu_(mtu),
      path_(std::move(path)),
      stats_(stats),
      stop_(stop),
      name_(std::move(name)) {}

void XdpWorker::run() {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    constexpr uint32_t kBatch = 64;
    DatagramPath& path = path_;
    XskSocket& xsk = *socket_;
    xdp_desc rx[kBatch];
    pollfd pfd{xsk.fd(), POLLIN, 0};
    // The kernel's drop counts cost a system call: read them once a second under load and
    // when a poll times out, never per batch.
    uint32_t statsSecond = 0;
    auto copyKernelStats = [&](uint32_t now) {
        statsSecond = now;
        const xdp_statistics k = xsk.kernelStats();
        stats_.xdpRingFull.store(k.rx_ring_full, std::memory_order_relaxed);
        stats_.xdpNoFrame.store(k.rx_fill_ring_empty_descs, std::memory_order_relaxed);
        // rx_dropped counts a missing frame too (net/xdp/xsk.c): "other" is what is left.
        const uint64_t other = k.rx_dropped > k.rx_fill_ring_empty_descs
                                   ? k.rx_dropped - k.rx_fill_ring_empty_descs
                                   : 0;
        stats_.xdpKernelDropped.store(other + k.rx_invalid_descs + k.tx_invalid_descs,
                                      std::memory_order_relaxed);
    };
    // Answers fit the interface's MTU (at least 1280, checked at start): nothing fragments
    // them on the way out.
    const size_t frameLimit = std::min<size_t>(XskSocket::kFrameSize, size_t(mtu_) + 14);
    while (!stop_.load(std::memory_order_relaxed)) {
        uint32_t n = xsk.receive(rx, kBatch);
        if (n == 0) {
            if (xsk.txPending()) xsk.kick();  // answers of the last batch still queued
            xsk.reclaim();
            // Wakes for new frames, or to notice `stop`.
            if (::poll(&pfd, 1, 200) == 0) copyKernelStats(uint32_t(::time(nullptr)));
            continue;
        }
        const ServedState& st = path.state();
        Client client;
        client.transport = Transport::Udp;
        client.now = uint32_t(::time(nullptr));  // once per batch (vDSO, no system call)
        if (client.now != statsSecond) copyKernelStats(client.now);
        for (uint32_t i = 0; i < n; ++i) {
            UdpFrame f;
            const uint8_t* data = xsk.frame(rx[i].addr);
            uint64_t txAddr = 0;
            if (!f.parse({data, rx[i].len})) {
                ThreadStats::bump(stats_.xdpDropped);
                continue;
            }
            if (!xsk.takeTxFrame(txAddr)) {
                ThreadStats::bump(stats_.xdpDropped);
                continue;
            }
            uint8_t* out = xsk.frame(txAddr);
            std::span<uint8_t> o(out + f.headerSize, frameLimit - f.headerSize);
            client.family = f.family;
            std::memcpy(client.addr, f.srcAddr, f.family == 4 ? 4 : 16);
            AnswerResult r = path.answer(st, f.payload, o, client);
            if (!path.finish(st, r, f.payload, o, client)) {
                xsk.returnTxFrame(txAddr);
                continue;
            }
            xsk.queueTx(txAddr, uint32_t(f.build(out, r.size)));
            ThreadStats::bump(stats_.xdpAnswers);
        }
        xsk.refill(rx, n);
        xsk.flushTx();
        xsk.reclaim();
    }
}

}  // namespace dnsd
