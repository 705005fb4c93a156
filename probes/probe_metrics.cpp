#include "probes/probe_metrics.hpp"

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
    return out;
}

}  // namespace probes
