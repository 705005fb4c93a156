#include "zones/zone_snapshot.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "zones/canonical.hpp"

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
bool validRdataShape(uint16_t type, std::span<const uint8_t> s) {
    switch (type) {
        case rrtype::NS:
        case rrtype::CNAME:
        case rrtype::PTR:
        case rrtype::DNAME:
            return wireNameLength(s) == s.size();
        case rrtype::MX:
            return s.size() > 2 && wireNameLength(s.subspan(2)) == s.size() - 2;
        case rrtype::SRV:
            return s.size() > 6 && wireNameLength(s.subspan(6)) == s.size() - 6;
        case rrtype::SOA: {
            size_t m = wireNameLength(s);
            if (m == 0) return false;
            size_t r = wireNameLength(s.subspan(m));
            return r != 0 && m + r + 20 == s.size();
        }
        default:
            return s.size() <= 65535;
    }
}

// True if the canonical wire name `key` is `apex` or below it, at a label boundary.
bool keyIsAtOrBelow(std::string_view key, std::string_view apex) {
    if (key.size() < apex.size() || key.substr(key.size() - apex.size()) != apex) return false;
    size_t pos = 0, stop = key.size() - apex.size();
    while (pos < stop) pos += 1 + uint8_t(key[pos]);
    return pos == stop;
}

std::string keyText(std::string_view key) {
    auto n = Name::fromWire({reinterpret_cast<const uint8_t*>(key.data()), key.size()});
    return n ? n->toText() : std::string("(malformed name)");
}

int compareBytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    size_t n = std::min(a.size(), b.size());
    int c = n ? std::memcmp(a.data(), b.data(), n) : 0;
    if (c != 0) return c;
    return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

size_t nextPowerOfTwo(size_t n) {
    size_t p = 16;
    while (p < n) p *= 2;
    return p;
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

void ZoneSnapshot::checkRecords(const Name& apex, const RecordBatch& records, size_t& rdataTotal,
                                size_t& ownerTotal) {
    for (size_t i = 0; i < records.size(); ++i) {
        const RecordBatch::Entry& r = records.entry(i);
        std::string_view owner = records.owner(r);
        if (wireNameLength({reinterpret_cast<const uint8_t*>(owner.data()), owner.size()}) !=
            owner.size())
            throw zoneError(apex, "record " + std::to_string(i + 1) + " has a malformed owner");
        if (!keyIsAtOrBelow(owner, apex.key()))
            throw zoneError(apex, "record owner " + keyText(owner) + " is outside the zone");
        if (r.rclass != rrclass::IN)
            throw zoneError(apex, "record " + keyText(owner) + " is not class IN");
        if (r.type == rrtype::SOA && owner != apex.key())
            throw zoneError(apex, "SOA record at " + keyText(owner) + " is not at the apex");
        if (r.type == rrtype::OPT || r.type == 0)
            throw zoneError(apex, "record type " + std::to_string(r.type) + " cannot be served");
        if (!validRdataShape(r.type, records.rdata(r)))
            throw zoneError(apex, "malformed RDATA for type " + std::to_string(r.type) + " at " +
                                      keyText(owner));
        rdataTotal += r.rdataSize;
        ownerTotal += r.ownerSize;
    }
}

int32_t ZoneSnapshot::addNode(std::string_view key) {
    Node n;
    n.nameOffset = uint32_t(names_.size());
    n.nameSize = uint8_t(key.size());
    names_.insert(names_.end(), key.begin(), key.end());
    nodes_.push_back(n);
    return insertIndex(key, int32_t(nodes_.size() - 1));
}

int32_t ZoneSnapshot::addWithAncestors(std::string_view key) {
    int32_t self = find(key);
    if (self >= 0) return self;
    self = addNode(key);
    for (key = key.substr(1 + uint8_t(key[0])); find(key) < 0;
         key = key.substr(1 + uint8_t(key[0])))
        addNode(key);  // never passes the apex: it exists already
    return self;
}

void ZoneSnapshot::appendRRsets(Node& node, const RecordBatch& records, std::span<uint32_t> group) {
    node.firstRRset = uint32_t(rrsets_.size());
    node.rrsetCount = 0;
    if (group.empty()) return;
    auto type = [&](uint32_t i) { return records.entry(i).type; };
    auto rdata = [&](uint32_t i) { return records.rdata(records.entry(i)); };
    if (group.size() > 1)
        std::sort(group.begin(), group.end(), [&](uint32_t x, uint32_t y) {
            if (type(x) != type(y)) return type(x) < type(y);
            return compareBytes(rdata(x), rdata(y)) < 0;
        });
    for (auto i = group.begin(), last = group.end(); i != last;) {
        RRset set;
        set.type = type(*i);
        set.firstRdata = uint32_t(rdatas_.size());
        auto j = i;
        for (; j != last && type(*j) == set.type; ++j) {
            const RecordBatch::Entry& r = records.entry(*j);
            if (j != i && compareBytes(rdata(*j), rdata(*(j - 1))) == 0) continue;  // RFC 2181 §5
            RData rd;
            rd.ttl = r.ttl;
            rd.offset = uint32_t(rdataBytes_.size());
            rd.size = r.rdataSize;
            auto bytes = records.rdata(r);
            rdataBytes_.insert(rdataBytes_.end(), bytes.begin(), bytes.end());
            rdatas_.push_back(rd);
        }
        set.rdataCount = uint32_t(rdatas_.size()) - set.firstRdata;
        rrsets_.push_back(set);
        ++node.rrsetCount;
        i = j;
    }
}

void ZoneSnapshot::appendTargets(RRset& s) {
    s.firstTarget = uint32_t(targets_.size());
    s.targetCount = 0;
    if (s.type != rrtype::NS && s.type != rrtype::MX && s.type != rrtype::SRV) return;
    for (const RData& rd : rdatas(s)) {
        auto target = rdataTarget(s.type, bytes(rd));
        if (!target) continue;
        int32_t t = find(target->key());
        auto begin = targets_.begin() + s.firstTarget;
        if (t >= 0 && std::find(begin, targets_.end(), t) == targets_.end()) targets_.push_back(t);
    }
    s.targetCount = uint32_t(targets_.size()) - s.firstTarget;
}

void ZoneSnapshot::finishSoa() {
    const RRset* soa = rrset(nodes_[0], rrtype::SOA);
    if (!soa) throw zoneError(apex_, "no SOA record at the apex");
    if (soa->rdataCount != 1) throw zoneError(apex_, "more than one SOA record at the apex");
    const RData& soaRd = rdatas(*soa)[0];
    negativeTtl_ = std::min(soaRd.ttl, soaMinimum(bytes(soaRd)));
}

std::shared_ptr<const ZoneSnapshot> ZoneSnapshot::build(const Name& apex,
                                                        const std::vector<Record>& records,
                                                        std::vector<PoolBinding> pools,
                                                        uint64_t generation) {
    return build(apex, RecordBatch(records), std::move(pools), generation);
}

std::shared_ptr<const ZoneSnapshot> ZoneSnapshot::build(const Name& apex,
                                                        const RecordBatch& records,
                                                        std::vector<PoolBinding> pools,
                                                        uint64_t generation) {
    size_t rdataTotal = 0, ownerTotal = 0;
    checkRecords(apex, records, rdataTotal, ownerTotal);
    for (const PoolBinding& p : pools) {
        if (!p.owner.isSubdomainOf(apex))
            throw zoneError(apex, "pool owner " + p.owner.toText() + " is outside the zone");
    }

    auto z = std::shared_ptr<ZoneSnapshot>(new ZoneSnapshot());
    z->apex_ = apex;
    z->generation_ = generation;

    // Sized for the common case up front (every owner distinct, few extra ancestors), so a
    // million-record build does not double its largest arrays on the way; trimmed at the end
    // when owners repeat.
    size_t nodeGuess = records.size() + pools.size() + 16;
    z->nodes_.reserve(nodeGuess);
    z->names_.reserve(ownerTotal + apex.wireSize() + 256);
    z->index_.assign(nextPowerOfTwo(nodeGuess * 2), -1);

    // Nodes: every owner and every ancestor down to the apex, the apex first.
    z->addNode(apex.key());
    std::vector<int32_t> recordNode(records.size());
    for (size_t i = 0; i < records.size(); ++i)
        recordNode[i] = z->addWithAncestors(records.owner(records.entry(i)));
    for (const PoolBinding& p : pools) z->addWithAncestors(p.owner.key());
    if (z->nodes_.capacity() > z->nodes_.size() + z->nodes_.size() / 4) z->nodes_.shrink_to_fit();
    if (z->names_.capacity() > z->names_.size() + z->names_.size() / 4) z->names_.shrink_to_fit();

    // Group records by node with a counting sort (linear, unlike sorting a million names),
    // then order each small group by type and RDATA so RRsets are runs and duplicates neighbours.
    std::vector<uint32_t> start(z->nodes_.size() + 1, 0);
    for (int32_t n : recordNode) ++start[size_t(n) + 1];
    for (size_t i = 1; i < start.size(); ++i) start[i] += start[i - 1];
    std::vector<uint32_t> order(records.size());
    for (uint32_t i = 0; i < records.size(); ++i) order[start[size_t(recordNode[i])]++] = i;
    // `start[n]` now holds the end of node n's group, which is the start of group n + 1.
    std::rotate(start.rbegin(), start.rbegin() + 1, start.rend());
    start[0] = 0;
    recordNode = {};

    z->rrsets_.reserve(records.size());
    z->rdatas_.reserve(records.size());
    z->rdataBytes_.reserve(rdataTotal);
    for (size_t n = 0; n < z->nodes_.size(); ++n)
        z->appendRRsets(z->nodes_[n], records,
                        {order.data() + start[n], order.data() + start[n + 1]});
    order = {};
    start = {};
    if (z->rrsets_.capacity() > z->rrsets_.size() + z->rrsets_.size() / 4)
        z->rrsets_.shrink_to_fit();
    if (z->rdatas_.capacity() > z->rdatas_.size() + z->rdatas_.size() / 4)
        z->rdatas_.shrink_to_fit();

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
    // Counting sort by name length (at most 255): linear, where a comparison sort of a
    // million nodes was a measurable part of the build.
    std::vector<int32_t> byDepth(z->nodes_.size());
    {
        std::vector<uint32_t> at(257, 0);
        for (const Node& n : z->nodes_) ++at[size_t(n.nameSize) + 1];
        for (size_t i = 1; i < at.size(); ++i) at[i] += at[i - 1];
        for (size_t i = 0; i < z->nodes_.size(); ++i)
            byDepth[at[z->nodes_[i].nameSize]++] = int32_t(i);
    }
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
    for (RRset& set : z->rrsets_) z->appendTargets(set);

    z->finishSoa();
    return z;
}

std::shared_ptr<const ZoneSnapshot> ZoneSnapshot::build(const Name& apex,
                                                        const RecordBatch& records,
                                                        std::vector<PoolBinding> pools,
                                                        uint64_t generation, std::string signedWith,
                                                        int64_t signaturesExpire) {
    auto built = build(apex, records, std::move(pools), generation);
    auto z = std::const_pointer_cast<ZoneSnapshot>(built);
    z->signedWith_ = std::move(signedWith);
    z->signaturesExpire_ = signaturesExpire;
    std::vector<std::pair<std::string, int32_t>> order;
    for (size_t i = 0; i < z->nodes_.size(); ++i) {
        const Node& n = z->nodes_[i];
        if (!n.removed && z->rrset(n, rrtype::NSEC))
            order.emplace_back(canonicalSortKey(z->key(n)), int32_t(i));
    }
    std::sort(order.begin(), order.end());
    z->nsecOrder_.reserve(order.size());
    for (const auto& [key, node] : order) z->nsecOrder_.push_back(node);
    return built;
}

int32_t ZoneSnapshot::nsecCovering(std::string_view key) const {
    if (nsecOrder_.empty()) return -1;
    // First NSEC owner not below `key` in canonical order, then one back (wrapping).
    auto it = std::lower_bound(nsecOrder_.begin(), nsecOrder_.end(), key,
                               [this](int32_t n, std::string_view k) {
                                   return canonicalCompare(this->key(nodes_[size_t(n)]), k) < 0;
                               });
    if (it == nsecOrder_.begin()) return nsecOrder_.back();
    return *(it - 1);
}

void ZoneSnapshot::eraseIndex(int32_t node) {
    size_t mask = index_.size() - 1;
    size_t i = nameHash(key(nodes_[size_t(node)])) & mask;
    while (index_[i] != node) {
        if (index_[i] < 0) return;
        i = (i + 1) & mask;
    }
    // Linear probing without tombstones: pull back every later entry of the run that would no
    // longer be reachable from its home slot.
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (index_[j] < 0) break;
        size_t home = nameHash(key(nodes_[size_t(index_[j])])) & mask;
        bool reachable = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!reachable) {
            index_[i] = index_[j];
            i = j;
        }
    }
    index_[i] = -1;
}

bool ZoneSnapshot::removeEmpty(const std::vector<int32_t>& emptied) {
    auto empty = [&](int32_t n) {
        const Node& node = nodes_[size_t(n)];
        return node.rrsetCount == 0 && node.poolCount == 0;
    };
    std::vector<int32_t> candidates;
    for (int32_t n : emptied) {
        for (std::string_view k = key(nodes_[size_t(n)]); n > 0 && empty(n);) {
            if (std::find(candidates.begin(), candidates.end(), n) == candidates.end())
                candidates.push_back(n);
            k = k.substr(1 + uint8_t(k[0]));
            n = find(k);
        }
    }
    // A candidate stays (as an empty non-terminal) if any node with data lies below it. One
    // pass over the nodes: deletions are rare and few, a million suffix compares are cheap.
    std::vector<bool> alive(candidates.size(), false);
    for (const Node& node : nodes_) {
        if (node.removed || (node.rrsetCount == 0 && node.poolCount == 0)) continue;
        std::string_view k = key(node);
        for (size_t c = 0; c < candidates.size(); ++c) {
            std::string_view ck = key(nodes_[size_t(candidates[c])]);
            if (!alive[c] && k.size() > ck.size() && keyIsAtOrBelow(k, ck)) alive[c] = true;
        }
    }
    bool any = false;
    for (size_t c = 0; c < candidates.size(); ++c) {
        if (alive[c]) continue;
        int32_t n = candidates[c];
        std::string_view k = key(nodes_[size_t(n)]);
        if (k.size() >= 2 && k[0] == 1 && k[1] == '*') {
            int32_t parent = find(k.substr(2));
            if (parent >= 0 && nodes_[size_t(parent)].wildcard == n)
                nodes_[size_t(parent)].wildcard = -1;
        }
        eraseIndex(n);
        nodes_[size_t(n)].removed = true;
        any = true;
    }
    return any;
}

namespace {

// A copy with room to grow, so the patch's appends do not reallocate (and double) a
// million-entry array on the way.
template <typename T>
void copyWithRoom(std::vector<T>& to, const std::vector<T>& from, size_t room) {
    to.reserve(from.size() + room);
    to.assign(from.begin(), from.end());
}

}  // namespace

std::shared_ptr<const ZoneSnapshot> ZoneSnapshot::patch(const ZoneSnapshot& base,
                                                        const std::vector<std::string>& owners,
                                                        const RecordBatch& records,
                                                        uint64_t generation, bool bySigner) {
    // A signed zone's NSEC chain and signatures are the signer's to make: only ZoneSigner
    // patches one (when no name comes or goes and no type set changes).
    if (!base.signedWith_.empty() && !bySigner) return nullptr;
    size_t rdataTotal = 0, ownerTotal = 0;
    checkRecords(base.apex_, records, rdataTotal, ownerTotal);

    // The records of each owner, as runs of `order`.
    std::vector<std::string_view> keys(owners.begin(), owners.end());
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    std::vector<uint32_t> order(records.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    auto ownerOf = [&](uint32_t i) { return records.owner(records.entry(i)); };
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return ownerOf(a) < ownerOf(b); });
    struct Change {
        std::string_view key;
        size_t first = 0, last = 0;
    };
    std::vector<Change> changes;
    size_t at = 0;
    for (std::string_view k : keys) {
        if (at < order.size() && ownerOf(order[at]) < k) return nullptr;  // owner not listed
        Change c{k, at, at};
        while (c.last < order.size() && ownerOf(order[c.last]) == k) ++c.last;
        at = c.last;
        changes.push_back(c);
    }
    if (at != order.size()) return nullptr;

    // Zone cuts and the glue they need follow NS RRsets; a change that moves one is rebuilt.
    size_t garbage = base.garbage_;
    for (const Change& c : changes) {
        std::vector<std::span<const uint8_t>> before, after;
        if (int32_t n = base.find(c.key); n >= 0) {
            const Node& node = base.node(n);
            if (const RRset* ns = base.rrset(node, rrtype::NS))
                for (const RData& rd : base.rdatas(*ns)) before.push_back(base.bytes(rd));
            for (const RRset& set : base.rrsets(node)) garbage += set.rdataCount;
        }
        for (size_t i = c.first; i < c.last; ++i)
            if (records.entry(order[i]).type == rrtype::NS)
                after.push_back(records.rdata(records.entry(order[i])));
        auto less = [](auto a, auto b) { return compareBytes(a, b) < 0; };
        auto same = [](auto a, auto b) { return compareBytes(a, b) == 0; };
        std::sort(after.begin(), after.end(), less);
        after.erase(std::unique(after.begin(), after.end(), same), after.end());
        if (!std::equal(before.begin(), before.end(), after.begin(), after.end(), same))
            return nullptr;
    }
    if (garbage > base.rdatas_.size() / 8 + 64) return nullptr;  // compact by rebuilding

    auto z = std::shared_ptr<ZoneSnapshot>(new ZoneSnapshot());
    z->apex_ = base.apex_;
    z->generation_ = generation;
    z->garbage_ = garbage;
    z->negativeTtl_ = base.negativeTtl_;
    copyWithRoom(z->nodes_, base.nodes_, keys.size() * 4 + 16);
    copyWithRoom(z->names_, base.names_, ownerTotal * 4 + 256);
    copyWithRoom(z->rrsets_, base.rrsets_, records.size() + 16);
    copyWithRoom(z->rdatas_, base.rdatas_, records.size() + 16);
    copyWithRoom(z->rdataBytes_, base.rdataBytes_, rdataTotal + 16);
    copyWithRoom(z->targets_, base.targets_, records.size() + 16);
    z->pools_ = base.pools_;
    z->index_ = base.index_;
    // The signer only patches when no name comes or goes: node numbers, so the NSEC order, hold.
    z->signedWith_ = base.signedWith_;
    z->signaturesExpire_ = base.signaturesExpire_;
    z->nsecOrder_ = base.nsecOrder_;

    bool nodesChanged = false;
    std::vector<int32_t> emptied;
    size_t firstNewRRset = z->rrsets_.size();
    for (const Change& c : changes) {
        int32_t n = z->find(c.key);
        if (n < 0) {
            if (c.first == c.last) continue;
            size_t before = z->nodes_.size();
            n = z->addWithAncestors(c.key);
            nodesChanged = true;
            // New nodes hang below existing ones; parents first (shorter names) for the cut.
            std::vector<int32_t> added;
            for (size_t i = before; i < z->nodes_.size(); ++i) added.push_back(int32_t(i));
            std::sort(added.begin(), added.end(), [&](int32_t a, int32_t b) {
                return z->nodes_[size_t(a)].nameSize < z->nodes_[size_t(b)].nameSize;
            });
            for (int32_t i : added) {
                std::string_view k = z->key(z->nodes_[size_t(i)]);
                Node& parent = z->nodes_[size_t(z->find(k.substr(1 + uint8_t(k[0]))))];
                z->nodes_[size_t(i)].cut = parent.cut;
                if (k.size() >= 2 && k[0] == 1 && k[1] == '*') parent.wildcard = i;
            }
        }
        z->appendRRsets(z->nodes_[size_t(n)], records,
                        {order.data() + c.first, order.data() + c.last});
        if (c.first == c.last && n != 0 && z->nodes_[size_t(n)].poolCount == 0)
            emptied.push_back(n);
    }
    if (!emptied.empty() && z->removeEmpty(emptied)) nodesChanged = true;
    if (nodesChanged) {
        // Targets are node numbers found by name: a name that appeared or went may be one.
        z->targets_.clear();
        for (RRset& set : z->rrsets_) z->appendTargets(set);
    } else {
        for (size_t i = firstNewRRset; i < z->rrsets_.size(); ++i) z->appendTargets(z->rrsets_[i]);
    }
    z->finishSoa();
    return z;
}

}  // namespace zones
