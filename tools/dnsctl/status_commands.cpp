// `dnsctl status [--json] [--pool NAME]`: every pool at a glance.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "tools/dnsctl/failover_commands.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/pool_store.hpp"
#include "zones/probe_store.hpp"
#include "zones/schema.hpp"
#include "zones/status_report.hpp"
#include "zones/vantage_store.hpp"
#include "zones/xfr_store.hpp"

namespace dnsctl {
namespace {

constexpr int64_t kStaleMs = zones::kControllerStaleMs;

// "ok 1.2ms (200 OK)" / "FAIL (connection refused)"
std::string lastResult(std::optional<bool> ok, std::optional<int64_t> latencyUs,
                       const std::string& message) {
    std::string out = ok.value_or(false) ? "ok" : "FAIL";
    if (latencyUs) {
        char lat[32];
        std::snprintf(lat, sizeof lat, " %.1fms", double(*latencyUs) / 1000);
        out += lat;
    }
    return out + " (" + message + ")";
}

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
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
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
        out << "dnsd-probe: never ran on this database (decisions are not being made; dnsd "
               "answers every pool by its all-down rule)\n";
    } else {
        out << "dnsd-probe: " << (stale ? "STALE" : "running") << " (pid " << pid
            << ", last heartbeat " << formatAge(now - *hb) << " ago"
            << (stale ? "; dnsd keeps serving the last decisions" : "") << ")\n";
    }
    std::map<int64_t, std::vector<zones::MemberStanding>> standings;  // read if a pool needs it
    // Vantage points: with agents, each member's view per vantage and each pool's quorum are
    // shown; a single prober (only 'local', or no vantage rows) prints what it always did.
    zones::VantageStore vantageStore(*db);
    auto vantages = vantageStore.list();
    std::set<std::string> silent;
    int reporting = 0;
    bool agents = false;
    for (const auto& v : vantages) {
        if (v.silentSince) silent.insert(v.name);
        reporting += zones::vantageState(v, now) == zones::VantageState::Reporting;
        agents |= !v.local;
    }
    std::map<int64_t, std::vector<zones::MemberView>> views;
    for (auto& v : vantageStore.views()) views[v.memberId].push_back(std::move(v));
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
            << zones::toText(p.allDown)
            << (agents || !(p.quorum == zones::Quorum{}) ? ", quorum " + zones::toText(p.quorum)
                                                         : "")
            << ")\n";
        if (!d) {
            // The very answer dnsd gives until dnsd-probe decides (zones::allDownAnswer).
            if (standings.empty()) standings = store.standings(now);
            auto a =
                zones::allDownAnswer(p.allDown, p.fallback, p.ttl, p.degradedTtl, standings[p.id]);
            std::string served;
            for (const auto& v : a.served) served += (served.empty() ? "" : " ") + v;
            out << "  serving: no decision yet; dnsd answers by the all-down rule ("
                << zones::toText(p.allDown) << "): " << (served.empty() ? "NODATA" : served)
                << "  ttl " << a.ttl << "\n";
        } else {
            out << "  serving: " << (d->served.empty() ? "NODATA" : d->served) << "  ttl " << d->ttl
                << (d->degraded ? "  DEGRADED" : "") << (d->allDown ? "  ALL DOWN" : "") << "\n";
            out << "  why:     " << d->reason << " (decided " << formatAge(now - d->decidedAt)
                << " ago)\n";
            if (d->quorumLost)
                out << "  QUORUM LOST"
                    << (d->quorumLostSince ? " since " + zones::clockTime(*d->quorumLostSince, now)
                                           : "")
                    << " (keeping the last decision): " << reporting << " of " << vantages.size()
                    << " vantages reporting, quorum " << zones::toText(p.quorum) << " needs "
                    << zones::quorumNeeded(p.quorum, int(vantages.size())) << "\n";
            if (d->pendingTier)
                out << "  PENDING: failover to priority " << *d->pendingTier << " waiting "
                    << formatAge(now - d->pendingSince) << ": run `dnsctl pool approve " << p.name
                    << "`\n";
            if (d->failbackTier && d->failbackAt)
                out << "  FAILBACK: to priority " << *d->failbackTier << " in "
                    << formatAge(std::max<int64_t>(0, *d->failbackAt - now)) << " (at "
                    << formatTimeMs(*d->failbackAt) << "), or now with `dnsctl pool failback "
                    << p.name << "`\n";
            else if (d->failbackTier)
                out << "  FAILBACK: priority " << *d->failbackTier
                    << " is healthy again, waiting: run `dnsctl pool failback " << p.name << "`\n";
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
            // One probe: its result on the member's line. Several: one line each, since the
            // member is down when any of them fails and the newest result alone hides which.
            if (m.checks.size() <= 1 && m.lastCheckedAt)
                out << "  last " << lastResult(m.lastOk, m.lastLatencyUs, m.lastMessage);
            if (m.probes.empty()) out << "  no probes";
            out << "\n";
            if (m.checks.size() > 1)
                for (const auto& c : m.checks) {
                    out << "      probe " << c.probe << ": ";
                    if (c.lastCheckedAt)
                        out << "last " << lastResult(c.lastOk, c.lastLatencyUs, c.lastMessage)
                            << ", " << formatAge(now - *c.lastCheckedAt) << " ago\n";
                    else
                        out << "no result yet\n";
                }
            const auto& mv = views[m.id];
            if (mv.size() > 1 || (agents && !mv.empty())) {
                auto tally = zones::tallyViews(mv, silent, p.quorum, int(vantages.size()));
                out << "      vantages " << zones::viewsText(mv, silent, tally, now) << "  ("
                    << tally.needed << " needed)\n";
            }
        }
    }
    if (pools.empty()) out << "no pools\n";
    if (agents) {
        out << "\nvantages (" << reporting << " of " << vantages.size() << " reporting)\n";
        for (const auto& v : vantages) {
            out << "  " << v.name << "  " << vantageStateText(v, now);
            if (v.lastReportAt)
                out << ", last report " << formatAge(now - *v.lastReportAt) << " ago, lag "
                    << v.lagMs << " ms, offset " << (v.offsetMs > 0 ? "+" : "") << v.offsetMs
                    << " ms";
            if (v.refused) out << ", " << v.refused << " refused";
            out << "\n";
        }
    }
    // The secondaries as dnsd last recorded them (its NOTIFY thread, once a second).
    auto secondaries = zones::XfrStore(*db).states();
    if (!secondaries.empty()) out << "\nsecondaries (as dnsd saw them)\n";
    for (const auto& s : secondaries) {
        out << "  " << s.zone << "  " << s.endpoint << "  ";
        if (!s.behindSince) {
            out << "at serial " << s.serial;
        } else {
            out << "BEHIND " << formatAge(now - *s.behindSince) << ": serves "
                << (s.confirmedSerial ? std::to_string(*s.confirmedSerial) : std::string("?"))
                << ", current " << s.serial;
            if (s.confirmedSerial)
                out << " (" << uint32_t(s.serial - *s.confirmedSerial) << " behind)";
        }
        if (s.lastNotifyAt)
            out << "; last NOTIFY " << formatAge(now - *s.lastNotifyAt) << " ago"
                << (s.ackedAt && *s.ackedAt >= *s.lastNotifyAt ? ", acknowledged" : ", unanswered");
        if (s.retries) out << ", " << s.retries << " retries";
        if (s.lastTransferAt)
            out << "; last transfer " << s.lastTransferKind << " " << *s.lastTransferBytes
                << " B in " << *s.lastTransferMs << " ms, " << formatAge(now - *s.lastTransferAt)
                << " ago";
        if (!s.lastError.empty()) out << "; " << s.lastError;
        out << "\n";
    }
    std::cout << out.str();
    return 0;
}

}  // namespace

void registerStatusCommands(Registry& registry) {
    registry.add({"status", "show every pool: health, what is served, pending approvals", status});
}

}  // namespace dnsctl
