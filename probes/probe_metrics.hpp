// probes::ProbeMetrics — what dnsd-probe's /metrics shows (Prometheus text format 0.0.4).
//
// Contract: fed on the event-loop thread (DbFollower: check results, member states, events,
// heartbeat; main's log sink: database write failures; WebhookSender: deliveries) and
// rendered on the HTTP thread; every method is thread-safe. Counters only grow while the
// process runs (they start at 0, as Prometheus expects of a restarted target).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace probes {

struct MemberUp {
    std::string pool, member;
    bool up = false;
};

// One vantage as the vantages table says (written by the controller every second).
struct VantageGauge {
    std::string name;
    int64_t lastReportAt = 0, offsetMs = 0, lagMs = 0;
    double checksPerS = 0;
    bool reporting = false;
    int64_t dropped = 0, refused = 0;
};

class ProbeMetrics {
  public:
    // Upper bounds (seconds) of the latency histogram buckets, +Inf implied.
    static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                        0.1,   0.25,   0.5,   1,    2.5,   5};

    void check(const std::string& kind, bool ok, int64_t latencyUs);
    // `count` results at once: `within[i]` of them took at most kBuckets[i] seconds.
    void checks(const std::string& kind, bool ok, uint64_t count, double sumSeconds,
                const std::array<uint64_t, kBuckets.size()>& within);
    void event(const std::string& pool, const std::string& kind);
    void members(std::vector<MemberUp> states);
    void heartbeat(int64_t heartbeatAtMs);    // as read back from the database
    void commitSeen(int64_t atMs);            // a commit by dnsd-probe became visible
    void dbWriteError();                      // a write (batch) started failing
    void webhook(const std::string& result);  // delivered | retried | failed | dropped
    void webhookQueued(size_t n);
    // A request from a probe agent refused: unknown-vantage, bad-signature, skew, replay, ...
    void agentRefused(const std::string& kind);
    // Vantages, and each decided pool with whether its quorum is lost.
    void vantages(std::vector<VantageGauge> vantages,
                  std::vector<std::pair<std::string, bool>> quorumLost);

    std::string render(int64_t nowMs, const std::string& version) const;

  private:
    struct Histogram {
        std::array<uint64_t, kBuckets.size()> buckets{};
        uint64_t count = 0;
        double sum = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, bool>, uint64_t> checks_;
    std::map<std::string, Histogram> durations_;
    std::map<std::pair<std::string, std::string>, uint64_t> events_;  // (pool, kind)
    std::vector<MemberUp> members_;
    int64_t heartbeatAt_ = 0, commitAt_ = 0;
    uint64_t dbWriteErrors_ = 0;
    std::map<std::string, uint64_t> webhook_;
    size_t webhookQueued_ = 0;
    std::map<std::string, uint64_t> agentRefused_;
    std::vector<VantageGauge> vantages_;
    std::vector<std::pair<std::string, bool>> quorumLost_;
};

struct AgentStats;
// An agent's /metrics (dnsd-probe --vantage): its checks, reports and buffer.
std::string agentMetricsText(const AgentStats& stats);

}  // namespace probes
