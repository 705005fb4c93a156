#include "probes/daemon_log.hpp"

#include "common/logfmt.hpp"

namespace probes {

const char* levelName(Level level) {
    switch (level) {
        case Level::Info:
            return "info";
        case Level::Warn:
            return "warn";
        case Level::Error:
            return "error";
    }
    return "error";
}

void logLine(Level level, const std::string& msg) {
    common::logfmtLine("dnsd-probe", levelName(level), msg);
}

}  // namespace probes
