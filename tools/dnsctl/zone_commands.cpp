// `dnsctl zone import|export|list|delete|check`.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <variant>

#include "tools/dnsctl/command.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_store.hpp"
#include "zones/zone_validator.hpp"

namespace dnsctl {
namespace {

std::string isoTime(int64_t ms) {
    std::time_t t = std::time_t(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string serialText(const zones::ZoneInfo& z) {
    return z.serial ? std::to_string(*z.serial) : "-";
}

// Writes to `path` through a temporary file and rename(), so that a failed export never
// leaves a half-written zone file where a server might load it. `write` streams the text.
template <typename Write>
void writeFileAtomically(const std::string& path, Write&& write) {
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error(path + ": cannot write: " + std::strerror(errno));
        write(out);
        out.flush();
        if (!out) {
            std::remove(tmp.c_str());
            throw std::runtime_error(path + ": write failed: " + std::strerror(errno));
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        std::remove(tmp.c_str());
        throw std::runtime_error(path + ": cannot replace: " + std::strerror(err));
    }
}

// Reads and checks a zone file as `zone import` and `zone check` both must: every syntax
// problem of the file, else every zone-rule problem (the rules need the records the syntax
// gave, so they are checked only once the syntax is right); with none, the zone, sealed.
std::variant<zones::ValidZone, std::vector<std::string>> readZoneFile(
    const std::string& file, const std::optional<zones::Name>& zone) {
    zones::ZoneFile parsed;
    try {
        parsed = zones::loadZoneFile(file, zone);
    } catch (const zones::ZoneFileError& e) {
        return e.problems();
    }
    return zones::ZoneValidator::check(std::move(parsed.origin), std::move(parsed.records), file);
}

// One problem is one line; several are one line each, then how many there were.
void printProblems(const std::string& file, const std::vector<std::string>& problems) {
    if (problems.size() == 1) {
        std::cerr << "dnsctl: " << problems.front() << "\n";
        return;
    }
    for (const auto& p : problems) std::cerr << p << "\n";
    std::cerr << "dnsctl: " << file << ": " << problems.size() << " problems\n";
}

int zoneImport(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("file", po::value<std::string>()->required(), "zone file")(
        "zone", po::value<std::string>(), "zone name (default: owner of the file's SOA)")(
        "replace", "replace the records of an existing zone");
    po::positional_options_description positional;
    positional.add("file", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl zone import FILE [--zone NAME] [--replace]",
                   "Reads an RFC 1035 master file, validates it and stores it as one zone in one "
                   "transaction. The SOA serial is kept as the file has it. Prints every problem "
                   "of the file and writes nothing if there is any.",
                   options, positional, vm))
        return 0;
    std::optional<zones::Name> zone;
    if (vm.count("zone")) zone = parseZoneName(vm["zone"].as<std::string>());
    const std::string& file = vm["file"].as<std::string>();
    auto checked = readZoneFile(file, zone);
    if (auto* problems = std::get_if<std::vector<std::string>>(&checked)) {
        printProblems(file, *problems);
        return 1;
    }
    auto db = openDatabase(context);
    zones::ZoneStore store(*db);
    bool replaced = false;
    // Moved in: the zone is held once, not once here and once in the store.
    auto info = store.importZone(std::get<zones::ValidZone>(std::move(checked)),
                                 vm.count("replace") > 0, &replaced);
    std::cout << (replaced ? "replaced" : "imported") << " zone " << info.name.toText() << ": "
              << info.recordCount << " records, serial " << serialText(info) << "\n";
    return 0;
}

int zoneExport(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>()->required(), "zone name")(
        "output,o", po::value<std::string>(), "write to this file instead of stdout");
    po::positional_options_description positional;
    positional.add("zone", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl zone export NAME [-o FILE]",
                   "Writes the zone as a master file that NSD, Knot and `dnsctl zone import` "
                   "load unchanged.",
                   options, positional, vm))
        return 0;
    zones::Name zone = parseZoneName(vm["zone"].as<std::string>());
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    zones::ZoneStore store(*db);
    // Streamed record by record: the records are held once and their text never as a whole.
    // Read in any order: writeZoneFile sorts them, and (owner, type, RDATA) is unique in a zone,
    // so the file is the same whatever order they come in.
    std::vector<zones::Record> records = store.zoneRecords(zone, true);
    if (vm.count("output")) {
        writeFileAtomically(vm["output"].as<std::string>(),
                            [&](std::ostream& out) { zones::writeZoneFile(out, zone, records); });
    } else {
        zones::writeZoneFile(std::cout, zone, records);
        std::cout.flush();
    }
    return 0;
}

int zoneList(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("json", "print a JSON array");
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl zone list [--json]",
                   "Lists every zone with its record count, SOA serial and last change.", options,
                   {}, vm))
        return 0;
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    zones::ZoneStore store(*db);
    auto zonesList = store.listZones();
    if (vm.count("json")) {
        std::cout << "[";
        for (size_t i = 0; i < zonesList.size(); ++i) {
            const auto& z = zonesList[i];
            nlohmann::ordered_json o = {{"name", z.name.toText()},
                                        {"records", z.recordCount},
                                        {"serial", nullptr},
                                        {"generation", z.generation},
                                        {"updated", isoTime(z.updatedAtMs)},
                                        {"updated_at_ms", z.updatedAtMs}};
            if (z.serial) o["serial"] = *z.serial;
            std::cout << (i ? ",\n " : "") << jsonText(o);
        }
        std::cout << "]\n";
        return 0;
    }
    std::printf("%-40s %8s %12s  %s\n", "ZONE", "RECORDS", "SERIAL", "UPDATED");
    for (const auto& z : zonesList) {
        std::printf("%-40s %8lld %12s  %s\n", z.name.toText().c_str(),
                    static_cast<long long>(z.recordCount), serialText(z).c_str(),
                    isoTime(z.updatedAtMs).c_str());
    }
    return 0;
}

int zoneDelete(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>()->required(), "zone name");
    po::positional_options_description positional;
    positional.add("zone", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl zone delete NAME",
                   "Deletes the zone and all its records (dnsd stops serving it).", options,
                   positional, vm))
        return 0;
    zones::Name zone = parseZoneName(vm["zone"].as<std::string>());
    auto db = openDatabase(context);
    zones::ZoneStore store(*db);
    store.deleteZone(zone);
    std::cout << "deleted zone " << zone.toText() << "\n";
    return 0;
}

int zoneCheck(const std::vector<std::string>& args, Context&) {
    po::options_description options("Options");
    options.add_options()("file", po::value<std::string>()->required(), "zone file")(
        "zone", po::value<std::string>(), "zone name (default: owner of the file's SOA)");
    po::positional_options_description positional;
    positional.add("file", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl zone check FILE [--zone NAME]",
                   "Parses and validates a zone file exactly as `zone import` would, without "
                   "touching any database. Prints every problem found.",
                   options, positional, vm))
        return 0;
    std::optional<zones::Name> zone;
    if (vm.count("zone")) zone = parseZoneName(vm["zone"].as<std::string>());
    const std::string& file = vm["file"].as<std::string>();
    auto checked = readZoneFile(file, zone);
    if (auto* problems = std::get_if<std::vector<std::string>>(&checked)) {
        printProblems(file, *problems);
        return 1;
    }
    const auto& valid = std::get<zones::ValidZone>(checked);
    std::cout << file << ": zone " << valid.apex().toText() << " OK, " << valid.records().size()
              << " records\n";
    return 0;
}

}  // namespace

void registerZoneCommands(Registry& registry) {
    registry.add({"zone import", "import a zone file (validated, one transaction)", zoneImport});
    registry.add({"zone export", "write a zone as a master file", zoneExport});
    registry.add({"zone list", "list zones with record count, serial, last change", zoneList});
    registry.add({"zone delete", "delete a zone and its records", zoneDelete});
    registry.add({"zone check", "validate a zone file without touching the database", zoneCheck});
}

}  // namespace dnsctl
