// zones::Schema — the one schema module shared by dnsd, dnsd-probe and dnsctl.
//
// Contract: `openDatabase` returns a connection in WAL mode with foreign keys on and a busy
// timeout, whose schema is at `schemaVersion()` (older files are migrated forward inside one
// transaction; a newer or foreign file is refused with a clear error). It never creates a
// file unless asked to. Errors are thrown as std::runtime_error with a message that names
// the file: this is control-path code. `ReadOnly` writes nothing at all (no migration, no WAL
// switch, no side files when it may not create them), so a user without write access can
// read; it refuses a schema older than this binary's with a message saying how to migrate.
#pragma once

#include <SQLiteCpp/Database.h>

#include <memory>
#include <string>

namespace zones {

// The schema version this build reads and writes (PRAGMA user_version): the number of
// migrations in schema.cpp's `migrations()`, so appending one is the bump.
int schemaVersion();

enum class OpenMode {
    ReadOnly,         // the file must exist and hold the current schema; nothing is written
    ReadWrite,        // the file must exist and hold a dnsd schema
    CreateReadWrite,  // create the file if missing (dnsctl init)
};

std::unique_ptr<SQLite::Database> openDatabase(const std::string& path, OpenMode mode,
                                               int busyTimeoutMs = 5000);

// ReadWrite opens a file this process may not write with a read-only handle (SQLite falls
// back quietly; the daemons rely on it to keep reading). A caller that is about to write calls
// this to fail at once with a clear message instead of "attempt to write a readonly database"
// at its first write.
void requireWritable(SQLite::Database& db, const std::string& path);

// True if `db` was opened read-only as an immutable snapshot (the reader could not create the
// WAL side files and no writer had them open): it will not see later changes, so a command
// that follows changes must open the database again to see them.
bool isSnapshot(SQLite::Database& db);

// The database path from `--db` if given, else $DNSD_DB, else throws with a clear message.
std::string resolveDatabasePath(const std::string& fromFlag);

// Unix time in milliseconds, the unit of every *_at column.
int64_t nowMs();

}  // namespace zones
