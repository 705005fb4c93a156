#include "zones/schema.hpp"

#include <SQLiteCpp/Transaction.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace zones {
namespace {

// Each entry moves the schema from version i to i+1. Never edit an entry once it has been
// released: append a new one instead, so every existing database migrates the same way.
const std::vector<const char*>& migrations() {
    static const std::vector<const char*> list = {
        // v1: zones and their records.
        R"sql(
CREATE TABLE zones (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,   -- absolute, lower case, trailing dot
    generation  INTEGER NOT NULL DEFAULT 1, -- bumped by every change; dnsd rebuilds only changed zones
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE TABLE records (
    id          INTEGER PRIMARY KEY,
    zone_id     INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    owner       TEXT NOT NULL,          -- absolute, lower case, trailing dot
    type        INTEGER NOT NULL,       -- RR type code
    class       INTEGER NOT NULL DEFAULT 1,
    ttl         INTEGER NOT NULL,
    rdata       BLOB NOT NULL,          -- uncompressed wire RDATA
    UNIQUE (zone_id, owner, type, rdata)
);
CREATE INDEX records_by_zone_owner ON records(zone_id, owner);
)sql",
    };
    return list;
}

bool fileExists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

int schemaVersion() { return int(migrations().size()); }

int64_t nowMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string resolveDatabasePath(const std::string& fromFlag) {
    if (!fromFlag.empty()) return fromFlag;
    if (const char* env = std::getenv("DNSD_DB"); env && *env) return env;
    throw std::runtime_error("no database given: pass --db PATH or set DNSD_DB");
}

std::unique_ptr<SQLite::Database> openDatabase(const std::string& path, OpenMode mode,
                                               int busyTimeoutMs) {
    bool existed = fileExists(path);
    if (!existed && mode != OpenMode::CreateReadWrite) {
        throw std::runtime_error("database " + path + " does not exist (create it with: dnsctl --db " +
                                 path + " init)");
    }
    std::unique_ptr<SQLite::Database> db;
    int flags = SQLite::OPEN_READWRITE | (mode == OpenMode::CreateReadWrite ? SQLite::OPEN_CREATE : 0);
    // The database and its WAL hold operator data: not world-readable.
    mode_t old = ::umask(027);
    try {
        db = std::make_unique<SQLite::Database>(path, flags, busyTimeoutMs);
        db->exec("PRAGMA foreign_keys = ON");
        // WAL lets dnsd read a consistent snapshot while dnsctl and dnsd-probe write.
        std::string journal = db->execAndGet("PRAGMA journal_mode = WAL").getString();
        if (journal != "wal") throw std::runtime_error("cannot switch to WAL mode (got " + journal + ")");
        db->exec("PRAGMA synchronous = NORMAL");
        int version = db->execAndGet("PRAGMA user_version").getInt();
        if (version == 0 && existed) {
            // A pre-existing file with no version must be empty, or it is not ours.
            int tables = db->execAndGet("SELECT count(*) FROM sqlite_master").getInt();
            if (tables != 0) throw std::runtime_error("not a dnsd database (unknown tables, no schema version)");
        }
        if (version > schemaVersion()) {
            throw std::runtime_error("schema version " + std::to_string(version) +
                                     " is newer than this binary understands (" +
                                     std::to_string(schemaVersion()) + "); upgrade dnsd");
        }
        if (version < schemaVersion()) {
            SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);
            // Re-read inside the write lock: another process may have migrated meanwhile.
            version = db->execAndGet("PRAGMA user_version").getInt();
            for (int v = version; v < schemaVersion(); ++v) db->exec(migrations()[v]);
            db->exec("PRAGMA user_version = " + std::to_string(schemaVersion()));
            tx.commit();
        }
    } catch (const SQLite::Exception& e) {
        ::umask(old);
        throw std::runtime_error("database " + path + ": " + e.what());
    } catch (const std::runtime_error& e) {
        ::umask(old);
        throw std::runtime_error(std::string(e.what()).rfind("database ", 0) == 0
                                     ? e.what()
                                     : "database " + path + ": " + e.what());
    }
    ::umask(old);
    return db;
}

}  // namespace zones
