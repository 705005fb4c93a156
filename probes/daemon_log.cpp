#include "probes/daemon_log.hpp"

#include "common/logfmt.hpp"

namespace probes {

void logLine(const char* level, const std::string& msg) {
    common::logfmtLine("dnsd-probe", level, msg);
}

const char* levelFor(const std::string& msg) {
    // Event lines ("KIND: message") are the service doing its job: a member going down or a
    // failover deserves a warning, never an error, so that level=error means dnsd-probe
    // itself is in trouble (database, sockets, hooks) and can be alerted on as such.
    for (const char* kind : {"member-down: ", "failover: ", "failover-pending: ", "all-down: "})
        if (msg.rfind(kind, 0) == 0) return "warn";
    for (const char* kind : {"member-up: ", "failback: ", "served: ", "admin-"})
        if (msg.rfind(kind, 0) == 0) return "info";
    for (const char* word : {"failed", "error", "locked", "cannot", "NOT AVAILABLE"})
        if (msg.find(word) != std::string::npos) return "error";
    return "info";
}

}  // namespace probes
