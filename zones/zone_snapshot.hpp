// zones::ZoneSnapshot — one zone, immutable, laid out for answering without further work.
//
// Contract: built once from a zone's records by `ZoneSnapshot::build` (which validates what the
// answer path relies on and throws on anything else), never modified afterwards, and safe to
// read from any number of threads. Everything a query needs is computed here, at build time:
// every ancestor of every owner exists as a node (empty non-terminals included); each node
// knows the topmost zone cut at or above it and its wildcard child; NS/MX/SRV RRsets know the
// in-zone nodes of their targets (for additional-section addresses and referral glue).
//
// Layout: flat arrays of small fixed-size structs that refer into two byte arenas (names,
// RDATA), and an open-addressing name index. No per-record heap allocation, so a
// million-record zone costs tens of bytes per record and builds in about a second.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zones/name.hpp"
#include "zones/record.hpp"
#include "zones/record_batch.hpp"

namespace zones {

struct RData {
    uint32_t ttl = 0;
    uint32_t offset = 0;  // into the zone's RDATA arena
    uint16_t size = 0;
};

struct RRset {
    uint16_t type = 0;
    uint32_t firstRdata = 0;
    uint32_t rdataCount = 0;
    // Nodes (in the same zone) holding addresses for the names this RRset points at:
    // NS and MX and SRV targets. None for other types.
    uint32_t firstTarget = 0;
    uint32_t targetCount = 0;
};

struct Node {
    uint32_t nameOffset = 0;  // lower-case wire name in the names arena
    uint8_t nameSize = 0;
    // Set when a patch deleted the node's last record: it left the name index and only its
    // slot in the arrays remains (node numbers stay stable across patches).
    bool removed = false;
    uint32_t firstRRset = 0;
    uint32_t rrsetCount = 0;
    // Topmost node at or above this one (but below the apex) that carries NS: a zone cut.
    int32_t cut = -1;
    // The node "*.<this name>" if it exists.
    int32_t wildcard = -1;
    // Pools bound here (see PoolBinding), -1 if none. At most one pool per owner and type.
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
    // path depends on (no SOA at the apex, record outside the zone, malformed RDATA, ...).
    static std::shared_ptr<const ZoneSnapshot> build(const Name& apex, const RecordBatch& records,
                                                     std::vector<PoolBinding> pools,
                                                     uint64_t generation);
    static std::shared_ptr<const ZoneSnapshot> build(const Name& apex,
                                                     const std::vector<Record>& records,
                                                     std::vector<PoolBinding> pools,
                                                     uint64_t generation);
    // A signed zone (zones::ZoneSigner): `signedWith` is the signer's fingerprint, and the
    // NSEC owners are indexed in canonical order for denial-of-existence lookups.
    static std::shared_ptr<const ZoneSnapshot> build(const Name& apex, const RecordBatch& records,
                                                     std::vector<PoolBinding> pools,
                                                     uint64_t generation, std::string signedWith,
                                                     int64_t signaturesExpire);

    // The snapshot `build` would make of the zone after a change that touched only the owners
    // `owners` (canonical wire keys), where `records` holds every record now at those owners.
    // Costs a copy of the arrays plus work in proportion to the change, not a rebuild: this
    // is how one record changed in a million-record zone is served within a second. Returns
    // nullptr when a patch cannot express the change (an NS RRset added, removed or pointed
    // elsewhere: zone cuts move; or too much dead space from earlier patches): build then.
    // Throws like `build` on records it could not serve.
    // A signed base is patched only by ZoneSigner::patch (`bySigner`), which has checked that
    // the NSEC chain and every type bitmap stay as they are.
    static std::shared_ptr<const ZoneSnapshot> patch(const ZoneSnapshot& base,
                                                     const std::vector<std::string>& owners,
                                                     const RecordBatch& records,
                                                     uint64_t generation, bool bySigner = false);

    const Name& apex() const { return apex_; }
    uint64_t generation() const { return generation_; }
    size_t recordCount() const { return rdatas_.size() - garbage_; }
    // Bytes held by this snapshot's arrays, for logs and benchmarks.
    size_t memoryBytes() const;

    // The node with exactly this canonical wire name (Name::key() form), or -1.
    int32_t find(std::string_view key) const;
    const Node& node(int32_t i) const { return nodes_[size_t(i)]; }
    size_t nodeCount() const { return nodes_.size(); }
    int32_t apexNode() const { return 0; }
    // Lower-case uncompressed wire name of a node.
    const uint8_t* name(const Node& n) const { return names_.data() + n.nameOffset; }
    std::string_view key(const Node& n) const {
        return {reinterpret_cast<const char*>(name(n)), n.nameSize};
    }

    std::span<const RRset> rrsets(const Node& n) const {
        return {rrsets_.data() + n.firstRRset, n.rrsetCount};
    }
    // The RRset of `type` at node `n`, or nullptr.
    const RRset* rrset(const Node& n, uint16_t type) const {
        for (const RRset& s : rrsets(n))
            if (s.type == type) return &s;
        return nullptr;
    }
    std::span<const RData> rdatas(const RRset& s) const {
        return {rdatas_.data() + s.firstRdata, s.rdataCount};
    }
    std::span<const uint8_t> bytes(const RData& r) const {
        return {rdataBytes_.data() + r.offset, r.size};
    }
    std::span<const int32_t> targets(const RRset& s) const {
        return {targets_.data() + s.firstTarget, s.targetCount};
    }
    std::span<const PoolBinding> pools(const Node& n) const {
        if (n.firstPool < 0) return {};
        return {pools_.data() + n.firstPool, n.poolCount};
    }

    const RRset& soa() const { return *rrset(nodes_[0], rrtype::SOA); }
    // The SOA's serial (build validated the SOA RDATA).
    uint32_t serial() const {
        auto rd = bytes(rdatas(soa())[0]);
        size_t m = wireNameLength(rd);
        const uint8_t* p = rd.data() + m + wireNameLength(rd.subspan(m));
        return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
    }
    // TTL for the SOA in negative answers: min(SOA TTL, SOA MINIMUM), RFC 2308 §5.
    uint32_t negativeTtl() const { return negativeTtl_; }

    // DNSSEC. Empty / false for an unsigned zone.
    const std::string& signedWith() const { return signedWith_; }
    // Unix seconds when the first of its signatures expires (0 when unsigned).
    int64_t signaturesExpire() const { return signaturesExpire_; }
    bool isSigned() const { return !nsecOrder_.empty(); }
    // The node whose NSEC covers `key` (a canonical wire name at or below the apex that has
    // no NSEC of its own): the last NSEC owner before it in canonical order.
    int32_t nsecCovering(std::string_view key) const;

  private:
    ZoneSnapshot() = default;
    ZoneSnapshot(const ZoneSnapshot&) = default;
    // Throws on the first record the answer path could not serve; sums sizes for reserving.
    static void checkRecords(const Name& apex, const RecordBatch& records, size_t& rdataTotal,
                             size_t& ownerTotal);
    int32_t insertIndex(std::string_view key, int32_t node);
    void eraseIndex(int32_t node);
    int32_t addNode(std::string_view key);
    // The node of `key`, created with every missing ancestor if need be.
    int32_t addWithAncestors(std::string_view key);
    // Appends the RRsets of the records `group` (indexes into `records`) as `node`'s RRsets.
    void appendRRsets(Node& node, const RecordBatch& records, std::span<uint32_t> group);
    // Appends the additional-section target nodes of `set` (NS, MX, SRV).
    void appendTargets(RRset& set);
    void finishSoa();
    // Takes the emptied nodes (and their ancestors left without data) out of the name index
    // unless data remains below them; true if any node went.
    bool removeEmpty(const std::vector<int32_t>& emptied);

    Name apex_;
    uint64_t generation_ = 0;
    uint32_t negativeTtl_ = 0;
    std::vector<Node> nodes_;  // nodes_[0] is the apex
    std::vector<uint8_t> names_;
    std::vector<RRset> rrsets_;
    std::vector<RData> rdatas_;
    std::vector<uint8_t> rdataBytes_;
    std::vector<int32_t> targets_;
    std::vector<PoolBinding> pools_;
    std::vector<int32_t> index_;  // open addressing, power-of-two size, -1 = empty
    size_t garbage_ = 0;          // RData entries patches left unreferenced
    std::string signedWith_;
    int64_t signaturesExpire_ = 0;
    std::vector<int32_t> nsecOrder_;  // nodes with an NSEC RRset, canonical order
};

// Reads the embedded target name of an NS/MX/SRV/CNAME/... rdata; nullopt if none or malformed.
std::optional<Name> rdataTarget(uint16_t type, std::span<const uint8_t> rdata);

// 64-bit FNV-1a over a canonical wire name: the name index's hash.
inline uint64_t nameHash(std::string_view key) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : key) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

inline int32_t ZoneSnapshot::find(std::string_view key) const {
    size_t mask = index_.size() - 1;
    for (size_t i = nameHash(key) & mask;; i = (i + 1) & mask) {
        int32_t n = index_[i];
        if (n < 0) return -1;
        if (this->key(nodes_[size_t(n)]) == key) return n;
    }
}

}  // namespace zones
