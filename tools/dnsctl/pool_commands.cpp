// `dnsctl pool create|set|delete|list|show|approve|failback`, and the time helpers the
// failover commands share.
#include <SQLiteCpp/Transaction.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <thread>

#include "tools/dnsctl/failover_commands.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/pool_store.hpp"
#include "zones/probe_store.hpp"
#include "zones/schema.hpp"
#include "zones/served_pool.hpp"

namespace dnsctl {

int64_t durationFlag(const std::string& text, const std::string& flag) {
    try {
        return zones::parseDurationMs(text);
    } catch (const std::exception& e) {
        throw UsageError(flag + ": " + e.what());
    }
}

int64_t parseTimeMs(const std::string& text, const std::string& flag) {
    if (text == "now") return zones::nowMs();
    if (!text.empty() && text[0] == '+') return zones::nowMs() + durationFlag(text.substr(1), flag);
    if (!text.empty() && text[0] == '@') {
        try {
            size_t used = 0;
            long long secs = std::stoll(text.substr(1), &used);
            if (used == text.size() - 1) return secs * 1000;
        } catch (const std::exception&) {
        }
        throw UsageError(flag + ": '" + text + "' is not @UNIXSECONDS");
    }
    std::tm tm{};
    int y, mo, d, h = 0, mi = 0, s = 0;
    char sep = 0;
    char zone[8] = {};
    int n = std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%7s", &y, &mo, &d, &sep, &h, &mi, &s,
                        zone);
    if (n < 6)
        n = std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d%7s", &y, &mo, &d, &sep, &h, &mi, zone),
        s = 0;
    bool ok = n >= 6 && (sep == 'T' || sep == ' ') && (zone[0] == 0 || std::string(zone) == "Z");
    if (!ok)
        throw UsageError(
            flag + ": '" + text +
            "' is not a time (use 2026-11-23T14:00Z (UTC), +10m, now or @UNIXSECONDS)");
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return int64_t(timegm(&tm)) * 1000;
}

std::string formatTimeMs(int64_t ms) {
    std::time_t t = std::time_t(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, int(ms % 1000));
    return out;
}

std::string formatAge(int64_t ms) {
    if (ms < 0) ms = 0;
    char buf[32];
    if (ms < 60000)
        std::snprintf(buf, sizeof buf, "%.1fs", double(ms) / 1000);
    else if (ms < 3600000)
        std::snprintf(buf, sizeof buf, "%dm%02ds", int(ms / 60000), int(ms / 1000 % 60));
    else
        std::snprintf(buf, sizeof buf, "%dh%02dm", int(ms / 3600000), int(ms / 60000 % 60));
    return buf;
}

namespace {

void policyOptions(po::options_description& o) {
    o.add_options()("ttl", po::value<int>(), "answer TTL in seconds (default 30)")(
        "degraded-ttl", po::value<int>(),
        "TTL cap while degraded: backup tier, member down, all down (default 5)")(
        "max-answers", po::value<int>(),
        "at most this many addresses per answer, rotated (0 = all; default 0)")(
        "all-down", po::value<std::string>(),
        "when every member is down: serve-all (default), fallback or nodata")(
        "fallback", po::value<std::string>(),
        "value served when all down with --all-down fallback")(
        "failback", po::value<std::string>(),
        "auto (after the hold-down; default) or manual (dnsctl pool failback)")(
        "hold-down", po::value<std::string>(),
        "a better tier must be healthy this long before auto failback (default 60s)")(
        "approval", po::value<std::string>(),
        "auto (default) or manual: failovers wait for dnsctl pool approve")(
        "quorum", po::value<std::string>(),
        "vantages that must see a member up: majority (default), all, any or a number");
}

// A pool setting flag through its one parser in zones/pool_model.hpp; a bad value is a usage
// error naming the flag ("--all-down must be serve-all, fallback or nodata (got 'x')").
template <typename Parse>
auto settingFlag(const po::variables_map& vm, const char* flag, Parse parse) {
    try {
        return parse(vm[flag].as<std::string>());
    } catch (const std::runtime_error& e) {
        throw UsageError(std::string("--") + e.what());
    }
}

void applyPolicy(const po::variables_map& vm, zones::PoolDef& p) {
    if (vm.count("ttl")) p.ttl = vm["ttl"].as<int>();
    if (vm.count("degraded-ttl")) p.degradedTtl = vm["degraded-ttl"].as<int>();
    if (vm.count("max-answers")) p.maxAnswers = vm["max-answers"].as<int>();
    if (vm.count("all-down")) p.allDown = settingFlag(vm, "all-down", zones::parseAllDownMode);
    if (vm.count("fallback")) p.fallback = vm["fallback"].as<std::string>();
    if (vm.count("failback")) p.failback = settingFlag(vm, "failback", zones::parseFailbackMode);
    if (vm.count("hold-down"))
        p.holdDownMs = durationFlag(vm["hold-down"].as<std::string>(), "--hold-down");
    if (vm.count("approval")) p.approval = settingFlag(vm, "approval", zones::parseApprovalMode);
    if (vm.count("quorum")) p.quorum = settingFlag(vm, "quorum", zones::parseQuorum);
}

std::string policyText(const zones::PoolDef& p) {
    std::string s = "ttl " + std::to_string(p.ttl) + " (degraded " + std::to_string(p.degradedTtl) +
                    "), failback " + zones::toText(p.failback);
    if (p.failback == zones::FailbackMode::Auto)
        s += " after " + zones::formatDurationMs(p.holdDownMs);
    s += ", approval " + zones::toText(p.approval) + ", all-down " + zones::toText(p.allDown);
    if (p.allDown == zones::AllDownMode::Fallback) s += " " + p.fallback;
    if (p.maxAnswers) s += ", max-answers " + std::to_string(p.maxAnswers);
    return s + ", quorum " + zones::toText(p.quorum);
}

int poolCreate(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("pool", po::value<std::string>()->required(), "pool name")(
        "zone", po::value<std::string>(),
        "zone the name lives in (optional if --name is absolute)")(
        "name", po::value<std::string>()->required(),
        "owner name, relative to --zone (@ = apex) or absolute")(
        "type", po::value<std::string>()->default_value("A"), "A, AAAA or CNAME");
    policyOptions(options);
    po::positional_options_description pos;
    pos.add("pool", 1);
    po::variables_map vm;
    if (!parseArgs(args,
                   "dnsctl pool create NAME --zone ZONE --name OWNER --type A|AAAA|CNAME [options]",
                   "Binds a failover pool to one owner name and type inside a zone. The name must "
                   "not have\n"
                   "static records of that type. Example:\n"
                   "  dnsctl pool create web --zone svc.example.com --name www --type A --ttl 30 "
                   "--failback auto --hold-down 60s",
                   options, pos, vm))
        return 0;
    zones::PoolDef p;
    p.name = vm["pool"].as<std::string>();
    p.rtype = settingFlag(vm, "type", zones::parsePoolType);
    applyPolicy(vm, p);
    auto db = openDatabase(context);
    zones::JournaledTransaction tx(*db);  // the write lock up front; served changes journaled
    zones::PoolStore(*db).createPool(p, vm.count("zone") ? vm["zone"].as<std::string>() : "",
                                     vm["name"].as<std::string>());
    tx.commit();
    std::cout << "pool " << p.name << " created: " << p.owner << " " << zones::toText(p.rtype)
              << " in zone " << p.zone << "; " << policyText(p) << "\n";
    return 0;
}

int poolSet(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("pool", po::value<std::string>()->required(), "pool name");
    policyOptions(options);
    po::positional_options_description pos;
    pos.add("pool", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl pool set NAME [options]",
                   "Changes the given policy settings of a pool.", options, pos, vm))
        return 0;
    auto db = openDatabase(context);
    zones::JournaledTransaction tx(*db);  // the write lock up front; served changes journaled
    zones::PoolStore store(*db);
    auto p = store.getPool(vm["pool"].as<std::string>());
    applyPolicy(vm, p);
    if (p.allDown != zones::AllDownMode::Fallback && !vm.count("fallback") && vm.count("all-down"))
        p.fallback.clear();
    store.updatePool(p);
    tx.commit();
    std::cout << "pool " << p.name << ": " << policyText(p) << "\n";
    return 0;
}

int poolDelete(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("pool", po::value<std::string>()->required(), "pool name");
    po::positional_options_description pos;
    pos.add("pool", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl pool delete NAME",
                   "Deletes a pool with its members; its probes stop.", options, pos, vm))
        return 0;
    auto db = openDatabase(context);
    zones::JournaledTransaction tx(*db);  // the write lock up front; served changes journaled
    zones::PoolStore(*db).deletePool(vm["pool"].as<std::string>());
    tx.commit();
    std::cout << "pool " << vm["pool"].as<std::string>() << " deleted\n";
    return 0;
}

int poolList(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("json", "JSON output");
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl pool list [--json]", "Lists pools.", options, {}, vm)) return 0;
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    zones::PoolStore store(*db);
    auto pools = store.listPools();
    if (vm.count("json")) {
        std::cout << "[";
        for (size_t i = 0; i < pools.size(); ++i) {
            const auto& p = pools[i];
            nlohmann::ordered_json o = {{"name", p.name},
                                        {"zone", p.zone},
                                        {"owner", p.owner},
                                        {"type", zones::toText(p.rtype)},
                                        {"ttl", p.ttl},
                                        {"degraded_ttl", p.degradedTtl},
                                        {"max_answers", p.maxAnswers},
                                        {"all_down", zones::toText(p.allDown)},
                                        {"fallback", p.fallback},
                                        {"failback", zones::toText(p.failback)},
                                        {"hold_down_ms", p.holdDownMs},
                                        {"approval", zones::toText(p.approval)},
                                        {"quorum", zones::toText(p.quorum)},
                                        {"members", store.members(p.id).size()}};
            std::cout << (i ? "," : "") << "\n  " << jsonText(o);
        }
        std::cout << (pools.empty() ? "]\n" : "\n]\n");
        return 0;
    }
    if (pools.empty())
        std::cout << "no pools (create one with: dnsctl pool create NAME --zone ZONE --name OWNER "
                     "--type A)\n";
    for (const auto& p : pools)
        std::cout << p.name << "  " << p.owner << " " << zones::toText(p.rtype) << "  "
                  << store.members(p.id).size() << " member(s)  " << policyText(p) << "\n";
    return 0;
}

int poolShow(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("pool", po::value<std::string>()->required(), "pool name")("json",
                                                                                     "JSON output");
    po::positional_options_description pos;
    pos.add("pool", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl pool show NAME [--json]",
                   "Shows one pool: settings, members, current decision.", options, pos, vm))
        return 0;
    // The status command renders pools; show is status filtered to one pool.
    std::vector<std::string> statusArgs = {"--pool", vm["pool"].as<std::string>()};
    if (vm.count("json")) statusArgs.push_back("--json");
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    zones::PoolStore(*db).getPool(vm["pool"].as<std::string>());  // clear error if missing
    Registry r;
    registerStatusCommands(r);
    size_t used = 0;
    return r.find({"status"}, used)->run(statusArgs, context);
}

// approve / failback: queue the request, then wait briefly for dnsd-probe's answer.
int poolRequest(const std::vector<std::string>& args, Context& context, const std::string& kind) {
    po::options_description options("Options");
    options.add_options()("pool", po::value<std::string>()->required(), "pool name")(
        "wait", po::value<std::string>()->default_value("3s"),
        "how long to wait for dnsd-probe to act");
    po::positional_options_description pos;
    pos.add("pool", 1);
    po::variables_map vm;
    std::string what =
        kind == "approve"
            ? "Approves the pending failover of a pool (approval manual)."
            : "Moves a pool back to its best healthy tier now (failback manual, or skipping "
              "the hold-down).";
    if (!parseArgs(args, "dnsctl pool " + kind + " NAME [--wait 3s]", what, options, pos, vm))
        return 0;
    int64_t waitMs = durationFlag(vm["wait"].as<std::string>(), "--wait");
    auto db = openDatabase(context);
    zones::PoolStore store(*db);
    int64_t id;
    {
        zones::JournaledTransaction tx(*db);  // the write lock up front; served changes journaled
        auto p = store.getPool(vm["pool"].as<std::string>());
        if (kind == "approve") {
            auto d = store.decision(p.id);
            if (!d || !d->pendingTier)
                throw std::runtime_error("pool " + p.name + " has no failover pending approval");
        }
        id = store.addRequest(p, kind);
        tx.commit();
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(waitMs);
    while (true) {
        if (auto result = store.requestResult(id)) {
            std::cout << "pool " << vm["pool"].as<std::string>() << ": " << *result << "\n";
            return 0;
        }
        if (std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto hb = store.heartbeat();
    bool alive = hb && zones::nowMs() - *hb < 3000;
    std::cout << kind << " requested for pool " << vm["pool"].as<std::string>() << "; "
              << (alive ? "dnsd-probe has not acted on it yet"
                        : "dnsd-probe is not running: it will act when it starts")
              << "\n";
    return 0;
}

}  // namespace

void registerPoolCommands(Registry& registry) {
    registry.add({"pool create", "bind a failover pool to a name and type in a zone", poolCreate});
    registry.add(
        {"pool set", "change a pool's policy (ttl, failback, approval, all-down, ...)", poolSet});
    registry.add({"pool delete", "delete a pool and its members", poolDelete});
    registry.add({"pool list", "list pools", poolList});
    registry.add({"pool show", "show one pool: members, health, what is served", poolShow});
    registry.add({"pool approve", "approve a pending failover",
                  [](const std::vector<std::string>& a, Context& c) {
                      return poolRequest(a, c, "approve");
                  }});
    registry.add({"pool failback", "fail back to the best healthy tier now",
                  [](const std::vector<std::string>& a, Context& c) {
                      return poolRequest(a, c, "failback");
                  }});
}

}  // namespace dnsctl
