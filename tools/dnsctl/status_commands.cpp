// `dnsctl status [--json] [--pool NAME]`: every pool at a glance.
#include <iostream>
#include <sstream>

#include "tools/dnsctl/failover_commands.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/pool_store.hpp"
#include "zones/probe_store.hpp"
#include "zones/schema.hpp"
#include "zones/status_report.hpp"

namespace dnsctl {
namespace {

constexpr int64_t kStaleMs = zones::kControllerStaleMs;

int status(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("json", "JSON output")("pool", po::value<std::string>(),
                                                 "only this pool");
    po::variables_map vm;
    if (!parseArgs(
            args, "dnsctl status [--json] [--pool NAME]",
            "Shows every pool: what is served now and why, pending approvals, and each member's\n"
            "health, since when, last probe result and latency; and whether dnsd-probe is alive.",
            options, {}, vm))
        return 0;
    auto db = openDatabase(context);
    zones::PoolStore store(*db);
    int64_t now = zones::nowMs();
    int64_t pid = 0;
    auto hb = store.heartbeat(&pid);
    bool stale = !hb || now - *hb > kStaleMs;
    auto pools = store.listPools();
    if (vm.count("pool")) {
        pools.clear();
        pools.push_back(store.getPool(vm["pool"].as<std::string>()));
    }
    if (vm.count("json")) {
        std::optional<std::string> only;
        if (vm.count("pool")) only = vm["pool"].as<std::string>();
        std::cout << zones::statusJson(*db, now, only);
        return 0;
    }
    std::ostringstream out;
    if (!hb) {
        out << "dnsd-probe: never ran on this database (decisions are not being made)\n";
    } else {
        out << "dnsd-probe: " << (stale ? "STALE" : "running") << " (pid " << pid
            << ", last heartbeat " << formatAge(now - *hb) << " ago"
            << (stale ? "; dnsd keeps serving the last decisions" : "") << ")\n";
    }
    for (size_t i = 0; i < pools.size(); ++i) {
        const auto& p = pools[i];
        auto d = store.decision(p.id);
        auto members = store.members(p.id);
        out << "\npool " << p.name << "  " << p.owner << " " << zones::toText(p.rtype)
            << "  (failback " << zones::toText(p.failback)
            << (p.failback == zones::FailbackMode::Auto
                    ? " after " + zones::formatDurationMs(p.holdDownMs)
                    : "")
            << ", approval " << zones::toText(p.approval) << ", all-down "
            << zones::toText(p.allDown) << ")\n";
        if (!d) {
            out << "  serving: no decision yet; dnsd answers by the all-down setting ("
                << zones::toText(p.allDown) << ")\n";
        } else {
            out << "  serving: " << (d->served.empty() ? "NODATA" : d->served) << "  ttl " << d->ttl
                << (d->degraded ? "  DEGRADED" : "") << (d->allDown ? "  ALL DOWN" : "") << "\n";
            out << "  why:     " << d->reason << " (decided " << formatAge(now - d->decidedAt)
                << " ago)\n";
            if (d->pendingTier)
                out << "  PENDING: failover to priority " << *d->pendingTier << " waiting "
                    << formatAge(now - d->pendingSince) << ": run `dnsctl pool approve " << p.name
                    << "`\n";
        }
        if (members.empty()) out << "  (no members: dnsctl member add " << p.name << " VALUE)\n";
        for (const auto& m : members) {
            bool drainingNow = zones::drainActive(m.drained, m.drainStart, m.drainEnd, now);
            std::string health = m.health;
            for (auto& c : health) c = char(toupper(c));
            out << "  " << m.value << "  priority " << m.priority << "  " << health;
            if (m.healthSince) out << " since " << formatAge(now - *m.healthSince) << " ago";
            if (m.admin != zones::AdminState::Auto) out << "  FORCED " << zones::toText(m.admin);
            if (drainingNow)
                out << "  DRAINED" << (m.drainEnd ? " until " + formatTimeMs(*m.drainEnd) : "");
            else if (m.drained && m.drainStart && now < *m.drainStart)
                out << "  drain scheduled " << formatTimeMs(*m.drainStart);
            if (m.lastCheckedAt) {
                out << "  last " << (m.lastOk.value_or(false) ? "ok" : "FAIL");
                if (m.lastLatencyUs) {
                    char lat[32];
                    std::snprintf(lat, sizeof lat, " %.1fms", double(*m.lastLatencyUs) / 1000);
                    out << lat;
                }
                out << " (" << m.lastMessage << ")";
            }
            if (m.probes.empty()) out << "  no probes";
            out << "\n";
        }
    }
    if (pools.empty()) out << "no pools\n";
    std::cout << out.str();
    return 0;
}

}  // namespace

void registerStatusCommands(Registry& registry) {
    registry.add({"status", "show every pool: health, what is served, pending approvals", status});
}

}  // namespace dnsctl
