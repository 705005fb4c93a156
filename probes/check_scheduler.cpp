#include "probes/check_scheduler.hpp"

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <set>

namespace probes {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct CheckScheduler::Slot {
    explicit Slot(asio::io_context& io) : timer(io) {}
    CheckSpec spec;
    asio::steady_timer timer;
    Clock::time_point nextStart;
    bool cancelled = false, running = false;
};

CheckScheduler::CheckScheduler(asio::io_context& io, CheckRunner& runner, ResultFn onResult,
                               LogSink log)
    : io_(io), runner_(runner), onResult_(std::move(onResult)), log_(std::move(log)) {}

CheckScheduler::~CheckScheduler() {
    stop();
}

void CheckScheduler::sync(const std::vector<CheckSpec>& specs) {
    std::set<std::pair<int64_t, int64_t>> seen;
    for (const auto& spec : specs) {
        auto key = std::make_pair(spec.memberId, spec.probeId);
        seen.insert(key);
        auto& slot = slots_[key];
        if (!slot) {
            slot = std::make_shared<Slot>(io_);
            slot->spec = spec;
            slot->nextStart = Clock::now();
            startSlot(slot);
        } else if (slot->spec.probe.updatedAt != spec.probe.updatedAt ||
                   slot->spec.member != spec.member) {
            bool intervalChanged = slot->spec.probe.intervalMs != spec.probe.intervalMs;
            slot->spec = spec;
            if (intervalChanged && !slot->running) {
                slot->timer.cancel();
                slot->nextStart = Clock::now();
                startSlot(slot);
            }
        }
    }
    for (auto it = slots_.begin(); it != slots_.end();) {
        if (seen.count(it->first)) {
            ++it;
            continue;
        }
        // Deleted probe or member: stop checking now; an in-flight result is ignored.
        it->second->cancelled = true;
        it->second->timer.cancel();
        it = slots_.erase(it);
    }
}

void CheckScheduler::stop() {
    for (auto& [key, slot] : slots_) {
        slot->cancelled = true;
        slot->timer.cancel();
    }
    slots_.clear();
}

void CheckScheduler::startSlot(const std::shared_ptr<Slot>& slot) {
    slot->timer.expires_at(slot->nextStart);
    slot->timer.async_wait([this, slot](const boost::system::error_code& ec) {
        if (ec || slot->cancelled) return;
        slot->running = true;
        // Fixed cadence (see the contract): with 10,000 slots a few ms of lateness each would
        // otherwise lose checks.
        auto interval = std::chrono::milliseconds(slot->spec.probe.intervalMs);
        auto started = Clock::now();
        slot->nextStart += interval;
        if (slot->nextStart <= started) slot->nextStart = started + interval;
        runner_.run(slot->spec.probe, slot->spec.member, [this, slot](CheckResult r) {
            if (slot->cancelled) return;
            try {
                onResult_(slot->spec, r);
            } catch (const std::exception& e) {
                log_(Level::Error, std::string("handling a probe result failed: ") + e.what());
            }
            if (!slot->cancelled) {
                slot->running = false;
                startSlot(slot);
            }
        });
    });
}

}  // namespace probes
