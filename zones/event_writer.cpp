#include "zones/event_writer.hpp"

#include <nlohmann/json.hpp>

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

std::string eventJson(int64_t at, const std::string& kind, const std::string& pool,
                      const std::string& message, const std::string& details) {
    using nlohmann::ordered_json;
    ordered_json d = ordered_json::parse(details.empty() ? "{}" : details, nullptr, false);
    if (d.is_discarded() || !d.is_object()) d = ordered_json::object();
    ordered_json e = {
        {"at", at}, {"kind", kind}, {"pool", pool}, {"message", message}, {"details", d}};
    return e.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace zones
