// zones::Journal — the changes to what each zone serves, serial by serial, for IXFR.
//
// Contract: every writer that changes what a zone serves (dnsctl record edits, dnsd-probe
// pool decisions) calls `Journal::record` inside the transaction of its change: it advances
// the SOA serial by one (RFC 1982) and appends one entry (old SOA, the RRs removed, new SOA,
// the RRs added: RFC 1995's difference sequence), so the database never holds a serial
// without its entry. A change that cannot be described as a difference (zone import
// --replace, a pool created or deleted) calls `Journal::restart`: serial advanced, the zone's
// history dropped, and IXFR from an older serial gets the full zone (RFC 1995 §4). Entries
// beyond the zone's bounds (count, age: zones.journal_max_entries, journal_max_age_ms) are
// pruned oldest first, so what remains is always one unbroken chain ending at the current
// serial. RRs are stored in uncompressed wire form.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <vector>

#include "zones/record.hpp"

namespace zones {

// Owner, type, TTL and RDATA equal (the source line does not count): the same served RR.
bool sameRR(const Record& a, const Record& b);

struct JournalEntry {
    uint32_t from = 0, to = 0;
    int64_t at = 0;  // ms
    Record oldSoa, newSoa;
    std::vector<Record> removed, added;
};

class Journal {
  public:
    // Advances the serial of zone `zoneId` and journals the change (see contract). Records in
    // both lists cancel out; if nothing is left, nothing happens (no serial change).
    static void record(SQLite::Database& db, int64_t zoneId, std::vector<Record> removed,
                       std::vector<Record> added);
    // Advances the serial and drops the zone's history.
    static void restart(SQLite::Database& db, int64_t zoneId);
    // Appends an entry for a serial change the caller has already written (ZoneStore's own
    // record edits), then prunes.
    static void append(SQLite::Database& db, int64_t zoneId, const Record& oldSoa,
                       const Record& newSoa, const std::vector<Record>& removed,
                       const std::vector<Record>& added);
    // Drops the zone's history (its serial moved in a way no entry describes).
    static void clear(SQLite::Database& db, int64_t zoneId);
    // The zone's entries, oldest first.
    static std::vector<JournalEntry> read(SQLite::Database& db, int64_t zoneId);
    // Sets the bounds of one zone's journal (0 entries: no journal, IXFR always full).
    static void setBounds(SQLite::Database& db, int64_t zoneId, int64_t maxEntries,
                          int64_t maxAgeMs);

    static std::vector<uint8_t> encode(const std::vector<Record>& rrs);
    static std::vector<Record> decode(const void* blob, size_t size);
};

}  // namespace zones
