// `dnsctl init`: create the database file (or migrate an existing one to the current schema).
#include <iostream>

#include "tools/dnsctl/command.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/schema.hpp"

namespace dnsctl {

void registerInitCommand(Registry& registry) {
    registry.add({"init", "create the database (or migrate it to the current schema)",
                  [](const std::vector<std::string>& args, Context& context) {
                      po::options_description options("Options");
                      po::variables_map vm;
                      if (!parseArgs(args, "dnsctl [--db PATH] init",
                                     "Creates the database file with the current schema, or "
                                     "migrates an existing dnsd database forward. Safe to repeat.",
                                     options, {}, vm))
                          return 0;
                      auto db = openDatabase(context, zones::OpenMode::CreateReadWrite);
                      std::cout << "database " << db->getFilename() << " ready (schema version "
                                << zones::schemaVersion() << ")\n";
                      return 0;
                  }});
}

}  // namespace dnsctl
