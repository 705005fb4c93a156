#include "probes/daemon_log.hpp"

#include "common/logfmt.hpp"

namespace probes {

void logLine(const char* level, const std::string& msg) {
    common::logfmtLine("dnsd-probe", level, msg);
}

const char* levelFor(const std::string& msg) {
    for (const char* word : {"failed", "error", "locked", "cannot", "NOT AVAILABLE"})
        if (msg.find(word) != std::string::npos) return "error";
    return "info";
}

}  // namespace probes
