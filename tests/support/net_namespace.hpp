// testsupport::NetNamespace — a network namespace of its own for one process of a test (a remote
// probe agent), joined to the root namespace by a veth pair, so the test can cut that process's
// route to one address while everything else keeps reaching it.
//
// Contract: the constructor (root only; it runs iproute2's `ip`) claims a free /30 in
// 127.201.0.0/16 (127.201.N.0/30, N = 1..250; claimed with an flock on a file under
// /tmp/dnsd-test-netns, held for the object's lifetime, so parallel test processes never share
// one), removes what crashed earlier holders of any free /30 (recorded in those files) or a
// crashed process with our pid (same names) left behind, and creates:
//   namespace  dnsd-LABEL-PID-N, with lo left down, so 127.0.0.1 and every other 127.x address
//              of the root namespace is reached through the veth (default route, src address()),
//   veth       dnN-PID in the root namespace (hostAddress() = 127.201.N.1, route_localnet on, and
//              a route for address() in table `local`: 127.0.0.0/8 is local on lo there, so
//              replies would otherwise never leave through the veth),
//              dnN-PIDn inside (address() = 127.201.N.2).
// Only 127.0.0.0/8 is used, so nothing reaches a real network. route_localnet stays on for
// `all` in the root namespace afterwards (other namespaces of parallel tests may need it).
// cut(addr) makes `addr` unreachable from inside (a blackhole route: connect() fails at once),
// restore(addr) undoes it. The destructor deletes the veth (its peer and routes go with it) and
// the namespace, and never throws. Any failure of `ip` throws std::runtime_error with the
// command and its stderr. unavailable() says why namespaces cannot be used here (not root, no
// `ip`, the kernel refuses), or "" when they can: tests GTEST_SKIP with that line.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/unique_fd.hpp"

namespace testsupport {

class NetNamespace {
  public:
    // `label`: a-z, 0-9 (part of the namespace's name, e.g. the vantage it hosts).
    explicit NetNamespace(const std::string& label);
    ~NetNamespace();
    NetNamespace(const NetNamespace&) = delete;
    NetNamespace& operator=(const NetNamespace&) = delete;

    // "" when this process can create namespaces; otherwise one line saying why not.
    // Checked once per process (by creating and deleting a namespace).
    static std::string unavailable();

    const std::string& name() const { return name_; }
    const std::string& hostVeth() const { return hostVeth_; }
    const std::string& address() const { return address_; }          // inside, 127.201.N.2
    const std::string& hostAddress() const { return hostAddress_; }  // root side, 127.201.N.1

    // `addr` (an IPv4 address of 127.0.0.0/8) unreachable from inside / reachable again.
    void cut(const std::string& addr);
    void restore(const std::string& addr);

    // `program args...` run inside the namespace: the argv for `ip` (ipProgram()).
    std::vector<std::string> execArgs(const std::string& program,
                                      const std::vector<std::string>& args) const;
    static std::string ipProgram();
    // Starts `program` inside the namespace (`ip netns exec` execs it: the pid is the program's).
    std::unique_ptr<Process> spawn(const std::string& program, const std::vector<std::string>& args,
                                   const std::vector<std::string>& env = {},
                                   const std::string& logDir = {}) const;
    // Runs `program` inside the namespace to completion.
    CommandResult run(const std::string& program, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  private:
    void claimSubnet();
    void removeLeftovers(const std::string& recorded);
    void create();
    void destroy() noexcept;

    int subnet_ = 0;
    UniqueFd lock_;
    std::string label_, name_, hostVeth_, innerVeth_, address_, hostAddress_;
};

}  // namespace testsupport
