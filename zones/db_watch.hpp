// zones::DbWatch — tells a long-lived connection what SQLite cannot: that another connection
// committed (PRAGMA data_version), and that the database path no longer names the file the
// connection has open. An unlinked or renamed-over file keeps working through the old handle,
// silently, until the process exits, so a restore (`mv new.db dnsd.db`) or a deletion would
// otherwise go unnoticed. dnsd's StateLoader, dnsd-probe's Controller and its DbFollower
// each follow one database with it.
//
// Contract: no threads, sockets or clock; the caller polls. `attach` records the file the
// path names now (call it right after opening the connection) and forgets the last data
// version, so the next `changed` is true. `changed` runs one PRAGMA on the caller's
// connection (it reads the WAL index, no disk I/O) and may throw SQLite::Exception;
// `file` is one stat(2) and never throws. Not thread-safe: one owner.
#pragma once

#include <SQLiteCpp/Database.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace zones {

class DbWatch {
  public:
    enum class FileState { Same, Missing, Replaced };

    explicit DbWatch(std::string path);
    // After (re)opening a connection to the path: remember which file it is.
    void attach();
    // Whether the path still names the attached file, names nothing, or names another file.
    FileState file() const;
    // True if any connection committed since the last call on `db` (or since attach/forget).
    bool changed(SQLite::Database& db);
    // The next `changed` returns true (the caller's reload failed and must be retried).
    void forget() { version_ = -1; }

    const std::string& path() const { return path_; }

  private:
    std::string path_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    int64_t version_ = -1;
};

}  // namespace zones
