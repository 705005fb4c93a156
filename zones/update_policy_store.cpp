#include "zones/update_policy_store.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "zones/record.hpp"
#include "zones/schema.hpp"
#include "zones/zone_file.hpp"

namespace zones {
namespace {

// The labels of `name` above `apex` (which it must be at or below), leftmost first.
std::vector<std::string> labelsAbove(const Name& name, size_t keep) {
    std::vector<std::string> out;
    auto w = name.wire();
    size_t total = name.labelCount();
    for (size_t at = 0, i = 0; i + keep < total; ++i) {
        uint8_t len = w[at];
        out.emplace_back(reinterpret_cast<const char*>(w.data() + at + 1), len);
        at += 1 + len;
    }
    return out;
}

std::string canonical(const std::string& text, const char* what) {
    auto n = Name::fromText(text.empty() || text.back() == '.' ? text : text + ".");
    if (!n || text.empty())
        throw std::runtime_error(std::string(what) + " '" + text + "' is not a valid name");
    return n->toText();
}

int64_t idOf(SQLite::Database& db, const char* sql, const std::string& name, const char* what,
             const char* hint = "") {
    SQLite::Statement q(db, sql);
    q.bind(1, name);
    if (!q.executeStep()) throw std::runtime_error(std::string("no ") + what + " " + name + hint);
    return q.getColumn(0).getInt64();
}

std::vector<std::string> splitWords(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

bool tableExists(SQLite::Database& db) {
    SQLite::Statement q(db,
                        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                        "'update_policies'");
    return q.executeStep();
}

UpdatePolicyRow readRow(SQLite::Statement& q) {
    UpdatePolicyRow r;
    r.id = q.getColumn(0).getInt64();
    r.zone = q.getColumn(1).getString();
    r.key = q.getColumn(2).getString();
    r.name = q.getColumn(3).getString();
    r.types = splitWords(q.getColumn(4).getString());
    r.createdAt = q.getColumn(5).getInt64();
    return r;
}

}  // namespace

bool UpdatePolicy::explicitName() const {
    return std::find(labels.begin(), labels.end(), "*") == labels.end();
}

bool UpdatePolicy::allows(const Name& signer, const Name& apex, const Name& owner, uint16_t type,
                          std::optional<uint16_t> poolType) const {
    if (signer != key || !owner.isSubdomainOf(apex)) return false;
    const bool anyType = types.empty();
    if (!anyType && std::find(types.begin(), types.end(), type) == types.end()) return false;
    // Deleting every RRset of a name touches types no list can name: only an unrestricted
    // policy covers it.
    if (type == rrtype::ANY && !anyType) return false;
    std::vector<std::string> rel = labelsAbove(owner, apex.labelCount());
    const bool atApex = rel.empty();
    if (atApex && (type == rrtype::SOA || type == rrtype::NS || type == rrtype::ANY)) {
        // The apex SOA and NS only through `@` naming the type. A delete-all at the apex keeps
        // SOA and NS anyway (RFC 2136 §3.4.2.3), so `@` or `*` without types covers it.
        if (type != rrtype::ANY) return labels.empty() && !anyType;
    }
    if (poolType) {
        if (type == *poolType || type == rrtype::ANY) return false;
        if (!explicitName()) return false;
    }
    if (labels.size() == 1 && labels[0] == "*") return true;
    if (labels.empty()) return atApex;
    if (labels.front() == "*") {
        // Strictly below the rest.
        size_t n = labels.size() - 1;
        if (rel.size() <= n) return false;
        return std::equal(labels.begin() + 1, labels.end(), rel.end() - long(n));
    }
    if (labels.back() == "*") {
        size_t n = labels.size() - 1;
        if (rel.size() < n) return false;
        return std::equal(labels.begin(), labels.end() - 1, rel.begin());
    }
    return rel == labels;
}

std::string UpdatePolicyStore::normalisePattern(const std::string& pattern, const Name& zone) {
    std::string p = pattern.empty() ? "*" : pattern;
    if (p == "@") return "@";
    if (p == "*") return "*";
    auto name = Name::fromText(p, &zone);
    if (!name) throw std::runtime_error("--name '" + pattern + "' is not a valid name pattern");
    if (!name->isSubdomainOf(zone))
        throw std::runtime_error("--name '" + pattern + "' is not inside zone " + zone.toText());
    std::vector<std::string> labels = labelsAbove(*name, zone.labelCount());
    if (labels.empty()) return "@";
    for (size_t i = 1; i + 1 < labels.size(); ++i)
        if (labels[i] == "*")
            throw std::runtime_error("--name '" + pattern +
                                     "': a * may stand only as the first or the last label");
    if (labels.size() >= 2 && labels.front() == "*" && labels.back() == "*")
        throw std::runtime_error("--name '" + pattern +
                                 "': a * may stand as the first or the last label, not both");
    // Presentation form of the relative part: the absolute text minus the zone's.
    std::string text = name->toText();
    std::string suffix = zone.isRoot() ? "" : zone.toText();
    text.resize(text.size() - suffix.size());
    if (!text.empty() && text.back() == '.') text.pop_back();
    return text;
}

UpdatePolicy UpdatePolicyStore::parse(const std::string& key, const std::string& pattern,
                                      const std::string& types) {
    UpdatePolicy p;
    auto k = Name::fromText(key);
    if (!k) throw std::runtime_error("update policy with an unreadable key '" + key + "'");
    p.key = *k;
    if (pattern != "@") {
        auto n = Name::fromText(pattern + ".");
        if (!n) throw std::runtime_error("update policy with an unreadable name '" + pattern + "'");
        p.labels = labelsAbove(*n, 0);
    }
    for (const std::string& t : splitWords(types)) {
        auto type = rrTypeFromText(t);
        if (!type) throw std::runtime_error("update policy with an unknown type '" + t + "'");
        p.types.push_back(*type);
    }
    return p;
}

std::vector<std::string> UpdatePolicyStore::normaliseTypes(const std::vector<std::string>& types) {
    std::vector<std::string> out;
    for (const std::string& t : types) {
        for (const std::string& word : splitWords(t)) {
            auto type = rrTypeFromText(word);
            if (!type || *type == rrtype::ANY || *type == rrtype::AXFR || *type == rrtype::IXFR ||
                *type == rrtype::OPT || *type == rrtype::MAILA || *type == rrtype::MAILB ||
                *type == 250 /* TSIG */)
                throw std::runtime_error("--type '" + word + "' is not a record type");
            std::string text = rrTypeToText(*type);
            if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(text);
        }
    }
    return out;
}

UpdatePolicyRow UpdatePolicyStore::add(const std::string& zone, const std::string& key,
                                       const std::string& pattern,
                                       const std::vector<std::string>& types) {
    UpdatePolicyRow r;
    r.zone = canonical(zone, "zone");
    r.key = canonical(key, "key name");
    int64_t zoneId = idOf(db_, "SELECT id FROM zones WHERE name = ?", r.zone, "zone");
    int64_t keyId = idOf(db_, "SELECT id FROM tsig_keys WHERE name = ?", r.key, "TSIG key",
                         " (add it with dnsctl tsig add)");
    r.name = normalisePattern(pattern, *Name::fromText(r.zone));
    r.types = normaliseTypes(types);
    std::string typeText;
    for (const auto& t : r.types) typeText += (typeText.empty() ? "" : " ") + t;
    SQLite::Statement dup(db_,
                          "SELECT id FROM update_policies WHERE zone_id = ? AND key_id = ? AND "
                          "name = ? AND types = ?");
    dup.bind(1, zoneId);
    dup.bind(2, keyId);
    dup.bind(3, r.name);
    dup.bind(4, typeText);
    if (dup.executeStep())
        throw std::runtime_error("the same policy exists already (id " +
                                 dup.getColumn(0).getString() + ")");
    r.createdAt = nowMs();
    SQLite::Statement ins(db_,
                          "INSERT INTO update_policies (zone_id, key_id, name, types, created_at)"
                          " VALUES (?,?,?,?,?)");
    ins.bind(1, zoneId);
    ins.bind(2, keyId);
    ins.bind(3, r.name);
    ins.bind(4, typeText);
    ins.bind(5, r.createdAt);
    ins.exec();
    r.id = db_.getLastInsertRowid();
    return r;
}

void UpdatePolicyStore::remove(int64_t id) {
    SQLite::Statement del(db_, "DELETE FROM update_policies WHERE id = ?");
    del.bind(1, id);
    if (del.exec() == 0) throw std::runtime_error("no update policy " + std::to_string(id));
}

std::vector<UpdatePolicyRow> UpdatePolicyStore::list(const std::string& zone) {
    std::vector<UpdatePolicyRow> out;
    std::string sql =
        "SELECT p.id, z.name, k.name, p.name, p.types, p.created_at FROM update_policies p"
        " JOIN zones z ON z.id = p.zone_id JOIN tsig_keys k ON k.id = p.key_id";
    if (!zone.empty()) sql += " WHERE z.name = ?";
    SQLite::Statement q(db_, sql + " ORDER BY z.name, p.id");
    if (!zone.empty()) {
        std::string z = canonical(zone, "zone");
        idOf(db_, "SELECT id FROM zones WHERE name = ?", z, "zone");
        q.bind(1, z);
    }
    while (q.executeStep()) out.push_back(readRow(q));
    return out;
}

std::vector<UpdatePolicy> UpdatePolicyStore::forZone(int64_t zoneId) {
    std::vector<UpdatePolicy> out;
    if (!tableExists(db_)) return out;
    SQLite::Statement q(db_,
                        "SELECT k.name, p.name, p.types FROM update_policies p JOIN tsig_keys k"
                        " ON k.id = p.key_id WHERE p.zone_id = ? ORDER BY p.id");
    q.bind(1, zoneId);
    while (q.executeStep())
        out.push_back(parse(q.getColumn(0).getString(), q.getColumn(1).getString(),
                            q.getColumn(2).getString()));
    return out;
}

}  // namespace zones
