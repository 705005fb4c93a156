// The README's command blocks, run as written against a fresh database, so that a reader who
// copies them gets what the README says. The blocks are read from README.md at test time: an
// edit that breaks a command breaks this test.
//
// Only two things are changed, both outside the commands: the database path the README uses
// (/var/lib/dnsd/dnsd.db) becomes a temporary file, and the blocks run in a directory holding
// the example zone under the name the README uses. From the pool block, the two lines that
// run until stopped (`dnsd-probe`, `dnsctl events --follow`) are left out.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using testsupport::CommandResult;

const std::string kReadmeDb = "/var/lib/dnsd/dnsd.db";

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The lines of the first ``` block after the heading `heading`; empty if there is none.
std::vector<std::string> codeBlockAfter(const std::string& text, const std::string& heading) {
    std::vector<std::string> lines;
    size_t at = text.find("\n" + heading + "\n");
    if (at == std::string::npos) return lines;
    size_t open = text.find("\n```\n", at);
    if (open == std::string::npos) return lines;
    size_t close = text.find("\n```\n", open + 4);
    if (close == std::string::npos) return lines;
    std::stringstream block(text.substr(open + 5, close - open - 5 + 1));
    for (std::string line; std::getline(block, line);) lines.push_back(line);
    return lines;
}

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    return s;
}

class Readme : public ::testing::Test {
  protected:
    void SetUp() override {
        readme_ = readFile(std::string(DNSD_SOURCE_DIR) + "/README.md");
        ASSERT_FALSE(readme_.empty());
        std::filesystem::copy_file(
            std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone",
            dir_.file("svc.example.com.zone"));
        db_ = dir_.file("dnsd.db");
    }

    // Runs `lines` with `sh -eu` in the temp dir, dnsctl first in PATH, DNSD_DB unset (the
    // block must set it itself), and the README's database path replaced by the temp one.
    CommandResult run(const std::vector<std::string>& lines) {
        std::string script = "cd '" + dir_.path().string() + "'\nset -x\n";
        for (const auto& line : lines) script += replaceAll(line, kReadmeDb, db_) + "\n";
        std::string bin = std::filesystem::path(DNSCTL_BIN).parent_path().string();
        return testsupport::runCommand("/bin/sh", {"-euc", script},
                                       {"PATH=" + bin + ":/usr/bin:/bin", "DNSD_DB="});
    }

    testsupport::TempDir dir_{"dnsd-readme"};
    std::string readme_;
    std::string db_;
};

TEST_F(Readme, ZoneManagementBlockRunsAsWritten) {
    auto block = codeBlockAfter(readme_, "## Managing zones");
    ASSERT_GE(block.size(), 5u) << "README.md has no command block under '## Managing zones'";
    ASSERT_NE(block[0].find(kReadmeDb), std::string::npos)
        << "the block should name the database first (the test puts a temporary one there): "
        << block[0];
    CommandResult r = run(block);
    ASSERT_EQ(r.exitCode, 0) << "a README command failed (the last '+' line):\n" << r.err;
    // The block imports the example zone, adds a record and deletes it again, then exports:
    // the export holds exactly the example's 26 records, at a serial two ahead.
    std::string exported = readFile(dir_.file("svc.zone"));
    ASSERT_FALSE(exported.empty()) << "the block's export wrote nothing";
    EXPECT_NE(exported.find("; zone svc.example.com., 26 records"), std::string::npos) << exported;
    EXPECT_NE(exported.find(" 2024060103 "), std::string::npos) << exported;
    EXPECT_NE(r.out.find("svc.example.com."), std::string::npos) << "zone list:\n" << r.out;
}

TEST_F(Readme, PoolBlockRunsAsWrittenAfterTheZoneBlock) {
    auto zone = codeBlockAfter(readme_, "## Managing zones");
    auto pool = codeBlockAfter(readme_, "## Failover pools");
    ASSERT_GE(pool.size(), 5u) << "README.md has no command block under '## Failover pools'";
    std::vector<std::string> lines = zone;
    size_t left = 0;
    for (const auto& line : pool) {
        if (line.rfind("dnsd-probe ", 0) == 0 || line.find("--follow") != std::string::npos) {
            ++left;
            continue;
        }
        lines.push_back(line);
    }
    EXPECT_EQ(left, 2u) << "the pool block changed: check what this test leaves out";
    CommandResult r = run(lines);
    ASSERT_EQ(r.exitCode, 0) << "a README command failed (the last '+' line):\n" << r.err;
    // `dnsctl status` shows the pool the block made, with both members.
    EXPECT_NE(r.out.find("192.0.2.10"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("198.51.100.20"), std::string::npos) << r.out;
}

}  // namespace
