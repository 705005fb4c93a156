// probes::CheckOp — the shared skeleton of one asynchronous check: a deadline and a
// once-only completion.
//
// Contract: `finish` reports at most once, whatever fires first (the operation, the deadline,
// an error); `onTimeout` is where a check closes its sockets so pending handlers complete
// with operation_aborted and release the op. Ops live in shared_ptrs owned by their handlers.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "probes/check_runner.hpp"

namespace probes {

class CheckOp : public std::enable_shared_from_this<CheckOp> {
  public:
    CheckOp(boost::asio::io_context& io, int timeoutMs, CheckDone done)
        : io_(io),
          timer_(io),
          timeoutMs_(timeoutMs),
          done_(std::move(done)),
          start_(std::chrono::steady_clock::now()) {}
    virtual ~CheckOp() = default;

    void armDeadline() {
        timer_.expires_after(std::chrono::milliseconds(timeoutMs_));
        timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec || self->finished_) return;
            if (self->completedMeanwhile()) return;
            self->finish(false, "timeout after " + std::to_string(self->timeoutMs_) + "ms" +
                                    (self->stage_.empty() ? "" : " (" + self->stage_ + ")"));
            self->onTimeout();
        });
    }
    void finish(bool ok, std::string message) {
        if (finished_) return;
        finished_ = true;
        timer_.cancel();
        CheckResult r;
        r.ok = ok;
        r.message = std::move(message);
        r.latencyUs = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start_)
                          .count();
        r.seen = std::move(seen_);
        auto done = std::move(done_);
        done(std::move(r));
    }
    bool finished() const { return finished_; }
    // Notes what the check saw, for a traced run (CheckResult::seen); else does nothing.
    // `what` is a callable returning the text, so an untraced check does not build it.
    template <typename F>
    void saw(F&& what) {
        if (!trace_) return;
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start_)
                      .count();
        char at[32];
        std::snprintf(at, sizeof at, "+%.1fms ", double(us) / 1000.0);
        seen_.push_back(at + std::string(what()));
    }

  protected:
    // Resolves `host` and connects `socket` (the op's own) to the first of its addresses that
    // accepts on `port`, then calls `next`; a failure finishes the op with "resolve: ..." or
    // "connect: ...", and the stages name what a timeout interrupted. Shared by the HTTP(S)
    // check and the webhook POST (tcp_check.cpp, beside resolveHost).
    void resolveAndConnect(boost::asio::ip::tcp::socket& socket, const std::string& host, int port,
                           std::function<void()> next);
    virtual void onTimeout() {}
    // Called when the deadline fires: a check whose operation already finished in the kernel
    // (its completion is queued behind the deadline in a busy loop) reports that and returns
    // true, so loop lag is not blamed on the backend.
    virtual bool completedMeanwhile() { return false; }
    boost::asio::io_context& io_;
    boost::asio::steady_timer timer_;
    int timeoutMs_;
    std::string stage_;   // what we were waiting for, for the timeout message
    bool trace_ = false;  // set by a check's start() from CheckTarget::trace

  private:
    CheckDone done_;
    std::chrono::steady_clock::time_point start_;
    bool finished_ = false;
    std::vector<std::string> seen_;
};

// Per-kind entry points (check_runner.cpp dispatches).
void runTcpCheck(boost::asio::io_context& io, const zones::ProbeDef& probe,
                 const CheckTarget& target, CheckDone done);
void runDnsCheck(boost::asio::io_context& io, const zones::ProbeDef& probe,
                 const CheckTarget& target, CheckDone done);
void runExecCheck(boost::asio::io_context& io, const zones::ProbeDef& probe,
                  const std::string& member, const CheckTarget& target, CheckDone done);

}  // namespace probes

#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <vector>

namespace probes {
// IP literals resolve at once; names go through asio's asynchronous resolver.
using Resolved =
    std::function<void(const boost::system::error_code&, std::vector<boost::asio::ip::address>)>;
void resolveHost(boost::asio::io_context& io, const std::string& host, Resolved done);
}  // namespace probes
