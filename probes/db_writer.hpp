// probes::DbWriter — everything dnsd-probe writes to SQLite, queued and committed in batches.
//
// Contract: callers queue rows and call `flush()`, which commits everything queued in one
// IMMEDIATE transaction. The controller flushes right after a state transition or a decision
// (Controller::flushSoon: posted, so the results already queued in that loop turn join the
// same commit); other rows (observations, last-result columns) ride along with the next
// flush, at the latest the heartbeat tick every second. If the database is locked, nothing
// is lost: the queue is kept, one warn line says so (error if it is another failure, or
// still locked after 3 s), and the flush is retried every 50 ms until it succeeds (then one
// info line says how long it took). Newer rows for the same member or pool replace older
// queued ones, so a long lock cannot grow the queue without bound except for observations,
// which are capped (oldest dropped, counted).
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "probes/daemon_log.hpp"
#include "zones/event_writer.hpp"
#include "zones/pool_store.hpp"

namespace probes {

struct ObservationRow {
    int64_t at = 0, memberId = 0, probeId = 0;
    bool ok = false;
    int64_t latencyUs = 0;
    std::string message;
    const std::string* vantage = nullptr;  // nullptr = "local"; else owned by the controller
};

struct MemberStateRow {
    std::string health;
    int64_t healthSince = 0;
    bool lastOk = false;
    std::string lastMessage;
    int64_t latencyUs = 0, checkedAt = 0;
};

// One vantage's view of one member (member_views).
struct MemberViewRow {
    std::string health;
    int64_t healthSince = 0;
    bool lastOk = false;
    std::string lastMessage;
    int64_t checkedAt = 0;
};

// What the controller knows of one vantage (the vantages row; secret and created_at untouched).
struct VantageRow {
    int64_t lastReportAt = 0;
    std::string lastAddress;
    int64_t lastAgentTime = 0, offsetMs = 0, lagMs = 0;
    double checksPerS = 0;
    int64_t reports = 0, results = 0, dropped = 0, refused = 0;
    std::string lastRefusal;
    std::optional<int64_t> silentSince;
    std::string version, host;
};

using EventWrite = zones::EventWrite;

class DbWriter {
  public:
    using Log = LogSink;
    // `failed` (optional) is called once each time writing starts failing (for the metrics).
    DbWriter(boost::asio::io_context& io, SQLite::Database& db, Log log,
             std::function<void()> failed = {});

    void observation(ObservationRow row);
    void memberState(int64_t memberId, MemberStateRow row);
    void memberView(int64_t memberId, const std::string& vantage, MemberViewRow row);
    void vantage(const std::string& name, VantageRow row);
    void decision(int64_t poolId, zones::DecisionRow row);
    void event(EventWrite row);
    void requestHandled(int64_t requestId, std::string result);
    void heartbeat(int64_t pid, int64_t startedAt);
    // Prune observations older than this (ms since epoch) on the next flush.
    void pruneBefore(int64_t at) { pruneBefore_ = at; }
    // Events older than `at` (ms) go with the next commit; 0 keeps them all.
    void pruneEventsBefore(int64_t at) { pruneEventsBefore_ = at; }

    ~DbWriter();
    // After the controller reopened the database file (it was replaced): write there.
    void setDatabase(SQLite::Database& db);

    // Commits everything queued; returns false (and schedules a retry) if the DB is locked.
    bool flush();
    size_t queued() const;
    uint64_t droppedObservations() const { return dropped_; }
    uint64_t commits() const { return commits_; }

  private:
    enum class Stmt {
        Decision,
        Member,
        Request,
        Observation,
        Heartbeat,
        Prune,
        PruneEvents,
        ProbeResult,
        MemberView,
        Vantage,
        Count
    };
    SQLite::Statement& statement(Stmt which, const char* sql);
    void write();
    // Each probe's last result (member_probes.last_*), from the observations being written:
    // written when ok or the message changed, else refreshed every kProbeResultRefreshMs, so
    // 10,000 steady checks a second do not become 10,000 UPDATEs a second.
    using SlotKey = std::pair<int64_t, int64_t>;  // member id, probe id
    struct SlotWritten {
        bool ok = false;
        std::string message;
        int64_t at = 0;
    };
    static constexpr int64_t kProbeResultRefreshMs = 5000;
    void writeProbeResults(std::vector<std::pair<SlotKey, SlotWritten>>& written);
    std::map<SlotKey, SlotWritten> slotsWritten_;
    std::array<std::unique_ptr<SQLite::Statement>, size_t(Stmt::Count)> statements_;
    std::unique_ptr<zones::EventWriter> eventWriter_;  // the one events INSERT, prepared once
    boost::asio::io_context& io_;
    SQLite::Database* db_;
    Log log_;
    std::function<void()> failed_;
    boost::asio::steady_timer retry_;
    bool retryArmed_ = false;
    int64_t lockedSince_ = 0;
    bool lockEscalated_ = false;
    std::deque<ObservationRow> observations_;
    std::map<int64_t, MemberStateRow> members_;
    std::map<std::pair<int64_t, std::string>, MemberViewRow> views_;
    std::map<std::string, VantageRow> vantages_;
    std::map<int64_t, zones::DecisionRow> decisions_;
    std::vector<EventWrite> events_;
    std::vector<std::pair<int64_t, std::string>> requests_;
    bool heartbeat_ = false;
    int64_t pid_ = 0, startedAt_ = 0;
    int64_t pruneBefore_ = 0;
    int64_t pruneEventsBefore_ = 0;
    uint64_t dropped_ = 0, commits_ = 0;
};

}  // namespace probes
