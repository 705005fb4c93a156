#include "dnsd/log.hpp"

#include <cstdio>
#include <mutex>

namespace dnsd {
namespace {
std::mutex logMutex;
void emit(const char* level, const std::string& msg) {
    std::lock_guard lock(logMutex);
    std::fprintf(stderr, "%s dnsd: %s\n", level, msg.c_str());
    std::fflush(stderr);
}
}  // namespace

void logInfo(const std::string& msg) {
    emit("info", msg);
}
void logError(const std::string& msg) {
    emit("error", msg);
}

}  // namespace dnsd
