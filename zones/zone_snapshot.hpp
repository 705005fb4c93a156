// zones::ZoneSnapshot — one zone, immutable, laid out for answering without further work.
//
// Contract: built once from a zone's records by `ZoneSnapshot::build` (which validates what the
// answer path relies on and throws on anything else), never modified afterwards, and safe to
// read from any number of threads. Everything a query needs is computed here, at build time:
// every ancestor of every owner exists as a node (empty non-terminals included); each node
// knows the topmost zone cut at or above it and its wildcard child; NS/MX/SRV RRsets know the
// in-zone nodes of their targets (for additional-section addresses and referral glue).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "zones/name.hpp"
#include "zones/record.hpp"

namespace zones {

struct RData {
    uint32_t ttl = 0;
    std::vector<uint8_t> bytes;  // uncompressed wire RDATA
    friend bool operator==(const RData&, const RData&) = default;
};

struct RRset {
    uint16_t type = 0;
    std::vector<RData> rdatas;
    // Nodes (in the same zone) holding addresses for the names this RRset points at:
    // NS and MX and SRV targets. Empty for other types.
    std::vector<int32_t> targets;
};

struct Node {
    Name name;
    uint32_t firstRRset = 0;
    uint32_t rrsetCount = 0;
    // Topmost node at or above this one (but below the apex) that carries NS: a zone cut.
    int32_t cut = -1;
    // The node "*.<this name>" if it exists.
    int32_t wildcard = -1;
    // Pool bound here (see PoolBinding), -1 if none. At most one pool per owner and type,
    // and a CNAME pool excludes every other pool and record at its owner.
    int32_t firstPool = -1;
    uint32_t poolCount = 0;
};

// A failover pool answering for one owner and type. Which members are served lives in the
// PoolTable (dnsd), indexed by poolId, so a health change never rebuilds a zone.
struct PoolBinding {
    Name owner;
    uint16_t type = 0;
    int64_t poolId = 0;
};

class ZoneSnapshot {
  public:
    // Throws std::runtime_error naming the zone if the records break an invariant the answer
    // path depends on (no SOA at the apex, record outside the zone, ...).
    static std::shared_ptr<const ZoneSnapshot> build(const Name& apex, std::vector<Record> records,
                                                     std::vector<PoolBinding> pools,
                                                     uint64_t generation);

    const Name& apex() const { return apex_; }
    uint64_t generation() const { return generation_; }
    size_t recordCount() const { return recordCount_; }

    // The node with exactly this canonical wire name, or -1. `key` is Name::key() form.
    int32_t find(std::string_view key) const {
        auto it = index_.find(key);
        return it == index_.end() ? -1 : it->second;
    }
    std::span<const PoolBinding> pools(const Node& n) const {
        if (n.firstPool < 0) return {};
        return {pools_.data() + n.firstPool, n.poolCount};
    }
    const Node& node(int32_t i) const { return nodes_[size_t(i)]; }
    size_t nodeCount() const { return nodes_.size(); }
    int32_t apexNode() const { return 0; }
    std::span<const RRset> rrsets(const Node& n) const {
        return {rrsets_.data() + n.firstRRset, n.rrsetCount};
    }
    // The RRset of `type` at node `n`, or nullptr.
    const RRset* rrset(const Node& n, uint16_t type) const {
        for (const RRset& s : rrsets(n))
            if (s.type == type) return &s;
        return nullptr;
    }
    const RRset& soa() const { return *rrset(nodes_[0], rrtype::SOA); }
    // TTL for the SOA in negative answers: min(SOA TTL, SOA MINIMUM), RFC 2308 §5.
    uint32_t negativeTtl() const { return negativeTtl_; }

  private:
    ZoneSnapshot() = default;
    Name apex_;
    uint64_t generation_ = 0;
    size_t recordCount_ = 0;
    uint32_t negativeTtl_ = 0;
    std::vector<Node> nodes_;  // nodes_[0] is the apex
    std::vector<RRset> rrsets_;
    std::vector<PoolBinding> pools_;
    std::unordered_map<std::string_view, int32_t> index_;  // keys point into nodes_[i].name
};

// Reads the embedded target name of an NS/MX/SRV/CNAME/... rdata; nullopt if none or malformed.
std::optional<Name> rdataTarget(uint16_t type, std::span<const uint8_t> rdata);

}  // namespace zones
