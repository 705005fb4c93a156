// zones::enableDnssec / setDnssecTimings / startUnsigning — the operator's DNSSEC changes of
// one zone, shared by `dnsctl dnssec enable|set|disable` and `dnsctl apply` (a zone's
// `dnssec:` in the configuration file), so that both make keys and move states the same way.
//
// Contract: each runs inside the caller's write transaction, writes the rows through
// DnssecMaintenance::save / DnssecKeyStore (serial advanced, journal restart, rebuild) and one
// event, and throws std::runtime_error with one sentence when the zone is not in a state to
// take the change (nothing written then; the caller rolls back). New key files go through the
// caller's KeyFileTransaction: written before the commit, deleted if it does not happen.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "zones/dnssec_key_store.hpp"
#include "zones/dnssec_maintenance.hpp"

namespace zones {

struct DnssecEnabled {
    bool withdrawn = false;     // the zone was going insecure: that is withdrawn, no new keys
    bool dsWasRemoved = false;  // withdrawn after `disable --ds-removed`: hand the DS over again
    uint16_t kskTag = 0, zskTag = 0;  // the new keys (not withdrawn)
};

// Signs the zone: a KSK and a ZSK of `algorithm`, both active, the KSK in CDS/CDNSKEY. On a
// zone going insecure it withdraws that instead. Throws if the zone is signed already.
// `timings` (if given) are the zone's settings from the start (algorithm, zoneId, dates are
// taken from the other arguments); they are checked as setDnssecTimings checks them.
DnssecEnabled enableDnssec(SQLite::Database& db, int64_t zoneId, const std::string& zone,
                           uint8_t algorithm, KeyFileTransaction& files, int64_t nowMs,
                           const DnssecZoneRow* timings = nullptr);

// Throws naming the problem if the timings cannot work (sig-refresh >= sig-validity, a ZSK
// lifetime not longer than dnskey-ttl + propagation-delay).
void checkDnssecTimings(const DnssecZoneRow& row);
// "dnskey-ttl 1h, propagation-delay 1h, zsk-lifetime 90d, ..."
std::string dnssecTimingsText(const DnssecZoneRow& row);

// Writes the timings of `after` (checked first) over `before`. Returns the event's message.
std::string setDnssecTimings(SQLite::Database& db, const DnssecZoneState& before,
                             DnssecZoneState& after, KeyFileTransaction& files, int64_t nowMs);

// Step 1 of going insecure (docs/dnssec.md): the zone stays signed and publishes CDS/CDNSKEY
// "delete". Returns what the operator does next; a zone already going insecure is left as it is
// (`changed` false).
struct DnssecUnsigning {
    bool changed = false;
    std::string message;
};
DnssecUnsigning startUnsigning(SQLite::Database& db, const DnssecZoneState& before,
                               KeyFileTransaction& files, int64_t nowMs);

// The event every DNSSEC change of a zone writes (kind dnssec-enable, dnssec-set, ...).
void writeDnssecEvent(SQLite::Database& db, int64_t nowMs, const std::string& kind,
                      const std::string& zone, const std::string& message,
                      nlohmann::ordered_json details = nlohmann::ordered_json::object());

}  // namespace zones
