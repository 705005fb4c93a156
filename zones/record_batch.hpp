// zones::RecordBatch — many records packed into two flat arrays: the input of a snapshot build.
//
// Contract: append-only; owners are canonical wire names (Name::key() form), RDATA as in
// Record. A million-record zone costs about 24 bytes per record plus its name and RDATA bytes,
// with no allocation per record: a Record (a Name and a vector each) costs four times that
// and a heap allocation or two, which is what made loading a big zone slow and its peak memory
// high. Owners are not checked here: ZoneSnapshot::build validates everything.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "zones/record.hpp"

namespace zones {

class RecordBatch {
  public:
    struct Entry {
        uint32_t ownerOffset = 0;
        uint32_t rdataOffset = 0;
        uint32_t ttl = 0;
        uint16_t type = 0;
        uint16_t rclass = 0;
        uint16_t rdataSize = 0;
        uint8_t ownerSize = 0;
    };

    RecordBatch() = default;
    // Packs `records` (tests, small zones, the zone-file path).
    explicit RecordBatch(const std::vector<Record>& records);

    void reserve(size_t records, size_t bytes) {
        entries_.reserve(records);
        bytes_.reserve(bytes);
    }
    // `owner` is a canonical wire name; false (nothing added) if the RDATA is over 65535 octets.
    bool add(std::string_view owner, uint16_t type, uint16_t rclass, uint32_t ttl,
             std::span<const uint8_t> rdata);

    size_t size() const { return entries_.size(); }
    const Entry& entry(size_t i) const { return entries_[i]; }
    std::string_view owner(const Entry& e) const {
        return {reinterpret_cast<const char*>(bytes_.data()) + e.ownerOffset, e.ownerSize};
    }
    std::span<const uint8_t> rdata(const Entry& e) const {
        return {bytes_.data() + e.rdataOffset, e.rdataSize};
    }
    size_t memoryBytes() const { return entries_.capacity() * sizeof(Entry) + bytes_.capacity(); }

  private:
    std::vector<Entry> entries_;
    std::vector<uint8_t> bytes_;
};

}  // namespace zones
