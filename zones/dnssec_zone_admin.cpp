#include "zones/dnssec_zone_admin.hpp"

#include <stdexcept>

#include "zones/dnssec_key_material.hpp"
#include "zones/event_writer.hpp"

namespace zones {

void writeDnssecEvent(SQLite::Database& db, int64_t nowMs, const std::string& kind,
                      const std::string& zone, const std::string& message,
                      nlohmann::ordered_json details) {
    details["zone"] = zone;
    EventWriter(db).write({nowMs, "", "", kind, zone + ": " + message, details.dump()});
}

void checkDnssecTimings(const DnssecZoneRow& z) {
    if (z.sigRefresh >= z.sigValidity)
        throw std::runtime_error("sig-refresh (" + dnssecDurationText(z.sigRefresh) +
                                 ") must be shorter than sig-validity (" +
                                 dnssecDurationText(z.sigValidity) + ")");
    if (int64_t(z.zskLifetime) <= int64_t(z.dnskeyTtl) + z.propagationDelay)
        throw std::runtime_error("zsk-lifetime (" + dnssecDurationText(z.zskLifetime) +
                                 ") must be longer than dnskey-ttl + propagation-delay (" +
                                 dnssecDurationText(int64_t(z.dnskeyTtl) + z.propagationDelay) +
                                 "): a new ZSK needs that long in caches before it signs");
}

std::string dnssecTimingsText(const DnssecZoneRow& z) {
    return "dnskey-ttl " + dnssecDurationText(z.dnskeyTtl) + ", propagation-delay " +
           dnssecDurationText(z.propagationDelay) + ", zsk-lifetime " +
           dnssecDurationText(z.zskLifetime) + ", sig-validity " +
           dnssecDurationText(z.sigValidity) + ", sig-refresh " + dnssecDurationText(z.sigRefresh) +
           ", ds-ttl " + dnssecDurationText(z.dsTtl);
}

DnssecEnabled enableDnssec(SQLite::Database& db, int64_t zoneId, const std::string& zone,
                           uint8_t algorithm, KeyFileTransaction& files, int64_t nowMs,
                           const DnssecZoneRow* timings) {
    DnssecEnabled out;
    if (auto state = DnssecMaintenance::read(db, zoneId)) {
        if (!state->zone.unsigning)
            throw std::runtime_error(
                "zone " + zone + " is already signed (see `dnsctl dnssec status " + zone + "`)");
        DnssecZoneState after = *state;
        after.zone.unsigning = false;
        after.zone.unsigningAt.reset();
        after.zone.dsRemovedAt.reset();
        after.zone.updatedAt = nowMs;
        DnssecMaintenance::save(db, *state, after, files);
        writeDnssecEvent(db, nowMs, "dnssec-enable", zone,
                         "going insecure withdrawn: CDS/CDNSKEY name the KSK again");
        out.withdrawn = true;
        out.dsWasRemoved = state->zone.dsRemovedAt.has_value();
        return out;
    }
    DnssecZoneRow row;
    if (timings) {
        row = *timings;
        checkDnssecTimings(row);
    }
    NewDnssecKey ksk = files.create(zone, algorithm, true, {});
    NewDnssecKey zsk = files.create(zone, algorithm, false, {ksk.tag});
    row.zoneId = zoneId;
    row.zone = zone;
    row.unsigning = false;
    row.unsigningAt.reset();
    row.dsRemovedAt.reset();
    row.algorithm = algorithm;
    row.sigEpoch = nowMs / 1000;
    row.createdAt = row.updatedAt = nowMs;
    DnssecKeyStore store(db);
    store.insertZone(row);
    for (const auto* k : {&ksk, &zsk}) {
        DnssecKeyRow key;
        key.zoneId = zoneId;
        key.ksk = k == &ksk;
        key.algorithm = k->algorithm;
        key.tag = k->tag;
        key.publicKey = k->publicKey;
        key.privateFile = k->privateFile;
        key.state = "active";
        key.publish = key.sign = true;
        key.cds = key.ksk;
        key.createdAt = nowMs;
        key.publishedAt = key.activeAt = nowMs;
        store.insertKey(key);
    }
    DnssecKeyStore::markZoneChanged(db, zoneId);
    writeDnssecEvent(db, nowMs, "dnssec-enable", zone,
                     "signed with " + dnssecAlgorithmName(algorithm) + ": KSK " +
                         std::to_string(ksk.tag) + ", ZSK " + std::to_string(zsk.tag),
                     {{"ksk", ksk.tag}, {"zsk", zsk.tag}, {"algorithm", algorithm}});
    out.kskTag = ksk.tag;
    out.zskTag = zsk.tag;
    return out;
}

std::string setDnssecTimings(SQLite::Database& db, const DnssecZoneState& before,
                             DnssecZoneState& after, KeyFileTransaction& files, int64_t nowMs) {
    checkDnssecTimings(after.zone);
    after.zone.updatedAt = nowMs;
    DnssecMaintenance::save(db, before, after, files);
    std::string message = "timings: " + dnssecTimingsText(after.zone);
    writeDnssecEvent(db, nowMs, "dnssec-set", after.zone.zone, message);
    return message;
}

DnssecUnsigning startUnsigning(SQLite::Database& db, const DnssecZoneState& before,
                               KeyFileTransaction& files, int64_t nowMs) {
    const std::string& name = before.zone.zone;
    DnssecUnsigning out;
    if (before.zone.unsigning) {
        out.message = "zone " + name +
                      " is going insecure already. Remove the DS at the registrar, then run "
                      "`dnsctl dnssec disable " +
                      name + " --ds-removed`";
        return out;
    }
    DnssecZoneState after = before;
    after.zone.unsigning = true;
    after.zone.unsigningAt = nowMs;
    after.zone.updatedAt = nowMs;
    out.message = "zone " + name +
                  " now publishes CDS/CDNSKEY delete and stays signed. Remove the DS at the "
                  "registrar, then run `dnsctl dnssec disable " +
                  name + " --ds-removed`";
    DnssecMaintenance::save(db, before, after, files);
    writeDnssecEvent(db, nowMs, "dnssec-disable", name, out.message);
    out.changed = true;
    return out;
}

}  // namespace zones
