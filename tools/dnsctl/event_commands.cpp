// `dnsctl events [--follow] [--since WHEN] [--pool NAME] [--json]`: the history of state
// changes, failovers and admin actions.
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "tools/dnsctl/failover_commands.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/pool_store.hpp"
#include "zones/schema.hpp"

namespace dnsctl {
namespace {

volatile std::sig_atomic_t stopFollowing = 0;

void print(const zones::EventRow& e, bool json) {
    if (json) {
        // details is stored as a JSON object; one that does not parse is shown as its text.
        auto details = e.details.empty() ? nlohmann::ordered_json::object()
                                         : nlohmann::ordered_json::parse(e.details, nullptr, false);
        if (details.is_discarded()) details = e.details;
        nlohmann::ordered_json o = {{"id", e.id},
                                    {"at", e.at},
                                    {"time", formatTimeMs(e.at)},
                                    {"pool", e.pool},
                                    {"member", e.member},
                                    {"kind", e.kind},
                                    {"message", e.message},
                                    {"details", std::move(details)}};
        std::cout << jsonText(o) << "\n";
    } else {
        std::cout << formatTimeMs(e.at) << "  " << e.kind << "  " << e.message << "\n";
    }
}

int events(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("follow,f", "keep printing new events as they happen (Ctrl-C to stop)")(
        "since", po::value<std::string>(),
        "only events newer than this: a duration ago (10m) or a time (2026-11-23T14:00Z)")(
        "pool", po::value<std::string>(), "only events of this pool")(
        "limit", po::value<int>(), "at most this many past events (default 100 without --since)")(
        "json", "one JSON object per line");
    po::variables_map vm;
    if (!parseArgs(
            args, "dnsctl events [--follow] [--since WHEN] [--pool NAME] [--json]",
            "Shows the history of member state changes, failovers, failbacks and admin actions.",
            options, {}, vm))
        return 0;
    int64_t since = 0;
    if (vm.count("since")) {
        std::string s = vm["since"].as<std::string>();
        bool looksLikeTime = s.find('-') != std::string::npos || s[0] == '@' || s == "now";
        since =
            looksLikeTime ? parseTimeMs(s, "--since") : zones::nowMs() - durationFlag(s, "--since");
    }
    int limit = vm.count("limit") ? vm["limit"].as<int>() : (vm.count("since") ? 0 : 100);
    std::string pool = vm.count("pool") ? vm["pool"].as<std::string>() : "";
    bool json = vm.count("json") > 0;
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    int64_t last = 0;
    auto show = [&](const std::vector<zones::EventRow>& rows) {
        for (const auto& e : rows) {
            last = std::max(last, e.id);
            if (!pool.empty() && e.pool != pool) continue;
            print(e, json);
        }
        std::cout.flush();
    };
    show(zones::readEvents(*db, 0, since, pool.empty() ? limit : 0));
    if (!vm.count("follow")) return 0;
    std::signal(SIGINT, [](int) { stopFollowing = 1; });
    std::signal(SIGTERM, [](int) { stopFollowing = 1; });
    while (!stopFollowing) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        // A snapshot (read-only user, no writer running) never sees new rows: look again.
        if (zones::isSnapshot(*db)) db = openDatabase(context, zones::OpenMode::ReadOnly);
        show(zones::readEvents(*db, last, since));
        if (!std::cout) break;  // reader went away
    }
    return 0;
}

}  // namespace

void registerEventCommands(Registry& registry) {
    registry.add(
        {"events", "history of state changes, failovers and admin actions (--follow)", events});
}

}  // namespace dnsctl
