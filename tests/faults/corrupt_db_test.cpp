// A corrupt or truncated database file at start: dnsd, dnsd-probe and dnsctl each print one
// clear error naming the file and exit non-zero; none crashes, hangs or "repairs" the file.
#include <sys/wait.h>

#include <fstream>
#include <random>

#include "tests/faults/faults_fixture.hpp"

namespace faults {
namespace {

class CorruptDatabase : public ::testing::Test {
  protected:
    void SetUp() override {
        good_ = dir_.file("good.db");
        std::string zone = dir_.writeFile("svc.test.zone",
                                          "$ORIGIN svc.test.\n$TTL 300\n"
                                          "@ SOA ns1 hostmaster 1 3600 600 86400 300\n"
                                          "@ NS ns1\nns1 A 127.0.0.1\nstatic A 127.0.0.9\n");
        createDatabase(good_, {zone});
        auto r = runDnsctl(good_, {"probe", "add", "t", "--type", "tcp", "--port", "80"});
        ASSERT_TRUE(r.ok()) << r.err;
        // Every connection closed: the WAL is checkpointed into the main file and removed.
        ASSERT_FALSE(std::filesystem::exists(good_ + "-wal"));
        size_ = std::filesystem::file_size(good_);
        ASSERT_GE(size_, 8 * 4096u);
    }

    // A copy of the good database, then `damage` applied to its bytes.
    std::string variant(const std::string& name, const std::function<void(std::string&)>& damage) {
        std::ifstream in(good_, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        damage(bytes);
        std::string path = dir_.file(name);
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
        return path;
    }

    struct Outcome {
        std::string who, err;
        int status = 0;
        bool exited = false;
    };
    // Runs each of the three programs on `db` and returns how each ended.
    std::vector<Outcome> runAll(const std::string& db, std::chrono::milliseconds timeout = 5s) {
        std::vector<Outcome> out;
        std::string port = std::to_string(freePort());
        std::vector<std::pair<std::string, std::vector<std::string>>> runs = {
            {DNSD_BIN, {"--db", db, "--listen", "127.0.0.1:" + port}},
            {DNSD_PROBE_BIN, {"--db", db}},
            {DNSCTL_BIN, {"--db", db, "status"}},
            {DNSCTL_BIN, {"--db", db, "zone", "list"}},
        };
        for (auto& [program, args] : runs) {
            Process p(program, args);
            Outcome o;
            o.who = std::filesystem::path(program).filename().string() + " " + args.back();
            auto status = p.waitExit(timeout);
            o.exited = status.has_value();
            if (!status) p.stop();
            o.status = status.value_or(-1);
            o.err = p.stderrText();
            out.push_back(o);
        }
        return out;
    }
    // One clear line naming the file, a non-zero exit, no signal, no hang.
    void expectClearRefusal(const std::string& db, const std::string& why) {
        for (const Outcome& o : runAll(db)) {
            SCOPED_TRACE(o.who + " on " + why);
            ASSERT_TRUE(o.exited) << "still running after 5 s; stderr:\n" << o.err;
            EXPECT_FALSE(WIFSIGNALED(o.status)) << "killed by signal " << WTERMSIG(o.status);
            ASSERT_TRUE(WIFEXITED(o.status));
            EXPECT_NE(WEXITSTATUS(o.status), 0) << o.err;
            EXPECT_EQ(lines(o.err), 1) << o.err;
            EXPECT_NE(o.err.find(db), std::string::npos) << "the message names the file: " << o.err;
        }
    }

    TempDir dir_{"dnsd-corrupt"};
    std::string good_;
    size_t size_ = 0;
};

TEST_F(CorruptDatabase, GarbageFile) {
    std::string db = variant("garbage.db", [](std::string& b) {
        std::mt19937 rng(42);
        for (char& c : b) c = char(rng());
    });
    expectClearRefusal(db, "random bytes");
    for (const Outcome& o : runAll(db))
        EXPECT_NE(o.err.find("not a database"), std::string::npos) << o.who << ": " << o.err;
}

TEST_F(CorruptDatabase, TruncatedFiles) {
    for (size_t keep : {size_t(50), size_t(4096), size_ / 2, size_ - 4096}) {
        std::string db = variant("truncated-" + std::to_string(keep) + ".db",
                                 [&](std::string& b) { b.resize(keep); });
        expectClearRefusal(db, "truncated to " + std::to_string(keep) + " bytes");
        EXPECT_EQ(std::filesystem::file_size(db), keep) << "the file was changed";
    }
}

TEST_F(CorruptDatabase, OverwrittenPages) {
    // The header page intact, every later page scribbled over: the schema is readable, the
    // tables are not.
    std::string db = variant("scribbled.db", [](std::string& b) {
        std::mt19937 rng(7);
        for (size_t i = 4096; i < b.size(); ++i) b[i] = char(rng());
    });
    expectClearRefusal(db, "pages overwritten");
}

TEST_F(CorruptDatabase, EmptyFile) {
    // `: > dnsd.db` (or a copy that died at once) leaves 0 bytes: not a database to serve from.
    std::string db = variant("empty.db", [](std::string& b) { b.clear(); });
    std::vector<std::string> accepted;
    // A refusal comes within milliseconds; 1 s of running means it was accepted.
    for (const Outcome& o : runAll(db, 1s)) {
        bool refused = o.exited && WIFEXITED(o.status) && WEXITSTATUS(o.status) != 0;
        EXPECT_FALSE(o.exited && WIFSIGNALED(o.status)) << o.who;
        if (!refused) accepted.push_back(o.who + (o.exited ? " exited 0" : " kept running"));
    }
    auto size = std::filesystem::file_size(db);
    if (!accepted.empty() || size != 0) {
        std::string all;
        for (const auto& a : accepted) all += "\n  " + a;
        ADD_FAILURE() << "zones::openDatabase: a 0-byte database file must be refused, not "
                         "taken for a new database and silently given the schema (file now "
                      << size
                      << " bytes): dnsd starts serving no zones, dnsd-probe runs with no pools, "
                         "dnsctl answers as if all were fine. Only `dnsctl init` should create a "
                         "database; elsewhere an empty file should be refused ('database X is "
                         "empty: truncated, or not initialised (dnsctl init)'). Accepted by:"
                      << all;
    }
}

}  // namespace
}  // namespace faults
