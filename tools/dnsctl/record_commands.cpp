// `dnsctl record add|delete|list`: single resource records in presentation format.
#include <iostream>

#include "tools/dnsctl/command.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_store.hpp"

namespace dnsctl {
namespace {

std::string joinWords(const std::vector<std::string>& words) {
    std::string out;
    for (size_t i = 0; i < words.size(); ++i) out += (i ? " " : "") + words[i];
    return out;
}

// RDATA may start with '-' (LOC altitudes, TXT words): these commands take no option but
// --help, so everything else is positional.
std::vector<std::string> allPositional(const std::vector<std::string>& args) {
    for (const auto& a : args)
        if (a == "--help" || a == "-h" || a == "--") return args;
    std::vector<std::string> out{"--"};
    out.insert(out.end(), args.begin(), args.end());
    return out;
}

zones::Name parseOwner(const std::string& text, const zones::Name& zone) {
    auto name = zones::Name::fromText(text, &zone);
    if (!name) throw UsageError("bad owner name '" + text + "'");
    return *name;
}

uint16_t parseType(const std::string& text) {
    auto type = zones::rrTypeFromText(text);
    if (!type) throw UsageError("unknown RR type '" + text + "'");
    return *type;
}

std::string serialNote(zones::ZoneStore& store, const zones::Name& zone) {
    auto info = store.findZone(zone);
    return info && info->serial ? " (serial now " + std::to_string(*info->serial) + ")" : "";
}

int recordAdd(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>()->required(), "zone name")(
        "record", po::value<std::vector<std::string>>()->required(),
        "the record, e.g. \"www 300 IN A 192.0.2.1\"");
    po::positional_options_description positional;
    positional.add("zone", 1).add("record", -1);
    po::variables_map vm;
    if (!parseArgs(allPositional(args), "dnsctl record add ZONE \"OWNER [TTL] [IN] TYPE RDATA\"",
                   "Adds one record. The owner may be relative to the zone or @. Without a TTL the "
                   "record takes its RRset's TTL, else the SOA's. The SOA serial goes up by one; "
                   "adding an SOA replaces the zone's SOA.",
                   options, positional, vm))
        return 0;
    zones::Name zone = parseZoneName(vm["zone"].as<std::string>());
    std::string text = joinWords(vm["record"].as<std::vector<std::string>>());
    zones::RecordText parsed;
    try {
        parsed = zones::parseRecordText(text, zone);
    } catch (const std::runtime_error& e) {
        throw UsageError(std::string("bad record \"") + text + "\": " + e.what());
    }
    auto db = openDatabase(context);
    zones::ZoneStore store(*db);
    zones::Record stored = store.addRecord(zone, parsed.record, parsed.ttlGiven);
    std::cout << "added " << zones::formatRecord(stored, false) << serialNote(store, zone) << "\n";
    return 0;
}

int recordDelete(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>()->required(), "zone name")(
        "owner", po::value<std::string>()->required(), "owner name (relative to the zone, or @)")(
        "type", po::value<std::string>()->required(), "RR type")(
        "rdata", po::value<std::vector<std::string>>(), "only the record with this RDATA");
    po::positional_options_description positional;
    positional.add("zone", 1).add("owner", 1).add("type", 1).add("rdata", -1);
    po::variables_map vm;
    if (!parseArgs(allPositional(args), "dnsctl record delete ZONE OWNER TYPE [RDATA]",
                   "Deletes the OWNER TYPE records, or only the one with RDATA. The SOA serial "
                   "goes up by one. Deleting nothing is an error.",
                   options, positional, vm))
        return 0;
    zones::Name zone = parseZoneName(vm["zone"].as<std::string>());
    zones::Name owner = parseOwner(vm["owner"].as<std::string>(), zone);
    uint16_t type = parseType(vm["type"].as<std::string>());
    std::optional<std::vector<uint8_t>> rdata;
    if (vm.count("rdata")) {
        std::string text = joinWords(vm["rdata"].as<std::vector<std::string>>());
        try {
            rdata = zones::parseRdataText(type, text, zone);
        } catch (const std::runtime_error& e) {
            throw UsageError("bad RDATA \"" + text + "\": " + e.what());
        }
    }
    auto db = openDatabase(context);
    zones::ZoneStore store(*db);
    size_t n = store.deleteRecords(zone, owner, type, rdata);
    std::cout << "deleted " << n << " record" << (n == 1 ? "" : "s") << serialNote(store, zone)
              << "\n";
    return 0;
}

int recordList(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>()->required(), "zone name")(
        "name", po::value<std::string>(),
        "only records at this owner (relative to the zone, or @)")(
        "type", po::value<std::string>(), "only records of this type")("json",
                                                                       "print a JSON array");
    po::positional_options_description positional;
    positional.add("zone", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl record list ZONE [--name N] [--type T] [--json]",
                   "Lists the zone's records in canonical order, SOA first.", options, positional,
                   vm))
        return 0;
    zones::Name zone = parseZoneName(vm["zone"].as<std::string>());
    std::optional<zones::Name> owner;
    if (vm.count("name")) owner = parseOwner(vm["name"].as<std::string>(), zone);
    std::optional<uint16_t> type;
    if (vm.count("type")) type = parseType(vm["type"].as<std::string>());
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    zones::ZoneStore store(*db);
    auto records = store.listRecords(zone, owner, type);
    if (vm.count("json")) {
        std::cout << "[";
        for (size_t i = 0; i < records.size(); ++i) {
            const auto& r = records[i];
            nlohmann::ordered_json o = {{"owner", r.owner.toText()},
                                        {"ttl", r.ttl},
                                        {"class", "IN"},
                                        {"type", zones::rrTypeToText(r.type)},
                                        {"rdata", zones::formatRdata(r, false)}};
            std::cout << (i ? ",\n " : "") << jsonText(o);
        }
        std::cout << "]\n";
        return 0;
    }
    for (const auto& r : records) std::cout << zones::formatRecord(r, false) << "\n";
    return 0;
}

}  // namespace

void registerRecordCommands(Registry& registry) {
    registry.add({"record add", "add one record (SOA serial +1)", recordAdd});
    registry.add({"record delete", "delete records by owner and type [and RDATA]", recordDelete});
    registry.add({"record list", "list a zone's records", recordList});
}

}  // namespace dnsctl
