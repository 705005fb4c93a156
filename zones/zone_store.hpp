// zones::ZoneStore — every read and write of the zones and records tables.
//
// Contract: each public method is one transaction (writes use BEGIN IMMEDIATE, so two writers
// queue instead of deadlocking); it either commits completely or throws std::runtime_error and
// leaves the database exactly as it was. Called inside a transaction the caller opened, a
// method joins it instead (dnsctl apply writes a whole configuration in one): a throw then
// leaves the rollback to the caller. Every write validates the resulting zone with
// ZoneValidator before anything is written (a record-level write validates the part of the zone
// the change can affect: the apex, the owner, NS targets — the rest was valid already, and a
// million-record zone is not read for one record), adds 1 to zones.generation and sets updated_at
// (dnsd rebuilds a zone exactly when its generation changes — callers may rely on this). A new
// zone's generation starts at the clock in ms, so that an id SQLite reuses after a delete does
// not come back with a generation dnsd has cached (see importZone).
// Record-level writes also advance the SOA serial by one (RFC 1982); an import keeps the serial
// of the file. Owners are stored as Name::toText() (absolute, lower case), RDATA as
// uncompressed wire bytes. A busy database (another writer beyond the connection's busy
// timeout) is reported as "database ... is locked by another writer".
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "zones/name.hpp"
#include "zones/record.hpp"
#include "zones/zone_validator.hpp"

namespace zones {

struct ZoneInfo {
    int64_t id = 0;
    Name name;
    int64_t generation = 0;
    int64_t createdAtMs = 0;
    int64_t updatedAtMs = 0;
    int64_t recordCount = 0;
    std::optional<uint32_t> serial;  // from the SOA record
};

// What applyEdits throws when the edited zone would break a zone rule (ZoneValidator):
// the request is wrong, not the database.
struct ZoneRuleError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One change of an RFC 2136 update section (§2.5), for ZoneStore::applyEdits.
struct RecordEdit {
    enum class Kind : uint8_t {
        Add,          // add `record` (§2.5.1)
        DeleteRRset,  // delete the RRset at record.owner of record.type (§2.5.2)
        DeleteName,   // delete every RRset at record.owner (§2.5.3)
        DeleteRR,     // delete `record` (owner, type, RDATA) (§2.5.4)
    };
    Kind kind = Kind::Add;
    Record record;
};

struct EditOutcome {
    std::vector<Record> removed, added;  // what the zone serves differently (SOA aside)
    std::optional<uint32_t> serial;  // the new serial; nullopt: nothing changed, nothing written
};

class ZoneStore {
  public:
    explicit ZoneStore(SQLite::Database& db) : db_(db) {}

    // Creates the zone from `records` (already parsed; validated here). With `replace`, an
    // existing zone's records are replaced instead (its id and created_at stay); without it an
    // existing zone is an error. `source` names the records' origin for messages (file name).
    // `replaced`, if given, tells whether an existing zone was replaced. `records` is taken by
    // value: move a big zone in, so it is held once.
    ZoneInfo importZone(const Name& apex, std::vector<Record> records, bool replace,
                        const std::string& source, bool* replaced = nullptr);
    // The same for a zone ZoneValidator::check passed, which is not checked again.
    ZoneInfo importZone(ValidZone zone, bool replace, bool* replaced = nullptr);

    std::optional<ZoneInfo> findZone(const Name& apex);

    // Advances the zone's SOA serial by one (RFC 1982) and marks its apex changed, inside the
    // caller's transaction: for writers whose change alters what the zone serves without
    // touching its records (a pool decision), so secondaries see a new serial and refetch.
    // Returns the SOA before and after (nullopt if the zone has none).
    std::optional<std::pair<Record, Record>> bumpSerialOf(int64_t zoneId);
    // Moves the zone's generation with no owners named, inside the caller's transaction, so
    // dnsd builds the zone again instead of patching it: for a change no owner list describes
    // (DNSSEC keys or signature dates: every signature changes).
    void markRebuild(int64_t zoneId);
    std::vector<ZoneInfo> listZones();

    // All records of the zone (throws if there is no such zone), in insertion order, or with
    // `anyOrder` in whichever order is cheapest to read (for a caller that sorts them itself:
    // sorting a million rows by id took SQLite a quarter of a second).
    std::vector<Record> zoneRecords(const Name& apex, bool anyOrder = false);

    // Throws if there is no such zone.
    void deleteZone(const Name& apex);

    // Adds one record. Without `ttlGiven` the record takes the TTL of its RRset if that
    // exists, else the TTL of the zone's SOA record. Adding an SOA replaces the zone's SOA
    // (serial: the given one if it is ahead in RFC 1982 terms, else the old one plus one).
    // Adding an RR that is already there is an error. Returns the stored record.
    Record addRecord(const Name& apex, Record record, bool ttlGiven);

    // Deletes the records at `owner` of `type` (only the one with these RDATA if given,
    // compared as DNS does: names case-insensitively). Deleting nothing is an error, and so is
    // deleting the SOA. Returns how many records were deleted.
    size_t deleteRecords(const Name& apex, const Name& owner, uint16_t type,
                         const std::optional<std::vector<uint8_t>>& rdata);

    // Replaces the records `removed` (compared as DNS does; each must be in the zone) with
    // `added`, as one change: the whole zone after it is validated, the SOA serial advances
    // once (an added SOA replaces the zone's and keeps its own serial if that is ahead), and
    // one journal entry and one generation describe it. Nothing to change: nothing is written.
    void changeRecords(const Name& apex, const std::vector<Record>& removed,
                       const std::vector<Record>& added);

    // Records of the zone, optionally only at `owner` and/or of `type`, in canonical order.
    std::vector<Record> listRecords(const Name& apex, const std::optional<Name>& owner,
                                    const std::optional<uint16_t>& type);

    // Applies `edits` in order to zone `zoneId` inside the CALLER's transaction (an UPDATE
    // checks its prerequisites and policy in the same one), by RFC 2136 §3.4.2: an RR already
    // there is not added twice (a new TTL replaces the old); an added RR gives its whole RRset
    // its TTL (RFC 2181 §5.2, as BIND does); an SOA replaces the zone's only if its serial is
    // ahead; a CNAME replaces a CNAME; the apex SOA and NS RRsets are never deleted (a
    // delete-all at the apex keeps them, the last apex NS stays). The result is validated like
    // every other write (the part of the zone the change can affect, ZoneValidator: CNAME
    // beside other data, glue, ...) and a problem throws std::runtime_error before anything
    // is written. If anything changed: rows written, serial +1 (or the added SOA's), one
    // journal entry, generation +1 with the owners touched. Nothing changed: nothing written.
    EditOutcome applyEdits(int64_t zoneId, const Name& apex, const std::vector<RecordEdit>& edits);

    // RFC 2136 §2.4 prerequisites, read inside the caller's transaction. A failover pool's
    // owner name and type count as in use: dnsd serves them.
    bool nameInUse(int64_t zoneId, const Name& owner);
    bool rrsetExists(int64_t zoneId, const Name& owner, uint16_t type);
    // §2.4.2: the RRset at owner/type holds exactly these RDATA (compared as DNS compares
    // RDATA, TTL ignored; duplicates in `rdatas` count once).
    bool rrsetEquals(int64_t zoneId, const Name& owner, uint16_t type,
                     const std::vector<std::vector<uint8_t>>& rdatas);
    // The type of the failover pool whose owner is `owner`, if any.
    std::optional<uint16_t> poolTypeAt(int64_t zoneId, const Name& owner);

    // The serial in SOA RDATA (the first of the five trailing 32-bit fields).
    static std::optional<uint32_t> soaSerial(const std::vector<uint8_t>& rdata);

  private:
    // importZone once the records are known to be valid.
    ZoneInfo importValid(const Name& apex, std::vector<Record> records, bool replace,
                         bool* replaced);
    SQLite::Database& db_;
};

}  // namespace zones
