// `dnsctl tsig add|list|delete` and `dnsctl secondary add|list|delete|config`: the TSIG keys
// and the secondaries (NSD, Knot, BIND, a provider) that transfer zones from dnsd.
#include <SQLiteCpp/Transaction.h>
#include <openssl/rand.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "tools/dnsctl/options.hpp"
#include "zones/schema.hpp"
#include "zones/xfr_store.hpp"

namespace dnsctl {
namespace {

using nlohmann::json;

std::string positional(const po::variables_map& vm, const char* name) {
    return vm.count(name) ? vm[name].as<std::string>() : "";
}

int tsigAdd(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("name", po::value<std::string>(), "key name")(
        "algorithm", po::value<std::string>()->default_value("hmac-sha256"),
        "hmac-sha256 (default), hmac-sha512, hmac-sha384 or hmac-sha1 (old secondaries)")(
        "secret", po::value<std::string>(),
        "base64 secret (default: a new random one as long as the hash, printed)");
    po::positional_options_description pos;
    pos.add("name", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl tsig add NAME [--algorithm hmac-sha256] [--secret BASE64]",
                   "Adds a TSIG key (RFC 8945) for zone transfers and NOTIFY. Without --secret "
                   "a random secret is made and printed once: give it to the secondary.",
                   options, pos, vm))
        return 0;
    if (!vm.count("name")) throw UsageError("a key NAME is needed");
    auto alg = zones::tsigAlgorithmFromText(vm["algorithm"].as<std::string>());
    if (!alg) throw UsageError("unknown --algorithm '" + vm["algorithm"].as<std::string>() + "'");
    std::string secret = positional(vm, "secret");
    bool generated = secret.empty();
    if (generated) {
        std::vector<uint8_t> bytes(zones::tsigMacSize(*alg));
        if (RAND_bytes(bytes.data(), int(bytes.size())) != 1)
            throw std::runtime_error("cannot read random bytes for the secret");
        secret = zones::base64Encode(bytes);
    }
    auto db = openDatabase(context);
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);  // write lock up front
    auto key = zones::XfrStore(*db).addKey(vm["name"].as<std::string>(),
                                           vm["algorithm"].as<std::string>(), secret);
    tx.commit();
    std::cout << "added key " << key.name << " (" << key.algorithm << ")\n";
    if (generated) std::cout << "secret: " << key.secret << "\n";
    return 0;
}

int tsigList(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("json", "JSON")("show-secrets", "print the secrets too");
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl tsig list [--json] [--show-secrets]",
                   "Lists the TSIG keys; secrets only with --show-secrets.", options, {}, vm))
        return 0;
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    bool secrets = vm.count("show-secrets") > 0;
    auto keys = zones::XfrStore(*db).keys();
    if (vm.count("json")) {
        json out = json::array();
        for (const auto& k : keys) {
            json j = {{"name", k.name}, {"algorithm", k.algorithm}, {"created_at", k.createdAt}};
            if (secrets) j["secret"] = k.secret;
            out.push_back(j);
        }
        std::cout << out.dump(1) << "\n";
        return 0;
    }
    for (const auto& k : keys)
        std::cout << k.name << "  " << k.algorithm << (secrets ? "  " + k.secret : "") << "\n";
    return 0;
}

int tsigDelete(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("name", po::value<std::string>(), "key name");
    po::positional_options_description pos;
    pos.add("name", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl tsig delete NAME",
                   "Deletes a TSIG key no secondary uses any more.", options, pos, vm))
        return 0;
    if (!vm.count("name")) throw UsageError("a key NAME is needed");
    auto db = openDatabase(context);
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);  // write lock up front
    zones::XfrStore(*db).deleteKey(vm["name"].as<std::string>());
    tx.commit();
    std::cout << "deleted key " << vm["name"].as<std::string>() << "\n";
    return 0;
}

std::pair<std::string, int> endpointArg(const po::variables_map& vm) {
    if (!vm.count("address")) throw UsageError("an ADDRESS[:PORT] is needed");
    try {
        return zones::XfrStore::parseEndpoint(vm["address"].as<std::string>(), 53);
    } catch (const std::runtime_error& e) {
        throw UsageError(e.what());
    }
}

int secondaryAdd(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "zone")(
        "address", po::value<std::string>(), "the secondary's address, optionally :PORT")(
        "key", po::value<std::string>(), "TSIG key its transfer requests must be signed with")(
        "no-notify", "allow transfers but send no NOTIFY");
    po::positional_options_description pos;
    pos.add("zone", 1).add("address", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl secondary add ZONE ADDRESS[:PORT] [--key NAME] [--no-notify]",
                   "Lets ADDRESS transfer ZONE (AXFR, IXFR; signed with --key if given) and "
                   "sends it a NOTIFY (to ADDRESS:PORT, default port 53) on every change.",
                   options, pos, vm))
        return 0;
    if (!vm.count("zone")) throw UsageError("a ZONE is needed");
    auto [address, port] = endpointArg(vm);
    auto db = openDatabase(context);
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);  // write lock up front
    auto s = zones::XfrStore(*db).addSecondary(vm["zone"].as<std::string>(), address, port,
                                               positional(vm, "key"), !vm.count("no-notify"));
    tx.commit();
    std::cout << "added secondary " << s.endpoint() << " of " << s.zone
              << (s.keyName.empty() ? " (unsigned)" : " (key " + s.keyName + ")")
              << (s.notify ? "" : ", no NOTIFY") << "\n";
    return 0;
}

int secondaryList(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "only this zone")("json", "JSON");
    po::positional_options_description pos;
    pos.add("zone", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl secondary list [ZONE] [--json]",
                   "Lists the secondaries of every zone, or of one.", options, pos, vm))
        return 0;
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    auto list = zones::XfrStore(*db).secondaries(positional(vm, "zone"));
    if (vm.count("json")) {
        json out = json::array();
        for (const auto& s : list)
            out.push_back({{"zone", s.zone},
                           {"address", s.address},
                           {"port", s.port},
                           {"key", s.keyName},
                           {"notify", s.notify}});
        std::cout << out.dump(1) << "\n";
        return 0;
    }
    for (const auto& s : list)
        std::cout << s.zone << "  " << s.endpoint() << "  "
                  << (s.keyName.empty() ? "unsigned" : "key " + s.keyName)
                  << (s.notify ? "" : "  no-notify") << "\n";
    return 0;
}

int secondaryDelete(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "zone")(
        "address", po::value<std::string>(), "ADDRESS[:PORT]");
    po::positional_options_description pos;
    pos.add("zone", 1).add("address", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl secondary delete ZONE ADDRESS[:PORT]",
                   "Stops transfers to and NOTIFYs of a secondary.", options, pos, vm))
        return 0;
    if (!vm.count("zone")) throw UsageError("a ZONE is needed");
    auto [address, port] = endpointArg(vm);
    auto db = openDatabase(context);
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);  // write lock up front
    zones::XfrStore(*db).deleteSecondary(vm["zone"].as<std::string>(), address, port);
    tx.commit();
    std::cout << "deleted secondary " << address << " port " << port << "\n";
    return 0;
}

// The zone block (and key) a secondary of `kind` needs to follow dnsd at `primary`.
std::string secondaryConfig(const std::string& kind, const zones::SecondaryRow& s,
                            const std::optional<zones::TsigKeyRow>& key,
                            const std::pair<std::string, int>& primary) {
    const std::string& addr = primary.first;
    const std::string port = std::to_string(primary.second);
    std::string zoneFile = s.zone.substr(0, s.zone.size() - 1) + ".zone";
    std::string out;
    if (kind == "nsd") {
        if (key)
            out += "key:\n    name: \"" + key->name + "\"\n    algorithm: " + key->algorithm +
                   "\n    secret: \"" + key->secret + "\"\n\n";
        std::string k = key ? key->name : "NOKEY";
        out += "zone:\n    name: \"" + s.zone + "\"\n    zonefile: \"" + zoneFile +
               "\"\n    request-xfr: " + addr + "@" + port + " " + k +
               "\n    allow-notify: " + addr + " " + k + "\n";
    } else if (kind == "knot") {
        if (key)
            out += "key:\n  - id: " + key->name + "\n    algorithm: " + key->algorithm +
                   "\n    secret: " + key->secret + "\n\n";
        out += "remote:\n  - id: dnsd-primary\n    address: " + addr + "@" + port + "\n";
        if (key) out += "    key: " + key->name + "\n";
        out += "\nacl:\n  - id: dnsd-notify\n    address: " + addr + "\n    action: notify\n";
        if (key) out += "    key: " + key->name + "\n";
        out +=
            "\nzone:\n  - domain: " + s.zone + "\n    master: dnsd-primary\n    acl: dnsd-notify\n";
    } else {  // bind
        if (key)
            out += "key \"" + key->name + "\" {\n    algorithm " + key->algorithm +
                   ";\n    secret \"" + key->secret + "\";\n};\n\n";
        out += "zone \"" + s.zone + "\" {\n    type secondary;\n    primaries { " + addr +
               " port " + port + (key ? " key \"" + key->name + "\"" : "") + "; };\n    file \"" +
               zoneFile + "\";\n};\n";
    }
    return out;
}

int secondaryConfigCommand(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "zone")(
        "address", po::value<std::string>(), "the secondary, ADDRESS[:PORT] as added")(
        "for", po::value<std::string>(), "nsd, knot or bind")(
        "primary", po::value<std::string>(),
        "where the secondary reaches dnsd, ADDR[:PORT] (default port 53)");
    po::positional_options_description pos;
    pos.add("zone", 1).add("address", 1);
    po::variables_map vm;
    if (!parseArgs(args,
                   "dnsctl secondary config ZONE ADDRESS --for nsd|knot|bind --primary "
                   "ADDR[:PORT]",
                   "Prints the zone block (and key, secret included) that secondary needs, "
                   "ready to paste into nsd.conf, knot.conf or named.conf.",
                   options, pos, vm))
        return 0;
    if (!vm.count("zone")) throw UsageError("a ZONE is needed");
    std::string kind = positional(vm, "for");
    if (kind != "nsd" && kind != "knot" && kind != "bind")
        throw UsageError("--for must be nsd, knot or bind");
    if (!vm.count("primary")) throw UsageError("--primary ADDR[:PORT] is needed");
    std::pair<std::string, int> primary;
    try {
        primary = zones::XfrStore::parseEndpoint(vm["primary"].as<std::string>(), 53);
    } catch (const std::runtime_error& e) {
        throw UsageError(std::string("--primary: ") + e.what());
    }
    auto [address, port] = endpointArg(vm);
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    zones::XfrStore store(*db);
    auto list = store.secondaries(vm["zone"].as<std::string>());
    const zones::SecondaryRow* found = nullptr;
    for (const auto& s : list)
        if (s.address == address && s.port == port) found = &s;
    for (const auto& s : list)  // ADDRESS alone names its only secondary on any port
        if (!found && s.address == address) found = &s;
    if (found) {
        std::optional<zones::TsigKeyRow> key;
        if (!found->keyName.empty()) key = store.findKey(found->keyName);
        std::cout << secondaryConfig(kind, *found, key, primary);
        return 0;
    }
    throw std::runtime_error("no secondary " + vm["address"].as<std::string>() + " of " +
                             vm["zone"].as<std::string>() + " (dnsctl secondary list)");
}

}  // namespace

void registerXfrCommands(Registry& registry) {
    registry.add({"tsig add", "add a TSIG key (a random secret unless --secret)", tsigAdd});
    registry.add({"tsig list", "list TSIG keys (--json; secrets with --show-secrets)", tsigList});
    registry.add({"tsig delete", "delete a TSIG key", tsigDelete});
    registry.add({"secondary add", "let a secondary transfer a zone, and NOTIFY it", secondaryAdd});
    registry.add({"secondary list", "list the secondaries (--json)", secondaryList});
    registry.add(
        {"secondary delete", "stop transfers to and NOTIFYs of a secondary", secondaryDelete});
    registry.add({"secondary config", "print the config a secondary needs (nsd, knot, bind)",
                  secondaryConfigCommand});
}

}  // namespace dnsctl
