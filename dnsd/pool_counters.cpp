#include "dnsd/pool_counters.hpp"

#include "common/prometheus.hpp"

namespace dnsd {

PoolCounter* PoolCounters::answers(const std::string& pool) {
    std::lock_guard lock(mutex_);
    auto& slot = answers_[pool];
    if (!slot) slot = std::make_unique<PoolCounter>();
    return slot.get();
}

PoolCounter* PoolCounters::served(const std::string& pool, const std::string& member) {
    std::lock_guard lock(mutex_);
    auto& slot = served_[{pool, member}];
    if (!slot) slot = std::make_unique<PoolCounter>();
    return slot.get();
}

std::string PoolCounters::render() const {
    std::lock_guard lock(mutex_);
    std::string out =
        "# HELP dnsd_pool_answers_total Answers given from a failover pool.\n"
        "# TYPE dnsd_pool_answers_total counter\n";
    for (const auto& [pool, c] : answers_)
        out += "dnsd_pool_answers_total{pool=\"" + common::promLabel(pool) + "\"} " +
               std::to_string(c->total()) + "\n";
    out +=
        "# HELP dnsd_pool_member_answers_total Answers that included this member.\n"
        "# TYPE dnsd_pool_member_answers_total counter\n";
    for (const auto& [key, c] : served_)
        out += "dnsd_pool_member_answers_total{pool=\"" + common::promLabel(key.first) +
               "\",member=\"" + common::promLabel(key.second) + "\"} " +
               std::to_string(c->total()) + "\n";
    return out;
}

}  // namespace dnsd
