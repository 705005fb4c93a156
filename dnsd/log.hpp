// dnsd logging: one line per event on stderr, "LEVEL component: message", which journald
// and test harnesses both read.
#pragma once

#include <string>

namespace dnsd {

void logInfo(const std::string& msg);
void logError(const std::string& msg);

}  // namespace dnsd
