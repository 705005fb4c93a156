// testsupport::runDnsctl — run the real dnsctl binary once and collect what it said.
//
// Contract: runs DNSCTL_BIN with `--db dbPath` followed by `args`, waits up to `timeout` for it
// to exit (kills it and throws if it hangs) and returns the exit code and both outputs.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace testsupport {

struct DnsctlResult {
    int exitCode = -1;  // -1 if killed by a signal
    std::string out;
    std::string err;
    std::string command;  // for assertion messages
    bool ok() const { return exitCode == 0; }
};

DnsctlResult runDnsctl(const std::string& dbPath, const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Creates a database at `dbPath` holding every zone file; throws with dnsctl's message on
// failure.
void createDatabase(const std::string& dbPath, const std::vector<std::string>& zoneFiles);

}  // namespace testsupport
