#include "zones/journal.hpp"

#include <algorithm>

#include "zones/schema.hpp"
#include "zones/zone_store.hpp"

namespace zones {
namespace {

void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(uint8_t(x >> 8));
    v.push_back(uint8_t(x));
}

uint32_t serialOf(const Record& soa) {
    return ZoneStore::soaSerial(soa.rdata).value_or(0);
}

void prune(SQLite::Database& db, int64_t zoneId) {
    SQLite::Statement bounds(
        db, "SELECT journal_max_entries, journal_max_age_ms FROM zones WHERE id = ?");
    bounds.bind(1, zoneId);
    if (!bounds.executeStep()) return;
    int64_t maxEntries = bounds.getColumn(0).getInt64();
    int64_t maxAge = bounds.getColumn(1).getInt64();
    bounds.reset();
    // Oldest first, so the rest is still one chain up to the current serial.
    SQLite::Statement byCount(db,
                              "DELETE FROM zone_journal WHERE zone_id = ?1 AND id <= (SELECT id "
                              "FROM zone_journal WHERE zone_id = ?1 ORDER BY id DESC LIMIT 1 "
                              "OFFSET ?2)");
    byCount.bind(1, zoneId);
    byCount.bind(2, maxEntries);
    byCount.exec();
    SQLite::Statement byAge(db, "DELETE FROM zone_journal WHERE zone_id = ? AND at < ?");
    byAge.bind(1, zoneId);
    byAge.bind(2, nowMs() - maxAge);
    byAge.exec();
}

}  // namespace

bool sameRR(const Record& a, const Record& b) {
    return a.owner == b.owner && a.type == b.type && a.ttl == b.ttl && a.rdata == b.rdata;
}

std::vector<uint8_t> Journal::encode(const std::vector<Record>& rrs) {
    std::vector<uint8_t> out;
    for (const Record& r : rrs) {
        out.insert(out.end(), r.owner.wire().begin(), r.owner.wire().end());
        put16(out, r.type);
        put16(out, uint16_t(r.ttl >> 16));
        put16(out, uint16_t(r.ttl));
        put16(out, uint16_t(r.rdata.size()));
        out.insert(out.end(), r.rdata.begin(), r.rdata.end());
    }
    return out;
}

std::vector<Record> Journal::decode(const void* blob, size_t size) {
    std::vector<Record> out;
    auto* p = static_cast<const uint8_t*>(blob);
    for (size_t pos = 0; pos < size;) {
        size_t n = wireNameLength({p + pos, size - pos});
        if (n == 0 || pos + n + 8 > size) break;  // written by encode(): cannot happen
        Record r;
        r.owner = *Name::fromWire({p + pos, n});
        pos += n;
        r.type = uint16_t(p[pos] << 8 | p[pos + 1]);
        r.ttl = uint32_t(p[pos + 2]) << 24 | uint32_t(p[pos + 3]) << 16 |
                uint32_t(p[pos + 4]) << 8 | p[pos + 5];
        size_t rdlen = size_t(p[pos + 6] << 8 | p[pos + 7]);
        pos += 8;
        if (pos + rdlen > size) break;
        r.rdata.assign(p + pos, p + pos + rdlen);
        pos += rdlen;
        out.push_back(std::move(r));
    }
    return out;
}

void Journal::append(SQLite::Database& db, int64_t zoneId, const Record& oldSoa,
                     const Record& newSoa, const std::vector<Record>& removed,
                     const std::vector<Record>& added) {
    SQLite::Statement ins(db,
                          "INSERT INTO zone_journal (zone_id, serial_from, serial_to, at, "
                          "old_soa, new_soa, removed, added) VALUES (?,?,?,?,?,?,?,?)");
    ins.bind(1, zoneId);
    ins.bind(2, int64_t(serialOf(oldSoa)));
    ins.bind(3, int64_t(serialOf(newSoa)));
    ins.bind(4, nowMs());
    auto bindBlob = [&](int i, const std::vector<uint8_t>& b) {
        ins.bind(i, b.empty() ? static_cast<const void*>("") : b.data(), int(b.size()));
    };
    bindBlob(5, encode({oldSoa}));
    bindBlob(6, encode({newSoa}));
    bindBlob(7, encode(removed));
    bindBlob(8, encode(added));
    ins.exec();
    prune(db, zoneId);
}

void Journal::record(SQLite::Database& db, int64_t zoneId, std::vector<Record> removed,
                     std::vector<Record> added) {
    // An RR removed and added again is no change.
    std::vector<Record> r, a;
    for (const Record& x : removed)
        if (std::none_of(added.begin(), added.end(), [&](const Record& y) { return sameRR(x, y); }))
            r.push_back(x);
    for (const Record& x : added)
        if (std::none_of(removed.begin(), removed.end(),
                         [&](const Record& y) { return sameRR(x, y); }))
            a.push_back(x);
    if (r.empty() && a.empty()) return;
    auto soas = ZoneStore(db).bumpSerialOf(zoneId);
    if (soas) append(db, zoneId, soas->first, soas->second, r, a);
}

void Journal::restart(SQLite::Database& db, int64_t zoneId) {
    ZoneStore(db).bumpSerialOf(zoneId);
    clear(db, zoneId);
}

void Journal::clear(SQLite::Database& db, int64_t zoneId) {
    SQLite::Statement del(db, "DELETE FROM zone_journal WHERE zone_id = ?");
    del.bind(1, zoneId);
    del.exec();
}

std::vector<JournalEntry> Journal::read(SQLite::Database& db, int64_t zoneId) {
    std::vector<JournalEntry> out;
    if (!db.tableExists("zone_journal")) return out;
    SQLite::Statement q(db,
                        "SELECT serial_from, serial_to, at, old_soa, new_soa, removed, added "
                        "FROM zone_journal WHERE zone_id = ? ORDER BY id");
    q.bind(1, zoneId);
    while (q.executeStep()) {
        JournalEntry e;
        e.from = uint32_t(q.getColumn(0).getInt64());
        e.to = uint32_t(q.getColumn(1).getInt64());
        e.at = q.getColumn(2).getInt64();
        auto blob = [&](int i) {
            return decode(q.getColumn(i).getBlob(), size_t(q.getColumn(i).getBytes()));
        };
        auto oldSoa = blob(3), newSoa = blob(4);
        if (oldSoa.size() != 1 || newSoa.size() != 1) continue;
        e.oldSoa = oldSoa[0];
        e.newSoa = newSoa[0];
        e.removed = blob(5);
        e.added = blob(6);
        out.push_back(std::move(e));
    }
    return out;
}

void Journal::setBounds(SQLite::Database& db, int64_t zoneId, int64_t maxEntries,
                        int64_t maxAgeMs) {
    SQLite::Statement q(
        db, "UPDATE zones SET journal_max_entries = ?, journal_max_age_ms = ? WHERE id = ?");
    q.bind(1, maxEntries);
    q.bind(2, maxAgeMs);
    q.bind(3, zoneId);
    q.exec();
    prune(db, zoneId);
}

}  // namespace zones
