// zones::insertRecordRows — writes records as rows of the `records` table, many at a time.
//
// Contract: inserts every record of `records` into zone `zoneId`, inside the caller's
// transaction, with exactly the ids (and so the order by id) SQLite would have given them one
// at a time in the list's order: the largest id in the table plus 1, 2, 3, ... Throws
// SQLite::Exception on any failure (a row that breaks UNIQUE (zone_id, owner, type, rdata)
// included); the caller's transaction must then be rolled back, since rows written before the
// failing one stay until it is.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <vector>

#include "zones/record.hpp"

namespace zones {

void insertRecordRows(SQLite::Database& db, int64_t zoneId, const std::vector<Record>& records);

}  // namespace zones
