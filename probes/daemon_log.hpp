// probes::logLine — dnsd-probe's log: one logfmt line per event on stderr, the same shape as
// dnsd's (`ts=... level=... prog=dnsd-probe msg="..."`), which journald keeps as one entry.
//
// Contract: thread-safe; the message text is kept as given (quotes, backslashes and newlines
// escaped), so tests and operators can grep it. `levelFor` picks "error" for lines that
// report a failure (a failed write, a locked database, a failed hook) and "info" otherwise:
// the controller hands plain texts, and the level lets journald colour the failures.
#pragma once

#include <string>

namespace probes {

void logLine(const char* level, const std::string& msg);
const char* levelFor(const std::string& msg);

}  // namespace probes
