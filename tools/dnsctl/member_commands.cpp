// `dnsctl member add|remove|set|drain|undrain|force up|down|auto`.
#include <SQLiteCpp/Transaction.h>

#include <iostream>

#include "tools/dnsctl/failover_commands.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/pool_store.hpp"
#include "zones/schema.hpp"

namespace dnsctl {
namespace {

void poolValue(po::options_description& o, po::positional_options_description& pos) {
    o.add_options()("pool", po::value<std::string>()->required(), "pool name")(
        "value", po::value<std::string>()->required(),
        "member: IPv4 (A), IPv6 (AAAA) or host name (CNAME)");
    pos.add("pool", 1).add("value", 1);
}

int memberAdd(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    po::positional_options_description pos;
    poolValue(options, pos);
    options.add_options()("priority", po::value<int>()->default_value(1),
                          "tier: 1 = primary, 2 = secondary, ...")(
        "weight", po::value<int>()->default_value(1), "order within the tier (higher first)")(
        "probe", po::value<std::vector<std::string>>(),
        "probe that must pass (repeatable; none = always up)");
    po::variables_map vm;
    if (!parseArgs(
            args, "dnsctl member add POOL VALUE [--priority N] [--weight N] [--probe NAME]...",
            "Adds a member to a pool. All of its probes must pass for it to be served. Example:\n"
            "  dnsctl member add web 192.0.2.10 --priority 1 --probe web-tcp --probe web-http",
            options, pos, vm))
        return 0;
    zones::MemberDef m;
    m.value = vm["value"].as<std::string>();
    m.priority = vm["priority"].as<int>();
    m.weight = vm["weight"].as<int>();
    if (vm.count("probe")) m.probes = vm["probe"].as<std::vector<std::string>>();
    auto db = openDatabase(context);
    SQLite::Transaction tx(
        *db, SQLite::TransactionBehavior::IMMEDIATE);  // wait for the write lock up front
    zones::PoolStore store(*db);
    auto pool = store.getPool(vm["pool"].as<std::string>());
    store.addMember(pool, m);
    tx.commit();
    std::cout << "member " << m.value << " added to pool " << pool.name << " (priority "
              << m.priority << ")\n";
    return 0;
}

int memberRemove(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    po::positional_options_description pos;
    poolValue(options, pos);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl member remove POOL VALUE", "Removes a member; its probes stop.",
                   options, pos, vm))
        return 0;
    auto db = openDatabase(context);
    SQLite::Transaction tx(
        *db, SQLite::TransactionBehavior::IMMEDIATE);  // wait for the write lock up front
    zones::PoolStore store(*db);
    auto pool = store.getPool(vm["pool"].as<std::string>());
    store.removeMember(pool, vm["value"].as<std::string>());
    tx.commit();
    std::cout << "member " << vm["value"].as<std::string>() << " removed from pool " << pool.name
              << "\n";
    return 0;
}

// Loads pool + member, applies `change`, writes with an event, in one transaction.
template <typename F>
int modifyMember(Context& context, const po::variables_map& vm, const std::string& kind, F change) {
    auto db = openDatabase(context);
    SQLite::Transaction tx(
        *db, SQLite::TransactionBehavior::IMMEDIATE);  // wait for the write lock up front
    zones::PoolStore store(*db);
    auto pool = store.getPool(vm["pool"].as<std::string>());
    auto m = store.findMember(pool, vm["value"].as<std::string>());
    if (!m)
        throw std::runtime_error(vm["value"].as<std::string>() + " is not a member of pool " +
                                 pool.name);
    std::string text = change(*m);
    store.updateMember(pool, *m, kind,
                       "member " + m->value + " of pool " + pool.name + ": " + text);
    tx.commit();
    std::cout << "pool " << pool.name << ", member " << m->value << ": " << text << "\n";
    return 0;
}

int memberSet(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    po::positional_options_description pos;
    poolValue(options, pos);
    options.add_options()("priority", po::value<int>(), "tier")(
        "weight", po::value<int>(), "weight")("probe", po::value<std::vector<std::string>>(),
                                              "probes (repeatable; replaces the list)")(
        "no-probes", "remove all probes (member is then always up)");
    po::variables_map vm;
    if (!parseArgs(args,
                   "dnsctl member set POOL VALUE [--priority N] [--weight N] [--probe NAME]... "
                   "[--no-probes]",
                   "Changes a member's tier, weight or probes.", options, pos, vm))
        return 0;
    return modifyMember(context, vm, "admin-member-set", [&](zones::MemberDef& m) {
        if (vm.count("priority")) m.priority = vm["priority"].as<int>();
        if (vm.count("weight")) m.weight = vm["weight"].as<int>();
        if (vm.count("no-probes")) m.probes.clear();
        if (vm.count("probe")) m.probes = vm["probe"].as<std::vector<std::string>>();
        std::string probes;
        for (const auto& p : m.probes) probes += (probes.empty() ? "" : ",") + p;
        return "priority " + std::to_string(m.priority) + ", weight " + std::to_string(m.weight) +
               ", probes " + (probes.empty() ? "none" : probes);
    });
}

int memberDrain(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    po::positional_options_description pos;
    poolValue(options, pos);
    options.add_options()("start", po::value<std::string>(),
                          "window start: 2026-11-23T14:00Z (UTC), +10m, @UNIXSECONDS")(
        "end", po::value<std::string>(), "window end (then the member is served again by itself)");
    po::variables_map vm;
    if (!parseArgs(
            args, "dnsctl member drain POOL VALUE [--start TIME] [--end TIME]",
            "Maintenance: the member is not served (probes keep running). With --start/--end the\n"
            "window drains and restores the member by itself.",
            options, pos, vm))
        return 0;
    std::optional<int64_t> start, end;
    if (vm.count("start")) start = parseTimeMs(vm["start"].as<std::string>(), "--start");
    if (vm.count("end")) end = parseTimeMs(vm["end"].as<std::string>(), "--end");
    if (end && *end <= (start ? *start : zones::nowMs()))
        throw UsageError("--end must be after the start of the window");
    return modifyMember(context, vm, "admin-drain", [&](zones::MemberDef& m) {
        m.drained = true;
        m.drainStart = start;
        m.drainEnd = end;
        std::string text = "drained";
        if (start) text += " from " + formatTimeMs(*start);
        if (end) text += " until " + formatTimeMs(*end);
        return text;
    });
}

int memberUndrain(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    po::positional_options_description pos;
    poolValue(options, pos);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl member undrain POOL VALUE",
                   "Ends maintenance: the member is served again when healthy.", options, pos, vm))
        return 0;
    return modifyMember(context, vm, "admin-undrain", [&](zones::MemberDef& m) {
        m.drained = false;
        m.drainStart.reset();
        m.drainEnd.reset();
        return std::string("undrained");
    });
}

// `member force up|down|auto POOL VALUE`: one command so that `dnsctl member force --help` works.
int memberForce(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("state", po::value<std::string>()->required(), "up, down or auto");
    po::positional_options_description pos;
    pos.add("state", 1);
    poolValue(options, pos);
    po::variables_map vm;
    if (!parseArgs(
            args, "dnsctl member force up|down|auto POOL VALUE",
            "Forces a member up or down whatever its probes say (logged as an event, shown in\n"
            "status); auto lets the probes decide again. Drain still beats force up.",
            options, pos, vm))
        return 0;
    std::string state = vm["state"].as<std::string>();
    if (state != "up" && state != "down" && state != "auto")
        throw UsageError("state must be up, down or auto (got '" + state + "')");
    return modifyMember(context, vm, "admin-force-" + state, [&](zones::MemberDef& m) {
        std::string before = m.admin;
        m.admin = state;
        return "forced " + state + " (was " + before + ", health " + m.health + ")";
    });
}

}  // namespace

void registerMemberCommands(Registry& registry) {
    registry.add({"member add", "add a member (address or host name) to a pool", memberAdd});
    registry.add({"member remove", "remove a member from a pool", memberRemove});
    registry.add({"member set", "change a member's priority, weight or probes", memberSet});
    registry.add({"member drain", "take a member out of service (optionally in a time window)",
                  memberDrain});
    registry.add({"member undrain", "put a drained member back into service", memberUndrain});
    registry.add(
        {"member force", "force a member up|down (beats probes), or back to auto", memberForce});
}

}  // namespace dnsctl
