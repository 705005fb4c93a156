// Least privilege: dnsd drops to --user after binding, and the database files are not
// world-readable.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/temp_dir.hpp"

using namespace testsupport;
using namespace std::chrono_literals;

namespace {

TEST(Privileges, DatabaseFilesAre0640) {
    TempDir dir;
    std::string db = dir.file("dnsd.db");
    createDatabase(db, {std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone"});
    for (const char* suffix : {"", "-wal"}) {
        struct stat st;
        if (::stat((db + suffix).c_str(), &st) != 0) continue;  // the WAL may be checkpointed away
        EXPECT_EQ(st.st_mode & 0777, 0640u) << db + suffix;
    }
}

TEST(Privileges, DnsdDropsToUserAfterBinding) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to drop privileges";
    if (!::getpwnam("nobody")) GTEST_SKIP() << "no user 'nobody'";
    TempDir dir;
    std::string db = dir.file("dnsd.db");
    createDatabase(db, {std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone"});
    DnsdServer dnsd(db, freePort(), {"--user", "nobody", "--http", "none"}, "svc.example.com.");
    std::ifstream status("/proc/" + std::to_string(dnsd.process().pid()) + "/status");
    std::string line;
    uid_t nobody = ::getpwnam("nobody")->pw_uid;
    bool seen = false;
    while (std::getline(status, line)) {
        if (line.rfind("Uid:", 0) == 0) {
            seen = true;
            EXPECT_NE(line.find(std::to_string(nobody)), std::string::npos) << line;
            EXPECT_EQ(line.find("\t0\t"), std::string::npos) << line;  // no uid left at 0
        }
    }
    EXPECT_TRUE(seen);
    // Still serving, and still following the database it opened before the drop.
    ASSERT_TRUE(
        runDnsctl(db, {"record", "add", "svc.example.com", "late 60 IN A 192.0.2.77"}).ok());
    bool served = false;
    for (int i = 0; i < 40 && !served; ++i) {
        auto m = dnsd.client().udp(QueryBuilder("late.svc.example.com.", 1).build(), 1s);
        served = m && m->ancount() == 1;
        if (!served) ::usleep(50 * 1000);
    }
    EXPECT_TRUE(served);
}

}  // namespace
