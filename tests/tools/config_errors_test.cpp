// Bad configuration files: each gives exit 1 and one message naming FILE:LINE and the object,
// from plan and from apply, and leaves the database byte for byte as it was.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/tools/config_fixture.hpp"

namespace configtest {
namespace {

struct BadFile {
    std::string name;
    std::string from, to;  // replaced in kBase ("" from: the whole file is `to`)
    std::string message;   // stderr must contain it (FILE is "bad.yaml" in the test's dir)
    friend void PrintTo(const BadFile& b, std::ostream* os) { *os << b.name; }
};

const std::string kOtherZone = kBase.substr(
    kBase.find("  other.test:\n"), kBase.find("probes:\n") - kBase.find("  other.test:\n"));

// Update policies and dnssec go in svc.test., after its secondary (line 14).
const std::string kPolicyAt = "        key: xfr\n";
const std::string kPolicies = "    update-policies:\n";

const std::vector<BadFile> kBad = {
    {"MalformedYaml", "", "version: 1\nzones:\n  svc.test:\n    records: [\"@ 300\"\n",
     "bad.yaml:5: "},
    {"TabIndentedYaml", "    type: tcp\n", "\ttype: tcp\n", "bad.yaml:21"},
    {"UnknownTopLevelKey", "version: 1\n", "version: 1\nzone:\n  x: 1\n",
     "bad.yaml:2: top level: unknown key 'zone'"},
    {"UnknownPoolKey", "    ttl: 30\n", "    tll: 30\n",
     "bad.yaml:31: pool www: unknown key 'tll' (known: zone, name, type, ttl"},
    {"UnknownProbeKey", "    port: 8080\n", "    prot: 8080\n",
     "bad.yaml:22: probe web: unknown key 'prot'"},
    {"UnknownMemberKey", "        priority: 2\n", "        prio: 2\n",
     "bad.yaml:37: pool www, member: unknown key 'prio'"},
    {"KeyTwice", "    ttl: 30\n", "    ttl: 30\n    ttl: 40\n",
     "bad.yaml:32: pool www: key 'ttl' given twice"},
    {"BadNumber", "    ttl: 30\n", "    ttl: thirty\n",
     "bad.yaml:31: pool www: ttl must be a whole number (got 'thirty')"},
    {"TtlOutOfRange", "    ttl: 30\n", "    ttl: 90000\n",
     "bad.yaml:27: pool www: ttl must be 0..86400 seconds"},
    {"BadAllDown", "    ttl: 30\n", "    ttl: 30\n    all-down: maybe\n",
     "bad.yaml:32: pool www: all-down must be serve-all, fallback or nodata (got 'maybe')"},
    {"BadDuration", "interval: 1s", "interval: 5 parsecs",
     "bad.yaml:23: probe web: '5 parsecs' is not a duration"},
    {"ProbeInvalid", "    port: 8080\n", "", "bad.yaml:20: probe web: tcp needs --port"},
    {"BadMemberAddress", "value: 127.0.0.12", "value: 2001:db8::12",
     "bad.yaml:36: pool www, member: "},
    {"MemberTwice", "value: 127.0.0.12", "value: 127.0.0.11",
     "bad.yaml:36: pool www, member 127.0.0.11: listed twice in the pool"},
    {"BadRecord", "\"static 300 IN A 127.0.0.9\"", "\"static 300 IN A 127.0.0.999\"",
     "bad.yaml:11: zone svc.test.: "},
    {"RecordBreaksZone", "\"static 300 IN A 127.0.0.9\"",
     "\"static 300 IN A 127.0.0.9\"\n      - \"static 300 IN CNAME ns1\"",
     "bad.yaml:12: CNAME at static.svc.test."},
    {"RecordsAndFile", "    records:\n      - \"@ 300 IN SOA ns1 hostmaster",
     "    file: x.zone\n    records:\n      - \"@ 300 IN SOA ns1 hostmaster",
     "bad.yaml:9: zone svc.test.: give records or a file, not both"},
    {"UnknownZoneKey", "  other.test:\n    records:\n",
     "  other.test:\n    file: nope.zone\n    x:\n",
     "bad.yaml:17: zone other.test.: unknown key 'x'"},
    {"MissingZoneFile", kOtherZone, "  other.test:\n    file: nope.zone\n",
     "bad.yaml:16: zone other.test.: "},  // then the zone file's path: cannot open
    {"SecretFileMissing", "secret-file: xfr.key", "secret-file: nowhere.key",
     "bad.yaml:4: key xfr: cannot read "},
    {"UnknownProbeOfMember", "        probes: [web]\n      - value: 127.0.0.12",
     "        probes: [nosuch]\n      - value: 127.0.0.12",
     "bad.yaml:33: pool www, member 127.0.0.11: no probe named nosuch"},
    {"UnknownProbeOfNewMember", "        priority: 2\n        probes: [web]\n",
     "        priority: 2\n        probes: [web]\n      - value: 127.0.0.13\n        probes: "
     "[nosuch]\n",
     "bad.yaml:39: pool www, member 127.0.0.13: no probe named nosuch"},
    {"ZoneTwice", "  other.test:\n", "  svc.test.:\n", "bad.yaml:15: zone svc.test.: given twice"},
    {"UnknownKeyOfSecondary", "        key: xfr\n", "        key: nosuch\n",
     "bad.yaml:13: zone svc.test. secondary 127.0.0.53:53: "},
    {"PoolOutsideZone", "    name: www\n", "    name: www.elsewhere.\n",
     "bad.yaml:29: pool www: www.elsewhere. is outside zone svc.test."},
    {"PolicyBadPattern", kPolicyAt,
     kPolicyAt + kPolicies + "      - key: xfr\n        name: a.*.b\n",
     "bad.yaml:17: zone svc.test. update-policy: --name 'a.*.b': a * may stand only as the first"},
    {"PolicyBadType", kPolicyAt,
     kPolicyAt + kPolicies + "      - key: xfr\n        types: [A, BOGUS]\n",
     "bad.yaml:17: zone svc.test. update-policy: --type 'BOGUS' is not a record type"},
    {"PolicyUnknownKey", kPolicyAt, kPolicyAt + kPolicies + "      - key: nosuch\n",
     "bad.yaml:16: zone svc.test. update-policy key nosuch. name * types any: no TSIG key nosuch."},
    {"PolicyTwice", kPolicyAt,
     kPolicyAt + kPolicies +
         "      - key: xfr\n        name: www\n      - key: xfr.\n        name: www\n",
     "bad.yaml:18: zone svc.test. update-policy: listed twice (key xfr. name www types any)"},
    {"DnssecUnknownAlgorithm", kPolicyAt, kPolicyAt + "    dnssec:\n      algorithm: rsasha1\n",
     "bad.yaml:16: zone svc.test. dnssec: unknown algorithm 'rsasha1'"},
    {"DnssecUnknownKey", kPolicyAt, kPolicyAt + "    dnssec:\n      ttl: 1h\n",
     "bad.yaml:16: zone svc.test. dnssec: unknown key 'ttl'"},
    {"DnssecNotWholeSeconds", kPolicyAt, kPolicyAt + "    dnssec:\n      ds-ttl: 1500ms\n",
     "bad.yaml:16: zone svc.test. dnssec: ds-ttl wants whole seconds"},
    {"DnssecTimingsThatCannotWork", kPolicyAt, kPolicyAt + "    dnssec:\n      sig-refresh: 20d\n",
     "bad.yaml:16: zone svc.test. dnssec: sig-refresh (20d) must be shorter than sig-validity "
     "(14d)"},
};

class ConfigError : public ConfigTest, public ::testing::WithParamInterface<BadFile> {};

TEST_P(ConfigError, NamesFileLineAndObjectAndWritesNothing) {
    const BadFile& bad = GetParam();
    ok({"init"});
    ok({"apply", write("base.yaml", kBase)});
    std::string text = bad.to;
    if (!bad.from.empty()) {
        text = kBase;
        auto at = text.find(bad.from);
        ASSERT_NE(at, std::string::npos) << bad.from;
        text.replace(at, bad.from.size(), bad.to);
    }
    std::string file = write("bad.yaml", text);
    std::string before = dump();
    for (const char* command : {"plan", "apply"}) {
        auto r = dnsctl({command, file});
        EXPECT_EQ(r.exitCode, 1) << command << "\n" << r.out << r.err;
        EXPECT_NE(r.err.find(file.substr(0, file.size() - 8) + bad.message), std::string::npos)
            << command << " said:\n"
            << r.err << "wanted: " << bad.message;
        EXPECT_EQ(r.out, "") << command;
        EXPECT_EQ(dump(), before) << command << " changed the database";
    }
}

INSTANTIATE_TEST_SUITE_P(Files, ConfigError, ::testing::ValuesIn(kBad),
                         [](const auto& info) { return info.param.name; });

TEST_F(ConfigTest, AMissingKeyReferenceFailsWithoutWriting) {
    ok({"init"});
    std::string text = kBase;
    text.replace(text.find("    secret-file: xfr.key\n"), 25, "");
    std::string file = write("nokey.yaml", text);
    std::string before = dump();
    auto r = dnsctl({"apply", file});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("nokey.yaml:3: key xfr.: no such key in the database"), std::string::npos)
        << r.err;
    EXPECT_EQ(dump(), before);
    // Once the key exists, the same file applies: keys are named, their secrets stay out.
    ok({"tsig", "add", "xfr", "--secret", kSecret});
    ok({"apply", file});
}

TEST_F(ConfigTest, PruneRefusesAPoolWhoseZoneItWouldRemove) {
    ok({"init"});
    ok({"apply", write("base.yaml", kBase)});
    std::string text = kBase;
    auto from = text.find("  svc.test:\n");
    auto to = text.find("  other.test:\n");
    text.erase(from, to - from);
    std::string file = write("nozone.yaml", text);
    std::string before = dump();
    auto r = dnsctl({"apply", file, "--prune"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("pool www: www.svc.test. is in no zone of the file"), std::string::npos)
        << r.err;
    EXPECT_EQ(dump(), before);
}

TEST_F(ConfigTest, ATabInTheIndentationIsNamed) {
    ok({"init"});
    std::string file = write("tab.yaml", "pools:\n  web:\n\tname: www.svc.test.\n");
    auto r = dnsctl({"plan", file});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find(file + ":3: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("(a tab in the indentation: YAML indents with spaces only)"),
              std::string::npos)
        << r.err;
}

TEST_F(ConfigTest, UsageErrorsExitOneNotTwo) {
    ok({"init"});
    auto r = dnsctl({"plan"});
    EXPECT_EQ(r.exitCode, 1) << r.err;  // 2 means "there are changes"
    EXPECT_NE(r.err.find("dnsctl plan: missing argument FILE"), std::string::npos) << r.err;
    r = dnsctl({"plan", dir_.file("absent.yaml")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("cannot read " + dir_.file("absent.yaml")), std::string::npos) << r.err;
}

}  // namespace
}  // namespace configtest
