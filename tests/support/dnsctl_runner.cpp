#include "tests/support/dnsctl_runner.hpp"

#include <sys/wait.h>
#include <stdexcept>

#include "tests/support/process.hpp"

namespace testsupport {

DnsctlResult runDnsctl(const std::string& dbPath, const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout) {
    std::vector<std::string> argv{"--db", dbPath};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p(DNSCTL_BIN, argv);
    DnsctlResult r;
    r.command = "dnsctl";
    for (const auto& a : argv) r.command += " " + a;
    auto status = p.waitExit(timeout);
    if (!status) {
        p.stop();
        throw std::runtime_error("dnsctl did not exit within " + std::to_string(timeout.count()) +
                                 " ms: " + p.describe());
    }
    r.exitCode = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    r.out = p.stdoutText();
    r.err = p.stderrText();
    return r;
}

void createDatabase(const std::string& dbPath, const std::vector<std::string>& zoneFiles) {
    auto check = [](const DnsctlResult& r) {
        if (!r.ok()) {
            throw std::runtime_error(r.command + " failed (exit " + std::to_string(r.exitCode) +
                                     "): " + r.err + r.out);
        }
    };
    check(runDnsctl(dbPath, {"init"}));
    for (const auto& f : zoneFiles) check(runDnsctl(dbPath, {"zone", "import", f}));
}

}  // namespace testsupport
