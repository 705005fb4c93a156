// `dnsctl probe test NAME TARGET`: run one check of a probe now and show what it saw, so a
// health check can be debugged before it decides anything. The check is dnsd-probe's own
// (probes::CheckRunner, linked in), so what passes here passes there.
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <iostream>

#include "probes/check_runner.hpp"
#include "tools/dnsctl/command.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/probe_store.hpp"

namespace dnsctl {
namespace {

int probeTest(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("probe", po::value<std::string>()->required(), "probe name")(
        "target", po::value<std::string>()->required(),
        "what to check, as a pool member would be: an address or host name");
    po::positional_options_description positional;
    positional.add("probe", 1).add("target", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl probe test NAME TARGET",
                   "Runs the probe NAME once, now, against TARGET (a member's address or name;\n"
                   "a probe with its own --target checks that on TARGET's behalf, as dnsd-probe\n"
                   "does) and prints what it saw: name resolution, connect time, the TLS\n"
                   "handshake and certificate, the HTTP request, status and body match, the DNS\n"
                   "answer. Decides nothing and writes nothing. Exit status 0 if the check\n"
                   "passes, 1 if it fails, 2 on bad arguments (an unknown probe).",
                   options, positional, vm))
        return 0;
    std::string name = vm["probe"].as<std::string>();
    std::string target = vm["target"].as<std::string>();
    if (target.empty()) throw UsageError("TARGET is empty");
    std::optional<zones::ProbeDef> probe;
    {
        auto db = openDatabase(context, zones::OpenMode::ReadOnly);
        probe = zones::ProbeStore(*db).find(name);
    }
    if (!probe) throw UsageError("no probe named '" + name + "' (see dnsctl probe list)");

    boost::asio::io_context io;
    probes::CheckRunner runner(io);
    probes::CheckResult result;
    bool done = false;
    auto keep = [&](probes::CheckResult r) {
        result = std::move(r);
        done = true;
    };
    runner.run(*probe, target, keep, /*trace=*/true);
    // Until the one result: the runner's ICMP sockets keep waiting for replies, so the loop
    // would never run out of work by itself. The check's own deadline bounds the wait.
    while (!done && io.run_one() > 0) {
    }

    std::cout << "probe " << probe->name << " (" << probe->type << ", timeout "
              << zones::formatDurationMs(probe->timeoutMs) << ") on " << target << ":\n";
    for (const auto& line : result.seen) std::cout << "  " << line << "\n";
    char latency[32];
    std::snprintf(latency, sizeof latency, "%.1fms", double(result.latencyUs) / 1000.0);
    std::cout << (result.ok ? "PASS" : "FAIL") << ": " << result.message << " (" << latency
              << ")\n";
    return result.ok ? 0 : 1;
}

}  // namespace

void registerProbeTestCommand(Registry& registry) {
    registry.add({"probe test", "run one check of a probe now and show what it saw", probeTest});
}

}  // namespace dnsctl
