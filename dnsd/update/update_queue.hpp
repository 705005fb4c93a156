// dnsd::UpdateQueue — the update thread ("dnsd/update"): RFC 2136 UPDATEs off the I/O threads.
//
// Contract: the I/O threads never touch SQLite. A UDP worker or the TCP thread that meets an
// UPDATE (Action::Update) calls `submit` with the message and how to reply, and goes on; the
// update thread owns its own read-write connection, applies the messages one at a time in
// arrival order (UpdateProcessor) and hands each answer to the job's `reply`, on the update
// thread: a UDP job sends it from the worker's socket to the client, a TCP job passes it back
// to the TCP thread for the same connection. The queue holds at most `capacity` jobs; beyond
// that `submit` returns false and the caller answers SERVFAIL at once (counted). Counters are
// read by the metrics endpoint. `run` returns within 100 ms of `stop`, dropping jobs not
// started (a client retries).
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace dnsd {

struct UpdateStats {
    std::array<std::atomic<uint64_t>, 16> byRcode{};  // answers sent, by RCODE
    std::atomic<uint64_t> applied{0};                 // committed changes
    std::atomic<uint64_t> queueFull{0};               // answered SERVFAIL at submit: queue full
    std::atomic<uint64_t> dropped{0};                 // not answered (not a request, or stop)
    std::atomic<uint64_t> queued{0};                  // waiting right now (a gauge)
};

class UpdateQueue {
  public:
    struct Job {
        std::vector<uint8_t> message;
        std::string client;  // the sender's address, for events and logs
        std::function<void(std::span<const uint8_t>)> reply;
    };

    UpdateQueue(std::string dbPath, size_t capacity, const std::atomic<bool>& stop);
    // Called by the I/O threads; never blocks on the database. False: full, not queued.
    bool submit(Job job);
    void run();
    const UpdateStats& stats() const { return stats_; }
    UpdateStats& stats() { return stats_; }

  private:
    std::string dbPath_;
    size_t capacity_;
    const std::atomic<bool>& stop_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    UpdateStats stats_;
};

// The SERVFAIL an I/O thread sends when the queue is full: header only, echoing the ID.
// Returns its size (0 if the message is shorter than a header).
size_t updateServFail(std::span<const uint8_t> message, std::span<uint8_t> out) noexcept;

}  // namespace dnsd
