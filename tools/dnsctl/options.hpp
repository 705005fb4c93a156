// dnsctl option helpers shared by every command file.
//
// Contract: `parseArgs` either fills `vm` (returning true), prints the command's help on stdout
// (returning false: the caller exits 0), or throws UsageError naming the bad argument. main.cpp
// turns UsageError into "dnsctl <command>: <message>" plus a --help hint and exit status 2, and
// any other std::exception into "dnsctl: <message>" and exit status 1. `openDatabase` resolves
// --db / $DNSD_DB and opens the file (migrating it unless read-only), with the busy timeout
// from the context.
#pragma once

#include <SQLiteCpp/Database.h>

#include <boost/program_options.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "tools/dnsctl/command.hpp"
#include "zones/name.hpp"
#include "zones/schema.hpp"

namespace dnsctl {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

namespace po = boost::program_options;

// `usage` is the synopsis line, e.g. "dnsctl zone import FILE [--zone NAME] [--replace]".
// `options` gets a --help/-h switch added. Positional arguments are named in `positional`.
bool parseArgs(const std::vector<std::string>& args, const std::string& usage,
               const std::string& description, po::options_description& options,
               const po::positional_options_description& positional, po::variables_map& vm);

// Opens the database named by the context. Commands that only read pass ReadOnly, so that a
// user who may not write the database can still look (nothing is migrated or written then);
// `dnsctl init` passes CreateReadWrite.
std::unique_ptr<SQLite::Database> openDatabase(const Context& context,
                                               zones::OpenMode mode = zones::OpenMode::ReadWrite);

// A zone name from the command line ("example.com" and "example.com." are the same zone).
// Throws UsageError if it is not a valid name.
zones::Name parseZoneName(const std::string& text);

// One JSON value on one line, keys in insertion order (the order the --json outputs document).
// Bytes that are not UTF-8 (a zone or probe may hold any) become U+FFFD instead of making the
// output unreadable to a JSON parser.
std::string jsonText(const nlohmann::ordered_json& value);

}  // namespace dnsctl
