// dnsd under a steady UDP load: SIGHUP reloads lose no query; a restart loses queries only
// inside the restart gap.
#include <csignal>

#include "tests/faults/faults_fixture.hpp"

namespace faults {
namespace {

int countOf(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

class DnsdUnderLoad : public FaultScenario {
  protected:
    void SetUp() override {
        FaultScenario::SetUp();
        standardPool();
        startDnsd();
        startProbe();
        ASSERT_TRUE(waitServed(kPrimary)) << eventDump();
        ASSERT_TRUE(waitUntil([&] { return dnsdAnswer() == kPrimary; }, 2s));
    }
    std::vector<uint8_t> query() const {
        return QueryBuilder("www.svc.test.", LDNS_RR_TYPE_A).build();
    }
};

TEST_F(DnsdUnderLoad, SighupReloadsLoseNoQuery) {
    // 2000 queries, one every millisecond; five reloads spread over them.
    UdpLoad load(dnsd_->port(), query(), 2000, 1000us);
    for (int i = 1; i <= 5; ++i) {
        ASSERT_TRUE(waitUntil([&] { return load.elapsed() >= 300ms * i; }, 5s));
        ASSERT_EQ(::kill(dnsd_->process().pid(), SIGHUP), 0);
    }
    load.finish(2s);
    auto lost = load.unanswered();
    EXPECT_TRUE(lost.empty()) << lost.size() << " of 2000 queries unanswered, first id "
                              << (lost.empty() ? -1 : lost.front());
    EXPECT_EQ(load.bad(), 0) << "answers that were not NOERROR with an answer";
    // The reloads did happen, while the load ran.
    std::string log = dnsd_->process().stderrText();
    EXPECT_EQ(countOf(log, "SIGHUP: reloading"), 5) << log;
    EXPECT_GE(countOf(log, "published state"), 5) << log;
    EXPECT_TRUE(dnsd_->process().alive());
}

TEST_F(DnsdUnderLoad, RestartLosesQueriesOnlyInsideTheGap) {
    uint16_t port = dnsd_->port();
    UdpLoad load(port, query(), 2000, 1000us);
    ASSERT_TRUE(waitUntil([&] { return load.elapsed() >= 500ms; }, 5s));
    auto stopping = Clock::now();
    int status = dnsd_->process().stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "dnsd did not stop cleanly";
    dnsd_.reset();
    dnsd_ = std::make_unique<DnsdServer>(db_, port, std::vector<std::string>{}, "svc.test.");
    auto serving = Clock::now();
    load.finish(1s);
    ASSERT_TRUE(load.sent());

    // dnsd handles one client socket's queries in order, so the lost ones must be one run of
    // consecutive ids: after the last the old process answered, before the first of the new.
    auto lost = load.unanswered();
    if (!lost.empty()) {
        int first = lost.front(), last = lost.back();
        EXPECT_EQ(int(lost.size()), last - first + 1)
            << "queries lost outside the restart gap: " << lost.size() << " lost between ids "
            << first << " and " << last;
        EXPECT_GE(load.sentAt(first) + 50ms, stopping) << "lost before the restart began";
        EXPECT_LE(load.sentAt(last), serving + 50ms) << "lost after the new dnsd was serving";
        EXPECT_GT(first, 0);
        EXPECT_LT(last, 1999) << "nothing was answered after the restart";
    }
    auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(serving - stopping);
    EXPECT_LT(gap, 3s);
    EXPECT_LE(int64_t(lost.size()), gap.count() + 100)
        << lost.size() << " lost in a " << gap.count() << " ms gap";
    EXPECT_EQ(load.bad(), 0);
    EXPECT_EQ(dnsdAnswer(), kPrimary) << "the new dnsd serves the current decision";
    RecordProperty("restart_gap_ms", int(gap.count()));
    RecordProperty("lost_queries", int(lost.size()));
}

}  // namespace
}  // namespace faults
