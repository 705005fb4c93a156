// `dnsctl member add|remove|set|drain|undrain|force up|down|auto`.
#include <SQLiteCpp/Transaction.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tools/dnsctl/failover_commands.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/pool_store.hpp"
#include "zones/schema.hpp"
#include "zones/served_pool.hpp"

namespace dnsctl {
namespace {

void poolValue(po::options_description& o, po::positional_options_description& pos) {
    o.add_options()("pool", po::value<std::string>()->required(), "pool name")(
        "value", po::value<std::string>()->required(),
        "member: IPv4 (A), IPv6 (AAAA) or host name (CNAME)");
    pos.add("pool", 1).add("value", 1);
}

// The per-member options of `member add`; shared by the command line and --from-file lines.
void memberOptions(po::options_description& o) {
    o.add_options()("priority", po::value<int>(),
                    "tier: 1 = primary, 2 = secondary, ... (default 1)")(
        "weight", po::value<int>(), "order within the tier (higher first; default 1)")(
        "probe", po::value<std::vector<std::string>>(),
        "probe that must pass (repeatable; none = always up)");
}

// Applies the options found in `vm` over `m` (a line's --probe list replaces the default list).
void applyMemberOptions(const po::variables_map& vm, zones::MemberDef& m) {
    if (vm.count("priority")) m.priority = vm["priority"].as<int>();
    if (vm.count("weight")) m.weight = vm["weight"].as<int>();
    if (vm.count("probe")) m.probes = vm["probe"].as<std::vector<std::string>>();
}

// One --from-file line: "VALUE [--priority N] [--weight N] [--probe NAME]...", split on blanks.
zones::MemberDef parseMemberLine(const std::string& line, const zones::MemberDef& defaults) {
    std::vector<std::string> words;
    std::istringstream in(line);
    for (std::string w; in >> w;) words.push_back(w);
    po::options_description options;
    memberOptions(options);
    options.add_options()("value", po::value<std::string>());
    po::positional_options_description pos;
    pos.add("value", 1);
    po::variables_map vm;
    try {
        auto style = po::command_line_style::unix_style ^ po::command_line_style::allow_guessing;
        po::store(
            po::command_line_parser(words).options(options).positional(pos).style(style).run(), vm);
    } catch (const po::too_many_positional_options_error&) {
        throw std::runtime_error(
            "one member per line (VALUE [--priority N] [--weight N] "
            "[--probe NAME]...), got '" +
            line + "'");
    } catch (const po::error& e) {
        throw std::runtime_error(e.what());
    }
    if (!vm.count("value") || vm["value"].as<std::string>().rfind("-", 0) == 0)
        throw std::runtime_error("a line must start with the member value, got '" + line + "'");
    zones::MemberDef m = defaults;
    m.value = vm["value"].as<std::string>();
    applyMemberOptions(vm, m);
    return m;
}

// Reads FILE ("-" = stdin): one member per line, '#' comments and blank lines skipped.
// `lines` gets "FILE:LINE" for each member, for the error message.
std::vector<zones::MemberDef> readMemberFile(const std::string& file,
                                             const zones::MemberDef& defaults,
                                             std::vector<std::string>& lines) {
    std::ifstream f;
    std::istream* in = &std::cin;
    if (file != "-") {
        f.open(file);
        if (!f) throw std::runtime_error("cannot read " + file + ": " + std::strerror(errno));
        in = &f;
    }
    std::vector<zones::MemberDef> out;
    int number = 0;
    for (std::string line; std::getline(*in, line);) {
        ++number;
        std::string where =
            (file == "-" ? std::string("stdin") : file) + ":" + std::to_string(number);
        size_t hash = line.find('#');
        if (hash != std::string::npos) line.erase(hash);
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        try {
            out.push_back(parseMemberLine(line, defaults));
        } catch (const std::exception& e) {
            throw std::runtime_error(where + ": " + e.what());
        }
        lines.push_back(where);
    }
    if (in->bad()) throw std::runtime_error("reading " + file + " failed");
    if (out.empty()) throw std::runtime_error(file + " has no member lines");
    return out;
}

int memberAdd(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    po::positional_options_description pos;
    options.add_options()("pool", po::value<std::string>()->required(), "pool name")(
        "value", po::value<std::vector<std::string>>(),
        "member(s): IPv4 (A), IPv6 (AAAA) or host name (CNAME)")(
        "from-file", po::value<std::string>(),
        "add the members listed in FILE ('-' = stdin): one per line, 'VALUE [--priority N] "
        "[--weight N] [--probe NAME]...'; '#' starts a comment; the command line's options "
        "are the defaults for every line");
    pos.add("pool", 1).add("value", -1);
    memberOptions(options);
    po::variables_map vm;
    if (!parseArgs(
            args,
            "dnsctl member add POOL VALUE... [--priority N] [--weight N] [--probe NAME]...\n"
            "       dnsctl member add POOL --from-file FILE [--priority N] [--weight N] "
            "[--probe NAME]...",
            "Adds members to a pool, all in one transaction (a bad one adds none). All of a\n"
            "member's probes must pass for it to be served. Examples:\n"
            "  dnsctl member add web 192.0.2.10 --priority 1 --probe web-tcp --probe web-http\n"
            "  dnsctl member add web --from-file members.txt --probe web-tcp",
            options, pos, vm))
        return 0;
    zones::MemberDef defaults;
    applyMemberOptions(vm, defaults);
    std::vector<zones::MemberDef> members;
    std::vector<std::string> where;
    bool fromFile = vm.count("from-file") > 0;
    if (fromFile && vm.count("value"))
        throw UsageError("give member values on the command line or --from-file, not both");
    if (fromFile) {
        members = readMemberFile(vm["from-file"].as<std::string>(), defaults, where);
    } else if (vm.count("value")) {
        for (const auto& v : vm["value"].as<std::vector<std::string>>()) {
            members.push_back(defaults);
            members.back().value = v;
        }
    } else {
        throw UsageError(
            "missing argument VALUE (usage: dnsctl member add POOL VALUE... or --from-file FILE)");
    }
    auto db = openDatabase(context);
    zones::JournaledTransaction tx(*db);  // the write lock up front; served changes journaled
    zones::PoolStore store(*db);
    auto pool = store.getPool(vm["pool"].as<std::string>());
    if (members.size() == 1 && !fromFile) {
        zones::MemberDef& m = members.front();
        store.addMember(pool, m);
        tx.commit();
        std::cout << "member " << m.value << " added to pool " << pool.name << " (priority "
                  << m.priority << ")\n";
        return 0;
    }
    size_t n = members.size();
    store.addMembers(pool, members, [&](size_t i) {
        return fromFile ? where[i] : "value " + std::to_string(i + 1) + " of " + std::to_string(n);
    });
    tx.commit();
    if (n <= 20)
        for (const auto& m : members)
            std::cout << "member " << m.value << " added to pool " << pool.name << " (priority "
                      << m.priority << ")\n";
    else
        std::cout << n << " members added to pool " << pool.name << "\n";
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
    zones::JournaledTransaction tx(*db);  // the write lock up front; served changes journaled
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
    zones::JournaledTransaction tx(*db);  // the write lock up front; served changes journaled
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
    if (end && start && *end <= *start)
        throw UsageError("--end must be after the start of the window");
    // A window that is over would be stored and never drain anything: the operator meant
    // another date (a wrong year, local time read as UTC), so say so instead.
    if (int64_t now = zones::nowMs(); end && *end <= now)
        throw UsageError("the drain window ends " + formatTimeMs(*end) +
                         ", which is in the past (now " + formatTimeMs(now) +
                         "): nothing would be drained");
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
    zones::AdminState admin;
    try {
        admin = zones::parseAdminState(state);
    } catch (const std::runtime_error& e) {
        throw UsageError(e.what());
    }
    return modifyMember(context, vm, "admin-force-" + state, [&](zones::MemberDef& m) {
        std::string before = zones::toText(m.admin);
        m.admin = admin;
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
