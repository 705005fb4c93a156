#include "zones/config_apply.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>

#include "zones/dnssec_key_material.hpp"
#include "zones/dnssec_zone_admin.hpp"
#include "zones/journal.hpp"
#include "zones/ldns/rr_codec.hpp"
#include "zones/pool_store.hpp"
#include "zones/probe_store.hpp"
#include "zones/schema.hpp"
#include "zones/update_policy_store.hpp"
#include "zones/xfr_store.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_store.hpp"

namespace zones {
namespace {

using Action = PlanItem::Action;

// How addMembers is asked to name the i-th new member, so that its line can replace it.
const std::string kMemberMark = "new member #";

// A problem already worded "FILE:LINE: object: problem" (an inner object's), passed on as is.
struct Located : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A record as the zone compares it: owner, type and RDATA as DNS compares them (the TTL is
// the value that can change).
std::string rrKey(const Record& r) {
    auto rdata = ldnsw::canonicalRdata(r);
    return std::string(r.owner.key()) + '\0' + std::to_string(r.type) + '\0' +
           std::string(rdata.begin(), rdata.end());
}

// "www.example.com. 60 IN A 192.0.2.1": the record as plan prints it (one line, no tabs).
std::string rrText(const Record& r) {
    return r.owner.toText() + " " + std::to_string(r.ttl) + " IN " + rrTypeToText(r.type) + " " +
           formatRdata(r, false);
}

std::string endpointText(const std::string& address, int port) {
    bool v6 = address.find(':') != std::string::npos;
    return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

std::string secondaryText(const ConfigSecondary& s) {
    return endpointText(s.address, s.port) + (s.key.empty() ? " (unsigned" : " (key " + s.key) +
           (s.notify ? ")" : ", no NOTIFY)");
}

// "ttl: 30 -> 60" for each setting that differs (`skip` keys are not compared).
std::vector<std::string> fieldChanges(const std::vector<ConfigField>& was,
                                      const std::vector<ConfigField>& is,
                                      const std::set<std::string>& skip = {}) {
    std::vector<std::string> out;
    for (size_t i = 0; i < was.size() && i < is.size(); ++i) {
        if (skip.count(was[i].key) || was[i] == is[i]) continue;
        auto shown = [](const ConfigField& f) { return f.text.empty() ? "(none)" : f.text; };
        out.push_back(was[i].key + ": " + shown(was[i]) + " -> " + shown(is[i]));
    }
    return out;
}

std::string memberText(const ConfigMember& m) {
    std::string s = m.value + " (";
    auto fields = memberFields(m);
    for (size_t i = 0; i < fields.size(); ++i)
        s += (i ? ", " : "") + fields[i].key + " " + fields[i].text;
    return s + ")";
}

class Applier {
  public:
    Applier(SQLite::Database& db, const Config& desired, bool prune, KeyFileTransaction& files)
        : db_(db), want_(desired), prune_(prune), files_(files), have_(readConfig(db)) {}

    ConfigPlan run() {
        checkPrune();
        keys();
        zones();
        probes();
        if (prune_) prunePools();
        pools();
        if (prune_) {
            pruneProbes();
            pruneZones();
            pruneKeys();
        }
        listKept();
        return std::move(plan_);
    }

  private:
    std::string where(int line) const {
        return want_.source + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": ";
    }

    // Runs one object's writes; any problem becomes "FILE:LINE: object: problem".
    template <typename F>
    void at(int line, const std::string& object, F&& body) {
        try {
            body();
        } catch (const Located&) {
            throw;
        } catch (const std::exception& e) {
            throw Located(where(line) + object + ": " + e.what());
        }
    }

    void add(Action action, std::string object, std::vector<std::string> details = {}) {
        plan_.items.push_back({action, std::move(object), std::move(details)});
    }

    void keep(const std::string& object) { add(Action::Keep, object); }

    // --prune removes what the file leaves out: a pool of the file must not live in such a
    // zone, nor a member use such a probe.
    void checkPrune() {
        if (!prune_) return;
        for (const auto& p : want_.pools) {
            auto owner = Name::fromText(p.def.owner);
            bool inside = false;
            for (const auto& z : want_.zones)
                if (owner && owner->isSubdomainOf(z.apex) &&
                    (p.def.zone.empty() || z.apex.toText() == p.def.zone))
                    inside = true;
            if (!inside)
                throw std::runtime_error(where(p.line) + "pool " + p.def.name + ": " + p.def.owner +
                                         " is in no zone of the file, and --prune removes the "
                                         "zones the file leaves out");
            for (const auto& m : p.members)
                for (const auto& probe : m.probes)
                    if (std::none_of(want_.probes.begin(), want_.probes.end(),
                                     [&](const ConfigProbe& c) { return c.def.name == probe; }))
                        throw std::runtime_error(
                            where(m.line) + "pool " + p.def.name + ", member " + m.value +
                            ": probe " + probe +
                            " is not in the file, and --prune removes the probes the file "
                            "leaves out");
        }
    }

    void keys() {
        XfrStore xfr(db_);
        for (const auto& k : want_.keys) {
            std::string object = "key " + k.name;
            at(k.line, object, [&] {
                const ConfigKey* cur = nullptr;
                for (const auto& h : have_.keys)
                    if (h.name == k.name) cur = &h;
                if (!cur) {
                    if (!k.secret)
                        throw std::runtime_error(
                            "no such key in the database: give its secret-file, or add it with "
                            "dnsctl tsig add");
                    std::string alg = k.algorithm.empty() ? "hmac-sha256" : k.algorithm;
                    auto row = xfr.addKey(k.name, alg, *k.secret);
                    add(Action::Add, object,
                        {"algorithm " + row.algorithm + ", secret from " + k.secretFile});
                    return;
                }
                std::vector<std::string> details;
                std::string alg = k.algorithm.empty() ? cur->algorithm : k.algorithm;
                if (alg != cur->algorithm)
                    details.push_back("algorithm: " + cur->algorithm + " -> " + alg);
                if (k.secret && *k.secret != *cur->secret)
                    details.push_back("secret: replaced by the one in " + k.secretFile);
                if (details.empty()) return;
                xfr.setKey(k.name, alg, k.secret ? *k.secret : *cur->secret);
                add(Action::Change, object, std::move(details));
            });
        }
    }

    void zones() {
        for (const auto& z : want_.zones) {
            std::string object = "zone " + z.apex.toText();
            at(z.line, object, [&] {
                const ConfigZone* cur = nullptr;
                for (const auto& h : have_.zones)
                    if (h.apex == z.apex) cur = &h;
                if (!cur) {
                    addZone(z, object);
                    return;
                }
                std::vector<std::string> details = changeRecords(*cur, z);
                if (cur->journalMaxEntries != z.journalMaxEntries ||
                    cur->journalMaxAgeMs != z.journalMaxAgeMs) {
                    setBounds(z);
                    if (cur->journalMaxEntries != z.journalMaxEntries)
                        details.push_back(
                            "journal max-entries: " + std::to_string(cur->journalMaxEntries) +
                            " -> " + std::to_string(z.journalMaxEntries));
                    if (cur->journalMaxAgeMs != z.journalMaxAgeMs)
                        details.push_back(
                            "journal max-age: " + formatDurationMs(cur->journalMaxAgeMs) + " -> " +
                            formatDurationMs(z.journalMaxAgeMs));
                }
                auto more = secondaries(cur->secondaries, z);
                details.insert(details.end(), more.begin(), more.end());
                more = policies(cur->updatePolicies, z);
                details.insert(details.end(), more.begin(), more.end());
                more = dnssec(cur->dnssec, z);
                details.insert(details.end(), more.begin(), more.end());
                if (!details.empty()) add(Action::Change, object, std::move(details));
            });
        }
    }

    void addZone(const ConfigZone& z, const std::string& object) {
        ZoneStore(db_).importZone(z.apex, z.records, false,
                                  z.zoneFile.empty() ? want_.source : z.zoneFile);
        ConfigZone defaults;
        if (z.journalMaxEntries != defaults.journalMaxEntries ||
            z.journalMaxAgeMs != defaults.journalMaxAgeMs)
            setBounds(z);
        std::vector<std::string> details = {std::to_string(z.records.size()) + " records" +
                                            (z.zoneFile.empty() ? "" : " from " + z.zoneFile)};
        auto more = secondaries({}, z);
        details.insert(details.end(), more.begin(), more.end());
        more = policies({}, z);
        details.insert(details.end(), more.begin(), more.end());
        more = dnssec(std::nullopt, z);
        details.insert(details.end(), more.begin(), more.end());
        add(Action::Add, object, std::move(details));
    }

    // The zone's update policies made equal to the file's (a policy is its key, pattern and
    // types: one that differs in any is another policy).
    std::vector<std::string> policies(const std::vector<ConfigUpdatePolicy>& have,
                                      const ConfigZone& z) {
        UpdatePolicyStore store(db_);
        std::vector<std::string> details;
        std::set<std::string> wanted, had;
        for (const auto& p : z.updatePolicies) wanted.insert(p.text());
        for (const auto& h : have) {
            had.insert(h.text());
            if (wanted.count(h.text())) continue;
            store.remove(h.id);
            details.push_back("- update-policy " + h.text());
        }
        for (const auto& p : z.updatePolicies) {
            if (had.count(p.text())) continue;
            try {
                store.add(z.apex.toText(), p.key, p.name, p.types);
            } catch (const std::exception& e) {
                throw Located(where(p.line) + "zone " + z.apex.toText() + " update-policy " +
                              p.text() + ": " + e.what());
            }
            details.push_back("+ update-policy " + p.text());
        }
        return details;
    }

    // The zone's DNSSEC made what the file says, through the code of `dnsctl dnssec
    // enable|set|disable` (zones/dnssec_zone_admin).
    std::vector<std::string> dnssec(const std::optional<ConfigDnssec>& have, const ConfigZone& z) {
        std::vector<std::string> details;
        const std::string name = z.apex.toText();
        const int64_t now = nowMs();
        auto zoneId = [&] {
            auto info = ZoneStore(db_).findZone(z.apex);
            if (!info) throw std::runtime_error("zone vanished while being written");
            return info->id;
        };
        if (!z.dnssec) {
            if (!have || have->unsigning) return details;
            auto before = DnssecMaintenance::read(db_, zoneId());
            if (!before) return details;
            auto step = startUnsigning(db_, *before, files_, now);
            details.push_back(
                "dnssec: signed -> going insecure (CDS/CDNSKEY delete published, "
                "still signed). Remove the DS at the registrar, then run `dnsctl "
                "dnssec disable " +
                name + " --ds-removed`");
            return details;
        }
        const DnssecZoneRow& want = z.dnssec->settings;
        auto at = [&](const std::string& what) {
            return where(z.dnssec->line) + "zone " + name + " dnssec: " + what;
        };
        if (!have) {
            try {
                enableDnssec(db_, zoneId(), name, want.algorithm, files_, now, &want);
            } catch (const std::exception& e) {
                throw Located(at(e.what()));
            }
            std::string fields;
            for (const auto& f : dnssecFields(want))
                fields += (fields.empty() ? "" : ", ") + f.key + " " + f.text;
            details.push_back("+ dnssec: signed (" + fields + ")");
            details.push_back(
                "  a new KSK and ZSK are made; then hand the DS to the parent: "
                "`dnsctl dnssec ds " +
                name + "`");
            return details;
        }
        if (have->settings.algorithm != want.algorithm)
            throw Located(at("algorithm: the zone is signed with " +
                             dnssecAlgorithmName(have->settings.algorithm) +
                             "; changing it is an algorithm rollover, which dnsd does not do "
                             "(unsign the zone in the safe order, then sign it again)"));
        if (have->unsigning) {
            enableDnssec(db_, zoneId(), name, want.algorithm, files_, now);
            details.push_back(
                "dnssec: going insecure -> signed (the CDS/CDNSKEY delete is "
                "withdrawn" +
                std::string(have->settings.dsRemovedAt
                                ? "; the DS was removed at the parent: hand it "
                                  "over again, `dnsctl dnssec ds " +
                                      name + "`)"
                                : ")"));
        }
        for (const auto& line :
             fieldChanges(dnssecFields(have->settings), dnssecFields(want), {"algorithm"}))
            details.push_back("dnssec " + line);
        bool timings = details.size() > (have->unsigning ? 1u : 0u);
        if (timings) {
            auto before = DnssecMaintenance::read(db_, zoneId());
            if (!before) throw std::runtime_error("zone not signed while being written");
            DnssecZoneState after = *before;
            DnssecZoneRow& row = after.zone;
            row.dnskeyTtl = want.dnskeyTtl;
            row.propagationDelay = want.propagationDelay;
            row.zskLifetime = want.zskLifetime;
            row.sigValidity = want.sigValidity;
            row.sigRefresh = want.sigRefresh;
            row.dsTtl = want.dsTtl;
            try {
                setDnssecTimings(db_, *before, after, files_, now);
            } catch (const std::exception& e) {
                throw Located(at(e.what()));
            }
        }
        return details;
    }

    void setBounds(const ConfigZone& z) {
        auto info = ZoneStore(db_).findZone(z.apex);
        if (!info) throw std::runtime_error("zone vanished while being written");
        Journal::setBounds(db_, info->id, z.journalMaxEntries, z.journalMaxAgeMs);
    }

    // The zone's records made equal to the file's, as one change (one serial step). The SOA
    // serial is dnsd's to move, so an SOA differing only in its serial is no change.
    std::vector<std::string> changeRecords(const ConfigZone& cur, const ConfigZone& z) {
        std::map<std::string, const Record*> have, want;
        const Record* haveSoa = nullptr;
        const Record* wantSoa = nullptr;
        for (const Record& r : cur.records) {
            if (r.type == rrtype::SOA && r.owner == cur.apex)
                haveSoa = &r;
            else
                have[rrKey(r)] = &r;
        }
        for (const Record& r : z.records) {
            if (r.type == rrtype::SOA && r.owner == z.apex)
                wantSoa = &r;
            else
                want[rrKey(r)] = &r;
        }
        std::vector<Record> removed, added;
        std::vector<std::string> details;
        if (haveSoa && wantSoa) {
            Record same = *wantSoa;
            if (auto serial = ZoneStore::soaSerial(haveSoa->rdata);
                serial && same.rdata.size() >= 22) {
                size_t at = same.rdata.size() - 20;
                for (int i = 0; i < 4; ++i)
                    same.rdata[at + size_t(i)] = uint8_t(*serial >> (24 - 8 * i));
            }
            if (rrKey(same) != rrKey(*haveSoa) || same.ttl != haveSoa->ttl) {
                removed.push_back(*haveSoa);
                added.push_back(*wantSoa);
                details.push_back("- " + rrText(*haveSoa));
                details.push_back("+ " + rrText(*wantSoa) +
                                  " (serial: the zone's + 1 unless ahead)");
            }
        }
        for (const auto& [key, r] : have) {
            auto it = want.find(key);
            if (it != want.end() && it->second->ttl == r->ttl) continue;
            removed.push_back(*r);
            details.push_back("- " + rrText(*r));
        }
        for (const auto& [key, r] : want) {
            auto it = have.find(key);
            if (it != have.end() && it->second->ttl == r->ttl) continue;
            added.push_back(*r);
            details.push_back("+ " + rrText(*r));
        }
        ZoneStore(db_).changeRecords(z.apex, removed, added);
        return details;
    }

    std::vector<std::string> secondaries(const std::vector<ConfigSecondary>& have,
                                         const ConfigZone& z) {
        XfrStore xfr(db_);
        std::vector<std::string> details;
        std::string zone = z.apex.toText();
        auto same = [](const ConfigSecondary& a, const ConfigSecondary& b) {
            return a.address == b.address && a.port == b.port;
        };
        for (const auto& h : have) {
            auto it = std::find_if(z.secondaries.begin(), z.secondaries.end(),
                                   [&](const ConfigSecondary& s) { return same(s, h); });
            if (it != z.secondaries.end() && it->key == h.key && it->notify == h.notify) continue;
            xfr.deleteSecondary(zone, h.address, h.port);
            if (it == z.secondaries.end()) details.push_back("- secondary " + secondaryText(h));
        }
        for (const auto& s : z.secondaries) {
            auto it = std::find_if(have.begin(), have.end(),
                                   [&](const ConfigSecondary& h) { return same(s, h); });
            if (it != have.end() && it->key == s.key && it->notify == s.notify) continue;
            try {
                xfr.addSecondary(zone, s.address, s.port, s.key, s.notify);
            } catch (const std::exception& e) {
                throw Located(where(s.line) + "zone " + zone + " secondary " +
                              endpointText(s.address, s.port) + ": " + e.what());
            }
            if (it == have.end())
                details.push_back("+ secondary " + secondaryText(s));
            else
                details.push_back("~ secondary " + secondaryText(*it) + " -> " + secondaryText(s));
        }
        return details;
    }

    void probes() {
        ProbeStore store(db_);
        for (const auto& p : want_.probes) {
            std::string object = "probe " + p.def.name;
            at(p.line, object, [&] {
                const ConfigProbe* cur = nullptr;
                for (const auto& h : have_.probes)
                    if (h.def.name == p.def.name) cur = &h;
                if (!cur) {
                    store.create(p.def);
                    std::vector<std::string> details;
                    for (const auto& f : probeFieldsStated(p.def))
                        details.push_back(f.key + ": " + f.text);
                    add(Action::Add, object, std::move(details));
                    return;
                }
                auto details = fieldChanges(probeFields(cur->def), probeFields(p.def));
                if (details.empty()) return;
                ProbeDef def = p.def;
                def.id = cur->def.id;
                store.update(def);
                add(Action::Change, object, std::move(details));
            });
        }
    }

    const ConfigPool* currentPool(const std::string& name) const {
        for (const auto& h : have_.pools)
            if (h.def.name == name) return &h;
        return nullptr;
    }

    void pools() {
        PoolStore store(db_);
        for (const auto& p : want_.pools) {
            std::string object = "pool " + p.def.name;
            at(p.line, object, [&] {
                const ConfigPool* cur = currentPool(p.def.name);
                if (!cur) {
                    auto details = createPool(store, p);
                    add(Action::Add, object, std::move(details));
                    return;
                }
                auto was = poolFields(cur->def), is = poolFields(p.def);
                std::set<std::string> binding = {"zone", "name", "type"};
                std::set<std::string> skip = {};
                if (p.def.zone.empty()) skip.insert("zone");  // the file lets the owner decide
                std::vector<std::string> moved;
                for (const auto& line : fieldChanges(was, is, skip))
                    if (binding.count(line.substr(0, line.find(':')))) moved.push_back(line);
                if (!moved.empty()) {
                    store.deletePool(p.def.name);
                    auto details = createPool(store, p);
                    moved.push_back("(a new pool: its members start again with unknown health)");
                    moved.insert(moved.end(), details.begin(), details.end());
                    add(Action::Replace, object, std::move(moved));
                    return;
                }
                for (const auto& b : binding) skip.insert(b);
                auto details = fieldChanges(was, is, skip);
                PoolDef def = p.def;
                def.id = cur->def.id;
                def.zoneId = cur->def.zoneId;
                def.zone = cur->def.zone;
                def.owner = cur->def.owner;
                if (!details.empty()) store.updatePool(def);
                auto more = members(store, def, cur->members, p);
                details.insert(details.end(), more.begin(), more.end());
                if (!details.empty()) add(Action::Change, object, std::move(details));
            });
        }
    }

    std::vector<std::string> createPool(PoolStore& store, const ConfigPool& p) {
        PoolDef def = p.def;
        store.createPool(def, def.zone, def.owner);
        std::vector<std::string> details;
        for (const auto& f : poolFields(def))
            if (!f.text.empty()) details.push_back(f.key + ": " + f.text);
        auto more = members(store, def, {}, p);
        details.insert(details.end(), more.begin(), more.end());
        return details;
    }

    // The pool's members made equal to the file's. New members go in through addMembers (one
    // prepared statement per table: 10,000 members stay well under a second).
    std::vector<std::string> members(PoolStore& store, const PoolDef& pool,
                                     const std::vector<ConfigMember>& have, const ConfigPool& p) {
        std::vector<std::string> details;
        std::map<std::string, const ConfigMember*> had, wanted;
        for (const auto& h : have) had[h.value] = &h;
        for (const auto& m : p.members) wanted[m.value] = &m;
        for (const auto& h : have) {
            if (wanted.count(h.value)) continue;
            store.removeMember(pool, h.value);
            details.push_back("- member " + h.value);
        }
        std::vector<MemberDef> fresh;
        std::vector<const ConfigMember*> freshFrom;
        for (const auto& m : p.members) {
            auto it = had.find(m.value);
            if (it == had.end()) {
                MemberDef def;
                def.value = m.value;
                def.priority = m.priority;
                def.weight = m.weight;
                def.probes = m.probes;
                fresh.push_back(std::move(def));
                freshFrom.push_back(&m);
                details.push_back("+ member " + memberText(m));
                continue;
            }
            auto changes = fieldChanges(memberFields(*it->second), memberFields(m));
            if (changes.empty()) continue;
            std::string text;
            for (const auto& c : changes) text += (text.empty() ? "" : ", ") + c;
            try {
                // Only the settings the file owns change: drain, force and health stay.
                auto def = store.findMember(pool, m.value);
                if (!def) throw std::runtime_error("member vanished while being written");
                def->priority = m.priority;
                def->weight = m.weight;
                def->probes = m.probes;
                store.updateMember(pool, *def, "admin-member-set",
                                   "member " + m.value + " of pool " + pool.name + ": " + text +
                                       " (dnsctl apply)");
            } catch (const std::exception& e) {
                throw Located(where(m.line) + "pool " + pool.name + ", member " + m.value + ": " +
                              e.what());
            }
            details.push_back("~ member " + m.value + ": " + text);
        }
        if (!fresh.empty()) {
            try {
                store.addMembers(pool, fresh,
                                 [&](size_t i) { return kMemberMark + std::to_string(i); });
            } catch (const std::exception& e) {
                // addMembers names a bad member by its index in `fresh`: name its line instead.
                std::string what = e.what();
                size_t colon = what.find(": ");
                if (what.rfind(kMemberMark, 0) != 0 || colon == std::string::npos) throw;
                size_t i = size_t(std::atoll(what.c_str() + kMemberMark.size()));
                if (i >= fresh.size()) throw;
                const ConfigMember& m = *freshFrom[i];
                throw Located(where(m.line) + "pool " + pool.name + ", member " + m.value + ": " +
                              what.substr(colon + 2));
            }
        }
        return details;
    }

    void prunePools() {
        for (const auto& h : have_.pools) {
            bool listed =
                std::any_of(want_.pools.begin(), want_.pools.end(),
                            [&](const ConfigPool& p) { return p.def.name == h.def.name; });
            if (listed) continue;
            PoolStore(db_).deletePool(h.def.name);
            add(Action::Remove, "pool " + h.def.name,
                {std::to_string(h.members.size()) + " members"});
        }
    }

    void pruneProbes() {
        for (const auto& h : have_.probes) {
            bool listed =
                std::any_of(want_.probes.begin(), want_.probes.end(),
                            [&](const ConfigProbe& p) { return p.def.name == h.def.name; });
            if (listed) continue;
            ProbeStore(db_).remove(h.def.name);
            add(Action::Remove, "probe " + h.def.name);
        }
    }

    void pruneZones() {
        for (const auto& h : have_.zones) {
            bool listed = std::any_of(want_.zones.begin(), want_.zones.end(),
                                      [&](const ConfigZone& z) { return z.apex == h.apex; });
            if (listed) continue;
            std::vector<std::string> details = {std::to_string(h.records.size()) + " records, " +
                                                std::to_string(h.secondaries.size()) +
                                                " secondaries"};
            if (h.dnssec) {
                // The rows go with the zone (ON DELETE CASCADE); the key files after the commit.
                if (auto info = ZoneStore(db_).findZone(h.apex))
                    for (const auto& k : DnssecKeyStore(db_).keys(info->id))
                        files_.removeOnCommit(k.privateFile);
                details.push_back(
                    "signed: its DNSSEC keys are deleted with it (a DS at the "
                    "parent would make validators fail the zone)");
            }
            ZoneStore(db_).deleteZone(h.apex);
            add(Action::Remove, "zone " + h.apex.toText(), std::move(details));
        }
    }

    void pruneKeys() {
        for (const auto& h : have_.keys) {
            bool listed = std::any_of(want_.keys.begin(), want_.keys.end(),
                                      [&](const ConfigKey& k) { return k.name == h.name; });
            if (listed) continue;
            try {
                XfrStore(db_).deleteKey(h.name);
            } catch (const std::exception& e) {
                throw std::runtime_error(where(0) + "key " + h.name + ": " + e.what());
            }
            add(Action::Remove, "key " + h.name);
        }
    }

    // Objects of the database the file does not mention, without --prune.
    void listKept() {
        if (prune_) return;
        for (const auto& h : have_.keys)
            if (std::none_of(want_.keys.begin(), want_.keys.end(),
                             [&](const ConfigKey& k) { return k.name == h.name; }))
                keep("key " + h.name);
        for (const auto& h : have_.zones)
            if (std::none_of(want_.zones.begin(), want_.zones.end(),
                             [&](const ConfigZone& z) { return z.apex == h.apex; }))
                keep("zone " + h.apex.toText());
        for (const auto& h : have_.probes)
            if (std::none_of(want_.probes.begin(), want_.probes.end(),
                             [&](const ConfigProbe& p) { return p.def.name == h.def.name; }))
                keep("probe " + h.def.name);
        for (const auto& h : have_.pools)
            if (std::none_of(want_.pools.begin(), want_.pools.end(),
                             [&](const ConfigPool& p) { return p.def.name == h.def.name; }))
                keep("pool " + h.def.name);
    }

    SQLite::Database& db_;
    const Config& want_;
    bool prune_;
    KeyFileTransaction& files_;
    Config have_;
    ConfigPlan plan_;
};

}  // namespace

int ConfigPlan::count(PlanItem::Action action) const {
    return int(std::count_if(items.begin(), items.end(),
                             [&](const PlanItem& i) { return i.action == action; }));
}

bool ConfigPlan::hasChanges() const {
    return std::any_of(items.begin(), items.end(),
                       [](const PlanItem& i) { return i.action != Action::Keep; });
}

std::string ConfigPlan::text() const {
    std::string out;
    for (const auto& item : items) {
        switch (item.action) {
            case Action::Add:
                out += "+ " + item.object + "\n";
                break;
            case Action::Change:
                out += "~ " + item.object + "\n";
                break;
            case Action::Replace:
                out += "-/+ " + item.object + " (replaced)\n";
                break;
            case Action::Remove:
                out += "- " + item.object + "\n";
                break;
            case Action::Keep:
                out += "= " + item.object +
                       " (not in the file: left alone; apply --prune would remove it)\n";
                break;
        }
        for (const auto& d : item.details) out += "    " + d + "\n";
    }
    int kept = count(Action::Keep);
    if (!hasChanges()) {
        out += "no changes";
    } else {
        out += std::to_string(count(Action::Add)) + " to add, " +
               std::to_string(count(Action::Change) + count(Action::Replace)) + " to change, " +
               std::to_string(count(Action::Remove)) + " to remove";
    }
    if (kept) out += "; " + std::to_string(kept) + " not in the file left alone";
    return out + "\n";
}

ConfigPlan applyConfig(SQLite::Database& db, const Config& desired, bool prune,
                       KeyFileTransaction& keyFiles) {
    return Applier(db, desired, prune, keyFiles).run();
}

}  // namespace zones
