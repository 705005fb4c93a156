// `dnsctl update-policy add|list|delete`: which TSIG key may change which names and types of a
// zone by RFC 2136 UPDATE (nsupdate, certbot's rfc2136 plugin, external-dns).
#include <SQLiteCpp/Transaction.h>

#include <iostream>

#include "tools/dnsctl/options.hpp"
#include "zones/update_policy_store.hpp"

namespace dnsctl {
namespace {

std::string typesText(const std::vector<std::string>& types) {
    std::string out;
    for (const auto& t : types) out += (out.empty() ? "" : " ") + t;
    return out.empty() ? "any type" : out;
}

int policyAdd(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "zone")(
        "key", po::value<std::string>(), "the TSIG key updates must be signed with")(
        "name", po::value<std::string>(),
        "names it covers, relative to the zone: @, www, *.dyn, _acme-challenge.*, * (default)")(
        "type", po::value<std::vector<std::string>>()->multitoken(),
        "record types it covers (repeatable; default: any type)");
    po::positional_options_description pos;
    pos.add("zone", 1);
    po::variables_map vm;
    if (!parseArgs(args,
                   "dnsctl update-policy add ZONE --key NAME [--name PATTERN] [--type TYPE...]",
                   "Lets updates (RFC 2136) signed with the TSIG key change the names PATTERN "
                   "covers, of the types given. Without any policy a zone refuses every UPDATE. "
                   "PATTERN: @ the apex; www exactly that name; *.dyn any name below dyn; "
                   "_acme-challenge.* _acme-challenge and any labels down to the zone; * every "
                   "name. The apex SOA and NS need --name @ with --type SOA or NS; a failover "
                   "pool's name needs its exact name (records of the pool's own type there are "
                   "never allowed).",
                   options, pos, vm))
        return 0;
    if (!vm.count("zone")) throw UsageError("a ZONE is needed");
    if (!vm.count("key")) throw UsageError("--key NAME is needed (a key from dnsctl tsig add)");
    std::vector<std::string> types;
    if (vm.count("type")) types = vm["type"].as<std::vector<std::string>>();
    std::string pattern = vm.count("name") ? vm["name"].as<std::string>() : "";
    auto db = openDatabase(context);
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);  // write lock up front
    zones::UpdatePolicyRow row = zones::UpdatePolicyStore(*db).add(
        vm["zone"].as<std::string>(), vm["key"].as<std::string>(), pattern, types);
    tx.commit();
    std::cout << "added update policy " << row.id << ": key " << row.key << " may change "
              << row.name << " (" << typesText(row.types) << ") in " << row.zone << "\n";
    return 0;
}

int policyList(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "only this zone")("json", "JSON");
    po::positional_options_description pos;
    pos.add("zone", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl update-policy list [ZONE] [--json]",
                   "Lists the update policies (all zones, or one).", options, pos, vm))
        return 0;
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    auto rows =
        zones::UpdatePolicyStore(*db).list(vm.count("zone") ? vm["zone"].as<std::string>() : "");
    if (vm.count("json")) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const auto& r : rows)
            out.push_back({{"id", r.id},
                           {"zone", r.zone},
                           {"key", r.key},
                           {"name", r.name},
                           {"types", r.types},
                           {"created_at", r.createdAt}});
        std::cout << jsonText(out) << "\n";
        return 0;
    }
    for (const auto& r : rows)
        std::cout << r.id << "  " << r.zone << "  key " << r.key << "  name " << r.name << "  "
                  << typesText(r.types) << "\n";
    return 0;
}

int policyDelete(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("id", po::value<std::string>(), "the policy's id (update-policy list)");
    po::positional_options_description pos;
    pos.add("id", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl update-policy delete ID",
                   "Deletes an update policy (ids as update-policy list shows them).", options, pos,
                   vm))
        return 0;
    if (!vm.count("id")) throw UsageError("an ID is needed (see dnsctl update-policy list)");
    const std::string text = vm["id"].as<std::string>();
    size_t used = 0;
    long long id = 0;
    try {
        id = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || id <= 0) throw UsageError("'" + text + "' is not a policy id");
    auto db = openDatabase(context);
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);
    zones::UpdatePolicyStore(*db).remove(id);
    tx.commit();
    std::cout << "deleted update policy " << id << "\n";
    return 0;
}

}  // namespace

void registerUpdatePolicyCommands(Registry& registry) {
    registry.add({"update-policy add", "let a TSIG key change names/types by UPDATE", policyAdd});
    registry.add({"update-policy list", "list the update policies", policyList});
    registry.add({"update-policy delete", "delete an update policy", policyDelete});
}

}  // namespace dnsctl
