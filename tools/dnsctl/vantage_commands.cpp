// `dnsctl vantage add|list|delete`: the remote probe agents (vantage points) whose views of
// every member decide with the controller's own ('local') by each pool's quorum.
#include <SQLiteCpp/Transaction.h>

#include <cstdio>
#include <iostream>

#include "tools/dnsctl/failover_commands.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/schema.hpp"
#include "zones/status_report.hpp"
#include "zones/vantage_store.hpp"

namespace dnsctl {

std::string vantageStateText(const zones::VantageInfo& v, int64_t now) {
    switch (zones::vantageState(v, now)) {
        case zones::VantageState::Reporting:
            return "reporting";
        case zones::VantageState::NeverReported:
            return "never reported";
        case zones::VantageState::Silent:
            break;
    }
    auto since = zones::silentSince(v);
    return "SILENT" + (since ? " since " + zones::clockTime(*since, now) : std::string());
}

namespace {

// Where the agent host keeps the key: the directory dist/ installs dnsd's configuration in.
std::string keyFile(const std::string& name) {
    return "/etc/dnsd/vantage-" + name + ".key";
}

// The agent needs http://HOST:PORT (probes/agent_protocol.hpp); caught here rather than on the
// agent host after the key was copied there.
void checkControllerUrl(const std::string& url) {
    // Agents speak plain HTTP with signed requests (no TLS: probes/README.md says why).
    std::string rest = url.rfind("http://", 0) == 0 ? url.substr(7) : "";
    if (rest.empty() || rest[0] == '/' || rest.find_first_of(" \t'\"") != std::string::npos)
        throw UsageError("--controller must be a URL like http://HOST:PORT (got '" + url + "')");
}

int vantageAdd(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("name", po::value<std::string>(), "vantage name")(
        "controller", po::value<std::string>(),
        "URL the agent reaches the controller at, http://HOST:PORT (printed in the command "
        "line; default a placeholder)");
    po::positional_options_description pos;
    pos.add("name", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl vantage add NAME [--controller http://HOST:PORT]",
                   "Adds a vantage point: a dnsd-probe agent that probes every member from where "
                   "it runs\nand reports to the controller. Makes its key and prints it once, with "
                   "the commands that\ninstall and start the agent. NAME: 1..32 of a-z, 0-9, '-'.",
                   options, pos, vm))
        return 0;
    if (!vm.count("name")) throw UsageError("a vantage NAME is needed");
    std::string name = vm["name"].as<std::string>();
    bool placeholder = !vm.count("controller");
    std::string controller =
        placeholder ? "http://CONTROLLER:8055" : vm["controller"].as<std::string>();
    if (!placeholder) checkControllerUrl(controller);
    auto db = openDatabase(context);
    std::string key = zones::VantageStore(*db).add(name);  // one IMMEDIATE transaction
    std::string file = keyFile(name);
    std::cout << "added vantage " << name << "\n"
              << "key (shown this once; `dnsctl vantage delete " << name
              << "` and add again for a new one):\n  " << key << "\n\n"
              << "On the agent host, as root (the key file must not be world-readable; its owner "
                 "is the user\ndnsd-probe runs as, dnsd for the packaged service):\n"
              << "  install -d -m 755 /etc/dnsd\n"
              << "  install -m 600 -o dnsd -g dnsd /dev/null " << file << "\n"
              << "  printf '%s\\n' '" << key << "' > " << file << "\n"
              << "  dnsd-probe --vantage " << name << " --controller " << controller
              << " --key-file " << file << "\n\n";
    if (placeholder)
        std::cout << "Replace http://CONTROLLER:8055 with where the agent reaches the controller "
                     "(or give --controller).\n";
    std::cout << "The controller (dnsd-probe --db ...) must accept agents: run it with "
                 "--agents-listen ADDR:PORT.\n";
    return 0;
}

std::string ageOrDash(const std::optional<int64_t>& at, int64_t now) {
    return at ? formatAge(now - *at) + " ago" : "-";
}

int vantageList(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("json", "JSON");
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl vantage list [--json]",
                   "Lists the vantage points: reporting or silent, last report, lag, checks/s, "
                   "clock offset,\nresults dropped by the agent, requests refused by the "
                   "controller, address, version, host.",
                   options, {}, vm))
        return 0;
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    int64_t now = zones::nowMs();
    if (vm.count("json")) {
        std::cout << zones::vantagesJson(*db, now);
        return 0;
    }
    auto list = zones::VantageStore(*db).list();
    if (list.empty())
        std::cout << "no vantages: dnsd-probe's own checks count alone (add an agent with: "
                     "dnsctl vantage add NAME)\n";
    for (const auto& v : list) {
        std::cout << v.name << (v.local ? " (controller's own checks)" : "") << "  "
                  << vantageStateText(v, now);
        if (v.lastReportAt) {
            char rate[32];
            std::snprintf(rate, sizeof rate, "%.1f", v.checksPerS);
            std::cout << "  last report " << ageOrDash(v.lastReportAt, now) << "  lag " << v.lagMs
                      << " ms  " << rate << " checks/s  offset " << (v.offsetMs > 0 ? "+" : "")
                      << v.offsetMs << " ms";
        }
        std::cout << "  dropped " << v.dropped << "  refused " << v.refused;
        if (!v.lastRefusal.empty()) std::cout << " (last: " << v.lastRefusal << ")";
        if (!v.lastAddress.empty()) std::cout << "  from " << v.lastAddress;
        if (!v.version.empty()) std::cout << "  version " << v.version;
        if (!v.host.empty()) std::cout << "  host " << v.host;
        std::cout << "\n";
    }
    return 0;
}

int vantageDelete(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("name", po::value<std::string>(), "vantage name");
    po::positional_options_description pos;
    pos.add("name", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl vantage delete NAME",
                   "Deletes a vantage point with its key and its views: the agent is refused from "
                   "then on\nand its views no longer count.",
                   options, pos, vm))
        return 0;
    if (!vm.count("name")) throw UsageError("a vantage NAME is needed");
    std::string name = vm["name"].as<std::string>();
    auto db = openDatabase(context);
    zones::VantageStore(*db).remove(name);  // one IMMEDIATE transaction
    std::cout << "deleted vantage " << name << "\n";
    return 0;
}

}  // namespace

void registerVantageCommands(Registry& registry) {
    registry.add(
        {"vantage add", "add a remote probe agent; prints its key and command once", vantageAdd});
    registry.add(
        {"vantage list", "list vantage points: reporting, lag, offset (--json)", vantageList});
    registry.add({"vantage delete", "delete a vantage point and its key", vantageDelete});
}

}  // namespace dnsctl
