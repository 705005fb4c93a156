#include "zones/snapshot.hpp"

#include <stdexcept>

namespace zones {

std::shared_ptr<const Snapshot> Snapshot::make(
    std::vector<std::shared_ptr<const ZoneSnapshot>> zones, uint64_t generation) {
    auto s = std::shared_ptr<Snapshot>(new Snapshot());
    s->zones_ = std::move(zones);
    s->generation_ = generation;
    for (size_t i = 0; i < s->zones_.size(); ++i) {
        // Keys point into the zone's apex Name, which lives as long as the zone does.
        if (!s->index_.emplace(s->zones_[i]->apex().key(), i).second)
            throw std::runtime_error("zone " + s->zones_[i]->apex().toText() + " appears twice");
    }
    return s;
}

}  // namespace zones
