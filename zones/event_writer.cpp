#include "zones/event_writer.hpp"

namespace zones {

EventWriter::EventWriter(SQLite::Database& db)
    : insert_(db,
              "INSERT INTO events (at, pool, member, kind, message, details) VALUES "
              "(?,?,?,?,?,?)") {}

void EventWriter::write(const EventWrite& e) {
    insert_.tryReset();  // a failed step (a locked database) would make reset() throw again
    insert_.clearBindings();
    insert_.bind(1, e.at);
    if (!e.pool.empty()) insert_.bind(2, e.pool);
    if (!e.member.empty()) insert_.bind(3, e.member);
    insert_.bind(4, e.kind);
    insert_.bind(5, e.message);
    insert_.bind(6, e.details);
    insert_.exec();
}

}  // namespace zones
