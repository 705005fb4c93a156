// probes::CheckRunner — runs one health check of any kind on the shared event loop.
//
// Contract: `run` starts one check of `probe` against `member` (or the probe's alternate
// target, checked on the member's behalf) and calls `done` exactly once, on the io_context's
// thread, no later than the probe's timeout plus a few milliseconds. Nothing blocks: TCP, HTTP(S)
// (Boost.Beast/OpenSSL), DNS (UDP), ICMP (one shared socket per family) and exec (child reaped
// through a pidfd) are all asynchronous operations on one io_context; no thread per probe.
// Control-path errors (a bad URL) become a failed result with a message, never an exception.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "zones/probe_store.hpp"

namespace probes {

struct CheckResult {
    bool ok = false;
    int64_t latencyUs = 0;
    std::string message;  // "ok", "connect: Connection refused", "timeout after 500ms", ...
};
using CheckDone = std::function<void(CheckResult)>;

// Where a check goes: the member's address, or the probe's target (host:port or URL).
struct CheckTarget {
    std::string host;  // IP literal or host name, no brackets, no trailing dot
    int port = 0;
    std::string path;  // from a URL target, else the probe's path
    bool tls = false;
};
// Throws std::runtime_error on a malformed target.
CheckTarget resolveTarget(const zones::ProbeDef& probe, const std::string& member);

class IcmpPinger;

class CheckRunner {
  public:
    explicit CheckRunner(boost::asio::io_context& io);
    ~CheckRunner();
    void run(const zones::ProbeDef& probe, const std::string& member, CheckDone done);
    // What ICMP can do here, for the start-up log ("icmp: using ping sockets", or why not).
    std::string icmpStatus() const;
    // False if ICMP checks of either family cannot run here (icmpStatus says why).
    bool icmpAvailable() const;

  private:
    boost::asio::io_context& io_;
    struct Tls;
    std::unique_ptr<Tls> tls_;
    std::unique_ptr<IcmpPinger> icmp4_, icmp6_;
};

}  // namespace probes
