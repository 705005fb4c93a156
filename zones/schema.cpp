#include "zones/schema.hpp"

#include <SQLiteCpp/Transaction.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
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
        // v2: failover pools, members, probes, and what dnsd-probe observes and decides.
        // dnsd reads pools, members, pool_decisions and controller; dnsd-probe and dnsctl the rest.
        R"sql(
CREATE TABLE pools (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    zone_id      INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    owner        TEXT NOT NULL,          -- absolute, lower case, trailing dot
    rtype        INTEGER NOT NULL CHECK (rtype IN (1, 28, 5)),  -- A, AAAA, CNAME
    ttl          INTEGER NOT NULL DEFAULT 30,
    max_answers  INTEGER NOT NULL DEFAULT 0 CHECK (max_answers >= 0),  -- 0 = all
    all_down     TEXT NOT NULL DEFAULT 'serve-all' CHECK (all_down IN ('serve-all', 'fallback', 'nodata')),
    fallback     TEXT,                   -- presentation rdata, for all_down = 'fallback'
    failback     TEXT NOT NULL DEFAULT 'auto' CHECK (failback IN ('auto', 'manual')),
    hold_down_ms INTEGER NOT NULL DEFAULT 60000,  -- better tier healthy this long before auto failback
    approval     TEXT NOT NULL DEFAULT 'auto' CHECK (approval IN ('auto', 'manual')),
    degraded_ttl INTEGER NOT NULL DEFAULT 5,      -- TTL cap while degraded (backup tier, member down)
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (owner, rtype)
);
CREATE TABLE members (
    id           INTEGER PRIMARY KEY,
    pool_id      INTEGER NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    value        TEXT NOT NULL,          -- presentation: IPv4, IPv6 or absolute name (CNAME)
    priority     INTEGER NOT NULL DEFAULT 1,  -- tier: 1 is the primary, higher is a backup
    weight       INTEGER NOT NULL DEFAULT 1,
    admin        TEXT NOT NULL DEFAULT 'auto' CHECK (admin IN ('auto', 'up', 'down')),  -- force
    drained      INTEGER NOT NULL DEFAULT 0, -- 1 = maintenance (within drain_start..drain_end if set)
    drain_start  INTEGER,                -- ms; NULL = from now
    drain_end    INTEGER,                -- ms; NULL = until undrained
    health       TEXT NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'up', 'down')),
    health_since INTEGER,                -- ms of the last health change
    last_ok      INTEGER,                -- last probe result: 1 ok, 0 failed
    last_message TEXT,
    last_latency_us INTEGER,
    last_checked_at INTEGER,
    created_at   INTEGER NOT NULL,
    UNIQUE (pool_id, value)
);
CREATE TABLE pool_decisions (
    pool_id        INTEGER PRIMARY KEY REFERENCES pools(id) ON DELETE CASCADE,
    served         TEXT NOT NULL,        -- member values separated by single spaces; '' = NODATA
    ttl            INTEGER NOT NULL,
    decided_at     INTEGER NOT NULL,     -- ms
    reason         TEXT NOT NULL,
    active_tier    INTEGER,              -- priority served now; NULL when all down
    all_down       INTEGER NOT NULL DEFAULT 0,
    degraded       INTEGER NOT NULL DEFAULT 0,
    pending_tier   INTEGER,              -- failover waiting for `dnsctl pool approve`
    pending_since  INTEGER,
    pending_reason TEXT
);
CREATE TABLE controller (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    pid          INTEGER,
    heartbeat_at INTEGER,                -- ms, written every second
    started_at   INTEGER,
    host         TEXT
);
CREATE TABLE probes (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    type         TEXT NOT NULL CHECK (type IN ('tcp', 'http', 'https', 'dns', 'icmp', 'exec')),
    port         INTEGER,                -- NULL = the type's default (http 80, https 443, dns 53)
    interval_ms  INTEGER NOT NULL DEFAULT 1000 CHECK (interval_ms >= 100),
    timeout_ms   INTEGER NOT NULL DEFAULT 500 CHECK (timeout_ms > 0 AND timeout_ms < interval_ms),
    rise         INTEGER NOT NULL DEFAULT 2 CHECK (rise >= 1),
    fall         INTEGER NOT NULL DEFAULT 2 CHECK (fall >= 1),
    target       TEXT,                   -- check this host:port or URL on the member's behalf
    method       TEXT NOT NULL DEFAULT 'GET',
    path         TEXT NOT NULL DEFAULT '/',
    host_header  TEXT,
    user_agent   TEXT,
    headers      TEXT NOT NULL DEFAULT '',  -- extra "Name: value" lines, newline separated
    expect       TEXT NOT NULL DEFAULT '200-399',
    body         TEXT,                   -- substring the response body must contain
    sni          TEXT,
    verify       INTEGER NOT NULL DEFAULT 1,
    query        TEXT,                   -- dns: name to ask the member
    qtype        INTEGER NOT NULL DEFAULT 1,
    command      TEXT,                   -- exec: run by /bin/sh -c
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE TABLE member_probes (
    member_id    INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    probe_id     INTEGER NOT NULL REFERENCES probes(id) ON DELETE CASCADE,
    PRIMARY KEY (member_id, probe_id)
);
CREATE TABLE observations (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,       -- ms
    member_id    INTEGER NOT NULL,       -- no FK: history outlives the definition
    probe_id     INTEGER NOT NULL,
    ok           INTEGER NOT NULL,
    latency_us   INTEGER NOT NULL,
    message      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX observations_by_at ON observations(at);
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,       -- ms
    pool         TEXT,                   -- names, not ids: history outlives the definition
    member       TEXT,
    kind         TEXT NOT NULL,          -- e.g. member-down, failover, failback, admin-drain
    message      TEXT NOT NULL,
    details      TEXT NOT NULL DEFAULT '{}'  -- JSON object
);
CREATE TABLE pool_requests (
    id           INTEGER PRIMARY KEY,
    pool_id      INTEGER NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('approve', 'failback')),
    requested_at INTEGER NOT NULL,
    handled_at   INTEGER,
    result       TEXT
);
)sql",
        // v3: the owners each record-level change touched, so dnsd patches a zone instead of
        // rebuilding it (rows for generation G describe the change that made G). The
        // UNIQUE (zone_id, owner, type, rdata) index already serves owner lookups, so the
        // second index only slowed imports.
        R"sql(
CREATE TABLE zone_changes (
    zone_id     INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    generation  INTEGER NOT NULL,
    owner       TEXT NOT NULL,          -- as records.owner
    PRIMARY KEY (zone_id, generation, owner)
);
DROP INDEX records_by_zone_owner;
)sql",
        // v4: zone transfers. TSIG keys (secrets in base64: the file is 0640, and no command
        // prints them unless asked), and the secondaries of each zone: who may transfer it
        // (the address, and the key its requests must be signed with) and whom to NOTIFY.
        R"sql(
CREATE TABLE tsig_keys (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,   -- absolute, lower case, trailing dot
    algorithm   TEXT NOT NULL CHECK (algorithm IN ('hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512')),
    secret      TEXT NOT NULL,          -- base64
    created_at  INTEGER NOT NULL
);
CREATE TABLE secondaries (
    id          INTEGER PRIMARY KEY,
    zone_id     INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    address     TEXT NOT NULL,          -- IPv4 or IPv6 literal, as inet_ntop writes it
    port        INTEGER NOT NULL DEFAULT 53 CHECK (port BETWEEN 1 AND 65535),
    key_id      INTEGER REFERENCES tsig_keys(id) ON DELETE RESTRICT,
    notify      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    UNIQUE (zone_id, address, port)
);
)sql",
        // v5: what status shows without guessing from reason text. A better tier that is
        // healthy again and the time an automatic failback happens (NULL with failback
        // manual: it waits for `dnsctl pool failback`); and each probe's own last result, since
        // members.last_* holds only the newest result of any of the member's probes.
        R"sql(
ALTER TABLE pool_decisions ADD COLUMN failback_tier INTEGER;
ALTER TABLE pool_decisions ADD COLUMN failback_at INTEGER;   -- ms; NULL = manual
ALTER TABLE member_probes ADD COLUMN last_ok INTEGER;        -- 1 ok, 0 failed
ALTER TABLE member_probes ADD COLUMN last_message TEXT;
ALTER TABLE member_probes ADD COLUMN last_latency_us INTEGER;
ALTER TABLE member_probes ADD COLUMN last_checked_at INTEGER;  -- ms
)sql",
        // v6: the journal of what each zone serves, serial by serial, for IXFR (zones/journal),
        // written by whoever makes the change, in the change's transaction; and its bounds.
        R"sql(
CREATE TABLE zone_journal (
    id          INTEGER PRIMARY KEY,
    zone_id     INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    serial_from INTEGER NOT NULL,
    serial_to   INTEGER NOT NULL,
    at          INTEGER NOT NULL,       -- ms
    old_soa     BLOB NOT NULL,          -- RRs in uncompressed wire form (owner, type, ttl, rdata)
    new_soa     BLOB NOT NULL,
    removed     BLOB NOT NULL,
    added       BLOB NOT NULL
);
CREATE INDEX zone_journal_by_zone ON zone_journal(zone_id, id);
ALTER TABLE zones ADD COLUMN journal_max_entries INTEGER NOT NULL DEFAULT 1000;
ALTER TABLE zones ADD COLUMN journal_max_age_ms INTEGER NOT NULL DEFAULT 604800000;  -- 7 days
)sql",
        // v7: what dnsd knows of each secondary (written by its NOTIFY thread), for dnsctl
        // status and the status page.
        R"sql(
CREATE TABLE secondary_state (
    zone             TEXT NOT NULL,
    endpoint         TEXT NOT NULL,     -- 192.0.2.1:53, [2001:db8::1]:53
    serial           INTEGER NOT NULL,  -- the zone's serial dnsd serves
    notified_serial  INTEGER,
    acked_serial     INTEGER,
    confirmed_serial INTEGER,           -- what the secondary answered for its SOA
    last_notify_at   INTEGER,           -- ms
    acked_at         INTEGER,
    confirmed_at     INTEGER,
    behind_since     INTEGER,           -- ms; NULL when it serves the current serial
    notifies         INTEGER NOT NULL DEFAULT 0,
    retries          INTEGER NOT NULL DEFAULT 0,
    errors           INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    last_xfr_kind    TEXT,              -- axfr, ixfr, ixfr-full, ixfr-current, refused, ...
    last_xfr_at      INTEGER,           -- ms, when it ended
    last_xfr_bytes   INTEGER,
    last_xfr_ms      INTEGER,           -- how long the stream took
    updated_at       INTEGER NOT NULL,  -- when dnsd last wrote a change (not rewritten unchanged)
    PRIMARY KEY (zone, endpoint)
);
)sql",
        // v8: vantage points. Remote probe agents (and the controller's own checks, 'local')
        // each keep their own view of every member; a pool's quorum decides from the views.
        R"sql(
CREATE TABLE vantages (
    name            TEXT PRIMARY KEY,       -- 'local' is the controller's own checks
    secret          TEXT,                   -- base64 HMAC-SHA256 key; NULL for 'local'
    created_at      INTEGER NOT NULL,
    -- written by dnsd-probe (the controller) about once a second while the vantage reports:
    last_report_at  INTEGER,                -- ms, controller time
    last_address    TEXT,                   -- where its last report came from
    last_agent_time INTEGER,                -- ms, the agent's clock in its last accepted request
    offset_ms       INTEGER,                -- agent clock minus controller clock (smoothed)
    lag_ms          INTEGER,                -- report time minus check time, last report
    checks_per_s    REAL,
    reports         INTEGER NOT NULL DEFAULT 0,
    results         INTEGER NOT NULL DEFAULT 0,
    dropped         INTEGER NOT NULL DEFAULT 0,  -- results the agent dropped from a full buffer
    refused         INTEGER NOT NULL DEFAULT 0,  -- its requests refused (skew, replay, signature)
    last_refusal    TEXT,
    silent_since    INTEGER,                -- ms; NULL while it reports
    version         TEXT,                   -- dnsd-probe version the agent runs
    host            TEXT                    -- the agent's host name, as it says
);
ALTER TABLE pools ADD COLUMN quorum TEXT NOT NULL DEFAULT 'majority';  -- majority|all|any|N
ALTER TABLE pool_decisions ADD COLUMN quorum_lost INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pool_decisions ADD COLUMN quorum_lost_since INTEGER;
ALTER TABLE observations ADD COLUMN vantage TEXT NOT NULL DEFAULT 'local';
-- Each vantage's view of each member (rise/fall applied per vantage), for dnsctl status.
CREATE TABLE member_views (
    member_id    INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    vantage      TEXT NOT NULL,
    health       TEXT NOT NULL CHECK (health IN ('unknown', 'up', 'down')),
    health_since INTEGER,
    last_ok      INTEGER,
    last_message TEXT,
    checked_at   INTEGER,                -- ms, controller time
    PRIMARY KEY (member_id, vantage)
);
)sql",
        // v9: DNSSEC. A zone is signed while it has a dnssec_zones row; keys' public parts and
        // life cycle are here, private keys in files of <db>.keys/ (zones/dnssec_key_store.hpp).
        // Durations in seconds, *_at in ms, sig_epoch in unix seconds.
        R"sql(
CREATE TABLE dnssec_zones (
    zone_id           INTEGER PRIMARY KEY REFERENCES zones(id) ON DELETE CASCADE,
    state             TEXT NOT NULL CHECK (state IN ('signed', 'unsigning')),
    algorithm         INTEGER NOT NULL,
    dnskey_ttl        INTEGER NOT NULL DEFAULT 3600,
    sig_validity      INTEGER NOT NULL DEFAULT 1209600,  -- 14 d
    sig_refresh       INTEGER NOT NULL DEFAULT 604800,   -- re-sign with 7 d left
    sig_epoch         INTEGER NOT NULL,   -- inception = epoch - 3600, expiration = epoch + validity
    zsk_lifetime      INTEGER NOT NULL DEFAULT 7776000,  -- 90 d
    propagation_delay INTEGER NOT NULL DEFAULT 3600,     -- secondaries + caches
    ds_ttl            INTEGER NOT NULL DEFAULT 86400,    -- the parent's DS TTL
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    unsigning_at      INTEGER,            -- when `dnssec disable` published CDS delete
    ds_removed_at     INTEGER             -- when the operator said the DS is gone
);
CREATE TABLE dnssec_keys (
    id            INTEGER PRIMARY KEY,
    zone_id       INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('ksk', 'zsk')),
    algorithm     INTEGER NOT NULL,
    key_tag       INTEGER NOT NULL,
    public_key    BLOB NOT NULL,          -- the DNSKEY public key field (RFC 6605 / 8080)
    private_file  TEXT NOT NULL UNIQUE,   -- file name inside the key directory
    state         TEXT NOT NULL CHECK (state IN ('published', 'active', 'leaving', 'retired')),
    publish       INTEGER NOT NULL,       -- in the DNSKEY RRset
    sign          INTEGER NOT NULL,       -- makes signatures
    cds           INTEGER NOT NULL,       -- published as CDS + CDNSKEY
    created_at    INTEGER NOT NULL,
    published_at  INTEGER,
    active_at     INTEGER,
    retired_at    INTEGER,
    remove_at     INTEGER,                -- scheduled removal of a retired key
    ds_seen_at    INTEGER                 -- the operator confirmed the parent's DS for this KSK
);
CREATE INDEX dnssec_keys_zone ON dnssec_keys (zone_id);
)sql",
        // v10: RFC 2136 UPDATE policies (zones/update_policy_store): which TSIG key may change
        // which names and types of a zone. No row for a zone: UPDATE is refused for it.
        R"sql(
CREATE TABLE update_policies (
    id          INTEGER PRIMARY KEY,
    zone_id     INTEGER NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
    key_id      INTEGER NOT NULL REFERENCES tsig_keys(id) ON DELETE RESTRICT,
    name        TEXT NOT NULL,           -- pattern relative to the zone: @, www, *.dyn, _acme-challenge.*, *
    types       TEXT NOT NULL DEFAULT '',  -- type mnemonics separated by spaces; '' = every type
    created_at  INTEGER NOT NULL,
    UNIQUE (zone_id, key_id, name, types)
);
)sql",
    };
    return list;
}

bool fileExists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

int schemaVersion() {
    return int(migrations().size());
}

int64_t nowMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string resolveDatabasePath(const std::string& fromFlag) {
    if (!fromFlag.empty()) return fromFlag;
    if (const char* env = std::getenv("DNSD_DB"); env && *env) return env;
    throw std::runtime_error("no database given: pass --db PATH or set DNSD_DB");
}

namespace {

// Creates the database file with the mode it keeps: the database and its WAL hold operator
// data and must not be world-readable. SQLite creates the -wal and -shm files with the mode of
// the database file, so this one file decides all three (no process-wide umask change).
void createPrivateFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) {
        if (errno == EEXIST) return;  // another `dnsctl init` was faster: open what it made
        throw std::runtime_error("database " + path + ": cannot create: " + std::strerror(errno));
    }
    // Exactly 0640 whatever the umask, so the daemons' group can read it (dist/README.md).
    int err = ::fchmod(fd, 0640) == 0 ? 0 : errno;
    ::close(fd);
    if (err) throw std::runtime_error("database " + path + ": chmod: " + std::strerror(err));
}

bool isPermissionError(const SQLite::Exception& e) {
    int primary = e.getErrorCode() & 0xff;
    return primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM;
}

std::string notWritable(const std::string& path) {
    return "database " + path +
           " is read-only for this process (writing needs write access to the file and its "
           "directory, on a writable file system; commands that only read work without it)";
}

bool directoryWritable(const std::string& path) {
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    return ::access(dir.c_str(), W_OK) == 0;
}

// Checks the schema of a connection that may not migrate it.
void checkVersionReadOnly(SQLite::Database& db, const std::string& path) {
    int version = db.execAndGet("PRAGMA user_version").getInt();
    if (version == 0) {
        if (db.execAndGet("SELECT count(*) FROM sqlite_master").getInt() == 0)
            throw std::runtime_error(
                "is empty, not a dnsd database (create one with: dnsctl --db " + path + " init)");
        throw std::runtime_error("not a dnsd database (unknown tables, no schema version)");
    }
    if (version > schemaVersion()) {
        throw std::runtime_error("schema version " + std::to_string(version) +
                                 " is newer than this binary understands (" +
                                 std::to_string(schemaVersion()) + "); upgrade dnsd");
    }
    if (version < schemaVersion()) {
        throw std::runtime_error(
            "schema version " + std::to_string(version) + " is older than this binary's (" +
            std::to_string(schemaVersion()) +
            "), and reading does not migrate it: run `dnsctl --db " + path +
            " init` (or any write command) as a user who may write the database");
    }
}

std::unique_ptr<SQLite::Database> openReadOnly(const std::string& path, int busyTimeoutMs) {
    try {
        auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY, busyTimeoutMs);
        checkVersionReadOnly(*db, path);
        return db;
    } catch (const SQLite::Exception& e) {
        // A WAL database needs its -wal and -shm files even to be read. They exist while any
        // writer has it open; with none running, the last one removed them (or left an empty
        // -wal), and a reader that may not write the directory or open the -shm cannot set
        // them up. A -wal file that is missing or empty holds no commit the database file
        // lacks, so the file alone is the whole database: read it as an immutable snapshot (no
        // locks, no side files). A writer that starts while this command reads goes
        // unnoticed, as if it had started just after.
        struct stat wal;
        bool walEmpty = ::stat((path + "-wal").c_str(), &wal) != 0 || wal.st_size == 0;
        if (!isPermissionError(e) || !walEmpty) throw;
    }
    std::string uri = "file:";
    for (char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            static const char* hex = "0123456789abcdef";
            uri += {'%', hex[uint8_t(c) >> 4], hex[uint8_t(c) & 15]};
        } else {
            uri.push_back(c);
        }
    }
    uri += "?immutable=1";
    auto db = std::make_unique<SQLite::Database>(uri, SQLite::OPEN_READONLY | SQLite::OPEN_URI,
                                                 busyTimeoutMs);
    checkVersionReadOnly(*db, path);
    return db;
}

}  // namespace

void requireWritable(SQLite::Database& db, const std::string& path) {
    if (sqlite3_db_readonly(db.getHandle(), "main") == 1)
        throw std::runtime_error(notWritable(path));
}

bool isSnapshot(SQLite::Database& db) {
    return sqlite3_uri_boolean(sqlite3_db_filename(db.getHandle(), "main"), "immutable", 0) != 0;
}

std::unique_ptr<SQLite::Database> openDatabase(const std::string& path, OpenMode mode,
                                               int busyTimeoutMs) {
    bool existed = fileExists(path);
    if (!existed && mode != OpenMode::CreateReadWrite) {
        throw std::runtime_error("database " + path +
                                 " does not exist (create it with: dnsctl --db " + path + " init)");
    }
    try {
        if (mode == OpenMode::ReadOnly) return openReadOnly(path, busyTimeoutMs);
    } catch (const SQLite::Exception& e) {
        throw std::runtime_error("database " + path + ": " + e.what());
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(e.what()).rfind("database ", 0) == 0
                                     ? e.what()
                                     : "database " + path + ": " + e.what());
    }
    if (!existed) createPrivateFile(path);
    std::unique_ptr<SQLite::Database> db;
    try {
        db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE, busyTimeoutMs);
        db->exec("PRAGMA foreign_keys = ON");
        if (existed && mode != OpenMode::CreateReadWrite &&
            db->execAndGet("PRAGMA user_version").getInt() == 0 &&
            db->execAndGet("SELECT count(*) FROM sqlite_master").getInt() == 0) {
            // Checked before anything writes the file: an empty file stays empty.
            throw std::runtime_error(
                "is empty, not a dnsd database (create one with: dnsctl --db " + path + " init)");
        }
        // WAL lets dnsd read a consistent snapshot while dnsctl and dnsd-probe write.
        std::string journal = db->execAndGet("PRAGMA journal_mode = WAL").getString();
        if (journal != "wal")
            throw std::runtime_error("cannot switch to WAL mode (got " + journal + ")");
        db->exec("PRAGMA synchronous = NORMAL");
        int version = db->execAndGet("PRAGMA user_version").getInt();
        if (version == 0 && existed) {
            // A pre-existing file with no version must be empty, or it is not ours.
            int tables = db->execAndGet("SELECT count(*) FROM sqlite_master").getInt();
            if (tables != 0)
                throw std::runtime_error("not a dnsd database (unknown tables, no schema version)");
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
        // SQLite opened the file read-only (no write access to it), or cannot create the
        // -wal file beside it (none to the directory): either way this process cannot write.
        if (db && isPermissionError(e) &&
            (sqlite3_db_readonly(db->getHandle(), "main") == 1 || !directoryWritable(path)))
            throw std::runtime_error(notWritable(path));
        throw std::runtime_error("database " + path + ": " + e.what());
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(e.what()).rfind("database ", 0) == 0
                                     ? e.what()
                                     : "database " + path + ": " + e.what());
    }
    return db;
}

}  // namespace zones
