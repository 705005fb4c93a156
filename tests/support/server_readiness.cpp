#include "tests/support/server_readiness.hpp"

#include <stdexcept>

#include "tests/support/wait_until.hpp"

namespace testsupport {

void waitForServer(Process& process, const DnsClient& client, const std::vector<uint8_t>& probe,
                   std::chrono::milliseconds timeout,
                   const std::function<bool(const DnsMessage&)>& acceptable) {
    bool died = false;
    bool ready = waitUntil(
        [&] {
            if (!process.alive()) {
                died = true;
                return true;
            }
            auto r = client.udp(probe, std::chrono::milliseconds(20));
            return r.has_value() && (!acceptable || acceptable(*r));
        },
        timeout, std::chrono::milliseconds(0));
    if (died) throw std::runtime_error("server exited during startup: " + process.describe());
    if (!ready) {
        throw std::runtime_error("server not answering on " + client.address() + " port " +
                                 std::to_string(client.port()) + " after " +
                                 std::to_string(timeout.count()) + " ms: " + process.describe());
    }
}

}  // namespace testsupport
