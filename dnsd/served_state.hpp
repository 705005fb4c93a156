// dnsd::ServedState and StateHolder — what the I/O threads answer from, and how it is swapped.
//
// Contract: a ServedState (zone snapshot + pool table) is immutable. The control thread
// publishes a new one with `publish`; a worker's `Reader::get()` costs one atomic load when
// nothing changed and takes the lock only on the first query after a publish
// (pdns LocalStateHolder). Old states are released on the control thread by `reap()`, once
// no reader holds them, so a large snapshot is never freed on an I/O thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "dnsd/answer/pool_table.hpp"
#include "dnsd/xfr/xfr_acl.hpp"
#include "zones/journal.hpp"
#include "zones/snapshot.hpp"

namespace dnsd {

using Journals = std::map<std::string, std::vector<zones::JournalEntry>>;

struct ServedState {
    std::shared_ptr<const zones::Snapshot> zones;
    std::shared_ptr<const PoolTable> pools;
    std::shared_ptr<const XfrAcl> xfr;  // who may transfer what (never null once loaded)
    // Each zone's journal (by apex key), for IXFR; read with the zones, in one transaction.
    std::shared_ptr<const Journals> journals;
    uint64_t generation = 0;
    int64_t publishedAtMs = 0;
};

class StateHolder {
  public:
    void publish(std::shared_ptr<const ServedState> next) {
        std::lock_guard lock(mutex_);
        if (current_) retired_.push_back(current_);
        current_ = std::move(next);
        generation_.fetch_add(1, std::memory_order_release);
    }

    std::shared_ptr<const ServedState> current() const {
        std::lock_guard lock(mutex_);
        return current_;
    }

    // Drops retired states that only this holder still references. Control thread only.
    size_t reap() {
        std::lock_guard lock(mutex_);
        std::erase_if(retired_, [](const auto& s) { return s.use_count() == 1; });
        return retired_.size();
    }

    class Reader {
      public:
        explicit Reader(const StateHolder& h) : holder_(h) {}
        const ServedState& get() {
            uint64_t g = holder_.generation_.load(std::memory_order_acquire);
            if (g != seen_ || !local_) {
                local_ = holder_.current();
                seen_ = g;
            }
            return *local_;
        }
        // The state get() returned, owned: for work that outlives one query (a transfer).
        std::shared_ptr<const ServedState> shared() {
            get();
            return local_;
        }

      private:
        const StateHolder& holder_;
        std::shared_ptr<const ServedState> local_;
        uint64_t seen_ = ~uint64_t(0);
    };

  private:
    mutable std::mutex mutex_;
    std::shared_ptr<const ServedState> current_;
    std::vector<std::shared_ptr<const ServedState>> retired_;
    std::atomic<uint64_t> generation_{0};
};

}  // namespace dnsd
