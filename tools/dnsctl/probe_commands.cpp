// `dnsctl probe add|set|delete|list`.
#include <SQLiteCpp/Transaction.h>

#include <strings.h>

#include <algorithm>
#include <iostream>

#include "tools/dnsctl/failover_commands.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/probe_store.hpp"

namespace dnsctl {
namespace {

void probeOptions(po::options_description& o) {
    o.add_options()("type", po::value<std::string>(), "tcp | http | https | dns | icmp | exec")(
        "port", po::value<int>(), "port (default: http 80, https 443, dns 53; tcp needs one)")(
        "interval", po::value<std::string>(),
        "time between checks, e.g. 1s, 200ms (min 100ms; default 1s)")(
        "timeout", po::value<std::string>(),
        "per-check timeout, below the interval (default 500ms)")(
        "rise", po::value<int>(), "consecutive successes before UP (default 2)")(
        "fall", po::value<int>(), "consecutive failures before DOWN (default 2)")(
        "target", po::value<std::string>(),
        "check this host:port or URL on the member's behalf ('' = the member)")(
        "method", po::value<std::string>(), "http(s): request method (default GET)")(
        "path", po::value<std::string>(), "http(s): request path (default /)")(
        "host", po::value<std::string>(), "http(s): Host header (default: the target)")(
        "user-agent", po::value<std::string>(), "http(s): User-Agent (default dnsd-probe/0.1)")(
        "header", po::value<std::vector<std::string>>(),
        "http(s): extra 'Name: value' header (repeatable; replaces the list)")(
        "no-headers", "http(s): remove all extra headers")(
        "expect", po::value<std::string>(),
        "http(s): healthy status codes, e.g. 200-399 or 200,204 (default 200-399)")(
        "body", po::value<std::string>(), "http(s): the body must contain this text")(
        "sni", po::value<std::string>(),
        "https: TLS server name (default: Host header or target name)")(
        "verify", po::value<std::string>(), "https: certificate verification on|off (default on)")(
        "query", po::value<std::string>(), "dns: the name to ask the member")(
        "qtype", po::value<std::string>(),
        "dns: query type A, AAAA, SOA, NS, TXT, ... or a number (default A)")(
        "command", po::value<std::string>(),
        "exec: shell command; $DNSD_MEMBER holds the member's address");
}

int qtypeFromText(const std::string& t) {
    static const std::pair<const char*, int> types[] = {{"A", 1},    {"NS", 2},    {"CNAME", 5},
                                                        {"SOA", 6},  {"PTR", 12},  {"MX", 15},
                                                        {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}};
    for (auto& [name, code] : types)
        if (strcasecmp(name, t.c_str()) == 0) return code;
    if (!t.empty() && t.find_first_not_of("0123456789") == std::string::npos && t.size() < 6) {
        int v = std::stoi(t);
        if (v > 0 && v < 65536) return v;
    }
    throw UsageError("--qtype '" + t + "' is not a record type");
}

void applyOptions(const po::variables_map& vm, zones::ProbeDef& p) {
    auto str = [&](const char* k) { return vm[k].as<std::string>(); };
    if (vm.count("type")) p.type = str("type");
    if (vm.count("port")) p.port = vm["port"].as<int>();
    if (vm.count("interval")) p.intervalMs = int(durationFlag(str("interval"), "--interval"));
    if (vm.count("timeout")) p.timeoutMs = int(durationFlag(str("timeout"), "--timeout"));
    if (vm.count("rise")) p.rise = vm["rise"].as<int>();
    if (vm.count("fall")) p.fall = vm["fall"].as<int>();
    if (vm.count("target")) p.target = str("target");
    if (vm.count("method")) p.method = str("method");
    if (vm.count("path")) p.path = str("path");
    if (vm.count("host")) p.hostHeader = str("host");
    if (vm.count("user-agent")) p.userAgent = str("user-agent");
    if (vm.count("no-headers")) p.headers.clear();
    if (vm.count("header")) {
        p.headers.clear();
        for (const auto& h : vm["header"].as<std::vector<std::string>>())
            p.headers += (p.headers.empty() ? "" : "\n") + h;
    }
    if (vm.count("expect")) p.expect = str("expect");
    if (vm.count("body")) p.body = str("body");
    if (vm.count("sni")) p.sni = str("sni");
    if (vm.count("verify")) {
        std::string v = str("verify");
        if (v != "on" && v != "off") throw UsageError("--verify must be on or off");
        p.verify = v == "on";
    }
    if (vm.count("query")) p.query = str("query");
    if (vm.count("qtype")) p.qtype = qtypeFromText(str("qtype"));
    if (vm.count("command")) p.command = str("command");
}

const char* kProbeHelp =
    "Probes are checks a member must pass (all of its probes). Durations: 100ms, 1s, 1.5s, 2m.\n"
    "Examples:\n"
    "  dnsctl probe add web-tcp --type tcp --port 443 --interval 1s --timeout 500ms --rise 2 "
    "--fall 2\n"
    "  dnsctl probe add web-http --type https --port 443 --path /healthz --expect 200-399\n"
    "  dnsctl probe add ns-dns --type dns --query example.com --interval 500ms --timeout 200ms\n"
    "  dnsctl probe add ping --type icmp --interval 1s --timeout 300ms\n"
    "  dnsctl probe add script --type exec --command 'check-backend \"$DNSD_MEMBER\"'";

int probeAdd(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("name", po::value<std::string>()->required(), "probe name");
    probeOptions(options);
    po::positional_options_description pos;
    pos.add("name", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl probe add NAME --type TYPE [options]", kProbeHelp, options, pos,
                   vm))
        return 0;
    if (!vm.count("type"))
        throw UsageError("--type is required (tcp, http, https, dns, icmp, exec)");
    zones::ProbeDef p;
    p.name = vm["name"].as<std::string>();
    applyOptions(vm, p);
    // A short interval should not trip over the 500ms default timeout.
    if (!vm.count("timeout")) p.timeoutMs = zones::ProbeDef::defaultTimeoutMs(p.intervalMs);
    auto db = openDatabase(context);
    SQLite::Transaction tx(
        *db, SQLite::TransactionBehavior::IMMEDIATE);  // wait for the write lock up front
    zones::ProbeStore(*db).create(p);
    tx.commit();
    std::cout << "probe " << p.name << " added (" << p.type << ", every "
              << zones::formatDurationMs(p.intervalMs) << ", timeout "
              << zones::formatDurationMs(p.timeoutMs) << ", rise " << p.rise << ", fall " << p.fall
              << ")\n";
    return 0;
}

int probeSet(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("name", po::value<std::string>()->required(), "probe name");
    probeOptions(options);
    po::positional_options_description pos;
    pos.add("name", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl probe set NAME [options]",
                   "Changes the given settings of a probe; dnsd-probe picks them up while running.",
                   options, pos, vm))
        return 0;
    auto db = openDatabase(context);
    SQLite::Transaction tx(
        *db, SQLite::TransactionBehavior::IMMEDIATE);  // wait for the write lock up front
    zones::ProbeStore store(*db);
    auto p = store.find(vm["name"].as<std::string>());
    if (!p) throw std::runtime_error("no probe named " + vm["name"].as<std::string>());
    applyOptions(vm, *p);
    store.update(*p);
    tx.commit();
    std::cout << "probe " << p->name << " updated\n";
    return 0;
}

int probeDelete(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("name", po::value<std::string>()->required(), "probe name");
    po::positional_options_description pos;
    pos.add("name", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl probe delete NAME",
                   "Deletes a probe; members that used it stop being checked by it at once.",
                   options, pos, vm))
        return 0;
    auto db = openDatabase(context);
    SQLite::Transaction tx(
        *db, SQLite::TransactionBehavior::IMMEDIATE);  // wait for the write lock up front
    zones::ProbeStore(*db).remove(vm["name"].as<std::string>());
    tx.commit();
    std::cout << "probe " << vm["name"].as<std::string>() << " deleted\n";
    return 0;
}

std::string describe(const zones::ProbeDef& p) {
    std::string s;
    if (p.port) s += " port " + std::to_string(*p.port);
    if (!p.target.empty()) s += " target " + p.target;
    if (p.type == "http" || p.type == "https") {
        s += " " + p.method + " " + p.path + " expect " + p.expect;
        if (!p.hostHeader.empty()) s += " host " + p.hostHeader;
        if (!p.body.empty()) s += " body '" + p.body + "'";
        if (p.type == "https" && !p.verify) s += " verify off";
        if (!p.sni.empty()) s += " sni " + p.sni;
    }
    if (p.type == "dns") s += " query " + p.query + " qtype " + std::to_string(p.qtype);
    if (p.type == "exec") s += " command '" + p.command + "'";
    return s;
}

int probeList(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("json", "JSON output");
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl probe list [--json]", "Lists probe definitions.", options, {}, vm))
        return 0;
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    auto probes = zones::ProbeStore(*db).list();
    if (vm.count("json")) {
        std::cout << "[";
        bool first = true;
        for (const auto& p : probes) {
            nlohmann::ordered_json o = {{"name", p.name},
                                        {"type", p.type},
                                        {"port", nullptr},
                                        {"interval_ms", p.intervalMs},
                                        {"timeout_ms", p.timeoutMs},
                                        {"rise", p.rise},
                                        {"fall", p.fall},
                                        {"target", p.target},
                                        {"method", p.method},
                                        {"path", p.path},
                                        {"host", p.hostHeader},
                                        {"expect", p.expect},
                                        {"body", p.body},
                                        {"verify", bool(p.verify)},
                                        {"query", p.query},
                                        {"command", p.command}};
            if (p.port) o["port"] = *p.port;
            std::cout << (first ? "" : ",") << "\n  " << jsonText(o);
            first = false;
        }
        std::cout << (probes.empty() ? "]\n" : "\n]\n");
        return 0;
    }
    if (probes.empty()) {
        std::cout << "no probes (add one with: dnsctl probe add NAME --type tcp --port 443)\n";
        return 0;
    }
    for (const auto& p : probes)
        std::cout << p.name << "  " << p.type << " every " << zones::formatDurationMs(p.intervalMs)
                  << " timeout " << zones::formatDurationMs(p.timeoutMs) << " rise " << p.rise
                  << " fall " << p.fall << describe(p) << "\n";
    return 0;
}

}  // namespace

void registerProbeCommands(Registry& registry) {
    registry.add(
        {"probe add", "define a health probe (tcp, http, https, dns, icmp, exec)", probeAdd});
    registry.add({"probe set", "change a probe's settings", probeSet});
    registry.add({"probe delete", "delete a probe", probeDelete});
    registry.add({"probe list", "list probes", probeList});
}

}  // namespace dnsctl
