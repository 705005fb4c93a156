#include "dnsd/log.hpp"

#include "common/logfmt.hpp"

namespace dnsd {

void logInfo(const std::string& msg) {
    common::logfmtLine("dnsd", "info", msg);
}
void logWarn(const std::string& msg) {
    common::logfmtLine("dnsd", "warn", msg);
}
void logError(const std::string& msg) {
    common::logfmtLine("dnsd", "error", msg);
}

}  // namespace dnsd
