#include "zones/record_rows.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace zones {
namespace {

// Rows go in kBatch at a time through one multi-row INSERT: SQLite's fixed cost per statement
// run (cursors opened and closed, the VDBE started and halted) was a quarter of a
// million-record import's insert time. OR FAIL, not the default ABORT: undoing only the failing
// statement's earlier rows needs a statement journal, which copied pages to a temporary file
// 140,000 times in a million-record import; a failure throws, and the transaction is rolled
// back whole (see the contract).
constexpr size_t kBatch = 64;
constexpr int kColumns = 6;  // id, owner, type, class, ttl, rdata; ?1 is the zone, once

std::string insertSql(size_t rows) {
    std::string sql =
        "INSERT OR FAIL INTO records (zone_id, id, owner, type, class, ttl, rdata) VALUES ";
    for (size_t k = 0; k < rows; ++k) {
        sql += k ? ", (?1" : "(?1";
        for (int c = 0; c < kColumns; ++c) sql += ", ?" + std::to_string(2 + kColumns * k + c);
        sql += ")";
    }
    return sql;
}

const void* blobData(const std::vector<uint8_t>& v) {
    static const uint8_t empty = 0;
    return v.empty() ? &empty : v.data();
}

// Whether owner `a`'s text sorts before `b`'s as SQLite compares TEXT (memcmp), computed from
// the wire forms without writing the text: text byte k is wire byte k + 1, or '.' where that
// is a label's length. Exact for names that need no escapes; others may sort out of place,
// which costs only speed.
bool ownerTextLess(std::string_view a, std::string_view b) {
    size_t nextA = 1 + uint8_t(a[0]), nextB = 1 + uint8_t(b[0]);
    size_t endA = a.size() - 1, endB = b.size() - 1;  // text lengths
    for (size_t p = 1;; ++p) {
        if (p > endA || p > endB) return endA < endB;
        uint8_t ca = uint8_t(a[p]), cb = uint8_t(b[p]);
        if (p == nextA) {
            nextA += 1 + ca;
            ca = '.';
        }
        if (p == nextB) {
            nextB += 1 + cb;
            cb = '.';
        }
        if (ca != cb) return ca < cb;
    }
}

// The first 8 bytes of the owner's text (as above), big-endian, zero-padded: comparing two
// of them compares those bytes as memcmp does.
uint64_t textPrefix(std::string_view wire) {
    uint64_t prefix = 0;
    size_t next = 1 + uint8_t(wire[0]), end = wire.size() - 1;
    for (size_t p = 1; p <= 8; ++p) {
        uint8_t c = 0;
        if (p <= end) {
            c = uint8_t(wire[p]);
            if (p == next) {
                next += 1 + c;
                c = '.';
            }
        }
        prefix = prefix << 8 | c;
    }
    return prefix;
}

}  // namespace

// The rows go in in the order of the UNIQUE (zone_id, owner, type, rdata) index, each with the
// id it has in the list's order. Inserting in list order put each index entry at a random
// place of a B-tree larger than the page cache (a search from the root, a half-full page split);
// in index order the index is appended to, and the table takes the random ids more cheaply
// (a million-record import: 1.62 s -> 1.50 s, 15 MB more at its peak for the order, the file
// 2% larger).
void insertRecordRows(SQLite::Database& db, int64_t zoneId, const std::vector<Record>& records) {
    if (records.empty()) return;
    if (records.size() > std::numeric_limits<uint32_t>::max())
        throw std::runtime_error("too many records in one change");
    int64_t firstId = db.execAndGet("SELECT coalesce(max(id), 0) + 1 FROM records").getInt64();
    // SQLite picks free ids at random once the largest is taken; so do we, by letting it.
    bool ownIds = firstId <= std::numeric_limits<int64_t>::max() - int64_t(records.size());
    // The order of the index: by the first 8 bytes of the owner text first, kept beside each
    // record's place in the list, so that most comparisons end without reading two records'
    // names from all over the heap; the place last, so that std::sort needs no buffer.
    struct Key {
        uint64_t prefix;
        uint32_t index;
    };
    std::vector<Key> order(records.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = {textPrefix(records[i].owner.key()), uint32_t(i)};
    if (ownIds)
        std::sort(order.begin(), order.end(), [&](const Key& ka, const Key& kb) {
            if (ka.prefix != kb.prefix) return ka.prefix < kb.prefix;
            const Record &x = records[ka.index], &y = records[kb.index];
            if (x.owner != y.owner) return ownerTextLess(x.owner.key(), y.owner.key());
            if (x.type != y.type) return x.type < y.type;
            if (x.rdata != y.rdata)
                return std::lexicographical_compare(x.rdata.begin(), x.rdata.end(), y.rdata.begin(),
                                                    y.rdata.end());
            return ka.index < kb.index;
        });

    std::optional<SQLite::Statement> batch;
    if (records.size() >= kBatch) batch.emplace(db, insertSql(kBatch));
    SQLite::Statement single(db, insertSql(1));
    // Owner texts of one batch, alive until its exec; their buffers are reused.
    std::array<std::string, kBatch> owners;
    auto bindRow = [&](SQLite::Statement& ins, size_t k, uint32_t i) {
        const Record& r = records[i];
        int p = 2 + kColumns * int(k);
        owners[k].clear();
        r.owner.appendText(owners[k]);
        if (ownIds) {
            ins.bind(p, firstId + int64_t(i));
        } else {
            ins.bind(p);  // NULL: SQLite chooses
        }
        ins.bindNoCopy(p + 1, owners[k]);
        ins.bind(p + 2, int(r.type));
        ins.bind(p + 3, int(r.rclass));
        ins.bind(p + 4, int64_t(r.ttl));
        ins.bindNoCopy(p + 5, blobData(r.rdata), int(r.rdata.size()));
    };
    size_t n = 0;
    if (batch) {
        batch->bind(1, zoneId);
        for (; order.size() - n >= kBatch; n += kBatch) {
            batch->reset();
            for (size_t k = 0; k < kBatch; ++k) bindRow(*batch, k, order[n + k].index);
            batch->exec();
        }
    }
    single.bind(1, zoneId);
    for (; n < order.size(); ++n) {
        single.reset();
        bindRow(single, 0, order[n].index);
        single.exec();
    }
}

}  // namespace zones
