// zones::EventWriter — the one INSERT into the events table.
//
// Contract: dnsctl's admin actions (through PoolStore) and dnsd-probe's DbWriter both append
// events through this, so the columns and the NULL-for-empty rule for pool and member are
// written one way. The statement is prepared once per writer and reused, which is what a
// batch of thousands of events (`dnsctl member add --from-file`, a flush of dnsd-probe's
// queue) needs. The caller owns the transaction; `write` throws SQLite::Exception on failure.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <string>

namespace zones {

struct EventWrite {
    int64_t at = 0;            // ms
    std::string pool, member;  // names; empty is stored as NULL
    std::string kind, message;
    std::string details = "{}";  // a JSON object
};

// The JSON an event is announced as (the --on-change hook's stdin and DNSD_EVENT_JSON, each
// webhook POST): {"at", "kind", "pool", "message", "details"}, one line, no newline. One
// function, so the hook and the webhook cannot drift; `details` must be a JSON object (an
// unparsable one becomes {}).
std::string eventJson(int64_t at, const std::string& kind, const std::string& pool,
                      const std::string& message, const std::string& details);

class EventWriter {
  public:
    explicit EventWriter(SQLite::Database& db);
    void write(const EventWrite& event);

  private:
    SQLite::Statement insert_;
};

}  // namespace zones
