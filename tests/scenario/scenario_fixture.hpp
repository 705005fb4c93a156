// Shared set-up for scenario tests: a real database file built with the real dnsctl from
// tests/scenario/zones/scenario.test.zone, and the real dnsd serving it on a free loopback
// port, with a 300 ms TCP idle timeout so idle handling can be observed quickly.
//
// Contract: after SetUp() dnsd answers scenario.test. authoritatively on 127.0.0.1 (and ::1
// when available); TearDown() fails the test if dnsd died meanwhile (a crash is never an
// acceptable reaction to any input).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"

namespace scenario {

using namespace testsupport;
using namespace std::chrono_literals;

inline std::string zonePath(const std::string& file) {
    return std::string(DNSD_SOURCE_DIR) + "/tests/scenario/zones/" + file;
}

// The owner-independent text of every RR in a section, e.g. "A 192.0.2.80".
inline std::vector<std::string> rdataTexts(const DnsMessage& m, Section s) {
    std::vector<std::string> out;
    for (const auto& rr : m.canonicalRrs(s)) {
        // canonical form: owner TAB ttl TAB class TAB type TAB rdata
        size_t pos = 0;
        for (int i = 0; i < 3 && pos != std::string::npos; ++i) pos = rr.find('\t', pos + 1);
        std::string rest = pos == std::string::npos ? rr : rr.substr(pos + 1);
        for (char& c : rest) {
            if (c == '\t') c = ' ';
        }
        out.push_back(rest);
    }
    return out;
}

inline bool hasRdata(const DnsMessage& m, const std::string& text) {
    auto v = rdataTexts(m, Section::Answer);
    return std::find(v.begin(), v.end(), text) != v.end();
}

class DnsdScenario : public ::testing::Test {
  protected:
    static constexpr int kIdleTimeoutMs = 300;

    void SetUp() override {
        dir_ = std::make_unique<TempDir>("dnsd-scenario");
        db_ = dir_->file("dnsd.db");
        createDatabase(db_, {zonePath("scenario.test.zone")});
        server_ = std::make_unique<DnsdServer>(
            db_, freePort(),
            std::vector<std::string>{"--tcp-idle-timeout", std::to_string(kIdleTimeoutMs)},
            "scenario.test.");
    }

    void TearDown() override {
        if (server_) {
            EXPECT_TRUE(server_->process().alive())
                << "dnsd died during the test: " << server_->process().describe();
        }
    }

    DnsClient client() const { return server_->client(); }

    std::optional<DnsMessage> ask(const std::string& name, uint16_t type,
                                  Transport t = Transport::Udp, uint16_t id = 4242) const {
        return client().query(QueryBuilder(name, type).id(id).build(), t, 2s);
    }

    DnsctlResult dnsctl(const std::vector<std::string>& args) const { return runDnsctl(db_, args); }

    // A good query still gets a correct answer over both transports.
    void expectStillServing(const std::string& after) const {
        for (Transport t : {Transport::Udp, Transport::Tcp}) {
            auto r = ask("www.scenario.test.", LDNS_RR_TYPE_A, t, 999);
            ASSERT_TRUE(r.has_value())
                << "no " << transportName(t) << " answer after " << after << "\n"
                << server_->process().describe();
            EXPECT_EQ(r->id(), 999);
            EXPECT_TRUE(hasRdata(*r, "A 192.0.2.80")) << after << "\n" << r->toString();
        }
        ASSERT_TRUE(server_->process().alive()) << after << ": " << server_->process().describe();
    }

    std::unique_ptr<TempDir> dir_;
    std::string db_;
    std::unique_ptr<DnsdServer> server_;
};

}  // namespace scenario
