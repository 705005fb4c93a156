#include "zones/zone_store.hpp"

#include "zones/journal.hpp"

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "zones/ldns/rr_codec.hpp"
#include "zones/record_rows.hpp"
#include "zones/schema.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_snapshot.hpp"
#include "zones/zone_validator.hpp"

namespace zones {
namespace {

// SQLite stores a blob bound from a null pointer as NULL; empty RDATA (RFC 3597 "\# 0") must
// stay an empty blob, so never hand it the null data() of an empty vector.
const void* blobData(const std::vector<uint8_t>& v) {
    static const uint8_t empty = 0;
    return v.empty() ? &empty : v.data();
}

struct Row {
    int64_t id;
    Record record;
};

std::string zoneSource(const Name& apex) {
    return "zone " + apex.toText();
}

[[noreturn]] void rethrowSqlite(const SQLite::Database& db, const SQLite::Exception& e) {
    int code = e.getErrorCode();
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
        throw std::runtime_error("database " + db.getFilename() +
                                 " is locked by another writer (gave up after the busy timeout; "
                                 "try again, or raise --busy-timeout)");
    }
    throw std::runtime_error("database " + db.getFilename() + ": " + e.what());
}

// Runs `body` inside one transaction and commits it; any exception rolls everything back
// (the Transaction destructor) and surfaces as std::runtime_error. Inside a transaction the
// caller holds (dnsctl apply: the whole configuration in one), `body` joins it instead: the
// caller commits or rolls back everything (SQLite cannot nest BEGIN).
template <typename Body>
auto inTransaction(SQLite::Database& db, SQLite::TransactionBehavior behavior, Body&& body) {
    try {
        if (sqlite3_get_autocommit(db.getHandle()) == 0) return body();
        SQLite::Transaction tx(db, behavior);
        if constexpr (std::is_void_v<decltype(body())>) {
            body();
            tx.commit();
        } else {
            auto result = body();
            tx.commit();
            return result;
        }
    } catch (const SQLite::Exception& e) {
        rethrowSqlite(db, e);
    }
}

// `countRecords` false leaves recordCount 0: counting a million-record zone's rows walks its
// whole index (35 ms), which an import that knows the count need not do.
std::optional<ZoneInfo> selectZone(SQLite::Database& db, const Name& apex,
                                   bool countRecords = true) {
    SQLite::Statement q(
        db,
        std::string("SELECT z.id, z.generation, z.created_at, z.updated_at,") +
            (countRecords ? " (SELECT count(*) FROM records r WHERE r.zone_id = z.id)," : " 0,") +
            " (SELECT rdata FROM records r WHERE r.zone_id = z.id AND r.type = 6"
            "  AND r.owner = z.name LIMIT 1)"
            " FROM zones z WHERE z.name = ?");
    q.bind(1, apex.toText());
    if (!q.executeStep()) return std::nullopt;
    ZoneInfo info;
    info.id = q.getColumn(0).getInt64();
    info.name = apex;
    info.generation = q.getColumn(1).getInt64();
    info.createdAtMs = q.getColumn(2).getInt64();
    info.updatedAtMs = q.getColumn(3).getInt64();
    info.recordCount = q.getColumn(4).getInt64();
    if (!q.getColumn(5).isNull()) {
        auto blob = static_cast<const uint8_t*>(q.getColumn(5).getBlob());
        info.serial = ZoneStore::soaSerial({blob, blob + q.getColumn(5).getBytes()});
    }
    return info;
}

ZoneInfo requireZone(SQLite::Database& db, const Name& apex, bool countRecords = true) {
    auto zone = selectZone(db, apex, countRecords);
    if (!zone) throw std::runtime_error("zone " + apex.toText() + " does not exist");
    return *zone;
}

// Reads one row of "SELECT id, owner, type, class, ttl, rdata ...".
Row readRow(SQLite::Statement& q) {
    std::string ownerText = q.getColumn(1).getString();
    auto owner = Name::fromText(ownerText);
    if (!owner) {
        throw std::runtime_error("record " + std::to_string(q.getColumn(0).getInt64()) +
                                 " has an unreadable owner '" + ownerText + "'");
    }
    Record r;
    r.owner = *owner;
    r.type = uint16_t(q.getColumn(2).getInt());
    r.rclass = uint16_t(q.getColumn(3).getInt());
    r.ttl = uint32_t(q.getColumn(4).getInt64());
    auto blob = static_cast<const uint8_t*>(q.getColumn(5).getBlob());
    r.rdata.assign(blob, blob + q.getColumn(5).getBytes());
    return {q.getColumn(0).getInt64(), std::move(r)};
}

// The rows a change at the `seeds` owners can affect under ZoneValidator's rules, so that a
// one-record change in a million-record zone validates a handful of rows instead of reading
// the whole zone: the apex (one SOA, NS present), every seed owner (CNAME alone, one TTL per
// RRset, duplicates), and the addresses of every NS target among those rows, transitively.
// With `referrersOf`, also every NS record in the zone naming that owner (deleting an
// address must not strand a delegation). The rest of the zone was valid when it was written
// and the change cannot touch it, so validating this subset is validating the zone.
std::vector<Row> selectAffected(SQLite::Database& db, int64_t zoneId, const Name& apex,
                                std::vector<Name> seeds, const std::vector<Name>& referrersOf) {
    std::vector<Row> rows;
    std::set<int64_t> ids;
    std::set<std::string> loaded;
    SQLite::Statement q(db,
                        "SELECT id, owner, type, class, ttl, rdata FROM records"
                        " WHERE zone_id = ? AND owner = ? ORDER BY id");
    if (!referrersOf.empty()) {
        SQLite::Statement ns(db,
                             "SELECT id, owner, type, class, ttl, rdata FROM records"
                             " WHERE zone_id = ? AND type = 2");
        ns.bind(1, zoneId);
        while (ns.executeStep()) {
            Row row = readRow(ns);
            auto target = rdataTarget(rrtype::NS, row.record.rdata);
            if (target &&
                std::find(referrersOf.begin(), referrersOf.end(), *target) != referrersOf.end() &&
                ids.insert(row.id).second)
                rows.push_back(std::move(row));
        }
    }
    seeds.push_back(apex);
    for (size_t scanned = 0;;) {
        for (const Name& owner : seeds) {
            if (!loaded.insert(std::string(owner.key())).second) continue;
            q.reset();
            q.bind(1, zoneId);
            q.bind(2, owner.toText());
            while (q.executeStep()) {
                Row row = readRow(q);
                if (ids.insert(row.id).second) rows.push_back(std::move(row));
            }
        }
        seeds.clear();
        for (; scanned < rows.size(); ++scanned) {
            const Record& r = rows[scanned].record;
            if (r.type != rrtype::NS) continue;
            auto target = rdataTarget(rrtype::NS, r.rdata);
            if (target && target->isSubdomainOf(apex)) seeds.push_back(*target);
        }
        if (seeds.empty()) return rows;
    }
}

// The connection's settings for the length of an import, restored afterwards:
// - a page cache of 32 MB instead of SQLite's 2 MB: a million-record import then keeps the pages
//   of the UNIQUE (zone_id, owner, type, rdata) index it inserts into instead of spilling and
//   re-reading them (measured 5.5 s -> 4.5 s, peak memory +4 MB: see tools/BENCH.md, issue 15);
// - foreign keys not enforced. The import writes only rows of the zone it has just read or
//   inserted in the same transaction, and no table refers to records, so no check could fail;
//   checking anyway cost a lookup of the zone per row inserted or deleted (a million-record
//   --replace deleted its old rows in 0.85 s with them, 0.42 s without). SQLite ignores the
//   pragma inside a transaction, so an import joining the caller's (dnsctl apply) keeps them.
class ImportSettings {
  public:
    explicit ImportSettings(SQLite::Database& db)
        : db_(db),
          cacheSize_(db.execAndGet("PRAGMA cache_size").getInt()),
          foreignKeys_(db.execAndGet("PRAGMA foreign_keys").getInt()) {
        db_.exec("PRAGMA cache_size = -32768");
        db_.exec("PRAGMA foreign_keys = OFF");
    }
    ~ImportSettings() {
        try {
            db_.exec("PRAGMA foreign_keys = " + std::to_string(foreignKeys_));
            db_.exec("PRAGMA cache_size = " + std::to_string(cacheSize_));
        } catch (const SQLite::Exception&) {
            // Neither pragma fails outside a transaction, and inside one they change nothing.
        }
    }
    ImportSettings(const ImportSettings&) = delete;
    ImportSettings& operator=(const ImportSettings&) = delete;

  private:
    SQLite::Database& db_;
    int cacheSize_;
    int foreignKeys_;
};

// The contract with dnsd: every committed change to a zone moves its generation by one.
// A record-level change also names the owners it touched (`owners`), so dnsd can patch its
// copy of the zone; a change without them (an import) makes dnsd rebuild the zone.
void bumpGeneration(SQLite::Database& db, int64_t zoneId, const std::vector<Name>& owners = {}) {
    SQLite::Statement q(
        db, "UPDATE zones SET generation = generation + 1, updated_at = ? WHERE id = ?");
    q.bind(1, nowMs());
    q.bind(2, zoneId);
    q.exec();
    if (owners.empty()) {
        SQLite::Statement clear(db, "DELETE FROM zone_changes WHERE zone_id = ?");
        clear.bind(1, zoneId);
        clear.exec();
        return;
    }
    // Enough history for a dnsd that lags by many changes; one further behind rebuilds.
    constexpr int64_t kKeepGenerations = 10000;
    SQLite::Statement ins(db,
                          "INSERT OR IGNORE INTO zone_changes (zone_id, generation, owner)"
                          " SELECT id, generation, ? FROM zones WHERE id = ?");
    for (const Name& owner : owners) {
        ins.reset();
        ins.bind(1, owner.toText());
        ins.bind(2, zoneId);
        ins.exec();
    }
    SQLite::Statement prune(db,
                            "DELETE FROM zone_changes WHERE zone_id = ? AND generation <="
                            " (SELECT generation FROM zones WHERE id = ?) - ?");
    prune.bind(1, zoneId);
    prune.bind(2, zoneId);
    prune.bind(3, kKeepGenerations);
    prune.exec();
}

// Removes every record of the zone. When no other zone has records, a DELETE without WHERE
// lets SQLite free the table's and index's pages whole (its truncate optimization, taken only
// with foreign keys off: ImportSettings) instead of deleting a million rows one by one.
void deleteZoneRecords(SQLite::Database& db, int64_t zoneId) {
    SQLite::Statement others(db,
                             "SELECT EXISTS (SELECT 1 FROM records WHERE zone_id < ?1)"
                             " OR EXISTS (SELECT 1 FROM records WHERE zone_id > ?1)");
    others.bind(1, zoneId);
    others.executeStep();
    if (others.getColumn(0).getInt() == 0) {
        db.exec("DELETE FROM records");
        return;
    }
    SQLite::Statement del(db, "DELETE FROM records WHERE zone_id = ?");
    del.bind(1, zoneId);
    del.exec();
}

void setSerial(std::vector<uint8_t>& soaRdata, uint32_t serial) {
    size_t at = soaRdata.size() - 20;
    soaRdata[at] = uint8_t(serial >> 24);
    soaRdata[at + 1] = uint8_t(serial >> 16);
    soaRdata[at + 2] = uint8_t(serial >> 8);
    soaRdata[at + 3] = uint8_t(serial);
}

// RFC 1982 §3.2: is `a` ahead of `b`?
bool serialAhead(uint32_t a, uint32_t b) {
    uint32_t d = a - b;
    return d != 0 && d < 0x80000000u;
}

std::vector<Record> recordsOf(const std::vector<Row>& rows) {
    std::vector<Record> out;
    out.reserve(rows.size());
    for (const Row& row : rows) out.push_back(row.record);
    return out;
}

Row* findSoa(std::vector<Row>& rows, const Name& apex) {
    for (Row& row : rows)
        if (row.record.type == rrtype::SOA && row.record.owner == apex) return &row;
    return nullptr;
}

// Writes the SOA row with its serial advanced by one (RFC 1982 wrap-around).
void bumpSerial(SQLite::Database& db, Row& soa) {
    auto serial = ZoneStore::soaSerial(soa.record.rdata);
    if (!serial) throw std::runtime_error("the SOA record has malformed RDATA");
    setSerial(soa.record.rdata, *serial + 1);
    SQLite::Statement q(db, "UPDATE records SET rdata = ?, ttl = ? WHERE id = ?");
    q.bind(1, blobData(soa.record.rdata), int(soa.record.rdata.size()));
    q.bind(2, int64_t(soa.record.ttl));
    q.bind(3, soa.id);
    q.exec();
}

std::string describe(const Record& r) {
    return r.owner.toText() + " " + rrTypeToText(r.type) + " " + formatRdata(r, false);
}

}  // namespace

std::optional<uint32_t> ZoneStore::soaSerial(const std::vector<uint8_t>& rdata) {
    if (rdata.size() < 22) return std::nullopt;
    size_t at = rdata.size() - 20;
    return uint32_t(rdata[at]) << 24 | uint32_t(rdata[at + 1]) << 16 |
           uint32_t(rdata[at + 2]) << 8 | uint32_t(rdata[at + 3]);
}

ZoneInfo ZoneStore::importZone(const Name& apex, std::vector<Record> records, bool replace,
                               const std::string& source, bool* replaced) {
    ZoneValidator::validate(apex, records, source);
    return importValid(apex, std::move(records), replace, replaced);
}

ZoneInfo ZoneStore::importZone(ValidZone zone, bool replace, bool* replaced) {
    Name apex = zone.apex();
    return importValid(apex, std::move(zone).takeRecords(), replace, replaced);
}

ZoneInfo ZoneStore::importValid(const Name& apex, std::vector<Record> records, bool replace,
                                bool* replaced) {
    ImportSettings settings(db_);
    return inTransaction(db_, SQLite::TransactionBehavior::IMMEDIATE, [&] {
        auto existing = selectZone(db_, apex, false);
        int64_t zoneId;
        // Taken by value and changed in place (the serial below): a copy of a million-record
        // zone was a third of an import's peak memory.
        std::vector<Record>& incoming = records;
        if (existing) {
            if (!replace) {
                throw std::runtime_error("zone " + apex.toText() +
                                         " already exists (use --replace to replace its records)");
            }
            // The serial never goes backwards (secondaries would ignore every later change):
            // a file whose serial is not ahead of the zone's continues from the zone's.
            if (existing->serial)
                for (Record& r : incoming)
                    if (r.type == rrtype::SOA && r.owner == apex) {
                        auto fileSerial = soaSerial(r.rdata);
                        if (fileSerial && !serialAhead(*fileSerial, *existing->serial))
                            setSerial(r.rdata, *existing->serial + 1);
                    }
            zoneId = existing->id;
            deleteZoneRecords(db_, zoneId);
            bumpGeneration(db_, zoneId);
            Journal::clear(db_, zoneId);  // no entry describes a replaced zone: IXFR is full
        } else {
            // SQLite reuses the id of a deleted last row, and dnsd caches zones by (id,
            // generation). So a new zone starts above every generation in the table and at the
            // clock in ms: a deleted zone's generation is below that as long as its changes came
            // slower than one per ms (true for dnsctl, one process per change). The complete
            // fix is AUTOINCREMENT on zones.id (schema owner), after which this is harmless.
            SQLite::Statement ins(db_,
                                  "INSERT INTO zones (name, generation, created_at, updated_at)"
                                  " VALUES (?, max(?, 1 + coalesce((SELECT max(generation)"
                                  " FROM zones), 0)), ?, ?)");
            int64_t now = nowMs();
            ins.bind(1, apex.toText());
            ins.bind(2, now);
            ins.bind(3, now);
            ins.bind(4, now);
            ins.exec();
            zoneId = db_.getLastInsertRowid();
        }
        insertRecordRows(db_, zoneId, incoming);
        if (replaced) *replaced = existing.has_value();
        // Every row went in (a conflict would have thrown): the zone has exactly these.
        ZoneInfo zone = requireZone(db_, apex, false);
        zone.recordCount = int64_t(incoming.size());
        return zone;
    });
}

std::optional<ZoneInfo> ZoneStore::findZone(const Name& apex) {
    return inTransaction(db_, SQLite::TransactionBehavior::DEFERRED,
                         [&] { return selectZone(db_, apex); });
}

std::vector<ZoneInfo> ZoneStore::listZones() {
    return inTransaction(db_, SQLite::TransactionBehavior::DEFERRED, [&] {
        std::vector<ZoneInfo> out;
        SQLite::Statement q(db_, "SELECT name FROM zones");
        while (q.executeStep()) {
            std::string text = q.getColumn(0).getString();
            auto name = Name::fromText(text);
            if (!name) throw std::runtime_error("zone with unreadable name '" + text + "'");
            out.push_back(requireZone(db_, *name));
        }
        std::sort(out.begin(), out.end(), [](const ZoneInfo& a, const ZoneInfo& b) {
            return a.name.canonicalCompare(b.name) < 0;
        });
        return out;
    });
}

std::vector<Record> ZoneStore::zoneRecords(const Name& apex, bool anyOrder) {
    return inTransaction(db_, SQLite::TransactionBehavior::DEFERRED, [&] {
        // Read straight into records, not into rows and then copied: a big zone is held once
        // (`zone export` of a million records).
        ZoneInfo zone = requireZone(db_, apex);
        SQLite::Statement q(db_,
                            std::string("SELECT id, owner, type, class, ttl, rdata FROM records"
                                        " WHERE zone_id = ?") +
                                (anyOrder ? "" : " ORDER BY id"));
        q.bind(1, zone.id);
        std::vector<Record> out;
        out.reserve(size_t(zone.recordCount));
        while (q.executeStep()) out.push_back(std::move(readRow(q).record));
        return out;
    });
}

void ZoneStore::deleteZone(const Name& apex) {
    inTransaction(db_, SQLite::TransactionBehavior::IMMEDIATE, [&] {
        ZoneInfo zone = requireZone(db_, apex);
        // Records go with the zone (ON DELETE CASCADE); deleted explicitly as well so that a
        // connection without foreign keys enabled cannot leave orphans.
        SQLite::Statement delRecords(db_, "DELETE FROM records WHERE zone_id = ?");
        delRecords.bind(1, zone.id);
        delRecords.exec();
        SQLite::Statement delChanges(db_, "DELETE FROM zone_changes WHERE zone_id = ?");
        delChanges.bind(1, zone.id);
        delChanges.exec();
        SQLite::Statement delZone(db_, "DELETE FROM zones WHERE id = ?");
        delZone.bind(1, zone.id);
        delZone.exec();
    });
}

Record ZoneStore::addRecord(const Name& apex, Record record, bool ttlGiven) {
    return inTransaction(db_, SQLite::TransactionBehavior::IMMEDIATE, [&] {
        ZoneInfo zone = requireZone(db_, apex);
        std::vector<Name> seeds{record.owner};
        if (record.type == rrtype::NS)
            if (auto target = rdataTarget(rrtype::NS, record.rdata)) seeds.push_back(*target);
        std::vector<Row> rows = selectAffected(db_, zone.id, apex, seeds, {});
        Row* soa = findSoa(rows, apex);
        if (!ttlGiven) {
            const Row* sameSet = nullptr;
            for (const Row& row : rows) {
                if (row.record.owner == record.owner && row.record.type == record.type) {
                    sameSet = &row;
                    break;
                }
            }
            if (sameSet) {
                record.ttl = sameSet->record.ttl;
            } else if (soa) {
                record.ttl = soa->record.ttl;
            } else {
                throw std::runtime_error("no TTL given and the zone has no SOA to take one from");
            }
        }
        auto canonical = ldnsw::canonicalRdata(record);
        for (const Row& row : rows) {
            if (row.record.owner == record.owner && row.record.type == record.type &&
                ldnsw::canonicalRdata(row.record) == canonical) {
                throw std::runtime_error("record already exists in zone " + apex.toText() + ": " +
                                         describe(record));
            }
        }

        bool replacesSoa = record.type == rrtype::SOA && record.owner == apex && soa;
        if (replacesSoa) {
            auto oldSerial = soaSerial(soa->record.rdata);
            auto newSerial = soaSerial(record.rdata);
            if (!oldSerial || !newSerial) throw std::runtime_error("malformed SOA RDATA");
            if (!serialAhead(*newSerial, *oldSerial)) setSerial(record.rdata, *oldSerial + 1);
            std::vector<Record> after = recordsOf(rows);
            after[size_t(soa - rows.data())] = record;
            ZoneValidator::validate(apex, after, zoneSource(apex));
            Journal::append(db_, zone.id, soa->record, record, {}, {});
            SQLite::Statement q(db_, "UPDATE records SET rdata = ?, ttl = ? WHERE id = ?");
            q.bind(1, blobData(record.rdata), int(record.rdata.size()));
            q.bind(2, int64_t(record.ttl));
            q.bind(3, soa->id);
            q.exec();
        } else {
            std::vector<Record> after = recordsOf(rows);
            after.push_back(record);
            ZoneValidator::validate(apex, after, zoneSource(apex));
            insertRecordRows(db_, zone.id, {record});
            if (soa) {
                Record before = soa->record;
                bumpSerial(db_, *soa);
                Journal::append(db_, zone.id, before, soa->record, {}, {record});
            }
        }
        bumpGeneration(db_, zone.id, {apex, record.owner});
        return record;
    });
}

size_t ZoneStore::deleteRecords(const Name& apex, const Name& owner, uint16_t type,
                                const std::optional<std::vector<uint8_t>>& rdata) {
    return inTransaction(db_, SQLite::TransactionBehavior::IMMEDIATE, [&] {
        ZoneInfo zone = requireZone(db_, apex);
        if (type == rrtype::SOA && owner == apex) {
            throw std::runtime_error(
                "the SOA record cannot be deleted (add a new SOA to replace it, or delete the "
                "zone)");
        }
        bool address = type == rrtype::A || type == rrtype::AAAA;
        std::vector<Row> rows = selectAffected(
            db_, zone.id, apex, {owner}, address ? std::vector<Name>{owner} : std::vector<Name>{});
        std::optional<std::vector<uint8_t>> canonical;
        if (rdata)
            canonical = ldnsw::canonicalRdata(Record{owner, type, rrclass::IN, 0, *rdata, 0});
        std::vector<int64_t> doomed;
        std::vector<Record> after, removed;
        for (const Row& row : rows) {
            bool match = row.record.owner == owner && row.record.type == type &&
                         (!canonical || ldnsw::canonicalRdata(row.record) == *canonical);
            if (match) {
                doomed.push_back(row.id);
                removed.push_back(row.record);
            } else {
                after.push_back(row.record);
            }
        }
        if (doomed.empty()) {
            throw std::runtime_error("no " + owner.toText() + " " + rrTypeToText(type) + " record" +
                                     (rdata ? " with that RDATA" : "") + " in zone " +
                                     apex.toText());
        }
        ZoneValidator::validate(apex, after, zoneSource(apex));
        SQLite::Statement del(db_, "DELETE FROM records WHERE id = ?");
        for (int64_t id : doomed) {
            del.reset();
            del.bind(1, id);
            del.exec();
        }
        if (Row* soa = findSoa(rows, apex)) {
            Record before = soa->record;
            bumpSerial(db_, *soa);
            Journal::append(db_, zone.id, before, soa->record, removed, {});
        }
        bumpGeneration(db_, zone.id, {apex, owner});
        return doomed.size();
    });
}

void ZoneStore::changeRecords(const Name& apex, const std::vector<Record>& removed,
                              const std::vector<Record>& added) {
    if (removed.empty() && added.empty()) return;
    inTransaction(db_, SQLite::TransactionBehavior::IMMEDIATE, [&] {
        ZoneInfo zone = requireZone(db_, apex);
        SQLite::Statement q(db_,
                            "SELECT id, owner, type, class, ttl, rdata FROM records"
                            " WHERE zone_id = ? ORDER BY id");
        q.bind(1, zone.id);
        std::vector<Row> rows;
        while (q.executeStep()) rows.push_back(readRow(q));
        Row* soa = findSoa(rows, apex);
        if (!soa || !soaSerial(soa->record.rdata))
            throw std::runtime_error("zone " + apex.toText() + " has no well-formed SOA record");
        auto isSoa = [&](const Record& r) { return r.type == rrtype::SOA && r.owner == apex; };
        // The rows to delete, found as DNS compares RRs (names in RDATA case-insensitively),
        // through an index of the rows at the owners and types concerned: a few changes in a
        // million-record zone canonicalise a few rows, not the zone times the changes.
        auto rrKey = [](const Record& r) {
            auto rdata = ldnsw::canonicalRdata(r);
            return std::string(r.owner.key()) + '\0' + std::to_string(r.type) + '\0' +
                   std::string(rdata.begin(), rdata.end());
        };
        std::set<std::string> sets;
        for (const Record& r : removed)
            sets.insert(std::string(r.owner.key()) + '\0' + std::to_string(r.type));
        std::map<std::string, std::vector<const Row*>> index;
        for (const Row& row : rows)
            if (sets.count(std::string(row.record.owner.key()) + '\0' +
                           std::to_string(row.record.type)))
                index[rrKey(row.record)].push_back(&row);
        std::set<int64_t> doomed;
        std::vector<Record> gone;
        for (const Record& r : removed) {
            if (isSoa(r)) continue;  // replaced by the added SOA, or only its serial moves
            auto& found = index[rrKey(r)];
            if (found.empty())
                throw std::runtime_error("no record " + describe(r) + " in zone " + apex.toText());
            doomed.insert(found.back()->id);
            gone.push_back(found.back()->record);
            found.pop_back();
        }
        Record oldSoa = soa->record;
        Record newSoa = oldSoa;
        std::vector<Record> fresh;
        for (const Record& r : added) {
            if (!isSoa(r)) {
                fresh.push_back(r);
                continue;
            }
            newSoa = r;
            auto oldSerial = soaSerial(oldSoa.rdata);
            auto newSerial = soaSerial(newSoa.rdata);
            if (!oldSerial || !newSerial) throw std::runtime_error("malformed SOA RDATA");
            if (!serialAhead(*newSerial, *oldSerial)) setSerial(newSoa.rdata, *oldSerial);
        }
        std::vector<Record> after;
        for (const Row& row : rows)
            if (!doomed.count(row.id) && row.id != soa->id) after.push_back(row.record);
        after.insert(after.end(), fresh.begin(), fresh.end());
        after.push_back(newSoa);
        ZoneValidator::validate(apex, after, zoneSource(apex));
        SQLite::Statement del(db_, "DELETE FROM records WHERE id = ?");
        for (int64_t id : doomed) {
            del.reset();
            del.bind(1, id);
            del.exec();
        }
        insertRecordRows(db_, zone.id, fresh);
        // One serial step for the whole change, unless an added SOA's own serial is ahead.
        Row soaRow{soa->id, newSoa};
        if (!serialAhead(*soaSerial(newSoa.rdata), *soaSerial(oldSoa.rdata))) {
            bumpSerial(db_, soaRow);
        } else {
            SQLite::Statement up(db_, "UPDATE records SET rdata = ?, ttl = ? WHERE id = ?");
            up.bind(1, blobData(soaRow.record.rdata), int(soaRow.record.rdata.size()));
            up.bind(2, int64_t(soaRow.record.ttl));
            up.bind(3, soaRow.id);
            up.exec();
        }
        Journal::append(db_, zone.id, oldSoa, soaRow.record, gone, fresh);
        std::vector<Name> owners{apex};
        for (const Record& r : gone) owners.push_back(r.owner);
        for (const Record& r : fresh) owners.push_back(r.owner);
        bumpGeneration(db_, zone.id, owners);
    });
}

std::optional<std::pair<Record, Record>> ZoneStore::bumpSerialOf(int64_t zoneId) {
    SQLite::Statement q(db_,
                        "SELECT r.id, r.ttl, r.rdata, z.name FROM records r JOIN zones z ON "
                        "z.id = r.zone_id WHERE r.zone_id = ? AND r.type = 6 AND r.owner = z.name");
    q.bind(1, zoneId);
    if (!q.executeStep()) return std::nullopt;  // no zone (deleted meanwhile): nothing to serve
    Row soa;
    soa.id = q.getColumn(0).getInt64();
    soa.record.type = rrtype::SOA;
    soa.record.ttl = uint32_t(q.getColumn(1).getInt64());
    const auto* blob = static_cast<const uint8_t*>(q.getColumn(2).getBlob());
    soa.record.rdata.assign(blob, blob + q.getColumn(2).getBytes());
    Name apex = *Name::fromText(q.getColumn(3).getString());
    q.reset();
    soa.record.owner = apex;
    Record before = soa.record;
    bumpSerial(db_, soa);
    bumpGeneration(db_, zoneId, {apex});
    return std::make_pair(before, soa.record);
}

void ZoneStore::markRebuild(int64_t zoneId) {
    bumpGeneration(db_, zoneId);
}

std::vector<Record> ZoneStore::listRecords(const Name& apex, const std::optional<Name>& owner,
                                           const std::optional<uint16_t>& type) {
    // Any order: (owner, type, RDATA) is unique in a zone, so the sort below orders them fully.
    std::vector<Record> all = zoneRecords(apex, true);
    std::vector<Record> out;
    for (Record& r : all) {
        if (owner && r.owner != *owner) continue;
        if (type && r.type != *type) continue;
        out.push_back(std::move(r));
    }
    std::stable_sort(out.begin(), out.end(), [&](const Record& a, const Record& b) {
        bool aSoa = a.type == rrtype::SOA && a.owner == apex;
        bool bSoa = b.type == rrtype::SOA && b.owner == apex;
        if (aSoa != bSoa) return aSoa;
        return canonicalRecordLess(a, b);
    });
    return out;
}

namespace {

// One row while an UPDATE's edits are applied: as read (id != 0) or added (id == 0).
struct Working {
    int64_t id = 0;
    Record record;
    std::vector<uint8_t> canonical;  // ldnsw::canonicalRdata(record), for comparisons
    Record original;                 // as read, for the journal
    bool alive = true;
    bool changed = false;  // a row as read whose TTL (or, for the SOA, RDATA) moved
};

bool sameOwnerType(const Record& r, const Name& owner, uint16_t type) {
    return r.owner == owner && r.type == type;
}

}  // namespace

EditOutcome ZoneStore::applyEdits(int64_t zoneId, const Name& apex,
                                  const std::vector<RecordEdit>& edits) {
    try {
        std::vector<Name> seeds, referrers;
        for (const RecordEdit& e : edits) {
            seeds.push_back(e.record.owner);
            if (e.kind == RecordEdit::Kind::Add && e.record.type == rrtype::NS)
                if (auto target = rdataTarget(rrtype::NS, e.record.rdata)) seeds.push_back(*target);
            // Deleting an address must not strand an NS naming it (the validator's glue rule).
            bool address = e.record.type == rrtype::A || e.record.type == rrtype::AAAA;
            if (e.kind == RecordEdit::Kind::DeleteName ||
                (e.kind != RecordEdit::Kind::Add && (address || e.record.type == rrtype::ANY)))
                referrers.push_back(e.record.owner);
        }
        std::vector<Working> rows;
        for (Row& row : selectAffected(db_, zoneId, apex, seeds, referrers)) {
            Working w;
            w.id = row.id;
            w.canonical = ldnsw::canonicalRdata(row.record);
            w.original = row.record;
            w.record = std::move(row.record);
            rows.push_back(std::move(w));
        }
        auto soaIt = std::find_if(rows.begin(), rows.end(), [&](const Working& w) {
            return w.record.type == rrtype::SOA && w.record.owner == apex;
        });
        if (soaIt == rows.end()) throw std::runtime_error("zone " + apex.toText() + " has no SOA");
        const size_t soaIndex = size_t(soaIt - rows.begin());
        bool soaReplaced = false;

        auto kill = [](Working& w) { w.alive = false; };
        for (const RecordEdit& e : edits) {
            const Record& r = e.record;
            const bool atApex = r.owner == apex;
            switch (e.kind) {
                case RecordEdit::Kind::Add: {
                    if (r.type == rrtype::SOA && atApex) {
                        Working& soa = rows[soaIndex];
                        auto oldSerial = soaSerial(soa.record.rdata);
                        auto newSerial = soaSerial(r.rdata);
                        if (oldSerial && newSerial && serialAhead(*newSerial, *oldSerial)) {
                            soa.record.rdata = r.rdata;
                            soa.record.ttl = r.ttl;
                            soa.canonical = ldnsw::canonicalRdata(soa.record);
                            soa.changed = soaReplaced = true;
                        }
                        break;
                    }
                    auto canonical = ldnsw::canonicalRdata(r);
                    Working* same = nullptr;
                    for (Working& w : rows) {
                        if (!sameOwnerType(w.record, r.owner, r.type)) continue;
                        if (w.canonical == canonical) {
                            same = &w;
                        } else if (w.alive && r.type == rrtype::CNAME) {
                            kill(w);  // a CNAME replaces the CNAME (RFC 2136 §3.4.2.2)
                        }
                    }
                    if (!same) {
                        Working w;
                        w.record = r;
                        w.canonical = std::move(canonical);
                        rows.push_back(std::move(w));
                        same = &rows.back();
                    }
                    same->alive = true;
                    // One TTL per RRset (RFC 2181 §5.2): the one the update gives.
                    for (Working& w : rows) {
                        if (!w.alive || !sameOwnerType(w.record, r.owner, r.type)) continue;
                        if (w.record.ttl != r.ttl) {
                            w.record.ttl = r.ttl;
                            w.changed = w.id != 0;
                        }
                    }
                    break;
                }
                case RecordEdit::Kind::DeleteRRset:
                    if (atApex && (r.type == rrtype::SOA || r.type == rrtype::NS)) break;
                    for (Working& w : rows)
                        if (w.alive && sameOwnerType(w.record, r.owner, r.type)) kill(w);
                    break;
                case RecordEdit::Kind::DeleteName:
                    for (Working& w : rows) {
                        if (!w.alive || w.record.owner != r.owner) continue;
                        if (atApex && (w.record.type == rrtype::SOA || w.record.type == rrtype::NS))
                            continue;
                        kill(w);
                    }
                    break;
                case RecordEdit::Kind::DeleteRR: {
                    if (r.type == rrtype::SOA) break;
                    auto canonical = ldnsw::canonicalRdata(r);
                    size_t apexNs = 0;
                    if (atApex && r.type == rrtype::NS)
                        for (const Working& w : rows)
                            if (w.alive && sameOwnerType(w.record, apex, rrtype::NS)) ++apexNs;
                    for (Working& w : rows) {
                        if (!w.alive || !sameOwnerType(w.record, r.owner, r.type) ||
                            w.canonical != canonical)
                            continue;
                        if (atApex && r.type == rrtype::NS && apexNs <= 1) break;  // keep the last
                        kill(w);
                    }
                    break;
                }
            }
        }

        EditOutcome out;
        std::vector<Record> after;
        std::vector<Name> owners{apex};
        for (size_t i = 0; i < rows.size(); ++i) {
            const Working& w = rows[i];
            if (w.alive) after.push_back(w.record);
            if (i == soaIndex) continue;
            bool wasThere = w.id != 0;
            if (wasThere && (!w.alive || w.changed)) out.removed.push_back(w.original);
            if (w.alive && (!wasThere || w.changed)) out.added.push_back(w.record);
            if ((wasThere && (!w.alive || w.changed)) || (!wasThere && w.alive))
                owners.push_back(w.record.owner);
        }
        if (out.removed.empty() && out.added.empty() && !soaReplaced) return out;
        try {
            ZoneValidator::validate(apex, after, zoneSource(apex));
        } catch (const std::runtime_error& e) {
            throw ZoneRuleError(e.what());
        }

        SQLite::Statement del(db_, "DELETE FROM records WHERE id = ?");
        SQLite::Statement upd(db_, "UPDATE records SET rdata = ?, ttl = ? WHERE id = ?");
        std::vector<Record> inserts;
        for (size_t i = 0; i < rows.size(); ++i) {
            const Working& w = rows[i];
            if (i == soaIndex) continue;
            if (w.id == 0) {
                if (w.alive) inserts.push_back(w.record);
            } else if (!w.alive) {
                del.reset();
                del.bind(1, w.id);
                del.exec();
            } else if (w.changed) {
                upd.reset();
                upd.bind(1, blobData(w.record.rdata), int(w.record.rdata.size()));
                upd.bind(2, int64_t(w.record.ttl));
                upd.bind(3, w.id);
                upd.exec();
            }
        }
        insertRecordRows(db_, zoneId, inserts);
        Working& soa = rows[soaIndex];
        Row soaRow{soa.id, soa.record};
        if (soaReplaced) {
            upd.reset();
            upd.bind(1, blobData(soaRow.record.rdata), int(soaRow.record.rdata.size()));
            upd.bind(2, int64_t(soaRow.record.ttl));
            upd.bind(3, soaRow.id);
            upd.exec();
        } else {
            bumpSerial(db_, soaRow);
        }
        Journal::append(db_, zoneId, soa.original, soaRow.record, out.removed, out.added);
        std::sort(owners.begin(), owners.end(),
                  [](const Name& a, const Name& b) { return a.key() < b.key(); });
        owners.erase(std::unique(owners.begin(), owners.end()), owners.end());
        bumpGeneration(db_, zoneId, owners);
        out.serial = soaSerial(soaRow.record.rdata);
        return out;
    } catch (const SQLite::Exception& e) {  // a ZoneRuleError passes as it is
        rethrowSqlite(db_, e);
    }
}

bool ZoneStore::nameInUse(int64_t zoneId, const Name& owner) {
    SQLite::Statement q(db_,
                        "SELECT 1 FROM records WHERE zone_id = ?1 AND owner = ?2 UNION ALL"
                        " SELECT 1 FROM pools WHERE zone_id = ?1 AND owner = ?2 LIMIT 1");
    q.bind(1, zoneId);
    q.bind(2, owner.toText());
    return q.executeStep();
}

bool ZoneStore::rrsetExists(int64_t zoneId, const Name& owner, uint16_t type) {
    SQLite::Statement q(db_,
                        "SELECT 1 FROM records WHERE zone_id = ?1 AND owner = ?2 AND type = ?3"
                        " UNION ALL SELECT 1 FROM pools WHERE zone_id = ?1 AND owner = ?2"
                        " AND rtype = ?3 LIMIT 1");
    q.bind(1, zoneId);
    q.bind(2, owner.toText());
    q.bind(3, int(type));
    return q.executeStep();
}

bool ZoneStore::rrsetEquals(int64_t zoneId, const Name& owner, uint16_t type,
                            const std::vector<std::vector<uint8_t>>& rdatas) {
    std::set<std::vector<uint8_t>> want, have;
    for (const auto& rd : rdatas)
        want.insert(ldnsw::canonicalRdata(Record{owner, type, rrclass::IN, 0, rd, 0}));
    SQLite::Statement q(db_,
                        "SELECT id, owner, type, class, ttl, rdata FROM records"
                        " WHERE zone_id = ? AND owner = ? AND type = ?");
    q.bind(1, zoneId);
    q.bind(2, owner.toText());
    q.bind(3, int(type));
    while (q.executeStep()) have.insert(ldnsw::canonicalRdata(readRow(q).record));
    return !have.empty() && have == want;
}

std::optional<uint16_t> ZoneStore::poolTypeAt(int64_t zoneId, const Name& owner) {
    SQLite::Statement q(db_, "SELECT rtype FROM pools WHERE zone_id = ? AND owner = ? LIMIT 1");
    q.bind(1, zoneId);
    q.bind(2, owner.toText());
    if (!q.executeStep()) return std::nullopt;
    return uint16_t(q.getColumn(0).getInt());
}

}  // namespace zones
