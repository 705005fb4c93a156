#include "common/option_table.hpp"

#include <cctype>
#include <cstring>
#include <iostream>

#include "common/config_file.hpp"

extern char** environ;

namespace po = boost::program_options;

namespace common {

OptionTable::OptionTable(std::string program, std::string about, std::string envPrefix)
    : program_(std::move(program)),
      about_(std::move(about)),
      envPrefix_(std::move(envPrefix)),
      options_("Options") {
    options_.add_options()("help,h", "show this help")("version", "print the version and exit");
    text("config", configFile_,
         "read options from FILE too (lines 'option-name = value'; command line and environment "
         "win)");
}

void OptionTable::add(const char* name, const std::string& help, const po::value_semantic* value) {
    options_.add_options()(name, value, help.c_str());
}

void OptionTable::text(const char* name, std::string& target, const char* help, Check check) {
    auto* value = checked<std::string>(&target, [check](const std::string& text) {
        if (check) check(text);
        return text;
    });
    if (!target.empty()) value->default_value(target);
    add(name, help, value);
}

void OptionTable::texts(const char* name, std::vector<std::string>& target, const char* help,
                        Check check) {
    add(name, help, checked<std::vector<std::string>>(&target, [check](const std::string& text) {
                        if (check) check(text);
                        return text;
                    })->composing());
}

void OptionTable::flag(const char* name, bool& target, const char* help) {
    target = false;
    add(name, help,
        checked<bool>(&target,
                      [](const std::string& text) {
                          std::string t = text;
                          for (char& c : t) c = char(std::tolower(static_cast<unsigned char>(c)));
                          if (t == "true" || t == "yes" || t == "on" || t == "1") return true;
                          if (t == "false" || t == "no" || t == "off" || t == "0") return false;
                          throw std::runtime_error("want true or false");
                      })
            ->default_value(false)
            ->zero_tokens());
}

// One variable at a time, so an error names the variable, and an empty one is skipped.
void OptionTable::storeEnvironment() {
    for (char** e = environ; *e; ++e) {
        const char* eq = std::strchr(*e, '=');
        if (!eq || std::strncmp(*e, envPrefix_.c_str(), envPrefix_.size()) != 0) continue;
        std::string variable(*e, size_t(eq - *e));
        std::string value(eq + 1);
        std::string name = variable.substr(envPrefix_.size());
        for (char& c : name) c = c == '_' ? '-' : char(std::tolower(static_cast<unsigned char>(c)));
        if (value.empty() || name == "help" || name == "version" ||
            !options_.find_nothrow(name, false))
            continue;
        po::parsed_options parsed(&options_);
        po::option option(name, {value});
        option.original_tokens = {variable};
        parsed.options.push_back(option);
        try {
            po::store(parsed, vm_);
        } catch (const po::error& error) {
            throw std::runtime_error("environment " + variable + ": " + error.what());
        }
    }
}

std::optional<int> OptionTable::parse(int argc, const char* const* argv,
                                      const std::string& version) {
    try {
        // No abbreviations: with them, a new option could change what an old command line
        // means ("--http" would become ambiguous beside an "--http-timeout").
        auto style = po::command_line_style::unix_style ^ po::command_line_style::allow_guessing;
        auto parsed = po::command_line_parser(argc, argv).options(options_).style(style).run();
        po::store(parsed, vm_);
        // Boost keeps words that are no option and stores nothing for them (checked after
        // the options, whose own errors say more): a stray word
        // ("--listen 0.0.0.0 53") would be dropped without a word.
        for (const po::option& o : parsed.options)
            if (o.string_key.empty())
                throw std::runtime_error(
                    "unexpected argument '" +
                    (o.original_tokens.empty() ? std::string() : o.original_tokens.front()) +
                    "' (every value follows its --option)");
        if (!vm_.count("help") && !vm_.count("version")) {
            storeEnvironment();
            if (vm_.count("config"))
                storeConfigFile(vm_["config"].as<std::string>(), options_, vm_);
        }
        po::notify(vm_);
    } catch (const std::exception& e) {
        std::cerr << program_ << ": " << e.what() << " (see " << program_ << " --help)\n";
        return 2;
    }
    if (vm_.count("version")) {
        std::cout << program_ << " " << version << "\n";
        return 0;
    }
    if (vm_.count("help")) {
        std::string variable = envPrefix_ + example_;
        for (char& c : variable) c = c == '-' ? '_' : char(std::toupper(c));
        std::cout << about_ << "\n"
                  << options_ << "\nEvery option can also be a line 'option-name = value' in "
                  << "--config FILE, or an environment\nvariable " << envPrefix_ << "OPTION_NAME ("
                  << variable << " is --" << example_
                  << "); an empty variable counts as unset.\nThe command line wins over the "
                  << "environment, which wins over the file.\nExit status 2: a bad option or "
                  << "config value, which a restart cannot fix; 1: a failure\nat run time "
                  << "(address in use, database missing or locked).\n";
        return 0;
    }
    return std::nullopt;
}

bool OptionTable::given(const std::string& name) const {
    return vm_.count(name) && !vm_[name].defaulted();
}

}  // namespace common
