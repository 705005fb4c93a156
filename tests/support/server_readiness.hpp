// testsupport::waitForServer — block until a freshly started DNS server answers.
//
// Contract: sends `probe` over UDP to `client` every ~20 ms until a response arrives that
// satisfies `acceptable` (default: any response), the process dies, or `timeout` passes. Throws
// std::runtime_error naming the server and carrying its stderr in the last two cases, so a
// test never runs against a server that is not there.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/dns_client.hpp"
#include "tests/support/process.hpp"

namespace testsupport {

void waitForServer(Process& process, const DnsClient& client, const std::vector<uint8_t>& probe,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10),
                   const std::function<bool(const DnsMessage&)>& acceptable = nullptr);

}  // namespace testsupport
