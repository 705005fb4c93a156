// What `dnsd-probe --help` and dist/dnsd-probe.conf say the --on-change hook gets is what the
// real hook gets on a real failover: the same DNSD_* variables, no more and no fewer.
#include <cstdlib>
#include <regex>
#include <set>

#include "tests/failover/failover_fixture.hpp"
#include "tests/support/run_command.hpp"

namespace {

using namespace failover;
using testsupport::runCommand;

// Every "$DNSD_NAME" in `text`.
std::set<std::string> dollarVariables(const std::string& text) {
    std::set<std::string> out;
    std::regex re("\\$(DNSD_[A-Z_]+)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
         ++it)
        out.insert((*it)[1].str());
    return out;
}

class OnChangeHook : public FailoverScenario {};

TEST_F(OnChangeHook, HelpAndConfigListExactlyWhatTheHookGets) {
    standardPool();
    probe_ = std::make_unique<Process>(
        DNSD_PROBE_BIN,
        std::vector<std::string>{"--db", db_, "--http", "none", "--on-change",
                                 "env >> " + hookFile_ + "; echo END >> " + hookFile_});
    ASSERT_TRUE(waitServed(kPrimary)) << probe_->describe();
    primary_->stop();
    ASSERT_TRUE(waitServed(kSecondary)) << eventDump();
    ASSERT_TRUE(waitUntil([&] { return hookLog().find("END\n") != std::string::npos; }, 5s))
        << probe_->describe();

    // The variables dnsd-probe set for the hook: DNSD_* ones this test did not pass down.
    std::set<std::string> given;
    std::istringstream lines(hookLog().substr(0, hookLog().find("END\n")));
    for (std::string line; std::getline(lines, line);) {
        std::string name = line.substr(0, line.find('='));
        if (name.rfind("DNSD_", 0) == 0 && !std::getenv(name.c_str())) given.insert(name);
    }
    EXPECT_EQ(given, (std::set<std::string>{"DNSD_EVENT", "DNSD_EVENT_AT", "DNSD_EVENT_JSON",
                                            "DNSD_MESSAGE", "DNSD_POOL"}))
        << hookLog();

    auto help = runCommand(DNSD_PROBE_BIN, {"--help"}, {}, 5s);
    ASSERT_EQ(help.exitCode, 0) << help.err;
    auto start = help.out.find("\n  --on-change");
    ASSERT_NE(start, std::string::npos) << help.out;
    std::string onChange = help.out.substr(start, help.out.find("\n  --", start + 1) - start);
    EXPECT_EQ(dollarVariables(onChange), given) << onChange;
    // Every kind Controller::emit runs the hook for.
    for (const char* kind : {"failover,", "failback", "all-down", "recovered", "failover-pending"})
        EXPECT_NE(onChange.find(kind), std::string::npos) << kind << " missing in: " << onChange;

    std::ifstream conf(std::string(DNSD_SOURCE_DIR) + "/dist/dnsd-probe.conf");
    std::stringstream text;
    text << conf.rdbuf();
    EXPECT_EQ(dollarVariables(text.str()), given) << "dist/dnsd-probe.conf";
}

}  // namespace
