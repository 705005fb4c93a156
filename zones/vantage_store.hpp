// zones::VantageStore — the vantage points whose probe results decide (the `vantages` table).
//
// Contract: a vantage is a named prober. 'local' is dnsd-probe's own checks on the controller
// (its row is kept by the controller: present unless it runs with --no-local-vantage); every
// other vantage is a remote agent with its own HMAC-SHA256 key, created by `add` (32 random
// bytes, base64) and shown once. Names are 1..32 characters of a-z, 0-9 and '-', not starting
// with '-'. Errors throw std::runtime_error naming the vantage; nothing is half-written.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zones {

inline constexpr const char* kLocalVantage = "local";

struct VantageInfo {
    std::string name;
    bool local = false;
    int64_t createdAt = 0;
    std::optional<int64_t> lastReportAt;
    std::string lastAddress;
    std::optional<int64_t> lastAgentTime;
    int64_t offsetMs = 0, lagMs = 0;
    double checksPerS = 0;
    int64_t reports = 0, results = 0, dropped = 0, refused = 0;
    std::string lastRefusal;
    std::optional<int64_t> silentSince;
    std::string version, host;
};

// One vantage's view of one member (member_views).
struct MemberView {
    int64_t memberId = 0;
    std::string vantage;
    std::string health;  // up, down, unknown
    std::optional<int64_t> healthSince;
    std::optional<bool> lastOk;
    std::string lastMessage;
    std::optional<int64_t> checkedAt;
};

// Throws if `name` is not a valid vantage name (see above).
void checkVantageName(const std::string& name);

class VantageStore {
  public:
    explicit VantageStore(SQLite::Database& db) : db_(db) {}
    // A new agent vantage with a fresh key; returns the key (base64). Refuses 'local' and names
    // taken.
    std::string add(const std::string& name);
    // Deletes an agent vantage and its views; refuses 'local' (that is --no-local-vantage).
    void remove(const std::string& name);
    std::vector<VantageInfo> list();
    // Agent vantages and their keys (decoded), for the controller.
    std::vector<std::pair<std::string, std::vector<uint8_t>>> keys();
    // The controller keeps the 'local' row: present when its own checks count.
    void setLocal(bool present);
    // Every member's views, by member id then vantage name.
    std::vector<MemberView> views();

  private:
    SQLite::Database& db_;
};

}  // namespace zones
