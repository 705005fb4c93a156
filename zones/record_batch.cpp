#include "zones/record_batch.hpp"

namespace zones {

RecordBatch::RecordBatch(const std::vector<Record>& records) {
    size_t bytes = 0;
    for (const Record& r : records) bytes += r.owner.wireSize() + r.rdata.size();
    reserve(records.size(), bytes);
    for (const Record& r : records) add(r.owner.key(), r.type, r.rclass, r.ttl, r.rdata);
}

bool RecordBatch::add(std::string_view owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                      std::span<const uint8_t> rdata) {
    if (rdata.size() > 65535 || owner.size() > Name::kMaxWire) return false;
    Entry e;
    e.ownerOffset = uint32_t(bytes_.size());
    e.ownerSize = uint8_t(owner.size());
    bytes_.insert(bytes_.end(), owner.begin(), owner.end());
    e.rdataOffset = uint32_t(bytes_.size());
    e.rdataSize = uint16_t(rdata.size());
    bytes_.insert(bytes_.end(), rdata.begin(), rdata.end());
    e.type = type;
    e.rclass = rclass;
    e.ttl = ttl;
    entries_.push_back(e);
    return true;
}

}  // namespace zones
