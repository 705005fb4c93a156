// `dnsctl plan FILE`, `dnsctl apply FILE [--prune]`, `dnsctl dump [FILE]`: the whole
// configuration as one file (docs/config-file.md). plan and apply run the same engine
// (zones::applyConfig) in one write transaction; plan rolls it back, apply commits it, so
// what plan prints is what apply does, and a file apply would refuse fails plan the same way.
#include <fstream>
#include <iostream>

#include "tools/dnsctl/command.hpp"
#include "tools/dnsctl/config_yaml.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/config_apply.hpp"
#include "zones/schema.hpp"
#include "zones/served_pool.hpp"

namespace dnsctl {
void registerConfigCommands(Registry& registry);

namespace {

// plan and apply: 0 done (plan: no changes), 2 plan found changes, 1 any error. A usage error
// is an error too here (exit 1, not main's 2), so that 2 always means "there are changes".
int planOrApply(const std::vector<std::string>& args, Context& context, bool apply) {
    std::string name = apply ? "apply" : "plan";
    po::options_description options("Options");
    options.add_options()("file", po::value<std::string>()->required(), "configuration file")(
        "prune", "remove the zones, pools, probes and keys the file does not name");
    po::positional_options_description pos;
    pos.add("file", 1);
    po::variables_map vm;
    std::string usage = "dnsctl " + name + " FILE [--prune]";
    std::string what =
        apply ? "Makes the database match FILE in one transaction: prints what changed (as plan "
                "does).\nObjects the file does not name are left alone unless --prune. A second "
                "apply changes\nnothing. Exit 0 when applied, 1 on any error (nothing is "
                "written then)."
              : "Prints what `dnsctl apply FILE` would change, per object (+ added, ~ changed,\n"
                "- removed, = left alone), without writing anything. Exit 0 when the database "
                "already\nmatches, 2 when there are changes, 1 on any error.";
    try {
        if (!parseArgs(args, usage, what, options, pos, vm)) return 0;
    } catch (const UsageError& e) {
        std::cerr << "dnsctl " << name << ": " << e.what() << " (see dnsctl " << name
                  << " --help)\n";
        return 1;
    }
    zones::Config config = readConfigFile(vm["file"].as<std::string>());
    auto db = openDatabase(context);
    // Key files of zones the file signs: written before the commit, deleted again unless it
    // happens (plan: always), as `dnsctl dnssec enable` does.
    zones::KeyFileTransaction keyFiles(zones::resolveDatabasePath(context.dbPath));
    zones::ConfigPlan plan;
    {
        zones::JournaledTransaction tx(*db);  // served pool changes journaled, as pool commands do
        plan = zones::applyConfig(*db, config, vm.count("prune") > 0, keyFiles);
        if (apply && plan.hasChanges()) {
            tx.commit();
            for (const std::string& w : keyFiles.committed())
                std::cerr << "dnsctl: warning: " << w << "\n";
        }
        // plan: the transaction rolls back here, whatever it wrote.
    }
    std::cout << plan.text();
    if (apply) return 0;
    return plan.hasChanges() ? 2 : 0;
}

int plan(const std::vector<std::string>& args, Context& context) {
    return planOrApply(args, context, false);
}

int apply(const std::vector<std::string>& args, Context& context) {
    return planOrApply(args, context, true);
}

int dump(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("file", po::value<std::string>(), "write here instead of stdout")(
        "secrets-dir", po::value<std::string>(),
        "write each TSIG key's secret to DIR/NAME.key (mode 0600) and name it in the file; "
        "without it keys are written by name only");
    po::positional_options_description pos;
    pos.add("file", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl dump [FILE] [--secrets-dir DIR]",
                   "Writes the whole configuration (keys, zones with records, secondaries, update "
                   "policies\nand DNSSEC settings, probes, pools with members) in the format "
                   "`dnsctl apply` reads.\nSecrets only with --secrets-dir; DNSSEC keys never "
                   "(a new database makes its own).",
                   options, pos, vm))
        return 0;
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    zones::Config config;
    {
        SQLite::Transaction tx(*db);  // one moment
        config = zones::readConfig(*db);
    }
    std::string secrets = vm.count("secrets-dir") ? vm["secrets-dir"].as<std::string>() : "";
    if (!vm.count("file")) {
        writeConfigFile(std::cout, config, secrets, ".");
        return 0;
    }
    std::string path = vm["file"].as<std::string>();
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    std::ofstream out(path, std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path);
    writeConfigFile(out, config, secrets, dir);
    if (!out.flush()) throw std::runtime_error("writing " + path + " failed");
    return 0;
}

}  // namespace

void registerConfigCommands(Registry& registry) {
    registry.add({"plan", "show what `apply FILE` would change (exit 2: changes)", plan});
    registry.add(
        {"apply", "make the database match a configuration file (one transaction)", apply});
    registry.add({"dump", "write the whole configuration as a file apply reads", dump});
}

}  // namespace dnsctl
