#include "probes/db_follower.hpp"

#include "zones/event_writer.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "zones/pool_store.hpp"
#include "zones/schema.hpp"

namespace probes {
namespace {

bool isNotification(const std::string& kind) {
    return kind == "failover" || kind == "failback" || kind == "all-down" || kind == "recovered" ||
           kind == "failover-pending" || kind == "secondary-behind" ||
           kind == "secondary-caught-up" || kind == "quorum-lost" || kind == "quorum-regained";
}

int64_t maxId(SQLite::Database& db, const char* table) {
    SQLite::Statement q(db, std::string("SELECT COALESCE(MAX(id), 0) FROM ") + table);
    q.executeStep();
    return q.getColumn(0).getInt64();
}

}  // namespace

DbFollower::DbFollower(boost::asio::io_context& io, std::string dbPath, ProbeMetrics& metrics,
                       Notify notify, Log log, int periodMs)
    : io_(io),
      path_(std::move(dbPath)),
      metrics_(metrics),
      notify_(std::move(notify)),
      log_(std::move(log)),
      periodMs_(periodMs),
      timer_(io),
      watch_(path_) {}

void DbFollower::open() {
    // A short busy timeout: a reader in WAL mode is only ever held up by a checkpoint, and
    // this runs on the event loop that also runs the checks.
    db_ = zones::openDatabase(path_, zones::OpenMode::ReadWrite, 100);
    watch_.attach();
    lastEvent_ = maxId(*db_, "events");
    lastObservation_ = maxId(*db_, "observations");
    memberPrint_.clear();  // a (re)opened file: hand the member states over again
}

void DbFollower::start() {
    // Not fatal: a database locked at this moment is opened at the next period.
    try {
        open();
    } catch (const std::exception& e) {
        db_.reset();
        failing_ = true;
        log_(Level::Error,
             std::string("reading the database for metrics and webhooks failed (will retry): ") +
                 e.what());
    }
    arm();
}

void DbFollower::stop() {
    stopped_ = true;
    timer_.cancel();
}

void DbFollower::arm() {
    if (stopped_) return;
    timer_.expires_after(std::chrono::milliseconds(periodMs_));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        try {
            round();
            if (failing_)
                log_(Level::Info, "reading the database for metrics and webhooks works again");
            failing_ = false;
        } catch (const std::exception& e) {
            if (!failing_)
                log_(Level::Error,
                     std::string("reading the database for metrics and webhooks failed (will "
                                 "retry): ") +
                         e.what());
            failing_ = true;
        }
        arm();
    });
}

void DbFollower::round() {
    int64_t now = zones::nowMs();
    bool slow = now - lastSlowRound_ >= 1000;
    if (!db_) open();
    if (slow) {
        lastSlowRound_ = now;
        // A deleted file is the controller's to report; a replacement is followed.
        if (watch_.file() == zones::DbWatch::FileState::Replaced) open();
    }
    bool committed = false;
    {
        SQLite::Statement q(*db_,
                            "SELECT id, at, COALESCE(pool, ''), kind, message, details FROM events "
                            "WHERE id > ? ORDER BY id");
        q.bind(1, lastEvent_);
        while (q.executeStep()) {
            lastEvent_ = q.getColumn(0).getInt64();
            committed = true;
            std::string pool = q.getColumn(2).getString(), kind = q.getColumn(3).getString();
            metrics_.event(pool, kind);
            if (notify_ && isNotification(kind)) {
                std::string details = q.getColumn(5).getString();
                notify_(kind, zones::eventJson(q.getColumn(1).getInt64(), kind, pool,
                                               q.getColumn(4).getString(), details) +
                                  "\n");
            }
        }
    }
    {
        SQLite::Statement q(*db_, "SELECT heartbeat_at FROM controller WHERE id = 1");
        if (q.executeStep() && !q.getColumn(0).isNull()) {
            int64_t at = q.getColumn(0).getInt64();
            if (at != heartbeatAt_) {
                heartbeatAt_ = at;
                metrics_.heartbeat(at);
                committed = true;
            }
        }
    }
    if (slow) {
        // 10,000 members at 1 s are 10,000 new rows a second: let SQLite count them into the
        // histogram (one row per kind and result) instead of stepping through every row here.
        std::string sql =
            "SELECT COALESCE(p.type, 'deleted'), o.ok, count(*), total(o.latency_us), "
            "max(o.id)";
        for (double b : ProbeMetrics::kBuckets)
            sql += ", total(o.latency_us <= " + std::to_string(std::llround(b * 1e6)) + ")";
        sql +=
            " FROM observations o LEFT JOIN probes p ON p.id = o.probe_id WHERE o.id > ? "
            "GROUP BY 1, 2";
        SQLite::Statement q(*db_, sql);
        q.bind(1, lastObservation_);
        int64_t last = lastObservation_;
        while (q.executeStep()) {
            committed = true;
            last = std::max(last, q.getColumn(4).getInt64());
            std::array<uint64_t, ProbeMetrics::kBuckets.size()> within{};
            for (size_t i = 0; i < within.size(); ++i)
                within[i] = uint64_t(q.getColumn(int(5 + i)).getDouble());
            metrics_.checks(q.getColumn(0).getString(), q.getColumn(1).getInt() != 0,
                            uint64_t(q.getColumn(2).getInt64()), q.getColumn(3).getDouble() / 1e6,
                            within);
        }
        lastObservation_ = last;
        // The member list (sorted, with strings) is rebuilt only when a cheap fingerprint of
        // the checked members changes (a health flip, a member added or removed).
        SQLite::Statement f(*db_,
                            "SELECT count(*), total(id), total(pool_id), total(health_since), "
                            "total(health = 'up') FROM members WHERE health != 'unknown'");
        f.executeStep();
        std::string print;
        for (int i = 0; i < 5; ++i) print += f.getColumn(i).getString() + ",";
        if (print != memberPrint_) {
            SQLite::Statement m(
                *db_,
                "SELECT p.name, m.value, m.health FROM members m JOIN pools p ON p.id = "
                "m.pool_id WHERE m.health != 'unknown' ORDER BY p.name, m.priority, "
                "m.value");
            std::vector<MemberUp> states;
            while (m.executeStep())
                states.push_back({m.getColumn(0).getString(), m.getColumn(1).getString(),
                                  m.getColumn(2).getString() == "up"});
            metrics_.members(std::move(states));
            memberPrint_ = print;
        }
        // A handful of rows: vantages and pools whose quorum is lost.
        std::vector<VantageGauge> vantages;
        SQLite::Statement v(*db_,
                            "SELECT name, last_report_at, offset_ms, lag_ms, checks_per_s, "
                            "silent_since IS NULL AND last_report_at IS NOT NULL, dropped, "
                            "refused FROM vantages ORDER BY name");
        while (v.executeStep())
            vantages.push_back({v.getColumn(0).getString(), v.getColumn(1).getInt64(),
                                v.getColumn(2).getInt64(), v.getColumn(3).getInt64(),
                                v.getColumn(4).getDouble(), v.getColumn(5).getInt() != 0,
                                v.getColumn(6).getInt64(), v.getColumn(7).getInt64()});
        std::vector<std::pair<std::string, bool>> quorum;
        SQLite::Statement ql(*db_,
                             "SELECT p.name, d.quorum_lost FROM pools p JOIN pool_decisions d "
                             "ON d.pool_id = p.id ORDER BY p.name");
        while (ql.executeStep())
            quorum.emplace_back(ql.getColumn(0).getString(), ql.getColumn(1).getInt() != 0);
        metrics_.vantages(std::move(vantages), std::move(quorum));
    }
    if (committed) metrics_.commitSeen(now);
}

}  // namespace probes
