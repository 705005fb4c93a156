// dumpDatabase — the whole content of a SQLite file as text, to prove "nothing changed".
//
// Contract: opens `path` read-only on a fresh connection (so it sees exactly what is committed)
// and returns user_version, then every table (sorted by name) with every row in rowid order,
// blobs in hex. Two dumps are equal exactly when the committed data is equal. Header-only, used
// by tests/tools and tests/zones.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdio>
#include <string>
#include <vector>

namespace testsupport {

inline std::string dumpDatabase(const std::string& path) {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    std::string out = "user_version=" + db.execAndGet("PRAGMA user_version").getString() + "\n";
    std::vector<std::string> tables;
    SQLite::Statement list(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    while (list.executeStep()) tables.push_back(list.getColumn(0).getString());
    for (const auto& table : tables) {
        out += "table " + table + "\n";
        SQLite::Statement rows(db, "SELECT * FROM \"" + table + "\" ORDER BY rowid");
        while (rows.executeStep()) {
            for (int i = 0; i < rows.getColumnCount(); ++i) {
                auto column = rows.getColumn(i);
                if (column.isNull()) {
                    out += "NULL";
                } else if (column.isBlob()) {
                    auto bytes = static_cast<const unsigned char*>(column.getBlob());
                    out += "x'";
                    for (int k = 0; k < column.getBytes(); ++k) {
                        char buf[3];
                        std::snprintf(buf, sizeof buf, "%02x", bytes[k]);
                        out += buf;
                    }
                    out += "'";
                } else {
                    out += column.getString();
                }
                out += '|';
            }
            out += '\n';
        }
    }
    return out;
}

}  // namespace testsupport
