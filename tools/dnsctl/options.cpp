#include "tools/dnsctl/options.hpp"

#include <cctype>
#include <cstdio>
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

std::unique_ptr<SQLite::Database> openDatabase(const Context& context, bool create) {
    std::string path = zones::resolveDatabasePath(context.dbPath);
    return zones::openDatabase(
        path, create ? zones::OpenMode::CreateReadWrite : zones::OpenMode::ReadWrite,
        context.busyTimeoutMs);
}

zones::Name parseZoneName(const std::string& text) {
    auto name = zones::Name::fromText(text);
    if (!name || text == "@") throw UsageError("bad zone name '" + text + "'");
    return *name;
}

std::string jsonEscape(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out.push_back(char(c));
                }
        }
    }
    return out;
}

}  // namespace dnsctl
