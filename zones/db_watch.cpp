#include "zones/db_watch.hpp"

#include <sys/stat.h>

namespace zones {

DbWatch::DbWatch(std::string path) : path_(std::move(path)) {}

void DbWatch::attach() {
    // A failed stat leaves an identity no file has, so a file appearing later counts as
    // replaced and is reopened.
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) st = {};
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    version_ = -1;
}

DbWatch::FileState DbWatch::file() const {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) return FileState::Missing;
    return st.st_dev == dev_ && st.st_ino == ino_ ? FileState::Same : FileState::Replaced;
}

bool DbWatch::changed(SQLite::Database& db) {
    // data_version is per connection: it moves when any *other* connection commits, which is
    // exactly "someone else wrote" (our own writes are already known to us).
    int64_t v = db.execAndGet("PRAGMA data_version").getInt64();
    bool moved = v != version_;
    version_ = v;
    return moved;
}

}  // namespace zones
