// A bad --config file or DNSD_* variable stops the daemon before it does anything, with one
// message that names the file and the line (or the environment) at fault, and exit code 2.
#include <gtest/gtest.h>

#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace std::chrono_literals;
using testsupport::runCommand;

struct Case {
    const char* text;
    const char* expected;  // a substring of stderr, after "FILE:"
};

class ConfigFile : public ::testing::Test {
  protected:
    testsupport::TempDir dir_;
    std::string db_ = dir_.file("dnsd.db");

    void SetUp() override {
        auto init = runCommand(DNSCTL_BIN, {"--db", db_, "init"}, {}, 10s);
        ASSERT_TRUE(init.ok()) << init.err;
    }

    void expectRefused(const std::string& program, const Case& c) {
        std::string path = dir_.writeFile("daemon.conf", c.text);
        auto r = runCommand(program, {"--config", path, "--db", db_}, {}, 10s);
        EXPECT_EQ(r.exitCode, 2) << program << " with:\n" << c.text << r.err;
        EXPECT_NE(r.err.find(path + ":" + c.expected), std::string::npos)
            << "expected '" << path << ":" << c.expected << "' in: " << r.err;
    }
};

TEST_F(ConfigFile, DnsdNamesTheFileAndLine) {
    for (const Case& c : {
             Case{"# comment\nlisten = 127.0.0.1:0\nbogus-option = 1\n",
                  "3: unrecognised option 'bogus-option'"},
             Case{"udp-threads = abc\n", "1: the argument ('abc') for option 'udp-threads'"},
             Case{"\n\nlisten 127.0.0.1:53\n", "3: the options configuration file contains an"},
         })
        expectRefused(DNSD_BIN, c);

    auto missing = runCommand(DNSD_BIN, {"--config", dir_.file("nope.conf")}, {}, 10s);
    EXPECT_EQ(missing.exitCode, 2);
    EXPECT_NE(missing.err.find("nope.conf: cannot read config file"), std::string::npos)
        << missing.err;

    auto env = runCommand(DNSD_BIN, {"--db", db_}, {"DNSD_UDP_THREADS=lots"}, 10s);
    EXPECT_EQ(env.exitCode, 2);
    EXPECT_NE(env.err.find(
                  "environment DNSD_UDP_THREADS: the argument ('lots') for option 'udp-threads'"),
              std::string::npos)
        << env.err;
}

TEST_F(ConfigFile, ProbeNamesTheFileAndLine) {
    for (const Case& c : {
             Case{"# comment\n\nno-such-option = 1\n", "3: unrecognised option 'no-such-option'"},
             Case{"http = 127.0.0.1:0\nwhat\n", "2: the options configuration file contains an"},
         })
        expectRefused(DNSD_PROBE_BIN, c);
}

}  // namespace
