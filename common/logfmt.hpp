// common::logfmtLine — one log event as one logfmt line on stderr:
//     ts=2026-11-23T12:00:00.123Z level=info prog=dnsd msg="text with \"quotes\""
// journald keeps it as one entry; grep, awk and log shippers parse it without a schema.
//
// Contract: thread-safe (one line is never interleaved with another), flushes every line,
// escapes quotes, backslashes and newlines in the message and changes nothing else, so the
// text stays greppable.
#pragma once

#include <string>

namespace common {

void logfmtLine(const char* prog, const char* level, const std::string& msg);

}  // namespace common
