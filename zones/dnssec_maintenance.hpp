// zones::DnssecMaintenance — the DNSSEC key life cycle: ZSK rolls, signature refresh, KSK
// rolls and going insecure, as a pure state machine plus one function that applies it.
//
// Contract: the machine works on a DnssecZoneState (the rows of one zone) and a clock passed
// in; it never reads the time itself, so tests walk whole rollovers with an injected clock.
// Timings (seconds; RFC 6781 §4.1.1.1 pre-publish ZSK roll, RFC 7583 §3.2 terms):
//   publish a new ZSK   at active.activeAt + zsk_lifetime - (dnskey_ttl + propagation_delay)
//   it starts signing   at new.publishedAt + dnskey_ttl + propagation_delay
//                       (every cache holding our DNSKEY RRset has the new key by then), and
//                       the old ZSK stops signing (retired) at the same moment
//   old ZSK removed     at old.retiredAt + max served TTL + propagation_delay
//                       (no cache still holds an RRset whose only signature is the old key's)
//   signatures renewed  at sig_epoch + sig_validity - sig_refresh (sig_epoch := now)
//   KSK roll (command)  new KSK published, signing DNSKEY, CDS moved to it; the old one
//                       "leaving" keeps signing until `dsSeen`, then is removed at
//                       ds_seen + ds_ttl + propagation_delay (no cache holds the old DS)
//   insecure            after `disable --ds-removed`: removed at ds_removed + ds_ttl +
//                       propagation_delay (no validator still has the zone's DS cached)
// `run` applies every due step of every signed zone in one write transaction: rows updated,
// serial advanced (journal restart) and an event written per zone it changed; new ZSK files
// written before the commit and removed if it fails; retired keys' files deleted after it.
// Running it again at the same time does nothing.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zones/dnssec_key_store.hpp"

namespace zones {

struct DnssecZoneState {
    DnssecZoneRow zone;
    uint32_t maxTtl = 0;  // longest TTL the zone serves (DnssecKeyStore::maxServedTtl)
    std::vector<DnssecKeyRow> keys;
    bool removed = false;  // went insecure: rows and files to delete
};

enum class DnssecStepKind {
    RefreshSignatures,  // sig_epoch := now
    PublishZsk,         // a new ZSK in the DNSKEY RRset, not signing yet
    ActivateZsk,        // the published ZSK signs, the active one retires
    RemoveKey,          // a retired key leaves the DNSKEY RRset; its file is deleted
    FinishUnsigning,    // the DS is gone from caches: the zone is served unsigned
};

struct DnssecStep {
    DnssecStepKind kind = DnssecStepKind::RefreshSignatures;
    int64_t at = 0;     // ms: when it is due
    int64_t keyId = 0;  // the key it concerns (ActivateZsk: the new one), 0 if none/new
    uint16_t tag = 0;
    std::string what;  // for logs, events and status: "publish a new ZSK: ZSK 12345 ..."

    std::string eventKind() const;  // dnssec-refresh, dnssec-zsk-publish, ...
};

// "2026-12-02 07:10:00 UTC": every DNSSEC date shown to an operator (future dates included).
std::string dnssecTimeText(int64_t ms);
// "90d", "2h", "30s", "1d12h": a duration in seconds as the `dnssec set` flags take it.
std::string dnssecDurationText(int64_t seconds);

class DnssecMaintenance {
  public:
    // Every automatic step scheduled from this state (the next signature refresh, the next
    // ZSK publish or activation, each retired key's removal, going insecure), earliest first.
    static std::vector<DnssecStep> schedule(const DnssecZoneState& state);
    // The earliest of those, due or not; nullopt if none is scheduled.
    static std::optional<DnssecStep> nextStep(const DnssecZoneState& state);
    // What the zone waits for from the operator, one sentence each (empty: nothing).
    static std::vector<std::string> waitingFor(const DnssecZoneState& state);
    // Applies `step` at `nowMs`; PublishZsk takes the new key from `material`.
    static void apply(DnssecZoneState& state, const DnssecStep& step, int64_t nowMs,
                      const NewDnssecKey* material);

    // Operator actions, pure; each throws std::runtime_error with one sentence if the zone
    // is not in a state to take it.
    static void startZskRoll(DnssecZoneState& state, int64_t nowMs, const NewDnssecKey& key);
    static void startKskRoll(DnssecZoneState& state, int64_t nowMs, const NewDnssecKey& key);
    // The parent serves the DS of the new KSK: the leaving KSK retires (removed after ds_ttl +
    // propagation_delay). Returns the time from which the new KSK was in every cache (the DS
    // should not have gone up before it), for a warning if `nowMs` is earlier.
    static int64_t dsSeen(DnssecZoneState& state, int64_t nowMs);
    // When a new KSK's DNSKEY is in every cache: hand its DS to the parent from then on.
    static int64_t kskReadyAt(const DnssecZoneState& state, const DnssecKeyRow& ksk);

    struct Done {
        std::string zone;
        DnssecStep step;
    };
    struct RunResult {
        std::vector<Done> steps;
        std::vector<std::string> warnings;  // key files of removed keys left behind
    };
    // See the contract. `nowMs` is injected for tests; dnsd passes the clock. Takes the write
    // lock only when a step is due.
    static RunResult run(SQLite::Database& db, const std::string& databasePath, int64_t nowMs);

    // Whether any signed zone has a step due at `nowMs` (reads only).
    static bool anyDue(SQLite::Database& db, int64_t nowMs);
    // The rows of one signed zone (nullopt: not signed).
    static std::optional<DnssecZoneState> read(SQLite::Database& db, int64_t zoneId);
    // Writes `after` over `before` inside the caller's transaction: inserts new keys (their
    // ids are filled in), updates changed ones, deletes removed ones (their files are handed
    // to `files` for deletion after the commit), updates or deletes the zone row, and marks
    // the zone changed (serial, journal restart, rebuild).
    static void save(SQLite::Database& db, const DnssecZoneState& before, DnssecZoneState& after,
                     KeyFileTransaction& files);
};

}  // namespace zones
