// dnsd::RefusalLog — says when a refused transfer (or NOTIFY) deserves a log line: at most
// once per client address per minute, so the client being refused cannot turn into a flood
// of log lines (every refusal is still counted in the metrics).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace dnsd {

class RefusalLog {
  public:
    // True if nothing was logged for `client` in the last minute (and notes that now it is).
    bool due(const std::string& client, int64_t nowMs) {
        if (last_.size() > 4096)
            std::erase_if(last_, [&](const auto& e) { return nowMs - e.second >= kQuietMs; });
        auto [it, inserted] = last_.try_emplace(client, nowMs);
        if (inserted) return true;
        if (nowMs - it->second < kQuietMs) return false;
        it->second = nowMs;
        return true;
    }

  private:
    static constexpr int64_t kQuietMs = 60000;
    std::unordered_map<std::string, int64_t> last_;
};

}  // namespace dnsd
