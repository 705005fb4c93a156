// probes::CheckScheduler — the probing half of dnsd-probe: one check slot per (member, probe)
// pair, each on its own fixed cadence, run through one CheckRunner. Used by the controller
// (its 'local' vantage) and by a remote agent, so both probe exactly the same way.
//
// Contract: `sync` makes the running slots exactly the given checks: new pairs start at once,
// removed ones stop (a result still in flight is discarded), a changed definition applies from
// the next check (a changed interval restarts the cadence now). Every result is passed to the
// callback on the io_context's thread, with the definition it ran with. The next check of a slot
// is due one interval after the previous one was *due*, not after it ran, so a busy loop does
// not stretch every interval; after a stall longer than an interval the missed checks are
// skipped, not run back to back. No exceptions escape a handler.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "probes/check_runner.hpp"
#include "probes/daemon_log.hpp"
#include "zones/probe_store.hpp"

namespace probes {

struct CheckSpec {
    int64_t memberId = 0, probeId = 0;
    std::string member;  // the member's value
    zones::ProbeDef probe;
};

class CheckScheduler {
  public:
    using ResultFn = std::function<void(const CheckSpec& spec, const CheckResult& result)>;
    CheckScheduler(boost::asio::io_context& io, CheckRunner& runner, ResultFn onResult,
                   LogSink log);
    ~CheckScheduler();
    void sync(const std::vector<CheckSpec>& specs);
    void stop();
    size_t size() const { return slots_.size(); }

  private:
    struct Slot;
    void startSlot(const std::shared_ptr<Slot>& slot);

    boost::asio::io_context& io_;
    CheckRunner& runner_;
    ResultFn onResult_;
    LogSink log_;
    std::map<std::pair<int64_t, int64_t>, std::shared_ptr<Slot>> slots_;  // (member, probe)
};

}  // namespace probes
