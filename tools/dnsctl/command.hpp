// dnsctl::Registry — the table of git-style subcommands ("zone import", "pool add", ...).
//
// Contract: each command file registers its commands with one `registerXxxCommands(Registry&)`
// function; main.cpp calls every register function once, then dispatches on the longest
// registered name that prefixes argv. A command's `run` receives the arguments after its name
// (options included: each command parses its own with Boost.Program_options and handles its own
// --help) and returns the process exit status. It may throw std::runtime_error: main prints
// "dnsctl: <what>" on stderr and exits 1. Every command that writes does so in one transaction.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace dnsctl {

// What the global options resolved to; commands open the database themselves so that
// `--help` and argument errors never need one.
struct Context {
    std::string dbPath;        // from --db (empty if not given; $DNSD_DB is the fallback)
    int busyTimeoutMs = 5000;  // how long a write waits for another writer (--busy-timeout)
};

struct Command {
    std::string name;     // words separated by single spaces, e.g. "zone import"
    std::string summary;  // one line for `dnsctl --help`
    std::function<int(const std::vector<std::string>& args, Context&)> run;
};

class Registry {
  public:
    // Throws std::logic_error on a duplicate name: two files claiming one command is a bug.
    void add(Command command);
    // The command whose name matches the most leading words of `words`, or nullptr;
    // `consumed` is set to the number of words that name took.
    const Command* find(const std::vector<std::string>& words, size_t& consumed) const;
    // All commands, ordered by name.
    std::vector<const Command*> list() const;

  private:
    std::map<std::string, Command> commands_;
};

// One per command file. main.cpp calls each once.
void registerInitCommand(Registry& registry);
void registerZoneCommands(Registry& registry);
void registerRecordCommands(Registry& registry);

}  // namespace dnsctl
