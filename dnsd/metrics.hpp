// dnsd::renderMetrics — the Prometheus text exposition of everything dnsd counts.
//
// Contract: reads counters and the current state without stopping any I/O thread (relaxed
// loads; a scrape may see counters a few queries apart from each other, never torn values).
// Names follow Prometheus conventions: dnsd_ prefix, units in names, _total for counters.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dnsd/control_thread.hpp"
#include "dnsd/pool_counters.hpp"
#include "dnsd/served_state.hpp"
#include "dnsd/stats.hpp"
#include "dnsd/update/update_queue.hpp"
#include "dnsd/xfr/notifier.hpp"

namespace dnsd {

struct MetricsSources {
    const std::vector<std::unique_ptr<ThreadStats>>* stats = nullptr;
    const StateHolder* state = nullptr;
    const ControlThread* control = nullptr;
    const PoolCounters* pools = nullptr;
    int64_t startedAtMs = 0;
    const Notifier* notifier = nullptr;    // zone transfers: NOTIFY and secondaries
    const UpdateQueue* updates = nullptr;  // RFC 2136 UPDATE
};

std::string renderMetrics(const MetricsSources& m);

}  // namespace dnsd
