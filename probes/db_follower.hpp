// probes::DbFollower — follows what dnsd-probe committed to the database, for /metrics and
// the webhook.
//
// Contract: on the event-loop thread, every `periodMs` (100 ms) it reads, on a connection
// of its own, the events committed since the last look (each one counted in ProbeMetrics,
// and the notification kinds — failover, failback, all-down, recovered, failover-pending —
// handed to `onNotify` as the same JSON the --on-change hook gets) and the controller
// heartbeat; every second also the new check results (observations: kind, ok, latency) and
// the member states. Reading what was committed, rather than hooking the controller, means a
// webhook only ever reports an event that is in the database, and the controller's hot path
// is untouched. Costs one indexed range read per period. A failing read is logged once and
// retried at the next period; a replaced database file is reopened. Never throws out of a
// handler.
#pragma once

#include <SQLiteCpp/Database.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>

#include "probes/daemon_log.hpp"
#include "probes/probe_metrics.hpp"
#include "zones/db_watch.hpp"

namespace probes {

class DbFollower {
  public:
    using Log = LogSink;
    using Notify = std::function<void(const std::string& kind, const std::string& json)>;
    DbFollower(boost::asio::io_context& io, std::string dbPath, ProbeMetrics& metrics,
               Notify notify, Log log, int periodMs = 100);
    // Opens the database and starts from what is already there (older events are not sent).
    void start();
    void stop();

  private:
    void open();
    void round();
    void arm();

    boost::asio::io_context& io_;
    std::string path_;
    ProbeMetrics& metrics_;
    Notify notify_;
    Log log_;
    int periodMs_;
    boost::asio::steady_timer timer_;
    std::unique_ptr<SQLite::Database> db_;
    zones::DbWatch watch_;
    int64_t lastEvent_ = 0, lastObservation_ = 0, heartbeatAt_ = 0;
    int64_t lastSlowRound_ = 0;
    bool failing_ = false, stopped_ = false;
    std::string memberPrint_;  // fingerprint of the member states last handed to the metrics
};

}  // namespace probes
