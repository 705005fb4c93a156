#include "common/logfmt.hpp"

#include <sys/time.h>

#include <cstdio>
#include <ctime>
#include <mutex>

namespace common {
namespace {
std::mutex logMutex;
}  // namespace

void logfmtLine(const char* prog, const char* level, const std::string& msg) {
    timeval tv;
    ::gettimeofday(&tv, nullptr);
    tm t;
    ::gmtime_r(&tv.tv_sec, &t);
    char ts[64];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                  t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, int(tv.tv_usec / 1000));
    std::string quoted;
    quoted.reserve(msg.size() + 8);
    for (char c : msg) {
        if (c == '"' || c == '\\') quoted.push_back('\\');
        if (c == '\n') {
            quoted += "\\n";
            continue;
        }
        quoted.push_back(c);
    }
    std::lock_guard lock(logMutex);
    std::fprintf(stderr, "ts=%s level=%s prog=%s msg=\"%s\"\n", ts, level, prog, quoted.c_str());
    std::fflush(stderr);
}

}  // namespace common
