// zones::Snapshot — every served zone at one moment, immutable.
//
// Contract: a Snapshot never changes after `make`; readers hold a shared_ptr and may use it
// for as long as they like while a newer one is published. Zones are shared between
// successive snapshots, so a change to one zone (or to pool definitions in it) rebuilds only
// that zone. `findZone` is allocation-free and is the only lookup the answer path needs to
// get from a query name to the zone that is authoritative for it.
#pragma once

#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "zones/zone_snapshot.hpp"

namespace zones {

class Snapshot {
  public:
    static std::shared_ptr<const Snapshot> make(
        std::vector<std::shared_ptr<const ZoneSnapshot>> zones, uint64_t generation);

    // The zone with the longest apex that `key` (canonical wire form) is at or below.
    const ZoneSnapshot* findZone(std::string_view key) const {
        for (size_t pos = 0;;) {
            auto it = index_.find(key.substr(pos));
            if (it != index_.end()) return zones_[it->second].get();
            uint8_t len = uint8_t(key[pos]);
            if (len == 0) return nullptr;
            pos += 1 + len;
            if (pos >= key.size()) return nullptr;
        }
    }
    const std::vector<std::shared_ptr<const ZoneSnapshot>>& zones() const { return zones_; }
    // Bumped by every publish; used in logs and metrics.
    uint64_t generation() const { return generation_; }

  private:
    Snapshot() = default;
    std::vector<std::shared_ptr<const ZoneSnapshot>> zones_;
    std::unordered_map<std::string_view, size_t> index_;  // apex key -> zones_ index
    uint64_t generation_ = 0;
};

}  // namespace zones
