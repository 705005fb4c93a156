#include "probes/probe_metrics.hpp"

#include "probes/agent.hpp"

#include "common/prometheus.hpp"

#include <cstdio>

namespace probes {
namespace {

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

}  // namespace

void ProbeMetrics::check(const std::string& kind, bool ok, int64_t latencyUs) {
    std::lock_guard lock(mutex_);
    ++checks_[{kind, ok}];
    Histogram& h = durations_[kind];
    double s = double(latencyUs) / 1e6;
    for (size_t i = 0; i < kBuckets.size(); ++i)
        if (s <= kBuckets[i]) ++h.buckets[i];
    ++h.count;
    h.sum += s;
}

void ProbeMetrics::checks(const std::string& kind, bool ok, uint64_t count, double sumSeconds,
                          const std::array<uint64_t, kBuckets.size()>& within) {
    std::lock_guard lock(mutex_);
    checks_[{kind, ok}] += count;
    Histogram& h = durations_[kind];
    for (size_t i = 0; i < kBuckets.size(); ++i) h.buckets[i] += within[i];
    h.count += count;
    h.sum += sumSeconds;
}

void ProbeMetrics::event(const std::string& pool, const std::string& kind) {
    std::lock_guard lock(mutex_);
    ++events_[{pool, kind}];
}

void ProbeMetrics::members(std::vector<MemberUp> states) {
    std::lock_guard lock(mutex_);
    members_ = std::move(states);
}

void ProbeMetrics::heartbeat(int64_t at) {
    std::lock_guard lock(mutex_);
    heartbeatAt_ = at;
}

void ProbeMetrics::commitSeen(int64_t at) {
    std::lock_guard lock(mutex_);
    commitAt_ = at;
}

void ProbeMetrics::dbWriteError() {
    std::lock_guard lock(mutex_);
    ++dbWriteErrors_;
}

void ProbeMetrics::webhook(const std::string& result) {
    std::lock_guard lock(mutex_);
    ++webhook_[result];
}

void ProbeMetrics::webhookQueued(size_t n) {
    std::lock_guard lock(mutex_);
    webhookQueued_ = n;
}

std::string ProbeMetrics::render(int64_t nowMs, const std::string& version) const {
    std::lock_guard lock(mutex_);
    std::string out;
    common::promHeader(out, "dnsd_probe_build_info", "gauge", "dnsd-probe version (always 1)");
    out += "dnsd_probe_build_info{version=\"" + common::promLabel(version) + "\"} 1\n";

    common::promHeader(out, "dnsd_probe_checks_total", "counter",
                       "health check results by probe kind and result (ok or fail)");
    for (const auto& [key, n] : checks_)
        out += "dnsd_probe_checks_total{kind=\"" + common::promLabel(key.first) + "\",result=\"" +
               (key.second ? "ok" : "fail") + "\"} " + std::to_string(n) + "\n";

    common::promHeader(
        out, "dnsd_probe_check_duration_seconds", "histogram",
        "health check latency by probe kind (time to the result, failures included)");
    for (const auto& [kind, h] : durations_) {
        std::string k = common::promLabel(kind);
        for (size_t i = 0; i < kBuckets.size(); ++i)
            out += "dnsd_probe_check_duration_seconds_bucket{kind=\"" + k + "\",le=\"" +
                   num(kBuckets[i]) + "\"} " + std::to_string(h.buckets[i]) + "\n";
        out += "dnsd_probe_check_duration_seconds_bucket{kind=\"" + k + "\",le=\"+Inf\"} " +
               std::to_string(h.count) + "\n";
        out += "dnsd_probe_check_duration_seconds_sum{kind=\"" + k + "\"} " + num(h.sum) + "\n";
        out += "dnsd_probe_check_duration_seconds_count{kind=\"" + k + "\"} " +
               std::to_string(h.count) + "\n";
    }

    common::promHeader(
        out, "dnsd_probe_member_up", "gauge",
        "member health from its probes: 1 up, 0 down (members not yet checked are absent)");
    for (const auto& m : members_)
        out += "dnsd_probe_member_up{pool=\"" + common::promLabel(m.pool) + "\",member=\"" +
               common::promLabel(m.member) + "\"} " + (m.up ? "1" : "0") + "\n";

    struct Family {
        const char* name;
        const char* kind;
        const char* help;
    };
    for (Family f :
         {Family{"dnsd_probe_failovers_total", "failover",
                 "moves of a pool to another tier because its tier had no usable member"},
          Family{"dnsd_probe_failbacks_total", "failback", "moves of a pool back to a better tier"},
          Family{"dnsd_probe_all_down_total", "all-down",
                 "times a pool had no usable member at all"},
          Family{"dnsd_probe_recoveries_total", "recovered", "recoveries of a pool from all-down"},
          Family{"dnsd_probe_failovers_pending_total", "failover-pending",
                 "failovers waiting for manual approval"}}) {
        common::promHeader(out, f.name, "counter", f.help);
        for (const auto& [key, n] : events_)
            if (key.second == f.kind)
                out += std::string(f.name) + "{pool=\"" + common::promLabel(key.first) + "\"} " +
                       std::to_string(n) + "\n";
    }
    common::promHeader(out, "dnsd_probe_events_total", "counter", "every event written, by kind");
    std::map<std::string, uint64_t> byKind;
    for (const auto& [key, n] : events_) byKind[key.second] += n;
    for (const auto& [kind, n] : byKind)
        out += "dnsd_probe_events_total{kind=\"" + common::promLabel(kind) + "\"} " +
               std::to_string(n) + "\n";

    common::promHeader(
        out, "dnsd_probe_heartbeat_age_seconds", "gauge",
        "age of the controller heartbeat in the database (dnsd and dnsctl call the controller "
        "STALE above 3 s)");
    if (heartbeatAt_ > 0)
        out +=
            "dnsd_probe_heartbeat_age_seconds " + num(double(nowMs - heartbeatAt_) / 1000) + "\n";
    common::promHeader(
        out, "dnsd_probe_db_last_commit_age_seconds", "gauge",
        "seconds since a commit by dnsd-probe (heartbeat, results, events) was last seen in "
        "the database");
    if (commitAt_ > 0)
        out +=
            "dnsd_probe_db_last_commit_age_seconds " + num(double(nowMs - commitAt_) / 1000) + "\n";
    common::promHeader(
        out, "dnsd_probe_db_write_errors_total", "counter",
        "database writes that failed (a locked or failing database counts once until a write "
        "gets through again; writes are kept and retried)");
    out += "dnsd_probe_db_write_errors_total " + std::to_string(dbWriteErrors_) + "\n";

    common::promHeader(
        out, "dnsd_probe_webhook_deliveries_total", "counter",
        "webhook POST outcomes: delivered, retried (an attempt failed and will be retried), "
        "failed (gave up after the last attempt), dropped (queue full, oldest dropped)");
    for (const auto& [result, n] : webhook_)
        out += "dnsd_probe_webhook_deliveries_total{result=\"" + common::promLabel(result) +
               "\"} " + std::to_string(n) + "\n";
    common::promHeader(out, "dnsd_probe_webhook_queue_length", "gauge",
                       "events waiting to be posted");
    out += "dnsd_probe_webhook_queue_length " + std::to_string(webhookQueued_) + "\n";
    if (!vantages_.empty()) {
        auto each = [&](const char* name, const char* type, const char* help, auto value) {
            common::promHeader(out, name, type, help);
            for (const auto& v : vantages_)
                out += std::string(name) + "{vantage=\"" + common::promLabel(v.name) + "\"} " +
                       value(v) + "\n";
        };
        each("dnsd_probe_vantage_reporting", "gauge",
             "1 while the vantage reports (not silent); 'local' is dnsd-probe's own checks",
             [](const VantageGauge& v) { return std::string(v.reporting ? "1" : "0"); });
        each("dnsd_probe_vantage_last_report_age_seconds", "gauge",
             "seconds since the vantage's last report reached the controller",
             [nowMs](const VantageGauge& v) {
                 return v.lastReportAt ? num(double(nowMs - v.lastReportAt) / 1000)
                                       : std::string("NaN");
             });
        each("dnsd_probe_vantage_clock_offset_seconds", "gauge",
             "the vantage's clock minus the controller's (smoothed)",
             [](const VantageGauge& v) { return num(double(v.offsetMs) / 1000); });
        each("dnsd_probe_vantage_lag_seconds", "gauge",
             "report arrival minus check time, last report",
             [](const VantageGauge& v) { return num(double(v.lagMs) / 1000); });
        each("dnsd_probe_vantage_checks_per_second", "gauge", "check results per second",
             [](const VantageGauge& v) { return num(v.checksPerS); });
        each("dnsd_probe_vantage_dropped_results", "gauge",
             "results the agent dropped from its full buffer since it started",
             [](const VantageGauge& v) { return std::to_string(v.dropped); });
        each("dnsd_probe_vantage_refused_requests", "gauge",
             "requests of this vantage the controller refused since it started",
             [](const VantageGauge& v) { return std::to_string(v.refused); });
    }
    if (!quorumLost_.empty()) {
        common::promHeader(out, "dnsd_probe_pool_quorum_lost", "gauge",
                           "1 while too few vantages report for the pool's quorum (its last "
                           "decision is kept)");
        for (const auto& [pool, lost] : quorumLost_)
            out += "dnsd_probe_pool_quorum_lost{pool=\"" + common::promLabel(pool) + "\"} " +
                   (lost ? "1" : "0") + "\n";
    }
    common::promHeader(out, "dnsd_probe_agent_requests_refused_total", "counter",
                       "requests from probe agents refused, by reason (unknown-vantage, "
                       "bad-signature, skew, replay, malformed, too-large)");
    for (const auto& [kind, n] : agentRefused_)
        out += "dnsd_probe_agent_requests_refused_total{reason=\"" + common::promLabel(kind) +
               "\"} " + std::to_string(n) + "\n";
    return out;
}

void ProbeMetrics::vantages(std::vector<VantageGauge> vantages,
                            std::vector<std::pair<std::string, bool>> quorumLost) {
    std::lock_guard lock(mutex_);
    vantages_ = std::move(vantages);
    quorumLost_ = std::move(quorumLost);
}

void ProbeMetrics::agentRefused(const std::string& kind) {
    std::lock_guard lock(mutex_);
    ++agentRefused_[kind];
}

std::string agentMetricsText(const AgentStats& s) {
    std::string out;
    auto counter = [&out](const char* name, const char* help, uint64_t v) {
        common::promHeader(out, name, "counter", help);
        out += std::string(name) + " " + std::to_string(v) + "\n";
    };
    auto gauge = [&out](const char* name, const char* help, uint64_t v) {
        common::promHeader(out, name, "gauge", help);
        out += std::string(name) + " " + std::to_string(v) + "\n";
    };
    counter("dnsd_probe_agent_results_total", "check results made by this agent", s.results);
    counter("dnsd_probe_agent_results_sent_total", "results the controller acknowledged", s.sent);
    counter("dnsd_probe_agent_results_dropped_total",
            "results dropped from the full buffer while the controller was unreachable", s.dropped);
    counter("dnsd_probe_agent_reports_total", "reports the controller accepted", s.reports);
    counter("dnsd_probe_agent_request_failures_total",
            "requests to the controller that failed or were refused", s.failures);
    counter("dnsd_probe_agent_sent_bytes_total", "bytes sent to the controller", s.bytesSent);
    counter("dnsd_probe_agent_received_bytes_total", "bytes received from the controller",
            s.bytesReceived);
    gauge("dnsd_probe_agent_buffered_results", "results waiting to be sent", s.buffered);
    gauge("dnsd_probe_agent_checks", "checks this agent runs", s.checks);
    gauge("dnsd_probe_agent_connected", "1 if the last request to the controller succeeded",
          s.connected ? 1 : 0);
    return out;
}

}  // namespace probes
