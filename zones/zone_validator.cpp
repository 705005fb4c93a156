#include "zones/zone_validator.hpp"

#include <algorithm>
#include <climits>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "zones/zone_file.hpp"

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

}  // namespace

std::vector<std::string> ZoneValidator::findProblems(const Name& apex,
                                                     const std::vector<Record>& records,
                                                     const std::string& source) {
    std::vector<Problem> problems;
    auto report = [&](int line, std::string message) {
        problems.push_back({line, std::move(message)});
    };

    // Owner -> indexes of its in-zone records, in input order.
    std::unordered_map<Name, std::vector<size_t>> byOwner;
    for (size_t i = 0; i < records.size(); ++i) {
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
        byOwner[r.owner].push_back(i);
    }

    // SOA: exactly one, at the apex.
    const Record* firstSoa = nullptr;
    for (const auto& [owner, indexes] : byOwner) {
        for (size_t i : indexes) {
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
    if (auto it = byOwner.find(apex); it != byOwner.end()) {
        int soaCount = 0;
        for (size_t i : it->second) {
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
    if (auto it = byOwner.find(apex); it != byOwner.end()) {
        for (size_t i : it->second) apexNs |= records[i].type == rrtype::NS;
    }
    if (!apexNs) report(0, "no NS records at the apex " + apex.toText());

    for (const auto& [owner, indexes] : byOwner) {
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
            if (auto t = byOwner.find(*target); t != byOwner.end()) {
                for (size_t j : t->second) {
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
