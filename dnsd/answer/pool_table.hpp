// dnsd::PoolTable — what every failover pool serves right now.
//
// Contract: immutable once built; indexed by pool id with a flat vector, so the answer path
// does one bounds check and one load per pool name (no map, no lock). Rebuilt by the control
// thread when a pool decision changes and swapped in beside the zone snapshot, so a health
// change never rebuilds a zone.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "zones/zone_snapshot.hpp"

namespace dnsd {

// A monotonic counter bumped by every I/O thread. Each thread adds into its own cache line,
// so pool answers on several workers never bounce one shared line between cores (a single
// shared atomic cost several % of CPU per pool answer with two workers); readers sum the
// slots. More threads than slots share slots, which fetch_add keeps exact.
class PoolCounter {
  public:
    static constexpr size_t kSlots = 8;
    void add() noexcept { slots_[threadSlot()].n.fetch_add(1, std::memory_order_relaxed); }
    uint64_t total() const noexcept {
        uint64_t sum = 0;
        for (const Slot& s : slots_) sum += s.n.load(std::memory_order_relaxed);
        return sum;
    }

  private:
    struct alignas(64) Slot {
        std::atomic<uint64_t> n{0};
    };
    static size_t threadSlot() noexcept {
        static std::atomic<size_t> next{0};
        thread_local const size_t slot = next.fetch_add(1, std::memory_order_relaxed) % kSlots;
        return slot;
    }
    Slot slots_[kSlots];
};

// One served record: wire RDATA plus its TTL.
struct PoolRecord {
    uint32_t ttl = 0;
    std::vector<uint8_t> bytes;
    PoolCounter* served = nullptr;  // counts answers that included this member
    std::string text;               // the member as written, for metrics
    friend bool operator==(const PoolRecord&, const PoolRecord&) = default;
};

struct PoolAnswer {
    bool present = false;
    uint16_t type = 0;
    uint32_t ttl = 30;
    uint32_t maxAnswers = 0;         // 0 = all
    std::vector<PoolRecord> rdatas;  // empty = answer NODATA
    PoolCounter* answers = nullptr;  // counts answers from this pool
    // Signed zones: the RRSIG RDATAs of what is served, made when the table is built (never
    // per query). rrsigs[0] covers the whole set; when maxAnswers serves a rotating window of
    // the members, rrsigs[i] covers the window that starts at member i. Empty when unsigned.
    std::vector<std::vector<std::vector<uint8_t>>> rrsigs;
    std::vector<std::vector<uint8_t>> axfrRrsigs;  // the whole set's (what a transfer carries)
    // For an empty (NODATA) answer in a signed zone: the owner's NSEC without the pool's
    // type, and its signatures, so the denial matches what is served.
    std::vector<uint8_t> emptyNsec;
    std::vector<std::vector<uint8_t>> emptyNsecSigs;
    std::string signedWith;  // the signer fingerprint the signatures were made with
};

class PoolTable {
  public:
    const PoolAnswer* find(int64_t poolId) const {
        if (poolId < 0 || size_t(poolId) >= byId_.size() || !byId_[size_t(poolId)].present)
            return nullptr;
        return &byId_[size_t(poolId)];
    }
    void set(int64_t poolId, PoolAnswer a) {
        if (size_t(poolId) >= byId_.size()) byId_.resize(size_t(poolId) + 1);
        a.present = true;
        byId_[size_t(poolId)] = std::move(a);
    }
    size_t size() const { return byId_.size(); }
    bool operator==(const PoolTable& o) const;

  private:
    std::vector<PoolAnswer> byId_;
};

inline bool operator==(const PoolAnswer& a, const PoolAnswer& b) {
    return a.present == b.present && a.type == b.type && a.ttl == b.ttl &&
           a.maxAnswers == b.maxAnswers && a.rdatas == b.rdatas && a.answers == b.answers &&
           a.signedWith == b.signedWith && a.rrsigs == b.rrsigs && a.emptyNsec == b.emptyNsec;
}
inline bool PoolTable::operator==(const PoolTable& o) const {
    return byId_ == o.byId_;
}

}  // namespace dnsd
