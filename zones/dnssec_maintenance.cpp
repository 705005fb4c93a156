#include "zones/dnssec_maintenance.hpp"

#include <SQLiteCpp/Transaction.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "zones/dnssec_key_material.hpp"
#include "zones/event_writer.hpp"
#include "zones/schema.hpp"

namespace zones {
namespace {

constexpr int64_t kMs = 1000;

std::string tagText(uint16_t tag) {
    return std::to_string(tag);
}

// The steps of one zone are few; a bound only guards against a bug looping for ever.
constexpr int kMaxStepsPerRun = 16;

DnssecKeyRow* findKey(DnssecZoneState& s, int64_t id, uint16_t tag) {
    for (DnssecKeyRow& k : s.keys)
        if ((id != 0 && k.id == id) || (id == 0 && k.id == 0 && k.tag == tag)) return &k;
    return nullptr;
}

std::vector<uint16_t> tagsOf(const DnssecZoneState& s) {
    std::vector<uint16_t> out;
    for (const DnssecKeyRow& k : s.keys) out.push_back(k.tag);
    return out;
}

}  // namespace

std::string dnssecTimeText(int64_t ms) {
    std::time_t t = std::time_t(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::string dnssecDurationText(int64_t seconds) {
    if (seconds == 0) return "0s";
    std::string out;
    for (auto [unit, size] : {std::pair{"d", int64_t(86400)}, {"h", 3600}, {"m", 60}, {"s", 1}}) {
        if (seconds >= size) {
            out += std::to_string(seconds / size) + unit;
            seconds %= size;
        }
    }
    return out;
}

std::string DnssecStep::eventKind() const {
    switch (kind) {
        case DnssecStepKind::RefreshSignatures:
            return "dnssec-refresh";
        case DnssecStepKind::PublishZsk:
            return "dnssec-zsk-publish";
        case DnssecStepKind::ActivateZsk:
            return "dnssec-zsk-activate";
        case DnssecStepKind::RemoveKey:
            return "dnssec-key-remove";
        case DnssecStepKind::FinishUnsigning:
            return "dnssec-unsigned";
    }
    return "dnssec";
}

std::optional<DnssecStep> DnssecMaintenance::nextStep(const DnssecZoneState& s) {
    auto all = schedule(s);
    if (all.empty()) return std::nullopt;
    return all.front();
}

std::vector<DnssecStep> DnssecMaintenance::schedule(const DnssecZoneState& s) {
    const DnssecZoneRow& z = s.zone;
    const int64_t rollWait = int64_t(z.dnskeyTtl) + z.propagationDelay;
    std::vector<DnssecStep> steps;
    auto offer = [&](DnssecStep step) { steps.push_back(std::move(step)); };
    if (z.unsigning && z.dsRemovedAt)
        offer({DnssecStepKind::FinishUnsigning,
               *z.dsRemovedAt + (int64_t(z.dsTtl) + z.propagationDelay) * kMs, 0, 0,
               "go insecure: the DS removed at " + dnssecTimeText(*z.dsRemovedAt) +
                   " has left every cache (DS TTL " + dnssecDurationText(z.dsTtl) +
                   " + propagation delay " + dnssecDurationText(z.propagationDelay) + ")"});
    offer({DnssecStepKind::RefreshSignatures,
           (z.sigEpoch + int64_t(z.sigValidity) - z.sigRefresh) * kMs, 0, 0,
           "renew signatures: " + dnssecDurationText(z.sigRefresh) +
               " of their validity left (they expire at " +
               dnssecTimeText((z.sigEpoch + int64_t(z.sigValidity)) * kMs) + ")"});
    const DnssecKeyRow* newestActiveZsk = nullptr;
    bool zskPublished = false;
    for (const DnssecKeyRow& k : s.keys) {
        if (k.state == "retired" && k.removeAt)
            offer({DnssecStepKind::RemoveKey, *k.removeAt, k.id, k.tag,
                   std::string("remove ") + (k.ksk ? "KSK " : "ZSK ") + tagText(k.tag) +
                       ": retired at " + dnssecTimeText(k.retiredAt.value_or(0)) +
                       (k.ksk ? ", its DS has left every cache"
                              : ", no cache holds its signatures any more")});
        if (!k.ksk && k.state == "published") {
            zskPublished = true;
            offer({DnssecStepKind::ActivateZsk, k.publishedAt.value_or(0) + rollWait * kMs, k.id,
                   k.tag,
                   "ZSK " + tagText(k.tag) + " starts signing: published at " +
                       dnssecTimeText(k.publishedAt.value_or(0)) +
                       ", now in every cache (DNSKEY TTL + propagation delay)"});
        }
        if (!k.ksk && k.state == "active" &&
            (!newestActiveZsk || k.activeAt.value_or(0) > newestActiveZsk->activeAt.value_or(0)))
            newestActiveZsk = &k;
    }
    if (!z.unsigning && !zskPublished && newestActiveZsk) {
        int64_t activeAt = newestActiveZsk->activeAt.value_or(newestActiveZsk->createdAt);
        int64_t lead = std::max<int64_t>(0, int64_t(z.zskLifetime) - rollWait);
        offer({DnssecStepKind::PublishZsk, activeAt + lead * kMs, 0, 0,
               "publish a new ZSK: ZSK " + tagText(newestActiveZsk->tag) +
                   " reaches its lifetime of " + dnssecDurationText(z.zskLifetime) + " at " +
                   dnssecTimeText(activeAt + int64_t(z.zskLifetime) * kMs)});
    }
    // Earliest first; at one time, in the order offered (going insecure first).
    std::stable_sort(steps.begin(), steps.end(),
                     [](const DnssecStep& a, const DnssecStep& b) { return a.at < b.at; });
    return steps;
}

std::vector<std::string> DnssecMaintenance::waitingFor(const DnssecZoneState& s) {
    std::vector<std::string> out;
    const std::string& zone = s.zone.zone;
    if (s.zone.unsigning && !s.zone.dsRemovedAt)
        out.push_back("the DS to be removed at the registrar, then `dnsctl dnssec disable " + zone +
                      " --ds-removed`");
    const DnssecKeyRow* incoming = nullptr;
    bool leaving = false;
    for (const DnssecKeyRow& k : s.keys) {
        if (k.ksk && k.cds && k.state == "active") incoming = &k;
        leaving = leaving || (k.ksk && k.state == "leaving");
    }
    if (incoming && leaving)
        out.push_back("KSK roll: the parent to publish the DS of KSK " + tagText(incoming->tag) +
                      " (hand it over from " + dnssecTimeText(kskReadyAt(s, *incoming)) +
                      " on: `dnsctl dnssec ds " + zone + "`), then `dnsctl dnssec ds-seen " + zone +
                      "`");
    else if (incoming && !incoming->dsSeenAt && !s.zone.unsigning)
        out.push_back("the parent's DS of KSK " + tagText(incoming->tag) +
                      " is not confirmed: hand it over (`dnsctl dnssec ds " + zone +
                      "`), then `dnsctl dnssec ds-seen " + zone + "`");
    return out;
}

void DnssecMaintenance::apply(DnssecZoneState& s, const DnssecStep& step, int64_t now,
                              const NewDnssecKey* material) {
    DnssecZoneRow& z = s.zone;
    switch (step.kind) {
        case DnssecStepKind::RefreshSignatures:
            z.sigEpoch = now / kMs;
            break;
        case DnssecStepKind::PublishZsk: {
            if (!material) throw std::logic_error("PublishZsk needs the new key");
            DnssecKeyRow k;
            k.zoneId = z.zoneId;
            k.ksk = false;
            k.algorithm = material->algorithm;
            k.tag = material->tag;
            k.publicKey = material->publicKey;
            k.privateFile = material->privateFile;
            k.state = "published";
            k.publish = true;
            k.createdAt = now;
            k.publishedAt = now;
            s.keys.push_back(std::move(k));
            break;
        }
        case DnssecStepKind::ActivateZsk: {
            DnssecKeyRow* incoming = findKey(s, step.keyId, step.tag);
            if (!incoming) throw std::logic_error("ActivateZsk: no such key");
            for (DnssecKeyRow& k : s.keys) {
                if (k.ksk || k.state != "active") continue;
                k.state = "retired";
                k.sign = false;
                k.retiredAt = now;
                k.removeAt = now + (int64_t(s.maxTtl) + z.propagationDelay) * kMs;
            }
            incoming->state = "active";
            incoming->sign = true;
            incoming->activeAt = now;
            break;
        }
        case DnssecStepKind::RemoveKey: {
            auto it = std::find_if(s.keys.begin(), s.keys.end(), [&](const DnssecKeyRow& k) {
                return k.id == step.keyId && k.tag == step.tag;
            });
            if (it != s.keys.end()) s.keys.erase(it);
            break;
        }
        case DnssecStepKind::FinishUnsigning:
            s.removed = true;
            break;
    }
    z.updatedAt = now;
}

void DnssecMaintenance::startZskRoll(DnssecZoneState& s, int64_t now, const NewDnssecKey& key) {
    if (s.zone.unsigning)
        throw std::runtime_error("zone " + s.zone.zone +
                                 " is going insecure (dnssec disable): no key rolls");
    for (const DnssecKeyRow& k : s.keys)
        if (!k.ksk && k.state == "published")
            throw std::runtime_error(
                "a ZSK roll is already under way in " + s.zone.zone + ": ZSK " + tagText(k.tag) +
                " starts signing at " +
                dnssecTimeText(k.publishedAt.value_or(0) +
                               (int64_t(s.zone.dnskeyTtl) + s.zone.propagationDelay) * kMs));
    DnssecStep step{DnssecStepKind::PublishZsk, now, 0, key.tag, "publish a new ZSK (roll)"};
    apply(s, step, now, &key);
}

void DnssecMaintenance::startKskRoll(DnssecZoneState& s, int64_t now, const NewDnssecKey& key) {
    if (s.zone.unsigning)
        throw std::runtime_error("zone " + s.zone.zone +
                                 " is going insecure (dnssec disable): no key rolls");
    for (const DnssecKeyRow& k : s.keys)
        if (k.ksk && k.state == "leaving")
            throw std::runtime_error("a KSK roll is already under way in " + s.zone.zone +
                                     ": it waits for the parent's DS (`dnsctl dnssec ds-seen " +
                                     s.zone.zone + "`)");
    for (DnssecKeyRow& k : s.keys) {
        if (!k.ksk || k.state != "active") continue;
        // Keeps signing the DNSKEY RRset: validators still hold the parent's DS of this key.
        k.state = "leaving";
        k.cds = false;
    }
    DnssecKeyRow k;
    k.zoneId = s.zone.zoneId;
    k.ksk = true;
    k.algorithm = key.algorithm;
    k.tag = key.tag;
    k.publicKey = key.publicKey;
    k.privateFile = key.privateFile;
    k.state = "active";
    k.publish = k.sign = k.cds = true;
    k.createdAt = now;
    k.publishedAt = k.activeAt = now;
    s.keys.push_back(std::move(k));
    s.zone.updatedAt = now;
}

int64_t DnssecMaintenance::kskReadyAt(const DnssecZoneState& s, const DnssecKeyRow& ksk) {
    return ksk.publishedAt.value_or(ksk.createdAt) +
           (int64_t(s.zone.dnskeyTtl) + s.zone.propagationDelay) * kMs;
}

int64_t DnssecMaintenance::dsSeen(DnssecZoneState& s, int64_t now) {
    DnssecKeyRow* incoming = nullptr;
    bool leaving = false;
    for (DnssecKeyRow& k : s.keys) {
        if (k.ksk && k.cds && k.state == "active") incoming = &k;
        leaving = leaving || (k.ksk && k.state == "leaving");
    }
    if (s.zone.unsigning)
        throw std::runtime_error("zone " + s.zone.zone +
                                 " is going insecure: the DS should be removed, not confirmed");
    if (!incoming)
        throw std::runtime_error("zone " + s.zone.zone +
                                 " has no KSK whose DS the parent should have");
    if (!leaving && incoming->dsSeenAt)
        throw std::runtime_error(
            "nothing in " + s.zone.zone + " waits for the parent's DS: KSK " +
            tagText(incoming->tag) + " was confirmed at " + dnssecTimeText(*incoming->dsSeenAt) +
            " (start a KSK roll with `dnsctl dnssec roll " + s.zone.zone + " ksk`)");
    for (DnssecKeyRow& k : s.keys) {
        if (!k.ksk || k.state != "leaving") continue;
        // Still signs DNSKEY until removal: a validator may hold the old DS for ds_ttl.
        k.state = "retired";
        k.retiredAt = now;
        k.removeAt = now + (int64_t(s.zone.dsTtl) + s.zone.propagationDelay) * kMs;
    }
    incoming->dsSeenAt = now;
    s.zone.updatedAt = now;
    return kskReadyAt(s, *incoming);
}

std::optional<DnssecZoneState> DnssecMaintenance::read(SQLite::Database& db, int64_t zoneId) {
    DnssecKeyStore store(db);
    auto zone = store.zone(zoneId);
    if (!zone) return std::nullopt;
    DnssecZoneState s;
    s.zone = *zone;
    s.maxTtl = store.maxServedTtl(zoneId);
    s.keys = store.keys(zoneId);
    return s;
}

void DnssecMaintenance::save(SQLite::Database& db, const DnssecZoneState& before,
                             DnssecZoneState& after, KeyFileTransaction& files) {
    DnssecKeyStore store(db);
    if (after.removed) {
        for (const DnssecKeyRow& k : before.keys) files.removeOnCommit(k.privateFile);
        for (const DnssecKeyRow& k : after.keys) files.removeOnCommit(k.privateFile);
        store.deleteZone(after.zone.zoneId);
        DnssecKeyStore::markZoneChanged(db, after.zone.zoneId);
        return;
    }
    for (const DnssecKeyRow& old : before.keys) {
        bool kept = std::any_of(after.keys.begin(), after.keys.end(),
                                [&](const DnssecKeyRow& k) { return k.id == old.id; });
        if (kept) continue;
        store.deleteKey(old.id);
        files.removeOnCommit(old.privateFile);
    }
    for (DnssecKeyRow& k : after.keys) {
        if (k.id == 0)
            k.id = store.insertKey(k);
        else
            store.updateKey(k);
    }
    store.updateZone(after.zone);
    DnssecKeyStore::markZoneChanged(db, after.zone.zoneId);
}

bool DnssecMaintenance::anyDue(SQLite::Database& db, int64_t now) {
    if (!db.tableExists("dnssec_zones")) return false;
    for (const DnssecZoneRow& row : DnssecKeyStore(db).zones()) {
        auto s = read(db, row.zoneId);
        if (!s) continue;
        auto step = nextStep(*s);
        if (step && step->at <= now) return true;
    }
    return false;
}

DnssecMaintenance::RunResult DnssecMaintenance::run(SQLite::Database& db,
                                                    const std::string& databasePath, int64_t now) {
    RunResult result;
    // Looking first, without the write lock, keeps a minutely run from queueing writers.
    if (!anyDue(db, now)) return result;
    std::vector<Done>& done = result.steps;
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    KeyFileTransaction files(databasePath);
    EventWriter events(db);
    DnssecKeyStore store(db);
    for (const DnssecZoneRow& row : store.zones()) {
        auto before = read(db, row.zoneId);
        if (!before) continue;
        DnssecZoneState after = *before;
        size_t first = done.size();
        for (int i = 0; i < kMaxStepsPerRun && !after.removed; ++i) {
            auto step = nextStep(after);
            if (!step || step->at > now) break;
            std::optional<NewDnssecKey> key;
            if (step->kind == DnssecStepKind::PublishZsk) {
                key = files.create(after.zone.zone, after.zone.algorithm, false, tagsOf(after));
                step->tag = key->tag;
                step->what += " (new ZSK " + tagText(key->tag) + ")";
            }
            apply(after, *step, now, key ? &*key : nullptr);
            done.push_back({row.zone, *step});
        }
        if (done.size() == first) continue;
        save(db, *before, after, files);
        for (size_t i = first; i < done.size(); ++i) {
            const DnssecStep& step = done[i].step;
            nlohmann::ordered_json details = {{"zone", row.zone}};
            if (step.tag) details["tag"] = step.tag;
            events.write(
                {now, "", "", step.eventKind(), row.zone + ": " + step.what, details.dump()});
        }
    }
    if (done.empty()) return result;  // nothing written: the transaction rolls back empty
    tx.commit();
    result.warnings = files.committed();
    return result;
}

}  // namespace zones
