// common::OptionTable — every option of a daemon declared once, with its type and the values
// it accepts, and read from the command line, PREFIX_* environment variables and --config FILE.
//
// Contract:
// - A value is checked as it is read, whichever source it comes from: an integer option takes
//   a whole number inside its range (no sign on an unsigned option, so "-1" never wraps round to
//   4294967295; nothing after the digits), a flag takes true/false/yes/no/on/off/1/0, a text
//   option must pass its check. A refused value stops the program with one message that names
//   the option and where the value came from (the command line, the environment variable, or
//   FILE:LINE).
// - `parse` returns the exit status when the program must not run: 0 after --help or
//   --version, 2 after any configuration error (the message is on stderr). Status 2 is the
//   contract with the systemd units (RestartPreventExitStatus=2: a restart cannot fix a bad
//   value); a failure a restart may fix (address in use, database locked) must exit 1, so never
//   check such a thing here.
// - The first source to set an option wins: command line, then environment, then the file.
//   A repeatable option (`texts`) collects values from every source.
// - An environment variable set to the empty string counts as unset, for every option: in a
//   unit drop-in `Environment=DNSD_HTTP=` undoes an earlier assignment, and an empty value
//   never turns a flag on. Variables with the prefix that name no option are ignored (DNSD_DB
//   is shared by all three programs; an --on-change hook's own DNSD_EVENT must not matter).
// - Help and version cannot come from the environment or the file.
#pragma once

#include <boost/program_options.hpp>
#include <charconv>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace common {

// `text` as a whole number of type T in [min, max]; otherwise throws std::runtime_error saying
// what is wanted.
template <class T>
T parseInteger(const std::string& text, T min, T max) {
    static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
    T value{};
    const char* end = text.data() + text.size();
    // from_chars takes no '+', no spaces and, for an unsigned T, no '-'.
    auto [stop, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || stop != end || value < min || value > max)
        throw std::runtime_error("want a whole number from " + std::to_string(min) + " to " +
                                 std::to_string(max));
    return value;
}

namespace detail {

// A Boost value that converts (and so checks) each token as it is stored, so the error
// reaches storeConfigFile while it can still name the line. No token is a bare command-line
// flag: "true".
template <class T>
class CheckedValue final : public boost::program_options::typed_value<T> {
  public:
    using Element = std::conditional_t<std::is_same_v<T, std::vector<std::string>>, std::string, T>;
    using Convert = std::function<Element(const std::string&)>;
    CheckedValue(T* target, Convert convert)
        : boost::program_options::typed_value<T>(target), convert_(std::move(convert)) {}

    void xparse(boost::any& store, const std::vector<std::string>& tokens) const override {
        if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            if (store.empty()) store = T();
            for (const std::string& token : tokens)
                boost::any_cast<T&>(store).push_back(convert(token));
        } else {
            store = convert(tokens.empty() ? std::string("true") : tokens.front());
        }
    }

  private:
    Element convert(const std::string& token) const {
        try {
            return convert_(token);
        } catch (const std::exception& e) {
            // Boost fills in the option name as the source spells it ('--listen' on the
            // command line, 'listen' in a file) when the error passes through store().
            boost::program_options::error_with_option_name error(
                (token.empty() ? std::string("option '%canonical_option%' is empty: ")
                               : std::string("the argument ('%value%') for option "
                                             "'%canonical_option%' is invalid: ")) +
                e.what());
            error.set_substitute("value", token);
            throw error;
        }
    }
    Convert convert_;
};

}  // namespace detail

class OptionTable {
  public:
    // Throws std::exception with the reason a text value is refused.
    using Check = std::function<void(const std::string& value)>;

    // `program` names the messages ("dnsd: ..."); `about` is printed above the options by
    // --help; `envPrefix` is "DNSD_" or "DNSD_PROBE_". Declares --help, --version and --config.
    OptionTable(std::string program, std::string about, std::string envPrefix);

    // The target's value when declared is the default; --help shows it and the range.
    template <class T>
    void integer(const char* name, T& target, T min, T max, const char* help) {
        if (example_.empty()) example_ = name;
        add(name, std::string(help) + " [" + std::to_string(min) + ".." + std::to_string(max) + "]",
            checked<T>(&target, [min, max](const std::string& text) {
                return parseInteger<T>(text, min, max);
            })->default_value(target));
    }
    // A default is shown when the target is not empty when declared.
    void text(const char* name, std::string& target, const char* help, Check check = {});
    // Repeatable; each value is checked on its own.
    void texts(const char* name, std::vector<std::string>& target, const char* help,
               Check check = {});
    // Off unless given: `--name` on the command line, `name = true` in the file.
    void flag(const char* name, bool& target, const char* help);

    // Reads every source into the targets; returns nullopt to run on, else the exit status.
    std::optional<int> parse(int argc, const char* const* argv, const std::string& version);
    // True if any source set the option (not just its default).
    bool given(const std::string& name) const;

  private:
    template <class T>
    static boost::program_options::typed_value<T>* checked(
        T* target, typename detail::CheckedValue<T>::Convert convert) {
        return new detail::CheckedValue<T>(target, std::move(convert));
    }
    void add(const char* name, const std::string& help,
             const boost::program_options::value_semantic* value);
    void storeEnvironment();

    std::string program_;
    std::string about_;
    std::string envPrefix_;
    std::string configFile_;
    std::string example_;  // the first integer option, to show the environment spelling
    boost::program_options::options_description options_;
    boost::program_options::variables_map vm_;
};

}  // namespace common
