#include "zones/zone_validator.hpp"

#include <algorithm>
#include <bit>
#include <climits>
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>

#include "zones/zone_file.hpp"
#include "zones/zone_snapshot.hpp"

namespace zones {
namespace {

struct Problem {
    int line;
    std::string message;
};

std::string at(int line) {
    return line > 0 ? " (line " + std::to_string(line) + ")" : "";
}

// Data allowed beside a CNAME: the DNSSEC records that prove and sign it.
bool mayAccompanyCname(uint16_t type) {
    return type == rrtype::CNAME || type == rrtype::RRSIG || type == rrtype::NSEC;
}

// Records grouped by owner: `add` each record's index, `finish`, then look groups up by name.
class OwnerGroups {
  public:
    explicit OwnerGroups(const std::vector<Record>& records)
        : records_(records), groupOf_(records.size(), -1) {
        slots_.assign(std::max<size_t>(16, std::bit_ceil(records.size() * 2 + 1)), Slot());
    }
    // Hashes `record`'s owner and fetches its slot into the cache ahead of its add (at most
    // kAhead records ahead): the table is larger than the caches, and waiting for each slot
    // was most of the time adding took.
    void prepare(size_t record) {
        size_t hash = nameHash(records_[record].owner.key());
        ahead_[record % kAhead] = {record, hash};
        __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
    }
    void add(size_t record) {
        std::string_view key = records_[record].owner.key();
        const Ahead& a = ahead_[record % kAhead];
        size_t hash = a.record == record ? a.hash : nameHash(key);
        size_t mask = slots_.size() - 1, i = hash & mask;
        // The slot keeps the hash: comparing it first spares following two indexes to a name
        // that differs, the cache misses that made this a tenth of a big import.
        for (; slots_[i].group >= 0; i = (i + 1) & mask)
            if (slots_[i].hash == uint32_t(hash) &&
                records_[firstOf_[size_t(slots_[i].group)]].owner.key() == key)
                break;
        if (slots_[i].group < 0) {
            slots_[i] = {uint32_t(hash), int32_t(firstOf_.size())};
            firstOf_.push_back(uint32_t(record));
        }
        groupOf_[record] = slots_[i].group;
    }
    void finish() {
        start_.assign(firstOf_.size() + 1, 0);
        for (int32_t g : groupOf_)
            if (g >= 0) ++start_[size_t(g) + 1];
        for (size_t g = 1; g < start_.size(); ++g) start_[g] += start_[g - 1];
        order_.resize(start_.back());
        std::vector<uint32_t> fill(start_.begin(), start_.end() - 1);
        for (size_t i = 0; i < groupOf_.size(); ++i)
            if (groupOf_[i] >= 0) order_[fill[size_t(groupOf_[i])]++] = uint32_t(i);
    }
    size_t size() const { return firstOf_.size(); }
    const Name& owner(size_t group) const { return records_[firstOf_[group]].owner; }
    std::span<const uint32_t> records(size_t group) const {
        return {order_.data() + start_[group], start_[group + 1] - start_[group]};
    }
    // The group of `name`, or -1.
    int32_t find(const Name& name) const {
        size_t hash = nameHash(name.key()), mask = slots_.size() - 1, i = hash & mask;
        for (; slots_[i].group >= 0; i = (i + 1) & mask)
            if (slots_[i].hash == uint32_t(hash) &&
                records_[firstOf_[size_t(slots_[i].group)]].owner == name)
                return slots_[i].group;
        return -1;
    }

    static constexpr size_t kAhead = 16;

  private:
    const std::vector<Record>& records_;
    struct Ahead {
        size_t record = SIZE_MAX;
        size_t hash = 0;
    };
    Ahead ahead_[kAhead];
    std::vector<int32_t> groupOf_;   // per record, -1 if not grouped
    std::vector<uint32_t> firstOf_;  // per group, its first record
    struct Slot {
        uint32_t hash = 0;
        int32_t group = -1;  // -1: empty
    };
    std::vector<Slot> slots_;  // open addressing over owner names
    std::vector<uint32_t> start_, order_;
};

}  // namespace

std::vector<std::string> ZoneValidator::findProblems(const Name& apex,
                                                     const std::vector<Record>& records,
                                                     const std::string& source) {
    std::vector<Problem> problems;
    auto report = [&](int line, std::string message) {
        problems.push_back({line, std::move(message)});
    };

    // Owner -> indexes of its in-zone records, in input order. A flat table and a counting
    // sort rather than a map of vectors: a million-record import spent a third of its time
    // allocating and hashing here.
    OwnerGroups byOwner(records);
    // Owners prepared ahead of the one added; the ring's slot of record i - 1 is free again.
    constexpr size_t kAhead = OwnerGroups::kAhead - 1;
    for (size_t i = 0; i < std::min(kAhead, records.size()); ++i) byOwner.prepare(i);
    for (size_t i = 0; i < records.size(); ++i) {
        if (i + kAhead < records.size()) byOwner.prepare(i + kAhead);
        const Record& r = records[i];
        if (r.rclass != rrclass::IN) {
            report(r.line, "class " + std::to_string(r.rclass) + " record at " + r.owner.toText() +
                               ": only class IN is supported");
            continue;
        }
        if (!r.owner.isSubdomainOf(apex)) {
            report(r.line, r.owner.toText() + " " + rrTypeToText(r.type) + " is outside the zone " +
                               apex.toText());
            continue;
        }
        byOwner.add(i);
    }
    byOwner.finish();

    // SOA: exactly one, at the apex.
    const Record* firstSoa = nullptr;
    for (size_t g = 0; g < byOwner.size(); ++g) {
        const Name& owner = byOwner.owner(g);
        for (size_t i : byOwner.records(g)) {
            const Record& r = records[i];
            if (r.type != rrtype::SOA) continue;
            if (owner != apex) {
                report(r.line, "SOA record at " + owner.toText() +
                                   ": the SOA belongs at the apex " + apex.toText());
            } else if (!firstSoa) {
                firstSoa = &r;
            }
        }
    }
    if (auto group = byOwner.find(apex); group >= 0) {
        int soaCount = 0;
        for (size_t i : byOwner.records(group)) {
            const Record& r = records[i];
            if (r.type != rrtype::SOA) continue;
            if (++soaCount > 1)
                report(r.line, "second SOA record at the apex " + apex.toText() +
                                   " (a zone has exactly one SOA; the first is" +
                                   (firstSoa->line ? " at line " + std::to_string(firstSoa->line)
                                                   : " already there") +
                                   ")");
        }
    }
    if (!firstSoa) report(0, "no SOA record at the apex " + apex.toText());

    // NS at the apex.
    bool apexNs = false;
    if (auto group = byOwner.find(apex); group >= 0) {
        for (size_t i : byOwner.records(group)) apexNs |= records[i].type == rrtype::NS;
    }
    if (!apexNs) report(0, "no NS records at the apex " + apex.toText());

    for (size_t g = 0; g < byOwner.size(); ++g) {
        const Name& owner = byOwner.owner(g);
        std::span<const uint32_t> indexes = byOwner.records(g);
        // CNAME alone at its owner.
        const Record* cname = nullptr;
        for (size_t i : indexes) {
            const Record& r = records[i];
            if (r.type != rrtype::CNAME) continue;
            if (cname) {
                report(r.line, "second CNAME at " + owner.toText() + " (the first" +
                                   (cname->line ? " is at line " + std::to_string(cname->line)
                                                : " is already there") +
                                   "); a name has at most one CNAME");
            } else {
                cname = &r;
            }
        }
        if (cname) {
            for (size_t i : indexes) {
                const Record& r = records[i];
                if (mayAccompanyCname(r.type)) continue;
                int line = std::max(r.line, cname->line);
                report(line, "CNAME at " + owner.toText() + at(cname->line) +
                                 " cannot coexist with other data: " + rrTypeToText(r.type) +
                                 at(r.line));
                break;
            }
        }

        // One TTL per RRset.
        std::map<uint16_t, const Record*> firstOfType;
        for (size_t i : indexes) {
            const Record& r = records[i];
            if (r.type == rrtype::RRSIG) continue;
            auto [it, inserted] = firstOfType.emplace(r.type, &r);
            if (!inserted && it->second->ttl != r.ttl) {
                report(r.line, "TTL " + std::to_string(r.ttl) + " differs from TTL " +
                                   std::to_string(it->second->ttl) + " of the " + owner.toText() +
                                   " " + rrTypeToText(r.type) + " RRset" + at(it->second->line) +
                                   "; an RRset has one TTL (RFC 2181 §5.2)");
            }
        }

        // Addresses for every NS target inside the zone.
        for (size_t i : indexes) {
            const Record& r = records[i];
            if (r.type != rrtype::NS) continue;
            auto target = Name::fromWire(r.rdata);
            if (!target) {
                report(r.line, "NS record at " + owner.toText() + " has malformed RDATA");
                continue;
            }
            if (!target->isSubdomainOf(apex)) continue;
            bool hasAddress = false;
            if (auto t = byOwner.find(*target); t >= 0) {
                for (size_t j : byOwner.records(t)) {
                    hasAddress |= records[j].type == rrtype::A || records[j].type == rrtype::AAAA;
                }
            }
            if (!hasAddress) {
                report(r.line, "NS target " + target->toText() + " of " + owner.toText() +
                                   " is inside the zone but has no A or AAAA record" +
                                   (owner == apex ? "" : " (glue)"));
            }
        }
    }

    std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
        // Problems without a line (missing SOA/NS) come last: they are about the whole file.
        int la = a.line > 0 ? a.line : INT_MAX, lb = b.line > 0 ? b.line : INT_MAX;
        return la != lb ? la < lb : a.message < b.message;
    });
    std::vector<std::string> out;
    out.reserve(problems.size());
    for (const auto& p : problems) {
        out.push_back(source + (p.line > 0 ? ":" + std::to_string(p.line) : "") + ": " + p.message);
    }
    return out;
}

std::variant<ValidZone, std::vector<std::string>> ZoneValidator::check(Name apex,
                                                                       std::vector<Record> records,
                                                                       const std::string& source) {
    auto problems = findProblems(apex, records, source);
    if (!problems.empty()) return problems;
    return ValidZone(std::move(apex), std::move(records));
}

void ZoneValidator::validate(const Name& apex, const std::vector<Record>& records,
                             const std::string& source) {
    auto problems = findProblems(apex, records, source);
    if (problems.empty()) return;
    std::string message = problems.front();
    if (problems.size() > 1)
        message += " (and " + std::to_string(problems.size() - 1) + " more problem" +
                   (problems.size() > 2 ? "s" : "") + ")";
    throw std::runtime_error(message);
}

}  // namespace zones
