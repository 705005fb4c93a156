// The comparator behind the conformance suite must see every real difference and ignore what
// DNS says is not one (owner-name case, RR order); otherwise the suite proves nothing.
#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/support/response_diff.hpp"

namespace {

using testsupport::diffResponses;
using testsupport::DnsMessage;

struct ResponseSpec {
    std::string qname = "www.example.test.";
    bool aa = true;
    uint8_t rcode = 0;
    std::vector<std::string> answer;
    bool edns = false;
    uint8_t extendedRcode = 0;
};

DnsMessage make(const ResponseSpec& spec) {
    ldns_rdf* name = nullptr;
    if (ldns_str2rdf_dname(&name, spec.qname.c_str()) != LDNS_STATUS_OK) {
        throw std::runtime_error("bad name");
    }
    std::unique_ptr<ldns_pkt, decltype(&ldns_pkt_free)> pkt(
        ldns_pkt_query_new(name, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0), ldns_pkt_free);
    ldns_pkt_set_id(pkt.get(), 77);
    ldns_pkt_set_qr(pkt.get(), true);
    ldns_pkt_set_aa(pkt.get(), spec.aa);
    ldns_pkt_set_rcode(pkt.get(), spec.rcode);
    for (const auto& text : spec.answer) {
        ldns_rr* rr = nullptr;
        if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
            throw std::runtime_error("bad rr " + text);
        }
        ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_ANSWER, rr);  // the packet owns rr now
    }
    if (spec.edns) {
        ldns_pkt_set_edns_udp_size(pkt.get(), 1232);
        ldns_pkt_set_edns_extended_rcode(pkt.get(), spec.extendedRcode);
    }
    uint8_t* wire = nullptr;
    size_t size = 0;
    if (ldns_pkt2wire(&wire, pkt.get(), &size) != LDNS_STATUS_OK) throw std::runtime_error("wire");
    std::vector<uint8_t> bytes(wire, wire + size);
    free(wire);
    return DnsMessage(std::move(bytes));
}

std::vector<std::string> fieldsOf(const std::vector<testsupport::Difference>& diffs) {
    std::vector<std::string> out;
    for (const auto& d : diffs) out.push_back(d.field);
    return out;
}

const std::string kA1 = "www.example.test. 300 IN A 192.0.2.1";
const std::string kA2 = "www.example.test. 300 IN A 192.0.2.2";

TEST(ResponseDiff, IdenticalResponsesHaveNoDifference) {
    ResponseSpec s;
    s.answer = {kA1, kA2};
    EXPECT_TRUE(diffResponses(make(s), make(s)).empty());
}

TEST(ResponseDiff, OrderAndOwnerCaseAreNotDifferences) {
    ResponseSpec a, b;
    a.answer = {kA1, kA2};
    b.answer = {"WWW.Example.TEST. 300 IN A 192.0.2.2", "www.EXAMPLE.test. 300 IN A 192.0.2.1"};
    EXPECT_TRUE(diffResponses(make(a), make(b)).empty());
}

TEST(ResponseDiff, QuestionCaseIsADifference) {
    ResponseSpec a, b;
    b.qname = "WWW.example.test.";
    EXPECT_EQ(fieldsOf(diffResponses(make(a), make(b))), std::vector<std::string>{"question"});
}

TEST(ResponseDiff, TtlRdataAndMissingRrsAreDifferences) {
    ResponseSpec a, b, c, d;
    a.answer = {kA1, kA2};
    b.answer = {"www.example.test. 301 IN A 192.0.2.1", kA2};
    c.answer = {kA1, "www.example.test. 300 IN A 192.0.2.3"};
    d.answer = {kA1};
    EXPECT_EQ(fieldsOf(diffResponses(make(a), make(b))), std::vector<std::string>{"answer"});
    EXPECT_EQ(fieldsOf(diffResponses(make(a), make(c))), std::vector<std::string>{"answer"});
    auto diffs = diffResponses(make(a), make(d));
    ASSERT_EQ(diffs.size(), 1u);
    EXPECT_NE(diffs[0].reference.find("192.0.2.2"), std::string::npos);
    EXPECT_EQ(diffs[0].candidate, "(none)");
}

TEST(ResponseDiff, DuplicateRrIsADifference) {
    ResponseSpec a, b;
    a.answer = {kA1};
    b.answer = {kA1, kA1};
    EXPECT_EQ(fieldsOf(diffResponses(make(a), make(b))), std::vector<std::string>{"answer"});
}

TEST(ResponseDiff, FlagsRcodeAndEdnsAreCompared) {
    ResponseSpec a, b;
    b.aa = false;
    b.rcode = 3;
    b.edns = true;
    EXPECT_EQ(fieldsOf(diffResponses(make(a), make(b))),
              (std::vector<std::string>{"flag.aa", "rcode", "edns"}));
}

TEST(ResponseDiff, ExtendedRcodeIsPartOfTheRcode) {
    ResponseSpec a, b;
    a.edns = b.edns = true;
    b.extendedRcode = 1;  // BADVERS = 16 = ext 1, header 0
    auto diffs = diffResponses(make(a), make(b));
    ASSERT_EQ(fieldsOf(diffs), std::vector<std::string>{"rcode"});
    EXPECT_EQ(diffs[0].candidate, "BADVERS");
}

TEST(ResponseDiff, MissingResponseIsADifference) {
    ResponseSpec a;
    EXPECT_EQ(fieldsOf(diffResponses(make(a), std::nullopt)), std::vector<std::string>{"presence"});
    EXPECT_TRUE(diffResponses(std::nullopt, std::nullopt).empty());
}

}  // namespace
