// `dnsctl zone journal ZONE [--max-entries N] [--max-age DURATION]`: how much history of a
// zone's changes is kept for IXFR (zones/journal), and what is kept now.
#include <SQLiteCpp/Transaction.h>

#include <iostream>

#include "tools/dnsctl/failover_commands.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/journal.hpp"
#include "zones/zone_store.hpp"

namespace dnsctl {
namespace {

int zoneJournal(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "zone")(
        "max-entries", po::value<int64_t>(),
        "keep at most this many changes (default 1000; 0 keeps none: IXFR is always the full "
        "zone)")("max-age", po::value<std::string>(), "drop changes older than this (default 7d)");
    po::positional_options_description pos;
    pos.add("zone", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl zone journal ZONE [--max-entries N] [--max-age DURATION]",
                   "Shows (and with options sets) how many of a zone's changes are kept for "
                   "incremental transfers (IXFR). A secondary further behind than the history "
                   "reaches gets the full zone.",
                   options, pos, vm))
        return 0;
    if (!vm.count("zone")) throw UsageError("a ZONE is needed");
    zones::Name apex = parseZoneName(vm["zone"].as<std::string>());
    auto db = openDatabase(context);
    auto zone = zones::ZoneStore(*db).findZone(apex);
    if (!zone) throw std::runtime_error("no zone " + apex.toText());
    if (vm.count("max-entries") || vm.count("max-age")) {
        int64_t entries = 0, ageMs = 0;
        {
            SQLite::Statement q(
                *db, "SELECT journal_max_entries, journal_max_age_ms FROM zones WHERE id = ?");
            q.bind(1, zone->id);
            q.executeStep();
            entries = q.getColumn(0).getInt64();
            ageMs = q.getColumn(1).getInt64();
        }
        if (vm.count("max-entries")) {
            entries = vm["max-entries"].as<int64_t>();
            if (entries < 0 || entries > 1000000)
                throw UsageError("--max-entries must be 0..1000000");
        }
        if (vm.count("max-age")) ageMs = durationFlag(vm["max-age"].as<std::string>(), "--max-age");
        SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);
        zones::Journal::setBounds(*db, zone->id, entries, ageMs);
        tx.commit();
    }
    SQLite::Statement q(*db,
                        "SELECT z.journal_max_entries, z.journal_max_age_ms, count(j.id), "
                        "min(j.serial_from), max(j.serial_to) FROM zones z LEFT JOIN "
                        "zone_journal j ON j.zone_id = z.id WHERE z.id = ?");
    q.bind(1, zone->id);
    q.executeStep();
    std::cout << apex.toText() << ": keeps " << q.getColumn(0).getInt64() << " changes for "
              << q.getColumn(1).getInt64() / 1000 << " s; holds " << q.getColumn(2).getInt64();
    if (q.getColumn(2).getInt64() > 0)
        std::cout << " (serials " << q.getColumn(3).getInt64() << " to "
                  << q.getColumn(4).getInt64() << ")";
    std::cout << "\n";
    return 0;
}

}  // namespace

void registerJournalCommand(Registry& registry) {
    registry.add(
        {"zone journal", "how much change history is kept for IXFR (--max-entries)", zoneJournal});
}

}  // namespace dnsctl
