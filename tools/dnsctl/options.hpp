// dnsctl option helpers shared by every command file.
//
// Contract: `parseArgs` either fills `vm` (returning true), prints the command's help on stdout
// (returning false: the caller exits 0), or throws UsageError naming the bad argument. main.cpp
// turns UsageError into "dnsctl <command>: <message>" plus a --help hint and exit status 2, and
// any other std::exception into "dnsctl: <message>" and exit status 1. `openDatabase` resolves
// --db / $DNSD_DB and opens (and migrates) the file, with the busy timeout from the context.
#pragma once

#include <SQLiteCpp/Database.h>

#include <boost/program_options.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tools/dnsctl/command.hpp"
#include "zones/name.hpp"

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

// Opens the database named by the context. `create` is true only for `dnsctl init`.
std::unique_ptr<SQLite::Database> openDatabase(const Context& context, bool create = false);

// A zone name from the command line ("example.com" and "example.com." are the same zone).
// Throws UsageError if it is not a valid name.
zones::Name parseZoneName(const std::string& text);

// Escapes a string for a JSON string literal (without the quotes).
std::string jsonEscape(const std::string& text);

}  // namespace dnsctl
