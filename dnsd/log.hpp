// dnsd logging: one logfmt line per event on stderr (ts, level, prog, msg), which journald
// and test harnesses both read.
#pragma once

#include <string>

namespace dnsd {

void logInfo(const std::string& msg);
void logWarn(const std::string& msg);
void logError(const std::string& msg);

}  // namespace dnsd
