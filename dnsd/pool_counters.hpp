// dnsd::PoolCounters — how often each pool, and each member of it, was served.
//
// Contract: hands out counters with stable addresses, one per pool and one per (pool,
// member value), that live as long as the process (Prometheus counters never reset while a
// process runs, whatever decisions come and go). The control thread asks for them when it
// builds a pool table; I/O threads bump them (PoolCounter: one cache line per thread slot);
// `render` may run on any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "dnsd/answer/pool_table.hpp"

namespace dnsd {

class PoolCounters {
  public:
    PoolCounter* answers(const std::string& pool);
    PoolCounter* served(const std::string& pool, const std::string& member);
    // Prometheus text lines for dnsd_pool_answers_total and dnsd_pool_member_answers_total.
    std::string render() const;

  private:
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<PoolCounter>> answers_;
    std::map<std::pair<std::string, std::string>, std::unique_ptr<PoolCounter>> served_;
};

}  // namespace dnsd
