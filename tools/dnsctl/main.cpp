// dnsctl — the operator CLI. Global options, then a git-style command ("zone import ...").
// Commands live in *_commands.cpp files; adding a file means adding one register call below.
#include <SQLiteCpp/Exception.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tools/dnsctl/command.hpp"
#include "tools/dnsctl/failover_commands.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/schema.hpp"

namespace dnsctl {
void registerDrillCommand(Registry& registry);          // drill_command.cpp
void registerXfrCommands(Registry& registry);           // xfr_commands.cpp
void registerJournalCommand(Registry& registry);        // journal_command.cpp
void registerProbeTestCommand(Registry& registry);      // probe_test_command.cpp
void registerDnssecCommands(Registry& registry);        // dnssec_commands.cpp
void registerUpdatePolicyCommands(Registry& registry);  // update_policy_commands.cpp
void registerConfigCommands(Registry& registry);        // config_commands.cpp
}  // namespace dnsctl

namespace {

void printHelp(const dnsctl::Registry& registry, const std::string& prefix) {
    std::cout << "usage: dnsctl [--db PATH] [--busy-timeout MS] COMMAND [ARGS...]\n\n"
                 "Global options (accepted anywhere before `--`):\n"
                 "  --db PATH          database file (default: $DNSD_DB)\n"
                 "  --busy-timeout MS  wait this long for another writer (default 5000)\n"
                 "  -h, --help         this help; `dnsctl COMMAND --help` for a command\n"
                 "  --version          print the version\n\n"
                 "Commands:\n";
    for (const auto* command : registry.list()) {
        if (command->name.rfind(prefix, 0) != 0) continue;
        std::string pad(command->name.size() < 16 ? 16 - command->name.size() : 1, ' ');
        std::cout << "  " << command->name << pad << command->summary << "\n";
    }
}

// Takes the global options out of `args`, wherever they are, so that
// `dnsctl zone list --db x.db` works as well as `dnsctl --db x.db zone list`.
void extractGlobals(std::vector<std::string>& args, dnsctl::Context& context) {
    std::vector<std::string> rest;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            rest.insert(rest.end(), args.begin() + long(i), args.end());
            break;
        }
        std::string value;
        std::string name;
        for (const char* flag : {"--db", "--busy-timeout"}) {
            if (a == flag) {
                if (i + 1 >= args.size()) throw dnsctl::UsageError(a + " needs a value");
                name = flag;
                value = args[++i];
            } else if (a.rfind(std::string(flag) + "=", 0) == 0) {
                name = flag;
                value = a.substr(std::string(flag).size() + 1);
            }
        }
        if (name.empty()) {
            rest.push_back(a);
        } else if (name == "--db") {
            if (value.empty()) throw dnsctl::UsageError("--db needs a non-empty path");
            context.dbPath = value;
        } else {
            char* end = nullptr;
            long ms = std::strtol(value.c_str(), &end, 10);
            if (value.empty() || *end != '\0' || ms < 0 || ms > 3600000)
                throw dnsctl::UsageError("--busy-timeout wants milliseconds (0..3600000), got '" +
                                         value + "'");
            context.busyTimeoutMs = int(ms);
        }
    }
    args = std::move(rest);
}

}  // namespace

int main(int argc, char** argv) {
    dnsctl::Registry registry;
    dnsctl::registerInitCommand(registry);
    dnsctl::registerZoneCommands(registry);
    dnsctl::registerRecordCommands(registry);
    dnsctl::registerPoolCommands(registry);
    dnsctl::registerMemberCommands(registry);
    dnsctl::registerProbeCommands(registry);
    dnsctl::registerStatusCommands(registry);
    dnsctl::registerEventCommands(registry);
    dnsctl::registerVantageCommands(registry);
    dnsctl::registerDrillCommand(registry);
    dnsctl::registerXfrCommands(registry);
    dnsctl::registerJournalCommand(registry);
    dnsctl::registerProbeTestCommand(registry);
    dnsctl::registerDnssecCommands(registry);
    dnsctl::registerUpdatePolicyCommands(registry);
    dnsctl::registerConfigCommands(registry);

    std::vector<std::string> args(argv + 1, argv + argc);
    dnsctl::Context context;
    std::string commandName;
    try {
        extractGlobals(args, context);
        if (!args.empty() && args[0] == "--version") {
            std::cout << "dnsctl " << DNSD_VERSION << "\n";
            return 0;
        }
        if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
            printHelp(registry, "");
            return args.empty() ? 2 : 0;
        }
        size_t consumed = 0;
        const dnsctl::Command* command = registry.find(args, consumed);
        if (!command) {
            // "dnsctl zone" or "dnsctl zone --help": show that group.
            std::string group = args[0] + " ";
            for (const auto* c : registry.list()) {
                if (c->name.rfind(group, 0) == 0) {
                    bool help = args.size() > 1 && (args[1] == "--help" || args[1] == "-h");
                    if (args.size() > 1 && !help)
                        throw dnsctl::UsageError("unknown command '" + args[0] + " " + args[1] +
                                                 "' (see dnsctl " + args[0] + " --help)");
                    if (!help) std::cerr << "dnsctl: '" << args[0] << "' needs a subcommand\n";
                    printHelp(registry, group);
                    return help ? 0 : 2;
                }
            }
            throw dnsctl::UsageError("unknown command '" + args[0] + "' (see dnsctl --help)");
        }
        commandName = command->name;
        std::vector<std::string> rest(args.begin() + long(consumed), args.end());
        return command->run(rest, context);
    } catch (const dnsctl::UsageError& e) {
        std::string who = commandName.empty() ? "dnsctl" : "dnsctl " + commandName;
        std::cerr << who << ": " << e.what();
        if (!commandName.empty()) std::cerr << " (see dnsctl " << commandName << " --help)";
        std::cerr << "\n";
        return 2;
    } catch (const SQLite::Exception& e) {
        // Errors met after the open (a page found corrupt by a query) name the file too.
        std::string path;
        try {
            path = zones::resolveDatabasePath(context.dbPath);
        } catch (const std::exception&) {
        }
        std::string db = path.empty() ? "database" : "database " + path;
        std::string what = e.what();
        if (e.getErrorCode() == 5 /* SQLITE_BUSY */ || e.getErrorCode() == 6 /* LOCKED */)
            what = db + " is locked by another writer (" + what + ")";
        else
            what = db + ": " + what;
        std::cerr << "dnsctl: " << what << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "dnsctl: " << e.what() << "\n";
        return 1;
    }
}
