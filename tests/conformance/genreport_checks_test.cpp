// The genreport verdicts (genreport_checks.hpp) must pass a correct answer and name each
// fault the tool would name; otherwise Conformance.DnsdAnswersLikeNsd proves nothing about
// the tool. Responses are built byte by byte so every fault is exactly one change.
#include <gtest/gtest.h>

#include "tests/conformance/genreport_checks.hpp"
#include "tests/conformance/special_queries.hpp"

namespace {

using namespace conformance::detail;
using conformance::genreportProblems;
using testsupport::DnsMessage;
using Tags = std::vector<std::string>;

const std::vector<uint8_t> kOption100{0, 100, 0, 0};
const std::vector<uint8_t> kClientCookie{0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};

std::vector<uint8_t> cat(std::vector<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> v;
    for (const auto& p : parts) v.insert(v.end(), p.begin(), p.end());
    return v;
}

std::vector<uint8_t> question() {
    return questionBytes("example.test.", kSoa, 1);
}

// The apex SOA, owner compressed to the question name, root names in its RDATA.
std::vector<uint8_t> soaRr() {
    std::vector<uint8_t> v{0xC0, 0x0C};
    put16(v, kSoa);
    put16(v, 1);
    put16(v, 0);
    put16(v, 3600);
    put16(v, 22);
    v.push_back(0);
    v.push_back(0);
    for (int i = 0; i < 10; ++i) put16(v, 1);
    return v;
}

std::vector<uint8_t> ednsQuery(uint8_t version, const std::vector<uint8_t>& options) {
    return rawMessage(1, 0, 1, 0, 0, 1, cat({question(), optRr(4096, version, 0, options)}));
}

struct Reply {
    uint16_t flags = 0x8400;  // QR AA, NOERROR
    bool soa = true;
    bool opt = true;
    uint8_t version = 0;
    uint16_t ednsFlags = 0;
    std::vector<uint8_t> options = {};
    uint8_t extRcode = 0;
};

DnsMessage reply(const Reply& r) {
    auto body = question();
    if (r.soa) body = cat({body, soaRr()});
    if (r.opt) {
        auto opt = optRr(1232, r.version, r.ednsFlags, r.options);
        opt[3 + 2] = r.extRcode;  // after root owner, type and class
        body = cat({body, opt});
    }
    return DnsMessage(rawMessage(1, r.flags, 1, r.soa ? 1 : 0, 0, r.opt ? 1 : 0, body));
}

TEST(GenreportChecks, CorrectAnswersPass) {
    EXPECT_EQ(genreportProblems(ednsQuery(0, kOption100), reply({}), 4096), Tags{});
    auto plain = rawMessage(1, 0, 1, 0, 0, 0, question());
    EXPECT_EQ(genreportProblems(plain, reply({.opt = false}), 512), Tags{});
    Reply badvers{.soa = false, .extRcode = 1};
    EXPECT_EQ(genreportProblems(ednsQuery(1, {}), reply(badvers), 4096), Tags{});
    auto opcode15 = rawMessage(1, 15 << 11, 0, 0, 0, 0, {});
    EXPECT_EQ(genreportProblems(opcode15, DnsMessage(rawMessage(1, 0xF804, 0, 0, 0, 0, {})), 512),
              Tags{});
}

TEST(GenreportChecks, EachFaultIsNamed) {
    auto q = ednsQuery(0, kOption100);
    EXPECT_EQ(genreportProblems(q, reply({.flags = 0x8000}), 4096), Tags{"noaa"});
    EXPECT_EQ(genreportProblems(q, reply({.flags = 0x8440}), 4096), Tags{"z"});
    EXPECT_EQ(genreportProblems(q, reply({.flags = 0x8500}), 4096), Tags{"rd"});
    EXPECT_EQ(genreportProblems(q, reply({.flags = 0x8420}), 4096), Tags{"ad"});
    EXPECT_EQ(genreportProblems(q, reply({.flags = 0x8410}), 4096), Tags{"cd"});
    EXPECT_EQ(genreportProblems(q, reply({.flags = 0x8405, .soa = false}), 4096), Tags{"rcode 5"});
    EXPECT_EQ(genreportProblems(q, reply({.soa = false}), 4096), Tags{"nosoa"});
    EXPECT_EQ(genreportProblems(q, reply({.opt = false}), 4096), Tags{"noopt"});
    EXPECT_EQ(genreportProblems(q, reply({.options = kOption100}), 4096), Tags{"echoed"});
    EXPECT_EQ(genreportProblems(q, reply({.ednsFlags = 0x0080}), 4096), Tags{"mbz"});
    EXPECT_EQ(genreportProblems(q, reply({}), 40), Tags{"toobig"});
    auto rd = rawMessage(1, 0x0100, 1, 0, 0, 1, cat({question(), optRr(4096, 0, 0, {})}));
    EXPECT_EQ(genreportProblems(rd, reply({}), 4096), Tags{"nord"});
    auto plain = rawMessage(1, 0, 1, 0, 0, 0, question());
    EXPECT_EQ(genreportProblems(plain, reply({}), 512), Tags{"opt"});
}

TEST(GenreportChecks, VersionsAndOpcodes) {
    // Version 1 answered as if it were 0: NOERROR and an SOA instead of BADVERS.
    EXPECT_EQ(genreportProblems(ednsQuery(1, {}), reply({}), 4096),
              (Tags{"rcode 0", "badversion", "soa"}));
    EXPECT_EQ(genreportProblems(ednsQuery(1, {}), reply({.soa = false, .version = 1}), 4096),
              (Tags{"rcode 0", "version-not-zero"}));
    // Opcode 15 answered with the query's RD and CD copied, or with a question and AA.
    auto opcode15 = rawMessage(1, 15 << 11 | 0x07F0, 0, 0, 0, 0, {});
    EXPECT_EQ(genreportProblems(opcode15, DnsMessage(rawMessage(1, 0xF914, 0, 0, 0, 0, {})), 512),
              (Tags{"rd", "cd"}));
    EXPECT_EQ(
        genreportProblems(opcode15, DnsMessage(rawMessage(1, 0xFC84, 1, 0, 0, 0, question())), 512),
        (Tags{"non-empty-question-section", "aa", "ra"}));
    EXPECT_EQ(genreportProblems(opcode15, DnsMessage(rawMessage(1, 0xF805, 0, 0, 0, 0, {})), 512),
              Tags{"rcode 5"});
}

TEST(GenreportChecks, CookiesAndMalformedAnswers) {
    auto q = ednsQuery(0, kClientCookie);
    auto serverCookie = [](uint8_t first) {
        std::vector<uint8_t> v{0, 10, 0, 24, first, 2, 3, 4, 5, 6, 7, 8};
        v.insert(v.end(), 16, 0xAB);
        return v;
    };
    EXPECT_EQ(genreportProblems(q, reply({.options = serverCookie(1)}), 4096), Tags{});
    EXPECT_EQ(genreportProblems(q, reply({.options = serverCookie(9)}), 4096),
              Tags{"cookie-mismatch"});
    auto bytes = reply({}).bytes();
    bytes.push_back(0);  // a byte after the last record
    EXPECT_EQ(genreportProblems(q, DnsMessage(bytes), 4096), Tags{"malformed"});
}

}  // namespace
