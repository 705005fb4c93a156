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
#include <vector>

#include "zones/probe_store.hpp"

namespace probes {

struct CheckResult {
    bool ok = false;
    int64_t latencyUs = 0;
    std::string message;  // "ok", "connect: Connection refused", "timeout after 500ms", ...
    // What the check saw on the way, in order, each line starting with the time since the
    // start ("+0.4ms connected to 127.0.0.2:80", the TLS version and certificate, the HTTP
    // status, the DNS answer). Filled only when the run asked for it (`dnsctl probe test`);
    // dnsd-probe does not, so its checks build no strings they would throw away.
    std::vector<std::string> seen;
};
using CheckDone = std::function<void(CheckResult)>;

// Where a check goes: the member's address, or the probe's target (host:port or URL).
struct CheckTarget {
    std::string host;  // IP literal or host name, no brackets, no trailing dot
    int port = 0;
    std::string path;  // from a URL target, else the probe's path
    bool tls = false;
    bool trace = false;  // fill CheckResult::seen
};
// Throws std::runtime_error on a malformed target.
CheckTarget resolveTarget(const zones::ProbeDef& probe, const std::string& member);

class IcmpPinger;

class CheckRunner {
  public:
    explicit CheckRunner(boost::asio::io_context& io);
    ~CheckRunner();
    // `trace` asks the check to report what it saw (CheckResult::seen).
    void run(const zones::ProbeDef& probe, const std::string& member, CheckDone done,
             bool trace = false);
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
