// dnsd::DatagramPath — what every UDP transport (UdpWorker over sockets, XdpWorker over
// AF_XDP) does with one query datagram after it is received and before it is sent: the answer
// engine, counting, IXFR over UDP, TSIG and response rate limiting. One per I/O thread.
//
// Contract: `answer` returns Action::Update untouched for the transport to hand to the update
// thread (only the transport knows how to reply later); `finish` then signs and rate-limits
// an answer in place and returns false when nothing is to be sent. Neither allocates except
// for the rare IXFR over UDP.
#pragma once

#include <span>

#include "dnsd/answer/answer.hpp"
#include "dnsd/rate_limiter.hpp"
#include "dnsd/served_state.hpp"
#include "dnsd/stats.hpp"

namespace dnsd {

class DatagramPath {
  public:
    DatagramPath(const StateHolder& state, const EngineConfig& config, RateLimiter& rrl,
                 ThreadStats& stats);

    // Once per batch: the state every datagram of the batch is answered from.
    const ServedState& state() { return reader_.get(); }

    AnswerResult answer(const ServedState& st, std::span<const uint8_t> q, std::span<uint8_t> o,
                        const Client& client);
    bool finish(const ServedState& st, AnswerResult& r, std::span<const uint8_t> q,
                std::span<uint8_t> o, const Client& client);

  private:
    StateHolder::Reader reader_;
    const EngineConfig& config_;
    RateLimiter& rrl_;
    ThreadStats& stats_;
    std::unique_ptr<Scratch> scratch_;
    const bool rrlOn_;
};

}  // namespace dnsd
