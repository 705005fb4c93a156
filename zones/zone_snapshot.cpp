#include "zones/zone_snapshot.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace zones {

std::optional<Name> rdataTarget(uint16_t type, std::span<const uint8_t> rdata) {
    size_t offset;
    switch (type) {
        case rrtype::NS:
        case rrtype::CNAME:
        case rrtype::PTR:
        case rrtype::DNAME:
            offset = 0;
            break;
        case rrtype::MX:
            offset = 2;
            break;
        case rrtype::SRV:
            offset = 6;
            break;
        default:
            return std::nullopt;
    }
    if (rdata.size() <= offset) return std::nullopt;
    auto rest = rdata.subspan(offset);
    size_t len = wireNameLength(rest);
    if (len == 0) return std::nullopt;
    return Name::fromWire(rest.first(len));
}

namespace {

std::runtime_error zoneError(const Name& apex, const std::string& what) {
    return std::runtime_error("zone " + apex.toText() + ": " + what);
}

uint32_t soaMinimum(const RData& soa) {
    // SOA RDATA: MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM; MINIMUM is the last 4 octets.
    const auto& b = soa.bytes;
    size_t n = b.size();
    return (uint32_t(b[n - 4]) << 24) | (uint32_t(b[n - 3]) << 16) | (uint32_t(b[n - 2]) << 8) |
           uint32_t(b[n - 1]);
}

// The answer path walks names inside these RDATA types (to compress them and to follow
// targets), so their shape is checked once here rather than on every query.
bool validRdataShape(uint16_t type, const std::vector<uint8_t>& b) {
    std::span<const uint8_t> s(b);
    switch (type) {
        case rrtype::NS:
        case rrtype::CNAME:
        case rrtype::PTR:
        case rrtype::DNAME:
            return wireNameLength(s) == b.size();
        case rrtype::MX:
            return b.size() > 2 && wireNameLength(s.subspan(2)) == b.size() - 2;
        case rrtype::SRV:
            return b.size() > 6 && wireNameLength(s.subspan(6)) == b.size() - 6;
        case rrtype::SOA: {
            size_t m = wireNameLength(s);
            if (m == 0) return false;
            size_t r = wireNameLength(s.subspan(m));
            return r != 0 && m + r + 20 == b.size();
        }
        default:
            return b.size() <= 65535;
    }
}

}  // namespace

std::shared_ptr<const ZoneSnapshot> ZoneSnapshot::build(const Name& apex,
                                                        std::vector<Record> records,
                                                        std::vector<PoolBinding> pools,
                                                        uint64_t generation) {
    for (const Record& r : records) {
        if (!r.owner.isSubdomainOf(apex))
            throw zoneError(apex, "record owner " + r.owner.toText() + " is outside the zone");
        if (r.rclass != rrclass::IN)
            throw zoneError(apex, "record " + r.owner.toText() + " is not class IN");
        if (r.type == rrtype::SOA && r.owner != apex)
            throw zoneError(apex, "SOA record at " + r.owner.toText() + " is not at the apex");
        if (!validRdataShape(r.type, r.rdata))
            throw zoneError(apex, "malformed RDATA for type " + std::to_string(r.type) + " at " +
                                      r.owner.toText());
        if (r.type == rrtype::OPT || r.type == 0)
            throw zoneError(apex, "record type " + std::to_string(r.type) + " cannot be served");
    }
    for (const PoolBinding& p : pools) {
        if (!p.owner.isSubdomainOf(apex))
            throw zoneError(apex, "pool owner " + p.owner.toText() + " is outside the zone");
    }

    // Group into RRsets: sort by owner, type, then RDATA so duplicates become neighbours.
    std::sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
        if (a.owner.key() != b.owner.key()) return a.owner.key() < b.owner.key();
        if (a.type != b.type) return a.type < b.type;
        return a.rdata < b.rdata;
    });

    auto z = std::shared_ptr<ZoneSnapshot>(new ZoneSnapshot());
    z->apex_ = apex;
    z->generation_ = generation;

    // Every owner and every ancestor down to the apex becomes a node.
    std::map<std::string, Name> names;  // key -> name, deduplicated
    auto addWithAncestors = [&](const Name& owner) {
        for (Name n = owner;; n = n.parent()) {
            if (!names.emplace(std::string(n.key()), n).second) break;
            if (n == apex) break;
        }
    };
    addWithAncestors(apex);
    for (const Record& r : records) addWithAncestors(r.owner);
    for (const PoolBinding& p : pools) addWithAncestors(p.owner);

    std::vector<Name> ordered;
    ordered.reserve(names.size());
    for (auto& [k, n] : names) ordered.push_back(n);
    // Parents before children (so cut links can be inherited in one pass), apex first.
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const Name& a, const Name& b) { return a.labelCount() < b.labelCount(); });

    z->nodes_.resize(ordered.size());
    for (size_t i = 0; i < ordered.size(); ++i) z->nodes_[i].name = ordered[i];
    z->index_.reserve(z->nodes_.size() * 2);
    for (size_t i = 0; i < z->nodes_.size(); ++i)
        z->index_.emplace(z->nodes_[i].name.key(), int32_t(i));

    // RRsets, contiguous per node.
    std::map<std::string_view, std::vector<RRset>> byOwner;
    for (size_t i = 0; i < records.size();) {
        size_t j = i;
        RRset set;
        set.type = records[i].type;
        while (j < records.size() && records[j].owner == records[i].owner &&
               records[j].type == records[i].type) {
            if (j == i || records[j].rdata != records[j - 1].rdata)
                set.rdatas.push_back(RData{records[j].ttl, std::move(records[j].rdata)});
            ++j;
        }
        z->recordCount_ += set.rdatas.size();
        byOwner[z->nodes_[size_t(z->find(records[i].owner.key()))].name.key()].push_back(
            std::move(set));
        i = j;
    }
    for (Node& n : z->nodes_) {
        auto it = byOwner.find(n.name.key());
        n.firstRRset = uint32_t(z->rrsets_.size());
        if (it != byOwner.end()) {
            n.rrsetCount = uint32_t(it->second.size());
            for (RRset& s : it->second) z->rrsets_.push_back(std::move(s));
        }
    }

    // Pools, contiguous per node.
    std::sort(pools.begin(), pools.end(), [](const PoolBinding& a, const PoolBinding& b) {
        if (a.owner.key() != b.owner.key()) return a.owner.key() < b.owner.key();
        return a.type < b.type;
    });
    for (size_t i = 0; i < pools.size(); ++i) {
        Node& n = z->nodes_[size_t(z->find(pools[i].owner.key()))];
        if (n.firstPool < 0) n.firstPool = int32_t(i);
        ++n.poolCount;
    }
    z->pools_ = std::move(pools);

    // Zone cuts, wildcards and additional-section targets.
    for (size_t i = 1; i < z->nodes_.size(); ++i) {
        Node& n = z->nodes_[i];
        const Node& parent = z->nodes_[size_t(z->find(n.name.parent().key()))];
        n.cut = parent.cut >= 0 ? parent.cut : (z->rrset(n, rrtype::NS) ? int32_t(i) : -1);
        if (n.name.isWildcard())
            z->nodes_[size_t(z->find(n.name.parent().key()))].wildcard = int32_t(i);
    }
    for (RRset& s : z->rrsets_) {
        if (s.type != rrtype::NS && s.type != rrtype::MX && s.type != rrtype::SRV) continue;
        for (const RData& rd : s.rdatas) {
            auto target = rdataTarget(s.type, rd.bytes);
            if (!target) continue;
            int32_t t = z->find(target->key());
            if (t >= 0 && std::find(s.targets.begin(), s.targets.end(), t) == s.targets.end())
                s.targets.push_back(t);
        }
    }

    const RRset* soa = z->rrset(z->nodes_[0], rrtype::SOA);
    if (!soa) throw zoneError(apex, "no SOA record at the apex");
    if (soa->rdatas.size() != 1) throw zoneError(apex, "more than one SOA record at the apex");
    z->negativeTtl_ = std::min(soa->rdatas[0].ttl, soaMinimum(soa->rdatas[0]));
    return z;
}

}  // namespace zones
