// Tests for zones/zone_validator: each rule, with the file and line it reports.
#include "zones/zone_validator.hpp"

#include <gtest/gtest.h>

#include "zones/zone_file.hpp"

namespace zones {
namespace {

const char* kGood = R"($ORIGIN example.com.
$TTL 300
@       SOA ns1 hostmaster 1 7200 3600 1209600 300
@       NS  ns1
@       NS  ns.other.net.
ns1     A   192.0.2.1
www     CNAME web
www     RRSIG A 8 3 300 20300101000000 20200101000000 12345 example.com. AAAA
web     A   192.0.2.2
sub     NS  ns.sub
sub     DS  60485 5 1 2bb183af5f22588179a53b0a98631fad1a292118
ns.sub  AAAA 2001:db8::1
)";

std::vector<std::string> problemsIn(const std::string& extra) {
    ZoneFile zf =
        parseZoneText(std::string(kGood) + extra, "z.zone", *Name::fromText("example.com."));
    return ZoneValidator::findProblems(zf.origin, zf.records, "z.zone");
}

TEST(ZoneValidator, AcceptsAValidZone) {
    EXPECT_EQ(problemsIn(""), std::vector<std::string>{});
}

TEST(ZoneValidator, EachRuleReportsFileAndLine) {
    // The good zone has 12 lines, so the first extra line is line 13.
    struct Case {
        std::string extra;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {"host.example.org. A 192.0.2.9\n",
         "z.zone:13: host.example.org. A is outside the zone example.com."},
        {"sub2 SOA ns1 hostmaster 1 2 3 4 5\n",
         "z.zone:13: SOA record at sub2.example.com.: the SOA belongs at the apex example.com."},
        {"@ SOA ns2 hostmaster 2 2 3 4 5\n",
         "z.zone:13: second SOA record at the apex example.com. (a zone has exactly one SOA; the "
         "first is at line 3)"},
        {"del NS ns.del\n",
         "z.zone:13: NS target ns.del.example.com. of del.example.com. is inside the zone but has "
         "no A or AAAA record (glue)"},
        {"@ NS ns2\n",
         "z.zone:13: NS target ns2.example.com. of example.com. is inside the zone but has no A or "
         "AAAA record"},
        {"www A 192.0.2.3\n",
         "z.zone:13: CNAME at www.example.com. (line 7) cannot coexist with other data: A (line "
         "13)"},
        {"www CNAME other\n",
         "z.zone:13: second CNAME at www.example.com. (the first is at line 7); a name has at most "
         "one CNAME"},
        {"web 60 A 192.0.2.3\n",
         "z.zone:13: TTL 60 differs from TTL 300 of the web.example.com. A RRset (line 9); an "
         "RRset has one TTL (RFC 2181 §5.2)"},
    };
    for (const auto& c : cases) {
        auto problems = problemsIn(c.extra);
        ASSERT_EQ(problems.size(), 1u) << c.extra;
        EXPECT_EQ(problems[0], c.expected);
    }
}

// Owners are grouped through a table whose slots are looked up a few records ahead: a
// record whose owner came long before (or never, or only in another class) still joins it.
TEST(ZoneValidator, RecordsOfOneOwnerFarApartAreOneGroup) {
    std::string filler;
    for (int i = 0; i < 100; ++i) filler += "h" + std::to_string(i) + " A 192.0.2.9\n";
    auto problems = problemsIn(filler + "www A 192.0.2.3\n" + filler + "h7 60 A 192.0.2.10\n" +
                               "del NS ns.del\n");
    ASSERT_EQ(problems.size(), 3u);
    EXPECT_EQ(problems[0],
              "z.zone:113: CNAME at www.example.com. (line 7) cannot coexist with other data: A "
              "(line 113)");
    EXPECT_EQ(problems[1],
              "z.zone:214: TTL 60 differs from TTL 300 of the h7.example.com. A RRset (line 20); "
              "an RRset has one TTL (RFC 2181 §5.2)");
    EXPECT_EQ(problems[2],
              "z.zone:215: NS target ns.del.example.com. of del.example.com. is inside the zone "
              "but has no A or AAAA record (glue)");
}

TEST(ZoneValidator, MissingSoaAndApexNsHaveNoLine) {
    ZoneFile zf = parseZoneText("$TTL 300\nwww A 192.0.2.1\n", "z.zone", *Name::fromText("x."));
    auto problems = ZoneValidator::findProblems(zf.origin, zf.records, "z.zone");
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0], "z.zone: no NS records at the apex x.");
    EXPECT_EQ(problems[1], "z.zone: no SOA record at the apex x.");
}

TEST(ZoneValidator, OnlyClassInIsAccepted) {
    ZoneFile zf = parseZoneText(kGood, "z.zone", *Name::fromText("example.com."));
    zf.records[1].rclass = rrclass::CH;
    auto problems = ZoneValidator::findProblems(zf.origin, zf.records, "z.zone");
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0], "z.zone:4: class 3 record at example.com.: only class IN is supported");
}

TEST(ZoneValidator, ValidateThrowsTheFirstProblemAndCountsTheRest) {
    ZoneFile zf = parseZoneText(std::string(kGood) + "www A 192.0.2.3\nout.org. A 192.0.2.1\n",
                                "z.zone", *Name::fromText("example.com."));
    try {
        ZoneValidator::validate(zf.origin, zf.records, "z.zone");
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        std::string what = e.what();
        EXPECT_EQ(what.rfind("z.zone:13: CNAME at www.example.com.", 0), 0u) << what;
        EXPECT_NE(what.find("(and 1 more problem)"), std::string::npos) << what;
    }
}

TEST(ZoneValidator, CheckSealsAValidZoneOrReturnsEveryProblem) {
    ZoneFile good = parseZoneText(kGood, "z.zone", *Name::fromText("example.com."));
    auto checked = ZoneValidator::check(good.origin, good.records, "z.zone");
    ASSERT_TRUE(std::holds_alternative<ValidZone>(checked));
    const ValidZone& valid = std::get<ValidZone>(checked);
    EXPECT_EQ(valid.apex(), good.origin);
    ASSERT_EQ(valid.records().size(), good.records.size());
    for (size_t i = 0; i < good.records.size(); ++i)
        EXPECT_EQ(valid.records()[i].rdata, good.records[i].rdata);
    EXPECT_EQ(std::get<ValidZone>(std::move(checked)).takeRecords().size(), good.records.size());

    std::string extra = "www A 192.0.2.3\nout.org. A 192.0.2.1\n";
    ZoneFile bad =
        parseZoneText(std::string(kGood) + extra, "z.zone", *Name::fromText("example.com."));
    auto refused = ZoneValidator::check(bad.origin, bad.records, "z.zone");
    ASSERT_TRUE(std::holds_alternative<std::vector<std::string>>(refused));
    EXPECT_EQ(std::get<std::vector<std::string>>(refused), problemsIn(extra));
}

}  // namespace
}  // namespace zones
