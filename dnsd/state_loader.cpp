#include "dnsd/state_loader.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <arpa/inet.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>

#include "zones/canonical.hpp"
#include "zones/journal.hpp"
#include "zones/pool_store.hpp"
#include "zones/schema.hpp"
#include "zones/served_pool.hpp"

namespace dnsd {

namespace {

struct PoolRow {
    zones::PoolDef def;
    std::vector<zones::MemberStanding> members;
    bool decided = false;
    std::string served;
    uint32_t decidedTtl = 0;
};

bool tableExists(SQLite::Database& db, const char* name) {
    SQLite::Statement q(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?");
    q.bind(1, name);
    return q.executeStep();
}

const std::string& zoneNameOf(const std::vector<std::pair<int64_t, std::string>>& zones,
                              int64_t id) {
    static const std::string none;
    for (const auto& [zid, name] : zones)
        if (zid == id) return name;
    return none;
}

std::vector<PoolRecord> toRdatas(const PoolRow& p, const std::vector<std::string>& values,
                                 uint32_t ttl) {
    std::vector<PoolRecord> out;
    for (const std::string& v : values) {
        PoolRecord rd;
        rd.ttl = ttl;
        rd.text = v;
        if (zones::poolValueToRdata(uint16_t(p.def.rtype), v, rd.bytes))
            out.push_back(std::move(rd));
    }
    return out;
}

// Every record of zone `id` (or only those at `owner`), straight from SQLite's row buffers
// into one packed batch: no Record, no Name, no allocation per row (this is most of the time
// a million-record zone takes to load).
zones::RecordBatch readRecords(SQLite::Database& db, int64_t id, const std::string& name,
                               const std::string* owner) {
    zones::RecordBatch records;
    if (!owner) {
        SQLite::Statement cq(db,
                             "SELECT count(*), coalesce(sum(length(owner) + length(rdata)), 0)"
                             " FROM records WHERE zone_id = ?");
        cq.bind(1, id);
        if (cq.executeStep())
            records.reserve(size_t(cq.getColumn(0).getInt64()), size_t(cq.getColumn(1).getInt64()));
    }
    SQLite::Statement rq(db, owner ? "SELECT owner, type, class, ttl, rdata FROM records"
                                     " WHERE zone_id = ? AND owner = ?"
                                   : "SELECT owner, type, class, ttl, rdata FROM records"
                                     " WHERE zone_id = ?");
    rq.bind(1, id);
    if (owner) rq.bind(2, *owner);
    uint8_t key[zones::Name::kMaxWire + 1];
    while (rq.executeStep()) {
        SQLite::Column ownerColumn = rq.getColumn(0);
        std::string_view text(ownerColumn.getText(), size_t(ownerColumn.getBytes()));
        size_t keySize = zones::Name::parseText(text, nullptr, key);
        if (keySize == 0)
            throw std::runtime_error("zone " + name + ": bad owner '" + std::string(text) + "'");
        SQLite::Column blob = rq.getColumn(4);
        auto* p = static_cast<const uint8_t*>(blob.getBlob());
        if (!records.add({reinterpret_cast<const char*>(key), keySize},
                         uint16_t(rq.getColumn(1).getInt()), uint16_t(rq.getColumn(2).getInt()),
                         uint32_t(rq.getColumn(3).getInt64()), {p, size_t(blob.getBytes())}))
            throw std::runtime_error("zone " + name + ": record at '" + std::string(text) +
                                     "' is too large");
    }
    return records;
}

// The zone at `generation` made from `cached` (at `cachedGeneration`) and the owners the
// changes in between touched (zone_changes), or nullptr when those changes are not all
// recorded (an import, or more history than is kept) or the snapshot cannot be patched.
std::shared_ptr<const zones::ZoneSnapshot> patchZone(SQLite::Database& db, int64_t id,
                                                     const std::string& name,
                                                     const zones::ZoneSnapshot& cached,
                                                     uint64_t cachedGeneration, uint64_t generation,
                                                     const zones::ZoneSigner* signer) {
    constexpr size_t kMaxOwners = 10000;  // beyond that a rebuild is about as cheap
    SQLite::Statement q(db,
                        "SELECT generation, owner FROM zone_changes"
                        " WHERE zone_id = ? AND generation > ? AND generation <= ?");
    q.bind(1, id);
    q.bind(2, int64_t(cachedGeneration));
    q.bind(3, int64_t(generation));
    std::set<int64_t> generations;
    std::set<std::string> owners;
    while (q.executeStep()) {
        generations.insert(q.getColumn(0).getInt64());
        owners.insert(q.getColumn(1).getString());
        if (owners.size() > kMaxOwners) return nullptr;
    }
    if (generations.size() != generation - cachedGeneration) return nullptr;
    zones::RecordBatch records;
    std::vector<std::string> keys;
    uint8_t key[zones::Name::kMaxWire + 1];
    for (const std::string& owner : owners) {
        size_t keySize = zones::Name::parseText(owner, nullptr, key);
        if (keySize == 0) return nullptr;
        keys.emplace_back(reinterpret_cast<const char*>(key), keySize);
        zones::RecordBatch at = readRecords(db, id, name, &owner);
        for (size_t i = 0; i < at.size(); ++i) {
            const auto& e = at.entry(i);
            records.add(at.owner(e), e.type, e.rclass, e.ttl, at.rdata(e));
        }
    }
    if (signer) return signer->patch(cached, keys, records, generation);
    return zones::ZoneSnapshot::patch(cached, keys, records, generation);
}

// What a signer is made from, as one comparable string.
std::string signerSettings(const zones::ZoneDnssec& d) {
    std::string s = std::to_string(d.sigEpoch) + "/" + std::to_string(d.sigValidity) + "/" +
                    std::to_string(d.dnskeyTtl) + "/" + (d.unsigning ? "u" : "s");
    for (const zones::DnssecKey& k : d.keys) {
        s += ";" + std::to_string(k.id) + "/" + std::to_string(k.tag) + "/" +
             std::to_string(int(k.algorithm)) + (k.ksk ? "k" : "z") + (k.publish ? "p" : "") +
             (k.sign ? "s" : "") + (k.cds ? "c" : "") + "/" + k.privatePath + "/";
        for (uint8_t b : k.publicKey) s += std::to_string(b) + ",";
    }
    return s;
}

// The NSEC RDATA `nsec` without `type` in its bitmap.
std::vector<uint8_t> nsecWithout(std::span<const uint8_t> nsec, uint16_t type) {
    size_t next = zones::wireNameLength(nsec);
    std::vector<uint16_t> types = zones::bitmapTypes(nsec.subspan(next));
    std::erase(types, type);
    std::vector<uint8_t> out(nsec.begin(), nsec.begin() + long(next)), bitmap;
    zones::typeBitmap(types, bitmap);
    out.insert(out.end(), bitmap.begin(), bitmap.end());
    return out;
}

// A pool's signatures, made once per decision (or reused from the previous table when the
// answer and the signer are the same).
void signPool(PoolAnswer& a, const zones::ZoneSigner& signer, const zones::ZoneSnapshot& zone,
              const zones::Name& owner, const PoolAnswer* before) {
    a.signedWith = signer.fingerprint();
    if (before && before->signedWith == a.signedWith && before->rdatas == a.rdatas &&
        before->ttl == a.ttl && before->maxAnswers == a.maxAnswers && before->type == a.type) {
        a.rrsigs = before->rrsigs;
        a.axfrRrsigs = before->axfrRrsigs;
        a.emptyNsec = before->emptyNsec;
        a.emptyNsecSigs = before->emptyNsecSigs;
        return;
    }
    std::string_view key = owner.key();
    const size_t count = a.rdatas.size();
    if (count == 0) {
        int32_t n = zone.find(key);
        const zones::RRset* nsec = n >= 0 ? zone.rrset(zone.node(n), zones::rrtype::NSEC) : nullptr;
        if (!nsec) return;
        a.emptyNsec = nsecWithout(zone.bytes(zone.rdatas(*nsec)[0]), a.type);
        a.emptyNsecSigs = signer.signRRset(key, zones::rrtype::NSEC, zone.negativeTtl(),
                                           {std::span<const uint8_t>(a.emptyNsec)});
        return;
    }
    auto window = [&](size_t start, size_t take) {
        std::vector<std::span<const uint8_t>> rds;
        for (size_t i = 0; i < take; ++i) rds.emplace_back(a.rdatas[(start + i) % count].bytes);
        return signer.signRRset(key, a.type, a.ttl, rds);
    };
    // A CNAME pool serves its first member; a limited pool one rotating window per start.
    size_t take = a.type == zones::rrtype::CNAME ? 1
                  : a.maxAnswers                 ? std::min<size_t>(a.maxAnswers, count)
                                                 : count;
    if (take == count || a.type == zones::rrtype::CNAME) {
        a.rrsigs.push_back(window(0, take));
        a.axfrRrsigs = a.rrsigs[0];
    } else {
        for (size_t start = 0; start < count; ++start) a.rrsigs.push_back(window(start, take));
        a.axfrRrsigs = window(0, count);
    }
}

}  // namespace

std::shared_ptr<const zones::ZoneSigner> StateLoader::signerFor(int64_t zoneId,
                                                                const zones::Name& apex,
                                                                const zones::ZoneDnssec& d) {
    std::string settings = signerSettings(d);
    auto it = signers_.find(zoneId);
    if (it != signers_.end() && it->second.settings == settings) return it->second.signer;
    std::vector<zones::ZoneKey> keys;
    for (const zones::DnssecKey& k : d.keys) {
        zones::ZoneKey zk;
        zk.key = zones::SigningKey::load(k.privatePath, k.algorithm, k.flags(), k.publicKey);
        zk.publish = k.publish;
        zk.sign = k.sign;
        zk.cds = k.cds;
        keys.push_back(std::move(zk));
    }
    zones::SigningPolicy policy;
    policy.dnskeyTtl = d.dnskeyTtl;
    policy.validity = d.sigValidity;
    policy.epoch = d.sigEpoch;
    policy.unsigning = d.unsigning;
    auto signer = std::make_shared<const zones::ZoneSigner>(apex, policy, std::move(keys));
    signers_[zoneId] = CachedSigner{settings, signer};
    return signer;
}

StateLoader::StateLoader(const std::string& dbPath, PoolCounters* counters)
    : path_(dbPath), counters_(counters), watch_(dbPath) {
    reopen();
}

void StateLoader::reopen() {
    db_ = zones::openDatabase(path_, zones::OpenMode::ReadWrite);
    watch_.attach();
    cache_.clear();
}

StateLoader::FileState StateLoader::checkFile() const {
    return watch_.file();
}

bool StateLoader::changed() {
    return watch_.changed(*db_);
}

std::optional<int64_t> StateLoader::controllerHeartbeat() {
    try {
        if (!tableExists(*db_, "controller")) return -1;
        SQLite::Statement q(*db_, "SELECT coalesce(max(heartbeat_at), -1) FROM controller");
        return q.executeStep() ? q.getColumn(0).getInt64() : -1;
    } catch (const SQLite::Exception&) {
        return std::nullopt;  // a busy or broken database is reported by load()
    }
}

std::shared_ptr<const ServedState> StateLoader::load(const ServedState* previous) {
    try {
        SQLite::Transaction tx(*db_);  // one read snapshot of the whole database

        std::vector<PoolRow> pools;
        if (tableExists(*db_, "pools")) {
            zones::PoolStore store(*db_);
            // Pool settings and member states come parsed from zones/, the same reading
            // dnsd-probe and dnsctl use.
            auto standings = store.standings(zones::nowMs());
            for (zones::PoolDef& def : store.listPools()) {
                PoolRow p;
                p.members = std::move(standings[def.id]);
                p.def = std::move(def);
                pools.push_back(std::move(p));
            }
            std::sort(pools.begin(), pools.end(),
                      [](const PoolRow& a, const PoolRow& b) { return a.def.id < b.def.id; });
            std::map<int64_t, PoolRow*> byId;
            for (PoolRow& p : pools) byId[p.def.id] = &p;
            SQLite::Statement d(*db_, "SELECT pool_id, served, ttl FROM pool_decisions");
            while (d.executeStep()) {
                auto it = byId.find(d.getColumn(0).getInt64());
                if (it == byId.end()) continue;
                it->second->decided = true;
                it->second->served = d.getColumn(1).getString();
                it->second->decidedTtl = uint32_t(d.getColumn(2).getInt64());
            }
        }

        std::map<int64_t, zones::ZoneDnssec> dnssec;
        if (tableExists(*db_, "dnssec_zones")) dnssec = zones::loadZoneDnssec(*db_, path_);
        std::map<std::string, std::string> problems;
        std::map<int64_t, std::shared_ptr<const zones::ZoneSigner>> signers;

        // Zones: reuse what has not changed.
        std::map<int64_t, CachedZone> cache;
        LoadCounts counts;
        std::vector<std::shared_ptr<const zones::ZoneSnapshot>> built;
        bool zonesChanged = !previous;
        std::vector<std::pair<int64_t, std::string>> zoneNames;
        SQLite::Statement zq(*db_,
                             "SELECT id, name, generation, created_at FROM zones ORDER BY id");
        while (zq.executeStep()) {
            int64_t id = zq.getColumn(0).getInt64();
            std::string name = zq.getColumn(1).getString();
            zoneNames.emplace_back(id, name);
            uint64_t generation = uint64_t(zq.getColumn(2).getInt64());
            // SQLite reuses the id of a deleted last row: a zone deleted and imported again
            // between two polls is recognised by its name and creation time too.
            std::string identity = name + "@" + std::to_string(zq.getColumn(3).getInt64());
            std::vector<zones::PoolBinding> bindings;
            std::string signature;
            for (const PoolRow& row : pools) {
                const zones::PoolDef& p = row.def;
                if (p.zoneId != id) continue;
                auto owner = zones::Name::fromText(p.owner);
                if (!owner)
                    throw std::runtime_error("pool " + std::to_string(p.id) + " has a bad owner '" +
                                             p.owner + "'");
                bindings.push_back({*owner, uint16_t(p.rtype), p.id});
                signature +=
                    p.owner + "/" + std::to_string(int(p.rtype)) + "/" + std::to_string(p.id) + ";";
            }
            auto apex = zones::Name::fromText(name);
            if (!apex)
                throw std::runtime_error("zone row " + std::to_string(id) + " has a bad name '" +
                                         name + "'");
            auto old = cache_.find(id);
            std::shared_ptr<const zones::ZoneSigner> signer;
            if (auto d = dnssec.find(id); d != dnssec.end() && d->second.enabled) {
                try {
                    signer = signerFor(id, *apex, d->second);
                } catch (const std::runtime_error& e) {
                    // This zone keeps its last signed snapshot; the others go on.
                    problems[name] = e.what();
                    if (old != cache_.end() && !old->second.signedWith.empty()) {
                        cache[id] = old->second;
                        built.push_back(old->second.zone);
                    }
                    continue;
                }
                signers[id] = signer;
            }
            const std::string signedWith = signer ? signer->fingerprint() : std::string();
            if (old != cache_.end() && old->second.generation == generation &&
                old->second.identity == identity && old->second.poolSignature == signature &&
                old->second.signedWith == signedWith) {
                cache[id] = old->second;
                built.push_back(old->second.zone);
                continue;
            }
            zonesChanged = true;
            std::shared_ptr<const zones::ZoneSnapshot> zone;
            // A signed zone is patched by its signer when the change keeps the NSEC chain
            // (a pool decision's serial bump re-signs the SOA alone).
            if (old != cache_.end() && old->second.identity == identity &&
                old->second.poolSignature == signature && old->second.signedWith == signedWith &&
                generation > old->second.generation) {
                try {
                    zone = patchZone(*db_, id, name, *old->second.zone, old->second.generation,
                                     generation, signer.get());
                } catch (const std::runtime_error&) {
                    zone = nullptr;  // the full build below reports what is wrong
                }
            }
            if (zone) {
                ++counts.patched;
            } else if (signer) {
                ++counts.built;
                const zones::ZoneSnapshot* before =
                    old != cache_.end() && old->second.identity == identity ? old->second.zone.get()
                                                                            : nullptr;
                try {
                    zone = signer->build(readRecords(*db_, id, name, nullptr), std::move(bindings),
                                         generation, before);
                } catch (const std::runtime_error& e) {
                    problems[name] = e.what();
                    signers.erase(id);
                    if (old != cache_.end() && !old->second.signedWith.empty()) {
                        cache[id] = old->second;
                        built.push_back(old->second.zone);
                    }
                    continue;
                }
            } else {
                ++counts.built;
                zone = zones::ZoneSnapshot::build(*apex, readRecords(*db_, id, name, nullptr),
                                                  std::move(bindings), generation);
            }
            cache[id] = CachedZone{generation, identity, signature, zone, signedWith};
            built.push_back(zone);
        }
        if (previous && cache.size() != cache_.size()) zonesChanged = true;

        auto table = std::make_shared<PoolTable>();
        for (const PoolRow& p : pools) {
            PoolAnswer a;
            a.type = uint16_t(p.def.rtype);
            a.maxAnswers = uint32_t(p.def.maxAnswers);
            // The one rendering of a pool's answer (zones::servedPool), shared with the
            // writers that journal changes to it, so IXFR differences match what is served.
            std::optional<zones::PoolDecisionServed> decision;
            if (p.decided) decision = zones::PoolDecisionServed{p.served, p.decidedTtl};
            zones::ServedPool served = zones::servedPool(p.def, decision, p.members);
            a.ttl = served.ttl;
            a.rdatas = toRdatas(p, served.values, a.ttl);
            if (counters_) {
                a.answers = counters_->answers(p.def.name);
                for (PoolRecord& r : a.rdatas) r.served = counters_->served(p.def.name, r.text);
            }
            const PoolAnswer* before =
                previous && previous->pools ? previous->pools->find(p.def.id) : nullptr;
            if (problems.count(zoneNameOf(zoneNames, p.def.zoneId)) && before) {
                table->set(p.def.id, *before);  // its zone could not be signed: last good answer
                continue;
            }
            if (auto sg = signers.find(p.def.zoneId); sg != signers.end()) {
                auto owner = zones::Name::fromText(p.def.owner);
                try {
                    if (owner)
                        signPool(a, *sg->second, *cache.at(p.def.zoneId).zone, *owner, before);
                } catch (const std::runtime_error& e) {
                    problems[zoneNameOf(zoneNames, p.def.zoneId)] = e.what();
                    if (before) {
                        table->set(p.def.id, *before);
                        continue;
                    }
                }
            }
            table->set(p.def.id, std::move(a));
        }
        // A zone's journal moves only with its serial, so with its generation; read in this
        // transaction, so the IXFR history matches the zones it leads to.
        std::shared_ptr<const Journals> journals = previous ? previous->journals : nullptr;
        if (zonesChanged || !journals) {
            auto fresh = std::make_shared<Journals>();
            for (const auto& [id, name] : zoneNames) {
                auto apex = zones::Name::fromText(name);
                auto entries = zones::Journal::read(*db_, id);
                if (apex && !entries.empty())
                    (*fresh)[std::string(apex->key())] = std::move(entries);
            }
            journals = std::move(fresh);
        }
        tx.commit();

        bool poolsChanged = !previous || !previous->pools || !(*previous->pools == *table);
        cache_ = std::move(cache);
        problems_ = std::move(problems);
        lastLoad_ = counts;
        auto xfr = XfrAcl::load(*db_);
        bool xfrChanged = !previous || !previous->xfr || !(*previous->xfr == *xfr);
        if (!zonesChanged && !poolsChanged && !xfrChanged) return nullptr;

        auto state = std::make_shared<ServedState>();
        state->generation = nextGeneration_++;
        state->zones = zonesChanged ? zones::Snapshot::make(std::move(built), state->generation)
                                    : previous->zones;
        state->pools = poolsChanged ? std::shared_ptr<const PoolTable>(table) : previous->pools;
        state->xfr = xfrChanged ? xfr : previous->xfr;
        state->journals = journals;
        state->publishedAtMs = zones::nowMs();
        return state;
    } catch (const SQLite::Exception& e) {
        throw std::runtime_error("database " + path_ + ": " + e.what());
    }
}

}  // namespace dnsd
