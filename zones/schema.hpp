// zones::Schema — the one schema module shared by dnsd, dnsd-probe and dnsctl.
//
// Contract: `openDatabase` returns a connection in WAL mode with foreign keys on and a busy
// timeout, whose schema is at `schemaVersion()` (older files are migrated forward inside one
// transaction; a newer or foreign file is refused with a clear error). It never creates a
// file unless asked to. Errors are thrown as std::runtime_error with a message that names
// the file: this is control-path code.
#pragma once

#include <SQLiteCpp/Database.h>

#include <memory>
#include <string>

namespace zones {

// The schema version this build reads and writes (PRAGMA user_version): the number of
// migrations in schema.cpp's `migrations()`, so appending one is the bump.
int schemaVersion();

enum class OpenMode {
    ReadWrite,        // the file must exist and hold a dnsd schema
    CreateReadWrite,  // create the file if missing (dnsctl init)
};

std::unique_ptr<SQLite::Database> openDatabase(const std::string& path, OpenMode mode,
                                               int busyTimeoutMs = 5000);

// The database path from `--db` if given, else $DNSD_DB, else throws with a clear message.
std::string resolveDatabasePath(const std::string& fromFlag);

// Unix time in milliseconds, the unit of every *_at column.
int64_t nowMs();

}  // namespace zones
