#include "tools/dnsctl/options.hpp"

#include <cctype>
#include <iostream>

#include "zones/schema.hpp"

namespace dnsctl {

bool parseArgs(const std::vector<std::string>& args, const std::string& usage,
               const std::string& description, po::options_description& options,
               const po::positional_options_description& positional, po::variables_map& vm) {
    options.add_options()("help,h", "show this help");
    try {
        // No abbreviations and no guessing: a script that works today must mean the same later.
        auto style = po::command_line_style::unix_style ^ po::command_line_style::allow_guessing;
        po::store(po::command_line_parser(args)
                      .options(options)
                      .positional(positional)
                      .style(style)
                      .run(),
                  vm);
        if (vm.count("help")) {
            std::cout << "usage: " << usage << "\n\n" << description << "\n\n" << options;
            return false;
        }
        po::notify(vm);
    } catch (const po::required_option& e) {
        // Positional arguments are options to Boost; name them the way the usage line does.
        std::string name = e.get_option_name();
        if (name.rfind("--", 0) == 0) name = name.substr(2);
        unsigned count = positional.max_total_count();
        for (unsigned i = 0; i < count && i < 16; ++i) {
            if (positional.name_for_position(i) == name) {
                std::string upper;
                for (char c : name) upper.push_back(char(std::toupper(uint8_t(c))));
                throw UsageError("missing argument " + upper + " (usage: " + usage + ")");
            }
        }
        throw UsageError(e.what());
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }
    return true;
}

std::unique_ptr<SQLite::Database> openDatabase(const Context& context, zones::OpenMode mode) {
    std::string path = zones::resolveDatabasePath(context.dbPath);
    auto db = zones::openDatabase(path, mode, context.busyTimeoutMs);
    // Every command that opens for writing writes: refuse now, with one clear line.
    if (mode != zones::OpenMode::ReadOnly) zones::requireWritable(*db, path);
    return db;
}

zones::Name parseZoneName(const std::string& text) {
    auto name = zones::Name::fromText(text);
    if (!name || text == "@") throw UsageError("bad zone name '" + text + "'");
    return *name;
}

std::string jsonText(const nlohmann::ordered_json& value) {
    return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace dnsctl
