// dnsd::XskSocket — one AF_XDP socket bound to one receive queue, with its own UMEM (frame
// memory) and its four rings (fill, receive, transmit, completion), set up with the kernel's
// AF_XDP interface directly (linux/if_xdp.h): nothing here needs more than a few system calls.
//
// Contract: the constructor throws std::runtime_error naming the interface and queue on any
// failure; every mapping and the fd are released by the destructor. Half of the frames start
// in the fill ring (for the kernel to receive into); the other half are free for transmits.
// Single-threaded: the worker thread of the queue owns it.
#pragma once

#include <linux/if_xdp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/fd.hpp"

namespace dnsd {

class XskSocket {
  public:
    static constexpr uint32_t kFrameSize =
        2048;  // the smallest the kernel takes; > any MTU 1500 frame
    static constexpr uint32_t kRingSize = 2048;  // per ring; frames = 2 × this

    XskSocket(const std::string& interface, unsigned ifindex, unsigned queue);
    ~XskSocket();
    XskSocket(const XskSocket&) = delete;
    XskSocket& operator=(const XskSocket&) = delete;

    int fd() const { return fd_.get(); }
    uint8_t* frame(uint64_t addr) { return umem_ + addr; }
    bool zeroCopy() const { return zeroCopy_; }

    // Received frames: up to `max` descriptors; release() hands them back to the fill ring.
    uint32_t receive(xdp_desc* out, uint32_t max);
    void refill(const xdp_desc* done, uint32_t n);
    // A free frame to transmit from (its address), or false when all are in flight.
    bool takeTxFrame(uint64_t& addr);
    void returnTxFrame(uint64_t addr) { freeTx_.push_back(addr); }
    void queueTx(uint64_t addr, uint32_t len);
    // Publishes queued transmits and wakes the kernel when it asks to be woken.
    void flushTx();
    // Queued transmits the kernel has not taken yet; kick() hands them over again.
    bool txPending() const;
    void kick();
    // The kernel's drop counters for this socket (all zero if it cannot say).
    xdp_statistics kernelStats() const;
    // Frames the kernel finished sending come back to the free list.
    void reclaim();

  private:
    struct Ring {
        uint32_t* producer = nullptr;
        uint32_t* consumer = nullptr;
        uint32_t* flags = nullptr;
        void* descs = nullptr;
        void* map = nullptr;
        size_t mapSize = 0;
        uint32_t cached = 0;  // our side's index, published with a release store
    };
    common::Fd fd_;
    uint8_t* umem_ = nullptr;
    size_t umemSize_ = 0;
    Ring fill_, comp_, rx_, tx_;
    std::vector<uint64_t> freeTx_;
    uint32_t txQueued_ = 0;
    bool zeroCopy_ = false;

    void open(const std::string& interface, unsigned ifindex, unsigned queue);
    void release();
    void mapRing(Ring& r, uint64_t offset, const xdp_ring_offset& off, size_t descSize,
                 const std::string& where);
};

}  // namespace dnsd
