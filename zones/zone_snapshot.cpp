#include "zones/zone_snapshot.hpp"

#include <algorithm>
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

uint32_t soaMinimum(std::span<const uint8_t> b) {
    // SOA RDATA: MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM; MINIMUM is the last 4 octets.
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

size_t ZoneSnapshot::memoryBytes() const {
    return nodes_.capacity() * sizeof(Node) + names_.capacity() +
           rrsets_.capacity() * sizeof(RRset) + rdatas_.capacity() * sizeof(RData) +
           rdataBytes_.capacity() + targets_.capacity() * sizeof(int32_t) +
           index_.capacity() * sizeof(int32_t) + pools_.capacity() * sizeof(PoolBinding);
}

int32_t ZoneSnapshot::insertIndex(std::string_view key, int32_t node) {
    if (index_.empty() || nodes_.size() * 2 > index_.size()) {
        // Keep the table at most half full so probes stay short; rehash everything.
        std::vector<int32_t> old(std::max<size_t>(16, index_.size() * 2), -1);
        old.swap(index_);
        size_t mask = index_.size() - 1;
        for (int32_t n : old) {
            if (n < 0) continue;
            size_t i = nameHash(this->key(nodes_[size_t(n)])) & mask;
            while (index_[i] >= 0) i = (i + 1) & mask;
            index_[i] = n;
        }
    }
    size_t mask = index_.size() - 1;
    size_t i = nameHash(key) & mask;
    while (index_[i] >= 0) i = (i + 1) & mask;
    index_[i] = node;
    return node;
}

std::shared_ptr<const ZoneSnapshot> ZoneSnapshot::build(const Name& apex,
                                                        std::vector<Record> records,
                                                        std::vector<PoolBinding> pools,
                                                        uint64_t generation) {
    size_t rdataTotal = 0;
    for (const Record& r : records) {
        if (!r.owner.isSubdomainOf(apex))
            throw zoneError(apex, "record owner " + r.owner.toText() + " is outside the zone");
        if (r.rclass != rrclass::IN)
            throw zoneError(apex, "record " + r.owner.toText() + " is not class IN");
        if (r.type == rrtype::SOA && r.owner != apex)
            throw zoneError(apex, "SOA record at " + r.owner.toText() + " is not at the apex");
        if (r.type == rrtype::OPT || r.type == 0)
            throw zoneError(apex, "record type " + std::to_string(r.type) + " cannot be served");
        if (!validRdataShape(r.type, r.rdata))
            throw zoneError(apex, "malformed RDATA for type " + std::to_string(r.type) + " at " +
                                      r.owner.toText());
        rdataTotal += r.rdata.size();
    }
    for (const PoolBinding& p : pools) {
        if (!p.owner.isSubdomainOf(apex))
            throw zoneError(apex, "pool owner " + p.owner.toText() + " is outside the zone");
    }

    auto z = std::shared_ptr<ZoneSnapshot>(new ZoneSnapshot());
    z->apex_ = apex;
    z->generation_ = generation;

    // Nodes: every owner and every ancestor down to the apex, the apex first.
    auto addNode = [&](std::string_view key) {
        Node n;
        n.nameOffset = uint32_t(z->names_.size());
        n.nameSize = uint8_t(key.size());
        z->names_.insert(z->names_.end(), key.begin(), key.end());
        z->nodes_.push_back(n);
        return z->insertIndex(key, int32_t(z->nodes_.size() - 1));
    };
    // Returns the node of `key` itself.
    auto addWithAncestors = [&](std::string_view key) {
        int32_t self = z->find(key);
        if (self >= 0) return self;
        self = addNode(key);
        for (key = key.substr(1 + uint8_t(key[0])); z->find(key) < 0;
             key = key.substr(1 + uint8_t(key[0])))
            addNode(key);  // never passes the apex: it exists already
        return self;
    };
    z->nodes_.reserve(records.size() / 2 + 16);
    z->names_.reserve(records.size() * 8 + 256);
    addNode(apex.key());
    std::vector<int32_t> recordNode(records.size());
    for (size_t i = 0; i < records.size(); ++i)
        recordNode[i] = addWithAncestors(records[i].owner.key());
    for (const PoolBinding& p : pools) addWithAncestors(p.owner.key());

    // Group records by node with a counting sort (linear, unlike sorting a million names),
    // then order each small group by type and RDATA so RRsets are runs and duplicates neighbours.
    std::vector<uint32_t> start(z->nodes_.size() + 1, 0);
    for (int32_t n : recordNode) ++start[size_t(n) + 1];
    for (size_t i = 1; i < start.size(); ++i) start[i] += start[i - 1];
    std::vector<uint32_t> order(records.size());
    {
        std::vector<uint32_t> fill(start.begin(), start.end() - 1);
        for (uint32_t i = 0; i < records.size(); ++i) order[fill[size_t(recordNode[i])]++] = i;
    }
    recordNode.clear();
    recordNode.shrink_to_fit();

    z->rdatas_.reserve(records.size());
    z->rdataBytes_.reserve(rdataTotal);
    for (size_t n = 0; n < z->nodes_.size(); ++n) {
        Node& node = z->nodes_[n];
        auto first = order.begin() + start[n], last = order.begin() + start[n + 1];
        if (first == last) continue;
        std::sort(first, last, [&](uint32_t x, uint32_t y) {
            if (records[x].type != records[y].type) return records[x].type < records[y].type;
            return records[x].rdata < records[y].rdata;
        });
        node.firstRRset = uint32_t(z->rrsets_.size());
        for (auto i = first; i != last;) {
            RRset set;
            set.type = records[*i].type;
            set.firstRdata = uint32_t(z->rdatas_.size());
            auto j = i;
            for (; j != last && records[*j].type == set.type; ++j) {
                const Record& r = records[*j];
                if (j != i && r.rdata == records[*(j - 1)].rdata) continue;  // RFC 2181 §5
                RData rd;
                rd.ttl = r.ttl;
                rd.offset = uint32_t(z->rdataBytes_.size());
                rd.size = uint16_t(r.rdata.size());
                z->rdataBytes_.insert(z->rdataBytes_.end(), r.rdata.begin(), r.rdata.end());
                z->rdatas_.push_back(rd);
            }
            set.rdataCount = uint32_t(z->rdatas_.size()) - set.firstRdata;
            z->rrsets_.push_back(set);
            ++node.rrsetCount;
            i = j;
        }
    }

    // Pools, contiguous per node.
    std::sort(pools.begin(), pools.end(), [](const PoolBinding& a, const PoolBinding& b) {
        if (a.owner.key() != b.owner.key()) return a.owner.key() < b.owner.key();
        return a.type < b.type;
    });
    for (size_t i = 0; i < pools.size(); ++i) {
        if (i > 0 && pools[i].owner == pools[i - 1].owner && pools[i].type == pools[i - 1].type)
            throw zoneError(apex, "two pools for " + pools[i].owner.toText() + " type " +
                                      std::to_string(pools[i].type));
        Node& n = z->nodes_[size_t(z->find(pools[i].owner.key()))];
        if (n.firstPool < 0) n.firstPool = int32_t(i);
        ++n.poolCount;
    }
    z->pools_ = std::move(pools);

    // Zone cuts and wildcards: parents before children (a parent's name is always shorter).
    std::vector<int32_t> byDepth(z->nodes_.size());
    for (size_t i = 0; i < byDepth.size(); ++i) byDepth[i] = int32_t(i);
    std::stable_sort(byDepth.begin(), byDepth.end(), [&](int32_t a, int32_t b) {
        return z->nodes_[size_t(a)].nameSize < z->nodes_[size_t(b)].nameSize;
    });
    for (int32_t i : byDepth) {
        if (i == 0) continue;
        Node& n = z->nodes_[size_t(i)];
        std::string_view key = z->key(n);
        int32_t parentIdx = z->find(key.substr(1 + uint8_t(key[0])));
        Node& parent = z->nodes_[size_t(parentIdx)];
        n.cut = parent.cut >= 0 ? parent.cut : (z->rrset(n, rrtype::NS) ? i : -1);
        if (key.size() >= 2 && key[0] == 1 && key[1] == '*') parent.wildcard = i;
    }

    // Additional-section targets.
    for (RRset& s : z->rrsets_) {
        s.firstTarget = uint32_t(z->targets_.size());
        if (s.type != rrtype::NS && s.type != rrtype::MX && s.type != rrtype::SRV) continue;
        for (const RData& rd : z->rdatas(s)) {
            auto target = rdataTarget(s.type, z->bytes(rd));
            if (!target) continue;
            int32_t t = z->find(target->key());
            auto begin = z->targets_.begin() + s.firstTarget;
            if (t >= 0 && std::find(begin, z->targets_.end(), t) == z->targets_.end())
                z->targets_.push_back(t);
        }
        s.targetCount = uint32_t(z->targets_.size()) - s.firstTarget;
    }

    const RRset* soa = z->rrset(z->nodes_[0], rrtype::SOA);
    if (!soa) throw zoneError(apex, "no SOA record at the apex");
    if (soa->rdataCount != 1) throw zoneError(apex, "more than one SOA record at the apex");
    const RData& soaRd = z->rdatas(*soa)[0];
    z->negativeTtl_ = std::min(soaRd.ttl, soaMinimum(z->bytes(soaRd)));
    return z;
}

}  // namespace zones
