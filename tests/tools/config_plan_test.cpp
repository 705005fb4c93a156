// `dnsctl plan` and `dnsctl apply` over a table of edits: each adds, removes or changes one
// object of every kind (records, SOA, journal bounds, secondaries, probes, pools, members,
// keys, zones), with and without --prune. For each row: the base file is applied to a new
// database; plan on the edited file exits 2 (0 when nothing is to change), prints the
// expected lines and writes nothing; apply changes what the row says in the database; a
// second plan finds nothing left to do.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tests/tools/config_fixture.hpp"

namespace configtest {
namespace {

struct Edit {
    std::string name;
    std::vector<std::pair<std::string, std::string>> replace;  // in kBase, each must be there
    bool prune = false;
    std::vector<std::string> planLines;  // each must be in plan's output
    std::string query;                   // one value read after apply ("" = none)
    std::string expected;
    bool changes = true;  // plan exits 2
    friend void PrintTo(const Edit& e, std::ostream* os) { *os << e.name; }
};

const std::string kStatic = "      - \"static 300 IN A 127.0.0.9\"\n";
const std::string kSecondary = "    secondaries:\n      - address: 127.0.0.53\n        key: xfr\n";
const std::string kProbes = "probes:\n";
const std::string kPools = "pools:\n";
const std::string kZones = "zones:\n";
const std::string kKeys = "keys:\n  xfr:\n    secret-file: xfr.key\n";
const std::string kOther =
    "  other.test:\n    records:\n      - \"@ 300 IN SOA ns1.svc.test. hostmaster 1 3600 600 "
    "86400 300\"\n      - \"@ 300 IN NS ns1.svc.test.\"\n";
const std::string kSecondMember =
    "      - value: 127.0.0.12\n        priority: 2\n        probes: [web]\n";
const std::string kPoolWww = kBase.substr(kBase.find("  www:\n"));

const std::vector<Edit> kEdits = {
    {"RecordAdded",
     {{kStatic, kStatic + "      - \"new 300 IN A 127.0.0.42\"\n"}},
     false,
     {"~ zone svc.test.", "    + new.svc.test. 300 IN A 127.0.0.42"},
     "SELECT count(*) FROM records WHERE owner = 'new.svc.test.'",
     "1"},
    {"RecordRemoved",
     {{kStatic, ""}},
     false,
     {"~ zone svc.test.", "    - static.svc.test. 300 IN A 127.0.0.9"},
     "SELECT count(*) FROM records WHERE owner = 'static.svc.test.'",
     "0"},
    {"RecordTtlChanged",
     {{"static 300", "static 60"}},
     false,
     {"- static.svc.test. 300 IN A 127.0.0.9", "+ static.svc.test. 60 IN A 127.0.0.9"},
     "SELECT ttl FROM records WHERE owner = 'static.svc.test.'",
     "60"},
    {"SoaChanged",
     {{"hostmaster 1 3600 600", "hostmaster 1 7200 600"}},
     false,
     {"~ zone svc.test.", "+ svc.test. 300 IN SOA ns1.svc.test. hostmaster.svc.test. 1 7200"},
     "",
     ""},
    {"JournalBoundsChanged",
     {{kSecondary, kSecondary + "    journal:\n      max-entries: 50\n      max-age: 1h\n"}},
     false,
     {"~ zone svc.test.", "journal max-entries: 1000 -> 50", "journal max-age: 168h -> 1h"},
     "SELECT journal_max_entries || ' ' || journal_max_age_ms FROM zones WHERE name = "
     "'svc.test.'",
     "50 3600000"},
    {"SecondaryAdded",
     {{kSecondary, kSecondary + "      - address: 127.0.0.54:5300\n"}},
     false,
     {"~ zone svc.test.", "+ secondary 127.0.0.54:5300 (unsigned)"},
     "SELECT count(*) FROM secondaries",
     "2"},
    {"SecondaryRemoved",
     {{kSecondary, ""}},
     false,
     {"~ zone svc.test.", "- secondary 127.0.0.53:53 (key xfr.)"},
     "SELECT count(*) FROM secondaries",
     "0"},
    {"SecondaryChanged",
     {{kSecondary, kSecondary + "        notify: false\n"}},
     false,
     {"~ secondary 127.0.0.53:53 (key xfr.) -> 127.0.0.53:53 (key xfr., no NOTIFY)"},
     "SELECT notify FROM secondaries",
     "0"},
    {"ProbeAdded",
     {{kProbes, kProbes + "  dns1:\n    type: dns\n    query: svc.test.\n    qtype: SOA\n"}},
     false,
     {"+ probe dns1", "    query: svc.test.", "    qtype: SOA"},
     "SELECT type || ' ' || query || ' ' || qtype FROM probes WHERE name = 'dns1'",
     "dns svc.test. 6"},
    {"ProbeChanged",
     {{"interval: 1s", "interval: 2s\n    rise: 3"}},
     false,
     {"~ probe web", "    interval: 1s -> 2s", "    rise: 2 -> 3"},
     "SELECT interval_ms || ' ' || rise FROM probes WHERE name = 'web'",
     "2000 3"},
    {"ProbeLeftOutIsKept",
     {{"  ping:\n    type: icmp\n", ""}},
     false,
     {"= probe ping (not in the file: left alone; apply --prune would remove it)", "no changes"},
     "SELECT count(*) FROM probes WHERE name = 'ping'",
     "1",
     false},
    {"ProbeRemovedWithPrune",
     {{"  ping:\n    type: icmp\n", ""}},
     true,
     {"- probe ping", "0 to add, 0 to change, 1 to remove"},
     "SELECT count(*) FROM probes WHERE name = 'ping'",
     "0"},
    {"PoolAdded",
     {{kPools, kPools + "  alias:\n    zone: svc.test\n    name: alias\n    type: CNAME\n"
                        "    members:\n      - www.svc.test.\n"}},
     false,
     {"+ pool alias", "    name: alias.svc.test.", "    type: CNAME",
      "    + member www.svc.test. (priority 1, weight 1, probes [])"},
     "SELECT owner || ' ' || rtype FROM pools WHERE name = 'alias'",
     "alias.svc.test. 5"},
    {"PoolChanged",
     {{"ttl: 30", "ttl: 45\n    failback: manual\n    quorum: any"}},
     false,
     {"~ pool www", "    ttl: 30 -> 45", "    failback: auto -> manual",
      "    quorum: majority -> any"},
     "SELECT ttl || ' ' || failback || ' ' || quorum FROM pools WHERE name = 'www'",
     "45 manual any"},
    {"PoolMovedIsReplaced",
     {{"    name: www\n", "    name: web\n"}},
     false,
     {"-/+ pool www (replaced)", "    name: www.svc.test. -> web.svc.test."},
     "SELECT owner FROM pools WHERE name = 'www'",
     "web.svc.test."},
    {"PoolLeftOutIsKept",
     {{kPoolWww, ""}},
     false,
     {"= pool www (not in the file: left alone; apply --prune would remove it)"},
     "SELECT count(*) FROM pools",
     "1",
     false},
    {"PoolRemovedWithPrune",
     {{kPoolWww, ""}},
     true,
     {"- pool www", "    2 members"},
     "SELECT count(*) FROM pools",
     "0"},
    {"MemberAdded",
     {{kSecondMember, kSecondMember + "      - value: 127.0.0.13\n        priority: 3\n"}},
     false,
     {"~ pool www", "    + member 127.0.0.13 (priority 3, weight 1, probes [])"},
     "SELECT count(*) FROM members",
     "3"},
    {"MemberRemoved",
     {{kSecondMember, ""}},
     false,
     {"~ pool www", "    - member 127.0.0.12"},
     "SELECT group_concat(value) FROM members",
     "127.0.0.11"},
    {"MemberChanged",
     {{"        priority: 2\n        probes: [web]\n", "        priority: 3\n        weight: 5\n"}},
     false,
     {"~ pool www",
      "    ~ member 127.0.0.12: priority: 2 -> 3, weight: 1 -> 5, probes: [web] -> []"},
     "SELECT priority || ' ' || weight || ' ' || (SELECT count(*) FROM member_probes mp WHERE "
     "mp.member_id = m.id) FROM members m WHERE value = '127.0.0.12'",
     "3 5 0"},
    {"KeyAdded",
     {{kKeys, kKeys + "  xfr2:\n    algorithm: hmac-sha512\n    secret-file: xfr2.key\n"}},
     false,
     {"+ key xfr2.", "    algorithm hmac-sha512, secret from xfr2.key"},
     "SELECT algorithm FROM tsig_keys WHERE name = 'xfr2.'",
     "hmac-sha512"},
    {"KeySecretChanged",
     {{"secret-file: xfr.key", "secret-file: xfr2.key"}},
     false,
     {"~ key xfr.", "    secret: replaced by the one in xfr2.key"},
     "SELECT secret FROM tsig_keys WHERE name = 'xfr.'",
     kOtherSecret},
    {"KeyRemovedWithPrune",
     {{kKeys, ""}, {kSecondary, ""}},
     true,
     {"- key xfr.", "- secondary 127.0.0.53:53 (key xfr.)"},
     "SELECT count(*) FROM tsig_keys",
     "0"},
    {"ZoneAdded",
     {{kZones, kZones + "  third.test:\n    records:\n      - \"@ 60 IN SOA ns1.svc.test. h 7 "
                        "3600 600 86400 60\"\n      - \"@ IN NS ns1.svc.test.\"\n"}},
     false,
     {"+ zone third.test.", "    2 records"},
     "SELECT count(*) FROM records r JOIN zones z ON z.id = r.zone_id WHERE z.name = "
     "'third.test.' AND r.ttl = 60",
     "2"},
    {"ZoneLeftOutIsKept",
     {{kOther, ""}},
     false,
     {"= zone other.test. (not in the file"},
     "SELECT count(*) FROM zones",
     "2",
     false},
    {"UpdatePolicyAdded",
     {{kSecondary, kSecondary + "    update-policies:\n      - key: xfr\n        name: \"*.dyn\"\n"
                                "        types: [a, AAAA]\n"}},
     false,
     {"~ zone svc.test.", "    + update-policy key xfr. name *.dyn types A AAAA"},
     "SELECT name || ' ' || types FROM update_policies",
     "*.dyn A AAAA"},
    {"DnssecEnabled",
     {{kSecondary,
       kSecondary + "    dnssec:\n      algorithm: ed25519\n      zsk-lifetime: 30d\n"}},
     false,
     {"~ zone svc.test.",
      "    + dnssec: signed (algorithm ed25519, dnskey-ttl 1h, propagation-delay 1h, "
      "zsk-lifetime 30d, sig-validity 14d, sig-refresh 7d, ds-ttl 1d)"},
     "SELECT state || ' ' || algorithm || ' ' || zsk_lifetime || ' ' || (SELECT count(*) FROM "
     "dnssec_keys WHERE state = 'active') FROM dnssec_zones",
     "signed 15 2592000 2"},
    {"ZoneAddedSigned",
     {{kZones, kZones +
                   "  third.test:\n    dnssec: true\n    records:\n      - \"@ 60 IN SOA "
                   "ns1.svc.test. h 7 3600 600 86400 60\"\n      - \"@ IN NS ns1.svc.test.\"\n"}},
     false,
     {"+ zone third.test.", "    2 records", "    + dnssec: signed (algorithm ecdsap256sha256"},
     "SELECT z.name || ' ' || d.algorithm FROM dnssec_zones d JOIN zones z ON z.id = d.zone_id",
     "third.test. 13"},
    {"ZoneRemovedWithPrune",
     {{kOther, ""}},
     true,
     {"- zone other.test.", "    2 records, 0 secondaries"},
     "SELECT count(*) FROM zones",
     "1"},
};

class ConfigEdit : public ConfigTest, public ::testing::WithParamInterface<Edit> {};

TEST_P(ConfigEdit, PlanShowsItApplyMakesItASecondPlanFindsNothing) {
    const Edit& edit = GetParam();
    ok({"init"});
    std::string base = write("base.yaml", kBase);
    ok({"apply", base});
    std::string text = kBase;
    for (const auto& [from, to] : edit.replace) {
        auto at = text.find(from);
        ASSERT_NE(at, std::string::npos) << "the row's text is not in the base file: " << from;
        text.replace(at, from.size(), to);
    }
    std::string file = write("edited.yaml", text);
    std::vector<std::string> flags;
    if (edit.prune) flags.push_back("--prune");

    std::string before = dump();
    std::vector<std::string> plan = {"plan", file};
    plan.insert(plan.end(), flags.begin(), flags.end());
    auto planned = dnsctl(plan);
    EXPECT_EQ(planned.exitCode, edit.changes ? 2 : 0) << planned.out << planned.err;
    for (const auto& line : edit.planLines)
        EXPECT_NE(planned.out.find(line), std::string::npos)
            << "plan does not say '" << line << "':\n"
            << planned.out;
    EXPECT_EQ(dump(), before) << "plan wrote to the database";

    std::vector<std::string> apply = {"apply", file};
    apply.insert(apply.end(), flags.begin(), flags.end());
    auto applied = ok(apply);
    EXPECT_EQ(applied.out, planned.out) << "apply did something else than plan said";
    if (!edit.query.empty()) {
        EXPECT_EQ(sql(edit.query), edit.expected) << edit.query;
    }
    if (!edit.changes) {
        EXPECT_EQ(dump(), before) << "an apply without changes wrote";
    }

    auto again = dnsctl(plan);
    EXPECT_EQ(again.exitCode, 0) << again.out << again.err;
    EXPECT_NE(again.out.find("no changes"), std::string::npos) << again.out;
}

INSTANTIATE_TEST_SUITE_P(Edits, ConfigEdit, ::testing::ValuesIn(kEdits),
                         [](const auto& info) { return info.param.name; });

// Without --prune the plan lists every object the file leaves out, and applies none of them.
TEST_F(ConfigTest, AnEmptyFileChangesNothingAndListsWhatItLeavesAlone) {
    ok({"init"});
    ok({"apply", write("base.yaml", kBase)});
    std::string before = dump();
    auto r = dnsctl({"plan", write("empty.yaml", "version: 1\n")});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    for (const char* line : {"= key xfr.", "= zone svc.test.", "= zone other.test.", "= probe web",
                             "= probe ping", "= pool www", "no changes; 6 not in the file"})
        EXPECT_NE(r.out.find(line), std::string::npos) << line << " missing in:\n" << r.out;
    ok({"apply", dir_.file("empty.yaml")});
    EXPECT_EQ(dump(), before);
}

// A zone's update policies and DNSSEC through their life in the file: signed with policies,
// timings and types changed field by field, an algorithm change refused, dnssec left out
// (step 1 of going insecure, as `dnsctl dnssec disable`), then put back (withdrawn). Each
// second apply finds nothing to do and keeps the serial.
TEST_F(ConfigTest, UpdatePoliciesAndDnssecChangeInPlaceAndUnsignInTheSafeOrder) {
    ok({"init"});
    const std::string at = "        key: xfr\n";
    auto file = [&](const std::string& extra, const std::string& name) {
        std::string text = kBase;
        text.replace(text.find(at), at.size(), at + extra);
        return write(name, text);
    };
    auto noChanges = [&](const std::string& f) {
        std::string before = serial();
        auto again = ok({"apply", f});
        EXPECT_EQ(again.out, "no changes\n");
        EXPECT_EQ(serial(), before);
    };
    const std::string policy = "    update-policies:\n      - key: xfr\n        name: www\n";
    const std::string dnssec = "    dnssec:\n      zsk-lifetime: 30d\n";

    ok({"apply", write("base.yaml", kBase)});
    std::string unsignedSerial = serial();
    auto signedFile = file(policy + dnssec, "signed.yaml");
    auto r = ok({"apply", signedFile});
    EXPECT_NE(r.out.find("+ update-policy key xfr. name www types any"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("then hand the DS to the parent: `dnsctl dnssec ds svc.test.`"),
              std::string::npos)
        << r.out;
    EXPECT_GT(std::stoll(serial()), std::stoll(unsignedSerial));
    EXPECT_EQ(sql("SELECT count(*) FROM dnssec_keys"), "2");
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(db_ + ".keys"),
                            std::filesystem::directory_iterator()),
              2);
    noChanges(signedFile);
    auto status = ok({"dnssec", "status", "svc.test"});
    EXPECT_NE(status.out.find("30d"), std::string::npos) << status.out;

    auto changed = file(
        "    update-policies:\n      - key: xfr\n        name: www\n        types: "
        "[TXT]\n    dnssec:\n      zsk-lifetime: 60d\n      ds-ttl: 2h\n",
        "changed.yaml");
    auto planned = dnsctl({"plan", changed});
    EXPECT_EQ(planned.exitCode, 2) << planned.out << planned.err;
    for (const char* line :
         {"    - update-policy key xfr. name www types any",
          "    + update-policy key xfr. name www types TXT", "    dnssec zsk-lifetime: 30d -> 60d",
          "    dnssec ds-ttl: 1d -> 2h", "0 to add, 1 to change, 0 to remove"})
        EXPECT_NE(planned.out.find(line), std::string::npos) << line << " missing in:\n"
                                                             << planned.out;
    EXPECT_EQ(ok({"apply", changed}).out, planned.out);
    EXPECT_EQ(sql("SELECT zsk_lifetime || ' ' || ds_ttl FROM dnssec_zones"), "5184000 7200");
    EXPECT_EQ(sql("SELECT types FROM update_policies"), "TXT");
    EXPECT_EQ(sql("SELECT count(*) FROM dnssec_keys"), "2") << "timings made keys";
    noChanges(changed);

    // No algorithm rollover: refused, nothing written.
    std::string before = dump();
    auto refused =
        dnsctl({"apply", file("    dnssec:\n      algorithm: ed25519\n", "ed25519.yaml")});
    EXPECT_EQ(refused.exitCode, 1);
    EXPECT_NE(refused.err.find("ed25519.yaml:16: zone svc.test. dnssec: algorithm: the zone is "
                               "signed with ECDSAP256SHA256"),
              std::string::npos)
        << refused.err;
    EXPECT_EQ(dump(), before);

    // Left out: step 1 of going insecure only; the keys stay until the operator's next steps.
    auto unsignedFile = file("", "unsigned.yaml");
    auto unsign = ok({"apply", unsignedFile});
    EXPECT_NE(unsign.out.find("    dnssec: signed -> going insecure (CDS/CDNSKEY delete "
                              "published, still signed). Remove the DS at the registrar, then "
                              "run `dnsctl dnssec disable svc.test. --ds-removed`"),
              std::string::npos)
        << unsign.out;
    EXPECT_NE(unsign.out.find("    - update-policy key xfr. name www types TXT"), std::string::npos)
        << unsign.out;
    EXPECT_EQ(sql("SELECT state FROM dnssec_zones"), "unsigning");
    EXPECT_EQ(sql("SELECT count(*) FROM dnssec_keys"), "2");
    EXPECT_EQ(sql("SELECT count(*) FROM update_policies"), "0");
    noChanges(unsignedFile);
    EXPECT_EQ(ok({"dump"}).out.find("dnssec:"), std::string::npos)
        << "a zone going insecure is dumped unsigned";

    // Put back: the going-insecure is withdrawn, the same keys sign on.
    std::string keys = sql("SELECT group_concat(key_tag) FROM dnssec_keys");
    auto back = ok({"apply", changed});
    EXPECT_NE(back.out.find("dnssec: going insecure -> signed (the CDS/CDNSKEY delete is "
                            "withdrawn)"),
              std::string::npos)
        << back.out;
    EXPECT_EQ(sql("SELECT state FROM dnssec_zones"), "signed");
    EXPECT_EQ(sql("SELECT group_concat(key_tag) FROM dnssec_keys"), keys);
    noChanges(changed);
}

// --prune of a signed zone: its key rows go with it, its key files after the commit.
TEST_F(ConfigTest, PruningASignedZoneDeletesItsKeyFilesAfterTheCommit) {
    ok({"init"});
    std::string text = kBase;
    text.replace(text.find("  other.test:\n"), 14, "  other.test:\n    dnssec: {}\n");
    ok({"apply", write("signed.yaml", text)});
    auto keyFiles = [&] {
        return std::distance(std::filesystem::directory_iterator(db_ + ".keys"),
                             std::filesystem::directory_iterator());
    };
    EXPECT_EQ(keyFiles(), 2);
    text = kBase;
    text.replace(text.find(kOther), kOther.size(), "");
    std::string pruned = write("pruned.yaml", text);
    auto planned = dnsctl({"plan", pruned, "--prune"});
    EXPECT_NE(planned.out.find("    signed: its DNSSEC keys are deleted with it"),
              std::string::npos)
        << planned.out;
    EXPECT_EQ(keyFiles(), 2) << "plan deleted key files";
    ok({"apply", pruned, "--prune"});
    EXPECT_EQ(sql("SELECT count(*) FROM dnssec_keys"), "0");
    EXPECT_EQ(keyFiles(), 0);
}

}  // namespace
}  // namespace configtest
