// The controller's runtime state (private to probes/controller*.cpp): vantages, checks,
// members and pools as the loop keeps them between database reads.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>

#include "probes/controller.hpp"

namespace probes {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// Event details as JSON text (invalid UTF-8 in a probe's message is replaced, not thrown).
inline std::string jsonText(const nlohmann::ordered_json& j) {
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// Refresh period of a member's last-result columns while its results say nothing new.
constexpr int64_t kLastResultRefreshMs = 5000;

struct Controller::VantageRt {
    std::string name;
    bool local = false, deleted = false;
    AgentKey key;
    // What the controller knows of it (written to the vantages row every second).
    int64_t lastReportAt = 0;  // our clock; 0 = nothing since we started
    bool silent = false;
    std::optional<int64_t> silentSince;
    double offsetMs = 0;
    bool offsetKnown = false;
    VantageRow row;
    int64_t resultsAtTick = 0, tickAt = 0;
};

struct Controller::CheckRt {
    int64_t memberId = 0, probeId = 0;
    zones::ProbeDef def;
    MemberRt* member = nullptr;  // rebuilt by reload()
    struct PerVantage {
        Hysteresis hysteresis;
        bool reported = false;
        int64_t lastAt = 0;  // our clock
    };
    std::vector<PerVantage> by;  // index = vantage index
    PerVantage& at(int vantage) {
        if (by.size() <= size_t(vantage)) by.resize(vantage + 1);
        return by[vantage];
    }
};

struct Controller::MemberRt {
    zones::MemberDef def;
    int64_t poolId = 0;
    std::string poolName;
    std::vector<int64_t> probeIds;
    std::vector<CheckRt*> checks;  // parallel to probeIds; owned by checks_, rebuilt by reload()
    Health health = Health::Unknown;
    int64_t healthSince = 0;
    bool failing = false;               // up, but by the quorum's view near going down
    Health dbHealth = Health::Unknown;  // as recorded before we started
    int64_t dbSince = 0;
    bool drainKnown = false, drainedNow = false;
    MemberStateRow last;
    int64_t lastWrittenAt = 0;  // when `last` was last queued for the database
    struct View {
        Health health = Health::Unknown;
        int64_t since = 0;
        bool failing = false, reporting = false;
        MemberViewRow row;
        int64_t writtenAt = 0;
    };
    std::vector<View> views;  // index = vantage index
    View& view(int vantage) {
        if (views.size() <= size_t(vantage)) views.resize(vantage + 1);
        return views[vantage];
    }
};

struct Controller::PoolRt {
    explicit PoolRt(asio::io_context& io) : timer(io) {}
    zones::PoolDef def;
    PoolState state;
    asio::steady_timer timer;
    // This pool's members in id order (owned by members_, rebuilt by reload()), so that a
    // decision costs the pool's size, not the size of the whole configuration.
    std::vector<MemberRt*> members;
    bool haveWritten = false, firstDone = false;
    zones::DecisionRow written;
    bool quorumLost = false;  // too few vantages reporting: the last decision stands
    int64_t quorumLostSince = 0;
};

}  // namespace probes
