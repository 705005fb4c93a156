// probes::logLine — dnsd-probe's log: one logfmt line per event on stderr, the same shape as
// dnsd's (`ts=... level=... prog=dnsd-probe msg="..."`), which journald keeps as one entry.
//
// Contract: thread-safe; the message text is kept as given (quotes, backslashes and newlines
// escaped), so tests and operators can grep it. The level is chosen by the code that writes
// the line, which knows what happened; nothing guesses it from the wording. The levels mean:
//   error  dnsd-probe itself is in trouble and someone should look: a database write or read
//          failing, a hook failing, a notification lost. Safe to alert on.
//   warn   the service doing its job on bad news: a member down, a failover (pending), all
//          members down, a database briefly locked by another writer, a webhook retry.
//   info   everything else: start and stop, recoveries (member up, failback, recovered),
//          operator actions and their results.
#pragma once

#include <functional>
#include <string>

namespace probes {

enum class Level { Info, Warn, Error };

// "info", "warn", "error": the logfmt level= value.
const char* levelName(Level level);

void logLine(Level level, const std::string& msg);

// Where the parts of dnsd-probe (controller, database writer and follower, webhook sender)
// hand their log lines; main prints them with logLine.
using LogSink = std::function<void(Level, const std::string&)>;

}  // namespace probes
