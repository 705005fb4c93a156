// dnsd::StateLoader — turns the database into a ServedState (control path only).
//
// Contract: `load` reads zones, pool definitions and pool decisions in one read transaction,
// so it sees one consistent moment. It rebuilds only zones whose generation or pool bindings
// changed and reuses the rest; it returns nullptr when nothing served would change. Any
// failure throws std::runtime_error and leaves the loader's cache as it was, so the caller
// keeps serving the previous state and can simply try again.
#pragma once

#include <SQLiteCpp/Database.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "dnsd/pool_counters.hpp"
#include "dnsd/served_state.hpp"
#include "zones/db_watch.hpp"
#include "zones/dnssec_key_store.hpp"
#include "zones/zone_signer.hpp"

namespace dnsd {

class StateLoader {
  public:
    // `counters` (optional) gives every pool answer its metrics counters; it must outlive
    // the loader and every state it builds.
    explicit StateLoader(const std::string& dbPath, PoolCounters* counters = nullptr);

    // True if any connection committed a write since the last call (PRAGMA data_version).
    bool changed();

    std::shared_ptr<const ServedState> load(const ServedState* previous);
    // How the last successful `load` made its zones: patched from the cached copy (a
    // record-level change) or built from all records.
    struct LoadCounts {
        size_t patched = 0, built = 0;
    };
    LoadCounts lastLoad() const { return lastLoad_; }

    // When dnsd-probe last wrote its heartbeat (ms), -1 if it never has, nullopt if the
    // database cannot be read right now (busy: a missed reading must not look like "never").
    std::optional<int64_t> controllerHeartbeat();

    // Whether the database path still names the file we have open. SQLite cannot tell: an
    // unlinked file keeps working, silently, until the process exits.
    using FileState = zones::DbWatch::FileState;
    FileState checkFile() const;
    // Opens the path again (after Replaced); the next load rebuilds everything.
    void reopen();

    // Signed zones that could not be signed at the last load (keys unreadable, a key file
    // that does not match the database, OpenSSL failing), by zone name, with why. Such a
    // zone keeps serving its last signed snapshot and its pools their last signed answers.
    const std::map<std::string, std::string>& signingProblems() const { return problems_; }

  private:
    struct CachedZone {
        uint64_t generation = 0;
        std::string identity;  // name and created_at
        std::string poolSignature;
        std::shared_ptr<const zones::ZoneSnapshot> zone;
        std::string signedWith;  // the signer's fingerprint, empty when unsigned
    };
    struct CachedSigner {
        std::string settings;  // the database rows it was made from
        std::shared_ptr<const zones::ZoneSigner> signer;
    };
    // The zone's signer for these settings (loading its keys when they changed).
    std::shared_ptr<const zones::ZoneSigner> signerFor(int64_t zoneId, const zones::Name& apex,
                                                       const zones::ZoneDnssec& settings);
    std::string path_;
    PoolCounters* counters_;
    std::unique_ptr<SQLite::Database> db_;
    zones::DbWatch watch_;
    std::map<int64_t, CachedZone> cache_;
    std::map<int64_t, CachedSigner> signers_;
    std::map<std::string, std::string> problems_;
    uint64_t nextGeneration_ = 1;
    LoadCounts lastLoad_;
};

}  // namespace dnsd
