// Tests for zones/zone_file: master-file syntax in, records out, and the export format.
#include "zones/zone_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace zones {
namespace {

Name N(const char* text) {
    return *Name::fromText(text);
}

std::vector<uint8_t> bytes(std::initializer_list<int> list) {
    return std::vector<uint8_t>(list.begin(), list.end());
}

const Record& only(const ZoneFile& zf, const char* owner, uint16_t type) {
    auto matches = [&](const Record& r) { return r.owner == N(owner) && r.type == type; };
    EXPECT_EQ(std::count_if(zf.records.begin(), zf.records.end(), matches), 1)
        << owner << " type " << type;
    return *std::find_if(zf.records.begin(), zf.records.end(), matches);
}

// The error message for `text`, or "" if it parsed.
std::string errorOf(const std::string& text, std::optional<Name> zone = std::nullopt) {
    try {
        parseZoneText(text, "t.zone", zone);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

const char* kZone = R"(; a comment line
$ORIGIN Example.COM.
$TTL 1h
@   IN SOA ns1 hostmaster (   ; multi-line
        2024010101 ; serial
        7200 3600
        1209600 300 )
    IN NS ns1              ; owner omitted: the previous owner (the apex)
    NS ns2.example.com.
ns1 IN A 192.0.2.1
ns2 300 IN AAAA 2001:db8::2
www IN 60 A 192.0.2.10     ; class before TTL
    A 192.0.2.11           ; TTL omitted: $TTL
txt TXT "hello; world" "a (b" "q\"q"
mx  MX 10 mail
unknown TYPE65534 \# 3 abcdef
typed-generic A \# 4 c0000201
$ORIGIN sub                ; relative: sub.example.com.
@   NS ns.elsewhere.net.
$TTL 2d
a   A 192.0.2.99
)";

TEST(ZoneFile, ParsesDirectivesRelativeNamesAndMultiLineRecords) {
    ZoneFile zf = parseZoneText(kZone, "t.zone");
    EXPECT_EQ(zf.origin, N("example.com."));  // from the SOA owner, case folded
    EXPECT_EQ(zf.records.size(), 13u);

    const Record& soa = only(zf, "example.com.", rrtype::SOA);
    EXPECT_EQ(soa.line, 4);  // the line the record starts on, not where it ends
    EXPECT_EQ(soa.ttl, 3600u);
    // mname ns1.Example.COM. keeps its case inside RDATA; serial follows the two names.
    std::vector<uint8_t> mname =
        bytes({3, 'n', 's', '1', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'C', 'O', 'M', 0});
    ASSERT_GE(soa.rdata.size(), mname.size() + 20);
    EXPECT_TRUE(std::equal(mname.begin(), mname.end(), soa.rdata.begin()));
    std::vector<uint8_t> tail(soa.rdata.end() - 20, soa.rdata.end());
    EXPECT_EQ(tail, bytes({0x78, 0xa3, 0xf1, 0x75, 0,    0, 0x1c, 0x20, 0, 0,
                           0x0e, 0x10, 0,    0x12, 0x75, 0, 0,    0,    1, 0x2c}));

    int apexNs = 0;
    for (const auto& r : zf.records) {
        if (r.owner == N("example.com.") && r.type == rrtype::NS) {
            ++apexNs;
            EXPECT_TRUE(r.line == 8 || r.line == 9) << r.line;
        }
    }
    EXPECT_EQ(apexNs, 2);

    EXPECT_EQ(only(zf, "ns1.example.com.", rrtype::A).rdata, bytes({192, 0, 2, 1}));
    EXPECT_EQ(only(zf, "ns2.example.com.", rrtype::AAAA).ttl, 300u);
    int www = 0;
    for (const auto& r : zf.records) {
        if (r.owner != N("www.example.com.")) continue;
        ++www;
        EXPECT_EQ(r.type, rrtype::A);
        EXPECT_EQ(r.ttl, r.line == 12 ? 60u : 3600u);
    }
    EXPECT_EQ(www, 2);
    EXPECT_EQ(only(zf, "txt.example.com.", rrtype::TXT).rdata,
              bytes({12,  'h', 'e', 'l', 'l', 'o', ';', ' ', 'w', 'o', 'r',
                     'l', 'd', 4,   'a', ' ', '(', 'b', 3,   'q', '"', 'q'}));
    EXPECT_EQ(only(zf, "mx.example.com.", rrtype::MX).rdata,
              bytes({0,   10,  4,   'm', 'a', 'i', 'l', 7,   'E', 'x',
                     'a', 'm', 'p', 'l', 'e', 3,   'C', 'O', 'M', 0}));
    EXPECT_EQ(only(zf, "unknown.example.com.", 65534).rdata, bytes({0xab, 0xcd, 0xef}));
    EXPECT_EQ(only(zf, "typed-generic.example.com.", rrtype::A).rdata, bytes({192, 0, 2, 1}));
    EXPECT_EQ(only(zf, "sub.example.com.", rrtype::NS).line, 19);
    EXPECT_EQ(only(zf, "a.sub.example.com.", rrtype::A).ttl, 172800u);
}

TEST(ZoneFile, ZoneOptionSetsOriginAndApex) {
    ZoneFile zf = parseZoneText("@ 300 SOA ns hm 1 2 3 4 5\n@ 300 NS ns\nns 300 A 192.0.2.1\n",
                                "t.zone", N("example.org"));
    EXPECT_EQ(zf.origin, N("example.org."));
    EXPECT_EQ(only(zf, "ns.example.org.", rrtype::A).line, 3);
}

TEST(ZoneFile, GenericRdataMaySplitHexAndBeEmptyForUnknownTypes) {
    ZoneFile zf = parseZoneText("$TTL 60\n@ TYPE65000 \\# 0\n@ TYPE65001 \\# 3 ( ab cd\n ef )\n",
                                "t", N("x."));
    EXPECT_EQ(only(zf, "x.", 65000).rdata, bytes({}));
    EXPECT_EQ(only(zf, "x.", 65001).rdata, bytes({0xab, 0xcd, 0xef}));
}

TEST(ZoneFile, RelativeOriginsKeepTheCaseTheyWereWrittenIn) {
    ZoneFile zf = parseZoneText("$TTL 60\n$ORIGIN Sub\n$ORIGIN @\na CNAME b\n", "t", N("X.test."));
    const Record& r = only(zf, "a.sub.x.test.", rrtype::CNAME);
    EXPECT_EQ(r.rdata, bytes({1, 'b', 3, 'S', 'u', 'b', 1, 'x', 4, 't', 'e', 's', 't', 0}));
}

TEST(ZoneFile, DropsExactDuplicatesButKeepsTtlConflicts) {
    ZoneFile zf =
        parseZoneText("$ORIGIN x.\n$TTL 60\na A 192.0.2.1\nA.x. 60 A 192.0.2.1\na 61 A 192.0.2.1\n",
                      "t", N("x."));
    ASSERT_EQ(zf.records.size(), 2u);
    EXPECT_EQ(zf.records[0].line, 3);
    EXPECT_EQ(zf.records[1].ttl, 61u);
}

// Duplicates are one RR however they are spelled: addresses in another text form (A and AAAA
// are read without ldns), and names in RDATA in another case (compared canonically).
TEST(ZoneFile, DropsDuplicatesWrittenDifferently) {
    ZoneFile zf = parseZoneText(
        "$ORIGIN x.\n$TTL 60\n"
        "a AAAA 2001:db8::1\n"
        "a AAAA 2001:DB8:0:0:0:0:0:1\n"  // the same address
        "a AAAA 2001:db8::2\n"
        "a A 192.0.2.1\n"
        "A.X. A 192.0.2.1\n"
        "b NS ns.other.\n"
        "b NS NS.Other.\n"  // the same target
        "b NS ns2.other.\n",
        "t", N("x."));
    ASSERT_EQ(zf.records.size(), 5u);
    EXPECT_EQ(zf.records[0].line, 3);
    EXPECT_EQ(zf.records[1].line, 5);
    EXPECT_EQ(zf.records[2].line, 6);
    EXPECT_EQ(zf.records[3].line, 8);
    EXPECT_EQ(zf.records[4].line, 10);
    EXPECT_EQ(zf.records[0].rdata,
              (std::vector<uint8_t>{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
    EXPECT_EQ(zf.records[2].rdata, (std::vector<uint8_t>{192, 0, 2, 1}));
}

// Duplicates are dropped in one pass after reading (a few records looked up ahead): one far
// from its first, several in a row, and names in RDATA differing in case; the rest keep their
// order and lines.
TEST(ZoneFile, DropsDuplicatesFarApartAndKeepsTheOrder) {
    std::string text = "$ORIGIN x.\n$TTL 60\n";
    std::vector<int> expectedLines;
    int line = 3;
    for (int i = 0; i < 60; ++i, ++line) {
        text += "h" + std::to_string(i) + " A 192.0.2." + std::to_string(i) + "\n";
        expectedLines.push_back(line);
    }
    text += "h3 A 192.0.2.3\nH3 A 192.0.2.3\nh3.x. 60 IN A 192.0.2.3\n";  // lines 63-65
    line += 3;
    text += "m MX 10 mail.other.\n";  // line 66
    expectedLines.push_back(line++);
    for (int i = 0; i < 40; ++i, ++line) {
        text += "m MX 10 MAIL.Other.\nz" + std::to_string(i) + " TXT \"t\"\n";
        ++line;
        expectedLines.push_back(line);  // the TXT; the MX is the line 66 one again
    }
    text += "h59 A 192.0.2.59\nh0 61 A 192.0.2.0\n";  // a duplicate, then a TTL conflict
    line += 1;
    expectedLines.push_back(line);
    ZoneFile zf = parseZoneText(text, "t", N("x."));
    std::vector<int> lines;
    for (const Record& r : zf.records) lines.push_back(r.line);
    EXPECT_EQ(lines, expectedLines);
    EXPECT_EQ(zf.records.back().ttl, 61u);
}

// Export writes addresses itself; they read back as the same RDATA, in the same line form.
TEST(ZoneFile, ExportedAddressesReadBackTheSame) {
    ZoneFile zf = parseZoneText(
        "$ORIGIN x.\n$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.53\n"
        "v6 AAAA ::ffff:192.0.2.1\nv6 AAAA 2001:db8::\nv4 A 0.0.0.0\n",
        "t");
    std::string text = formatZoneFile(zf.origin, zf.records);
    for (const char* line :
         {"\nns.x.\t60\tIN\tA\t192.0.2.53\n", "\nv4.x.\t60\tIN\tA\t0.0.0.0\n",
          "\nv6.x.\t60\tIN\tAAAA\t2001:db8::\n", "\nv6.x.\t60\tIN\tAAAA\t::ffff:192.0.2.1\n"})
        EXPECT_NE(text.find(line), std::string::npos) << line << " in\n" << text;
    for (const Record& r : zf.records)
        if (r.type == rrtype::A || r.type == rrtype::AAAA)
            EXPECT_EQ(text.find(formatRecord(r) + "\n") != std::string::npos, true)
                << formatRecord(r) << " (ldns's form) in\n"
                << text;
    ZoneFile again = parseZoneText(text, "export.zone");
    ASSERT_EQ(again.records.size(), zf.records.size());
}

// canonicalRecordLess orders owners as RFC 4034 §6.1 does (its example list, in order), and
// agrees with Name::canonicalCompare on every pair.
TEST(ZoneFile, CanonicalRecordOrderIsRfc4034) {
    std::vector<const char*> texts = {"example.",         "a.example.",      "yljkjljk.a.example.",
                                      "Z.a.example.",     "zABC.a.EXAMPLE.", "z.example.",
                                      "\\001.z.example.", "*.z.example.",    "\\200.z.example."};
    std::vector<Record> records;
    for (const char* t : texts) records.push_back(Record{N(t), rrtype::A, rrclass::IN, 60, {}, 0});
    for (size_t i = 0; i < records.size(); ++i) {
        for (size_t j = 0; j < records.size(); ++j) {
            EXPECT_EQ(canonicalRecordLess(records[i], records[j]), i < j)
                << texts[i] << " vs " << texts[j];
            EXPECT_EQ(records[i].owner.canonicalCompare(records[j].owner) < 0, i < j)
                << texts[i] << " vs " << texts[j];
        }
    }
}

TEST(ZoneFile, ErrorsNameFileAndLine) {
    struct Case {
        std::string text;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {"$ORIGIN x.\n$TTL 60\nwww A 192.0.2\n", "t.zone:3: bad A record for www.x.: "},
        {"$ORIGIN x.\n$TTL 1x\n", "t.zone:2: bad $TTL value '1x'"},
        {"$ORIGIN x.\n$TTL 60\n\n@ SOA ( a b\n 1 2 3 4 5\n", "t.zone:4: '(' is never closed"},
        {"$ORIGIN x.\n@ 60 A 192.0.2.1 )\n", "t.zone:2: ')' without a matching '('"},
        {"$ORIGIN x.\n@ 60 TXT \"abc\n", "t.zone:2: quoted string not closed"},
        {"$ORIGIN x.\n@ 60 CH TXT \"abc\"\n", "t.zone:2: class CH is not supported (only IN)"},
        {"$ORIGIN x.\n@ 60 FOO abc\n", "t.zone:2: unknown RR type 'FOO'"},
        {"$ORIGIN x.\n@ 60 AXFR\n", "t.zone:2: type AXFR cannot appear in a zone"},
        {"$INCLUDE other.zone\n", "t.zone:1: $INCLUDE is not supported"},
        {"$GENERATE 1-2 a$ A 192.0.2.1\n", "t.zone:1: unknown directive $GENERATE"},
        {"$ORIGIN x.\n  60 A 192.0.2.1\n", "t.zone:2: record has no owner name"},
        {"www 60 A 192.0.2.1\n", "t.zone:1: owner name 'www' is relative but no origin"},
        {"x. 60 NS ns\n", "t.zone:1: a name in the NS RDATA is relative but no origin"},
        {"$ORIGIN x.\na..b 60 A 192.0.2.1\n", "t.zone:2: bad owner name 'a..b'"},
        {"$ORIGIN x.\n@ A 192.0.2.1\n", "t.zone:2: record has no TTL and there is no $TTL"},
        {"$ORIGIN x.\n@ 1h30 A 192.0.2.1\n", "t.zone:2: bad TTL '1h30'"},
        {"$ORIGIN x.\n@ 60 A 192.0.2.1 192.0.2.2\n", "t.zone:2: bad A record for x.: "},
        {"$ORIGIN x.\n@ 60 A 192.0.2.256\n", "t.zone:2: bad A record for x.: "},
        {"$ORIGIN x.\n@ 60 A \"192.0.2.1\"\n", "t.zone:2: bad A record for x.: "},
        {"$ORIGIN x.\n@ 60 AAAA 2001:db8:::1\n", "t.zone:2: bad AAAA record for x.: "},
        {"$ORIGIN x.\n@ 60 AAAA 192.0.2.1\n", "t.zone:2: bad AAAA record for x.: "},
        {"$ORIGIN x.\n@ 60 TYPE65534 \\# 3 ab\n",
         "t.zone:2: RFC 3597 RDATA says 3 octets but has 1"},
        {"$ORIGIN x.\n@ 60 A \\# c0000201\n", "t.zone:2: bad RFC 3597 RDATA length 'c0000201'"},
        {"$ORIGIN x.\n@ 60 A \\# 5 c000020101\n",
         "t.zone:2: RFC 3597 RDATA is not a valid A record"},
        {"$ORIGIN x.\n@ 60 A \\# 0\n", "t.zone:2: RFC 3597 RDATA is not a valid A record"},
        {"$ORIGIN x.\n@ 60 MX \\# 2 000a\n", "t.zone:2: RFC 3597 RDATA is not a valid MX record"},
        {"$ORIGIN x.\n@ 60 TYPE65534 \\# 2 0g\n", "t.zone:2: bad hex in RFC 3597 RDATA '0g'"},
        {"$ORIGIN x.\n@ 60 MX 10\n", "t.zone:2: bad MX record for x.: "},
        {"$ORIGIN x.\n@ 60 A 192.0.2.1\n", "t.zone: no SOA record, so the zone name is unknown"},
    };
    for (const auto& c : cases) {
        std::string error = errorOf(c.text);
        EXPECT_EQ(error.rfind(c.expected, 0), 0u)
            << "input:\n"
            << c.text << "\nerror: " << error << "\nexpected start: " << c.expected;
        EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    }
}

// One parse reports every bad entry, in line order, and goes on after each: a bad line does
// not hide the next one, and the entries around them do not turn into false problems.
TEST(ZoneFile, EveryBadEntryIsReported) {
    const std::string text =
        "$ORIGIN x.\n$TTL 60\n"
        "a A 192.0.2.300\n"           // 3
        "  A 192.0.2.1\n"             // owner a. from the bad line before: fine
        "b 60 FOO 1\n"                // 5
        "c ( 60 A\n 192.0.2.1 ) )\n"  // 7: the second ')'
        "d TXT \"open\n"              // 8
        "e A 192.0.2.5\n"
        "$TTL 1x\n"                             // 10
        "f MX 10\n"                             // 11
        + std::string("g A 192.0.2.7\0\n", 15)  // 12: a NUL byte
        + "h A 192.0.2.8\n";
    try {
        parseZoneText(std::string_view(text.data(), text.size()), "t.zone");
        FAIL() << "no error";
    } catch (const ZoneFileError& e) {
        std::vector<std::string> starts = {
            "t.zone:3: bad A record for a.x.: ",
            "t.zone:5: unknown RR type 'FOO'",
            "t.zone:7: ')' without a matching '('",
            "t.zone:8: quoted string not closed on its line",
            "t.zone:10: bad $TTL value '1x'",
            "t.zone:11: bad MX record for f.x.: ",
            "t.zone:12: NUL byte in the file",
        };
        const auto& got = e.problems();
        ASSERT_EQ(got.size(), starts.size()) << e.what();
        for (size_t i = 0; i < got.size(); ++i)
            EXPECT_EQ(got[i].rfind(starts[i], 0), 0u) << got[i] << "\nexpected: " << starts[i];
        std::string what = e.what();
        EXPECT_EQ(std::count(what.begin(), what.end(), '\n'), long(starts.size() - 1)) << what;
    }
}

TEST(ZoneFile, MissingFileIsAClearError) {
    try {
        loadZoneFile("/nonexistent/dir/x.zone");
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "/nonexistent/dir/x.zone: cannot open: No such file or directory");
    }
}

TEST(ZoneFile, FormatThenParseGivesTheSameRecords) {
    ZoneFile zf = parseZoneText(kZone, "t.zone");
    std::string text = formatZoneFile(zf.origin, zf.records);
    EXPECT_EQ(text.find("$ORIGIN example.com.\nexample.com.\t3600\tIN\tSOA\t"),
              text.find("$ORIGIN"))
        << "SOA must come first:\n"
        << text;
    // Unknown types stay in RFC 3597 form; well-known ones in their usual form.
    EXPECT_NE(text.find("unknown.example.com.\t3600\tIN\tTYPE65534\t\\# 3 abcdef"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("typed-generic.example.com.\t3600\tIN\tA\t192.0.2.1"), std::string::npos);

    ZoneFile again = parseZoneText(text, "export.zone");
    auto sorted = [](std::vector<Record> v) {
        std::sort(v.begin(), v.end(), canonicalRecordLess);
        return v;
    };
    auto a = sorted(zf.records), b = sorted(again.records);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].owner, b[i].owner);
        EXPECT_EQ(a[i].type, b[i].type);
        EXPECT_EQ(a[i].ttl, b[i].ttl);
        EXPECT_EQ(a[i].rdata, b[i].rdata) << formatRecord(a[i]);
    }
}

TEST(ZoneFile, ParsesSingleRecordsForRecordAdd) {
    RecordText rt = parseRecordText("www 300 IN A 192.0.2.1", N("example.com."));
    EXPECT_EQ(rt.record.owner, N("www.example.com."));
    EXPECT_TRUE(rt.ttlGiven);
    EXPECT_EQ(rt.record.ttl, 300u);
    rt = parseRecordText("@ MX 10 mail", N("example.com."));
    EXPECT_FALSE(rt.ttlGiven);
    EXPECT_EQ(rt.record.owner, N("example.com."));
    EXPECT_EQ(rt.record.type, rrtype::MX);
    EXPECT_THROW(parseRecordText("www 300 IN A 192.0.2", N("example.com.")), std::runtime_error);
    EXPECT_THROW(parseRecordText("a A 192.0.2.1\nb A 192.0.2.2", N("example.com.")),
                 std::runtime_error);
    EXPECT_THROW(parseRecordText("", N("example.com.")), std::runtime_error);
    EXPECT_EQ(parseRdataText(rrtype::A, "192.0.2.7", N("x.")), bytes({192, 0, 2, 7}));
}

// A small deterministic fuzz: mutated zone files either load or fail with one runtime_error,
// and whatever loads survives export and re-import unchanged.
TEST(ZoneFile, MutatedInputLoadsOrFailsCleanlyAndRoundTrips) {
    std::mt19937 rng(20240601);
    const std::string alphabet = "();\"\\\n \t$@.*0123456789abcxyzAZ#-";
    int loaded = 0, rejected = 0;
    for (int i = 0; i < 3000; ++i) {
        std::string text = kZone;
        int edits = 1 + int(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            size_t at = rng() % text.size();
            char c = alphabet[rng() % alphabet.size()];
            switch (rng() % 3) {
                case 0:
                    text[at] = c;
                    break;
                case 1:
                    text.insert(text.begin() + long(at), c);
                    break;
                default:
                    text.erase(at, 1 + rng() % 8);
            }
        }
        ZoneFile zf;
        try {
            zf = parseZoneText(text, "m.zone", N("example.com."));
        } catch (const std::runtime_error& e) {
            ++rejected;
            EXPECT_EQ(std::string(e.what()).rfind("m.zone", 0), 0u) << e.what();
            continue;
        }
        ++loaded;
        std::string exported = formatZoneFile(zf.origin, zf.records);
        ZoneFile again;
        try {
            again = parseZoneText(exported, "export.zone", zf.origin);
        } catch (const std::runtime_error& e) {
            ADD_FAILURE() << e.what() << "\ninput:\n" << text << "\nexport:\n" << exported;
            continue;
        }
        auto sorted = [](std::vector<Record> v) {
            std::sort(v.begin(), v.end(), canonicalRecordLess);
            return v;
        };
        auto a = sorted(zf.records), b = sorted(again.records);
        ASSERT_EQ(a.size(), b.size()) << "input:\n" << text << "\nexport:\n" << exported;
        for (size_t k = 0; k < a.size(); ++k) {
            EXPECT_TRUE(a[k].owner == b[k].owner && a[k].type == b[k].type &&
                        a[k].ttl == b[k].ttl && a[k].rdata == b[k].rdata)
                << formatRecord(a[k]) << " vs " << formatRecord(b[k]) << "\ninput:\n"
                << text;
        }
    }
    // Both outcomes must actually be exercised for the test to mean anything.
    EXPECT_GT(loaded, 100);
    EXPECT_GT(rejected, 100);
}

TEST(ZoneFile, TypeMnemonics) {
    EXPECT_EQ(rrTypeFromText("aaaa"), rrtype::AAAA);
    EXPECT_EQ(rrTypeFromText("TYPE65534"), 65534);
    EXPECT_EQ(rrTypeFromText("NOPE"), std::nullopt);
    EXPECT_EQ(rrTypeToText(rrtype::SRV), "SRV");
    EXPECT_EQ(rrTypeToText(65534), "TYPE65534");
}

}  // namespace
}  // namespace zones
