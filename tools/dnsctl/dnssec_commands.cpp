// `dnsctl dnssec enable|ds|status|disable|roll|ds-seen|set`: DNSSEC keys of a zone and their
// life cycle (zones/dnssec_key_store, zones/dnssec_maintenance). dnsd signs; these commands
// make keys, move them through their states and say what the parent (registrar) needs.
#include <SQLiteCpp/Transaction.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tools/dnsctl/failover_commands.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/dnssec_key_material.hpp"
#include "zones/dnssec_key_store.hpp"
#include "zones/dnssec_maintenance.hpp"
#include "zones/dnssec_zone_admin.hpp"
#include "zones/event_writer.hpp"
#include "zones/ldns/ds_query.hpp"
#include "zones/schema.hpp"
#include "zones/tsig.hpp"
#include "zones/xfr_store.hpp"
#include "zones/zone_store.hpp"

namespace dnsctl {
namespace {

using nlohmann::ordered_json;
using zones::DnssecKeyRow;
using zones::DnssecMaintenance;
using zones::DnssecZoneState;

struct ZoneRef {
    int64_t id = 0;
    zones::Name name;
};

// The zone named on the command line, or a clear error. A plain SELECT (ZoneStore::findZone
// opens its own transaction), so it can run inside the command's write transaction.
ZoneRef findZone(SQLite::Database& db, const po::variables_map& vm) {
    if (!vm.count("zone")) throw UsageError("a ZONE is needed");
    zones::Name apex = parseZoneName(vm["zone"].as<std::string>());
    SQLite::Statement q(db, "SELECT id FROM zones WHERE name = ?");
    q.bind(1, apex.toText());
    if (!q.executeStep()) throw std::runtime_error("no zone " + apex.toText());
    return {q.getColumn(0).getInt64(), apex};
}

DnssecZoneState signedZone(SQLite::Database& db, const ZoneRef& zone) {
    if (!db.tableExists("dnssec_zones"))
        throw std::runtime_error("zone " + zone.name.toText() + " is not signed");
    auto state = DnssecMaintenance::read(db, zone.id);
    if (!state)
        throw std::runtime_error("zone " + zone.name.toText() +
                                 " is not signed (sign it with `dnsctl dnssec enable " +
                                 zone.name.toText() + "`)");
    return *state;
}

void event(SQLite::Database& db, int64_t now, const std::string& kind, const std::string& zone,
           const std::string& message, ordered_json details = ordered_json::object()) {
    zones::writeDnssecEvent(db, now, kind, zone, message, std::move(details));
}

std::string roleText(const DnssecKeyRow& k) {
    return k.ksk ? "KSK" : "ZSK";
}

// What a key does, in words: "signs DNSKEY, CDS" / "published".
std::string dutyText(const DnssecKeyRow& k) {
    std::string out;
    if (k.sign) out = k.ksk ? "signs DNSKEY/CDS/CDNSKEY" : "signs the zone";
    if (k.cds) out += std::string(out.empty() ? "" : ", ") + "in CDS/CDNSKEY";
    if (out.empty()) out = k.publish ? "in DNSKEY only" : "not published";
    return out;
}

int dnssecEnable(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "zone")(
        "algorithm", po::value<std::string>()->default_value("ecdsap256sha256"),
        "ecdsap256sha256 (13, default) or ed25519 (15)");
    po::positional_options_description pos;
    pos.add("zone", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl dnssec enable ZONE [--algorithm ecdsap256sha256|ed25519]",
                   "Signs ZONE: makes a KSK and a ZSK (private keys in files next to the "
                   "database, readable by its owner only) and has dnsd serve the zone signed. "
                   "Then hand the DS to the parent: `dnsctl dnssec ds ZONE`. On a zone that is "
                   "going insecure (dnssec disable) it withdraws that instead.",
                   options, pos, vm))
        return 0;
    std::string algText = vm["algorithm"].as<std::string>();
    auto algorithm = zones::dnssecAlgorithmFromText(algText);
    if (!algorithm)
        throw UsageError("unknown --algorithm '" + algText + "' (ecdsap256sha256 or ed25519)");
    if (!vm.count("zone")) throw UsageError("a ZONE is needed");
    std::string path = zones::resolveDatabasePath(context.dbPath);
    auto db = openDatabase(context);
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);  // write lock up front
    ZoneRef zone = findZone(*db, vm);
    const std::string name = zone.name.toText();
    const int64_t now = zones::nowMs();
    zones::KeyFileTransaction files(path);
    zones::DnssecEnabled done = zones::enableDnssec(*db, zone.id, name, *algorithm, files, now);
    tx.commit();
    files.committed();
    if (done.withdrawn) {
        std::cout << "zone " << name << " stays signed: the CDS/CDNSKEY delete is withdrawn.\n"
                  << (done.dsWasRemoved ? "The DS was removed at the parent: hand it over again "
                                          "(`dnsctl dnssec ds " +
                                              name + "`).\n"
                                        : "");
        return 0;
    }
    std::cout << "signed zone " << name << " with " << zones::dnssecAlgorithmName(*algorithm)
              << ": KSK " << done.kskTag << ", ZSK " << done.zskTag << "\n"
              << "private keys in " << zones::keyDirectory(path) << "/\n"
              << "next: hand the DS to the parent (`dnsctl dnssec ds " << name
              << "`), then confirm with `dnsctl dnssec ds-seen " << name << "`\n";
    return 0;
}

int dnssecDs(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "zone");
    po::positional_options_description pos;
    pos.add("zone", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl dnssec ds ZONE",
                   "Prints, in zone-file form, the DS record (SHA-256, digest type 2) of each KSK "
                   "the parent should have, and its DNSKEY for registrars that ask for that.",
                   options, pos, vm))
        return 0;
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    ZoneRef zone = findZone(*db, vm);
    DnssecZoneState s = signedZone(*db, zone);
    const std::string name = zone.name.toText();
    if (s.zone.unsigning)
        throw std::runtime_error("zone " + name +
                                 " is going insecure: the parent should have no DS (see "
                                 "`dnsctl dnssec status " +
                                 name + "`)");
    const int64_t now = zones::nowMs();
    for (const DnssecKeyRow& k : s.keys) {
        if (!k.ksk || !k.cds) continue;
        auto rdata = k.dnskeyRdata();
        int64_t ready = DnssecMaintenance::kskReadyAt(s, k);
        std::cout << "; KSK " << k.tag << " (" << zones::dnssecAlgorithmName(k.algorithm) << ")";
        if (ready > now)
            std::cout << ": hand over from " << zones::dnssecTimeText(ready)
                      << " on (when its DNSKEY is in every cache)";
        std::cout << "\n"
                  << name << " " << s.zone.dsTtl << " IN DS " << k.tag << " " << int(k.algorithm)
                  << " 2 " << zones::hexUpper(zones::dsSha256Digest(zone.name, rdata)) << "\n"
                  << name << " " << s.zone.dnskeyTtl << " IN DNSKEY " << k.flags() << " 3 "
                  << int(k.algorithm) << " " << zones::base64Encode(k.publicKey) << "\n";
    }
    return 0;
}

// Key file checks for status: "" if every file is there and matches, else problems. When the
// key directory is closed to this user (it is the database owner's, 0700), nothing can be
// checked: `checked` is false then.
std::vector<std::string> checkKeyFiles(const DnssecZoneState& s, const std::string& dir,
                                       bool& checked, std::vector<std::string>& perKey) {
    std::vector<std::string> problems;
    perKey.assign(s.keys.size(), "");
    checked = ::access(dir.c_str(), X_OK) == 0;
    if (!checked && errno == ENOENT) {
        checked = true;
        problems.push_back("key directory " + dir + " is missing");
        for (auto& p : perKey) p = "missing";
        return problems;
    }
    if (!checked) return problems;
    for (size_t i = 0; i < s.keys.size(); ++i) {
        const DnssecKeyRow& k = s.keys[i];
        std::string problem =
            zones::checkPrivateKeyFile(dir + "/" + k.privateFile, k.algorithm, k.publicKey);
        if (problem.empty()) continue;
        perKey[i] = problem;
        problems.push_back(roleText(k) + " " + std::to_string(k.tag) + ": " + problem);
    }
    return problems;
}

int dnssecStatus(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "zone")("json", "JSON");
    po::positional_options_description pos;
    pos.add("zone", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl dnssec status ZONE [--json]",
                   "Shows a signed zone's keys (role, tag, algorithm, state, dates), its "
                   "signatures' validity, the next automatic step (signature refresh, ZSK roll) "
                   "and what waits for the operator. Checks the private key files when this "
                   "user may read them (dnsd's user, root): a missing or wrong file exits 1.",
                   options, pos, vm))
        return 0;
    std::string path = zones::resolveDatabasePath(context.dbPath);
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    ZoneRef zone = findZone(*db, vm);
    DnssecZoneState s = signedZone(*db, zone);
    const std::string name = zone.name.toText();
    const int64_t now = zones::nowMs();
    const std::string dir = zones::keyDirectory(path);
    bool checked = false;
    std::vector<std::string> perKey;
    auto problems = checkKeyFiles(s, dir, checked, perKey);
    auto schedule = DnssecMaintenance::schedule(s);
    auto next = DnssecMaintenance::nextStep(s);
    auto waiting = DnssecMaintenance::waitingFor(s);
    const int64_t inception = (s.zone.sigEpoch - 3600) * 1000;
    const int64_t expiration = (s.zone.sigEpoch + int64_t(s.zone.sigValidity)) * 1000;
    const int64_t refresh =
        (s.zone.sigEpoch + int64_t(s.zone.sigValidity) - s.zone.sigRefresh) * 1000;
    if (vm.count("json")) {
        auto opt = [](const std::optional<int64_t>& v) {
            return v ? ordered_json(*v) : ordered_json();
        };
        ordered_json keys = ordered_json::array();
        for (size_t i = 0; i < s.keys.size(); ++i) {
            const DnssecKeyRow& k = s.keys[i];
            keys.push_back({{"role", k.ksk ? "ksk" : "zsk"},
                            {"tag", k.tag},
                            {"algorithm", k.algorithm},
                            {"state", k.state},
                            {"publish", k.publish},
                            {"sign", k.sign},
                            {"cds", k.cds},
                            {"created_at", k.createdAt},
                            {"published_at", opt(k.publishedAt)},
                            {"active_at", opt(k.activeAt)},
                            {"retired_at", opt(k.retiredAt)},
                            {"remove_at", opt(k.removeAt)},
                            {"ds_seen_at", opt(k.dsSeenAt)},
                            {"private_file", dir + "/" + k.privateFile},
                            {"file_problem", checked ? (perKey[i].empty() ? ordered_json()
                                                                          : ordered_json(perKey[i]))
                                                     : ordered_json("not checked")}});
        }
        ordered_json scheduleJson = ordered_json::array();
        for (const auto& step : schedule)
            scheduleJson.push_back(
                {{"at", step.at}, {"kind", step.eventKind()}, {"what", step.what}});
        ordered_json out = {
            {"zone", name},
            {"state", s.zone.unsigning ? "unsigning" : "signed"},
            {"algorithm", s.zone.algorithm},
            {"timings",
             {{"dnskey_ttl", s.zone.dnskeyTtl},
              {"propagation_delay", s.zone.propagationDelay},
              {"zsk_lifetime", s.zone.zskLifetime},
              {"sig_validity", s.zone.sigValidity},
              {"sig_refresh", s.zone.sigRefresh},
              {"ds_ttl", s.zone.dsTtl},
              {"max_zone_ttl", s.maxTtl}}},
            {"signatures",
             {{"inception", inception}, {"expiration", expiration}, {"refresh_at", refresh}}},
            {"unsigning_at", opt(s.zone.unsigningAt)},
            {"ds_removed_at", opt(s.zone.dsRemovedAt)},
            {"keys", keys},
            {"next",
             next
                 ? ordered_json{{"at", next->at}, {"kind", next->eventKind()}, {"what", next->what}}
                 : ordered_json()},
            {"schedule", scheduleJson},
            {"waiting_for", waiting},
            {"key_files_checked", checked},
            {"key_file_problems", problems}};
        std::cout << jsonText(out) << "\n";
    } else {
        std::cout << "zone " << name << ": "
                  << (s.zone.unsigning ? "going insecure (CDS/CDNSKEY delete published)" : "signed")
                  << ", " << zones::dnssecAlgorithmName(s.zone.algorithm) << "\n";
        std::cout << "signatures: valid " << zones::dnssecTimeText(inception) << " to "
                  << zones::dnssecTimeText(expiration) << ", renewed at "
                  << zones::dnssecTimeText(refresh) << "\n";
        std::cout << "timings: dnskey-ttl " << zones::dnssecDurationText(s.zone.dnskeyTtl)
                  << ", propagation-delay " << zones::dnssecDurationText(s.zone.propagationDelay)
                  << ", zsk-lifetime " << zones::dnssecDurationText(s.zone.zskLifetime)
                  << ", sig-validity " << zones::dnssecDurationText(s.zone.sigValidity)
                  << ", sig-refresh " << zones::dnssecDurationText(s.zone.sigRefresh) << ", ds-ttl "
                  << zones::dnssecDurationText(s.zone.dsTtl) << " (longest zone TTL "
                  << zones::dnssecDurationText(s.maxTtl) << ")\n";
        std::cout << "keys:\n";
        for (size_t i = 0; i < s.keys.size(); ++i) {
            const DnssecKeyRow& k = s.keys[i];
            std::cout << "  " << roleText(k) << " " << k.tag << "  "
                      << zones::dnssecAlgorithmName(k.algorithm) << "  " << k.state << "  "
                      << dutyText(k) << "\n";
            auto date = [&](const char* what, const std::optional<int64_t>& at) {
                if (at) std::cout << "      " << what << " " << zones::dnssecTimeText(*at) << "\n";
            };
            date("published", k.publishedAt);
            date("active   ", k.activeAt);
            date("retired  ", k.retiredAt);
            date("removal  ", k.removeAt);
            date("DS seen  ", k.dsSeenAt);
            if (!perKey.empty() && !perKey[i].empty())
                std::cout << "      PROBLEM: " << perKey[i] << "\n";
        }
        // Every scheduled step (refresh, roll, removals): "the next refresh and the next roll".
        if (!schedule.empty()) std::cout << "schedule (dnsd's maintenance runs these):\n";
        for (const auto& step : schedule)
            std::cout << "  " << zones::dnssecTimeText(step.at)
                      << (step.at <= now ? " (due now)" : "") << "  " << step.what << "\n";
        for (const std::string& w : waiting) std::cout << "waiting for: " << w << "\n";
        if (!checked)
            std::cout << "key files: not checked (" << dir
                      << " is open to its owner only: run this as dnsd's user or root)\n";
    }
    if (!problems.empty()) {
        std::cerr << "dnsctl: " << name << ": " << problems.front()
                  << (problems.size() > 1 ? " (and " + std::to_string(problems.size() - 1) +
                                                " more key file problems)"
                                          : "")
                  << "\n";
        return 1;
    }
    return 0;
}

int dnssecDisable(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "zone")(
        "ds-removed", "the parent serves no DS for the zone any more")(
        "force", "go insecure now, without waiting for the DS to leave caches");
    po::positional_options_description pos;
    pos.add("zone", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl dnssec disable ZONE [--ds-removed] [--force]",
                   "Takes ZONE back to unsigned in the safe order. Step 1 (no flag): the zone "
                   "stays signed and publishes CDS/CDNSKEY \"delete\" (RFC 8078 §4); remove the "
                   "DS at the registrar. Step 2 (--ds-removed): dnsd keeps signing until the old "
                   "DS has left every cache (DS TTL + propagation delay), then serves the zone "
                   "unsigned and deletes the keys. --force does that at once (validators that "
                   "still hold the DS will fail the zone until it expires).",
                   options, pos, vm))
        return 0;
    std::string path = zones::resolveDatabasePath(context.dbPath);
    auto db = openDatabase(context);
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);  // write lock up front
    ZoneRef zone = findZone(*db, vm);
    DnssecZoneState before = signedZone(*db, zone);
    const std::string name = zone.name.toText();
    const int64_t now = zones::nowMs();
    DnssecZoneState after = before;
    zones::KeyFileTransaction files(path);
    std::string message;
    if (vm.count("force")) {
        after.removed = true;
        message = "zone " + name + " is unsigned now; its keys are deleted.";
    } else if (vm.count("ds-removed")) {
        if (before.zone.dsRemovedAt)
            throw std::runtime_error("zone " + name + ": the DS removal was recorded at " +
                                     zones::dnssecTimeText(*before.zone.dsRemovedAt) +
                                     " already; dnsd goes insecure by itself (--force: now)");
        if (!after.zone.unsigning) after.zone.unsigningAt = now;
        after.zone.unsigning = true;
        after.zone.dsRemovedAt = now;
        after.zone.updatedAt = now;
        int64_t at = now + (int64_t(after.zone.dsTtl) + after.zone.propagationDelay) * 1000;
        message = "zone " + name + " goes unsigned at " + zones::dnssecTimeText(at) + " (DS TTL " +
                  zones::dnssecDurationText(after.zone.dsTtl) + " + propagation delay " +
                  zones::dnssecDurationText(after.zone.propagationDelay) +
                  "); dnsd keeps signing until then and deletes the keys.";
    } else {
        zones::DnssecUnsigning step = zones::startUnsigning(*db, before, files, now);
        if (step.changed) tx.commit();
        std::cout << step.message << "\n";
        return 0;
    }
    DnssecMaintenance::save(*db, before, after, files);
    event(*db, now, after.removed ? "dnssec-unsigned" : "dnssec-disable", name, message);
    tx.commit();
    for (const std::string& w : files.committed()) std::cerr << "dnsctl: warning: " << w << "\n";
    std::cout << message << "\n";
    return 0;
}

int dnssecRoll(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "zone")(
        "role", po::value<std::string>(), "ksk or zsk");
    po::positional_options_description pos;
    pos.add("zone", 1).add("role", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl dnssec roll ZONE ksk|zsk",
                   "zsk: starts a ZSK roll now (pre-publish; dnsd finishes it). ksk: a "
                   "double-KSK roll: a new KSK is published and signs the DNSKEY RRset at once, "
                   "CDS/CDNSKEY name it; hand its DS to the parent, then `dnsctl dnssec ds-seen "
                   "ZONE` retires the old KSK.",
                   options, pos, vm))
        return 0;
    if (!vm.count("role")) throw UsageError("say which key to roll: ksk or zsk");
    std::string role = vm["role"].as<std::string>();
    if (role != "ksk" && role != "zsk")
        throw UsageError("unknown key role '" + role + "' (ksk or zsk)");
    bool ksk = role == "ksk";
    std::string path = zones::resolveDatabasePath(context.dbPath);
    auto db = openDatabase(context);
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);  // write lock up front
    ZoneRef zone = findZone(*db, vm);
    DnssecZoneState before = signedZone(*db, zone);
    const std::string name = zone.name.toText();
    const int64_t now = zones::nowMs();
    DnssecZoneState after = before;
    zones::KeyFileTransaction files(path);
    std::vector<uint16_t> tags;
    for (const DnssecKeyRow& k : before.keys) tags.push_back(k.tag);
    // Checked before a key is made, so a refused roll writes no file.
    zones::NewDnssecKey probe;
    {
        DnssecZoneState trial = before;
        if (ksk)
            DnssecMaintenance::startKskRoll(trial, now, probe);
        else
            DnssecMaintenance::startZskRoll(trial, now, probe);
    }
    zones::NewDnssecKey key = files.create(name, before.zone.algorithm, ksk, tags);
    if (ksk)
        DnssecMaintenance::startKskRoll(after, now, key);
    else
        DnssecMaintenance::startZskRoll(after, now, key);
    DnssecMaintenance::save(*db, before, after, files);
    std::string message;
    if (ksk) {
        int64_t ready = DnssecMaintenance::kskReadyAt(after, after.keys.back());
        message = "KSK " + std::to_string(key.tag) +
                  " is published and signs the DNSKEY RRset; CDS/CDNSKEY name it. Hand its DS "
                  "to the parent from " +
                  zones::dnssecTimeText(ready) + " on (`dnsctl dnssec ds " + name +
                  "`), then run `dnsctl dnssec ds-seen " + name + "`";
    } else {
        int64_t active = now + (int64_t(after.zone.dnskeyTtl) + after.zone.propagationDelay) * 1000;
        message = "ZSK " + std::to_string(key.tag) + " is published; it starts signing at " +
                  zones::dnssecTimeText(active) +
                  " and the old ZSK leaves after that (dnsd does both)";
    }
    event(*db, now, ksk ? "dnssec-ksk-roll" : "dnssec-zsk-roll", name, message, {{"tag", key.tag}});
    tx.commit();
    files.committed();
    std::cout << message << "\n";
    return 0;
}

// `--check ADDRESS[:PORT]`: the parent's server must serve the DS of the KSK that CDS names;
// asked before the write lock is taken (the network may be slow).
void checkParentDs(const Context& context, const po::variables_map& vm) {
    std::pair<std::string, int> endpoint;
    try {
        endpoint = zones::XfrStore::parseEndpoint(vm["check"].as<std::string>(), 53);
    } catch (const std::runtime_error& e) {
        throw UsageError(std::string("--check: ") + e.what());
    }
    auto db = openDatabase(context, zones::OpenMode::ReadOnly);
    ZoneRef zone = findZone(*db, vm);
    DnssecZoneState s = signedZone(*db, zone);
    db.reset();
    const DnssecKeyRow* ksk = nullptr;
    for (const DnssecKeyRow& k : s.keys)
        if (k.ksk && k.cds) ksk = &k;
    if (!ksk) return;  // dsSeen words this case
    auto digest = zones::dsSha256Digest(zone.name, ksk->dnskeyRdata());
    auto served = zones::queryDs(zone.name, endpoint.first, uint16_t(endpoint.second));
    std::string seen;
    for (const auto& ds : served) {
        if (ds.tag == ksk->tag && ds.algorithm == ksk->algorithm && ds.digestType == 2 &&
            ds.digest == digest)
            return;
        seen += (seen.empty() ? "" : ", ") + std::to_string(ds.tag) + "/" +
                std::to_string(ds.digestType);
    }
    throw std::runtime_error(
        endpoint.first + " port " + std::to_string(endpoint.second) + " serves no DS of KSK " +
        std::to_string(ksk->tag) + " for " + zone.name.toText() +
        (seen.empty() ? " (no DS at all)" : " (it serves tag/digest " + seen + ")") +
        "; nothing recorded");
}

int dnssecDsSeen(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "zone")(
        "check", po::value<std::string>(),
        "ask this server of the parent (ADDRESS[:PORT]) first; record only if it serves the DS");
    po::positional_options_description pos;
    pos.add("zone", 1);
    po::variables_map vm;
    if (!parseArgs(args, "dnsctl dnssec ds-seen ZONE [--check PARENT-SERVER[:PORT]]",
                   "Records that the parent serves the DS of the KSK that CDS/CDNSKEY name "
                   "(--check asks one of the parent's servers and refuses if it does not; by "
                   "hand: `dig @PARENT-SERVER ZONE DS`). In a KSK roll the old KSK then retires "
                   "and is removed after the DS TTL + propagation delay.",
                   options, pos, vm))
        return 0;
    if (vm.count("check")) checkParentDs(context, vm);
    std::string path = zones::resolveDatabasePath(context.dbPath);
    auto db = openDatabase(context);
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);  // write lock up front
    ZoneRef zone = findZone(*db, vm);
    DnssecZoneState before = signedZone(*db, zone);
    const std::string name = zone.name.toText();
    const int64_t now = zones::nowMs();
    DnssecZoneState after = before;
    zones::KeyFileTransaction files(path);
    int64_t ready = DnssecMaintenance::dsSeen(after, now);
    DnssecMaintenance::save(*db, before, after, files);
    std::string message = "the parent's DS is confirmed";
    for (const DnssecKeyRow& k : after.keys)
        if (k.ksk && k.state == "retired" && k.retiredAt == now)
            message += "; KSK " + std::to_string(k.tag) + " is removed at " +
                       zones::dnssecTimeText(*k.removeAt);
    event(*db, now, "dnssec-ds-seen", name, message);
    tx.commit();
    if (now < ready)
        std::cerr << "dnsctl: warning: the DS went up before " << zones::dnssecTimeText(ready)
                  << ", when the new DNSKEY is in every cache: validators holding the old "
                     "DNSKEY RRset may fail the zone until then\n";
    std::cout << name << ": " << message << "\n";
    return 0;
}

int dnssecSet(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    options.add_options()("zone", po::value<std::string>(), "zone")(
        "dnskey-ttl", po::value<std::string>(), "TTL of DNSKEY, CDS and CDNSKEY (default 1h)")(
        "propagation-delay", po::value<std::string>(),
        "how long a change takes to reach every secondary and cache beyond the TTLs (default 1h)")(
        "zsk-lifetime", po::value<std::string>(),
        "how long a ZSK signs before it is rolled (default 90d)")(
        "sig-validity", po::value<std::string>(), "how long a signature is valid (default 14d)")(
        "sig-refresh", po::value<std::string>(),
        "renew signatures when this much of their validity is left (default 7d)")(
        "ds-ttl", po::value<std::string>(), "the parent's DS TTL (default 1d)");
    po::positional_options_description pos;
    pos.add("zone", 1);
    po::variables_map vm;
    if (!parseArgs(args,
                   "dnsctl dnssec set ZONE [--dnskey-ttl D] [--propagation-delay D] "
                   "[--zsk-lifetime D] [--sig-validity D] [--sig-refresh D] [--ds-ttl D]",
                   "Sets a signed zone's DNSSEC timings (durations like 30s, 2h, 90d). The "
                   "rollover times derived from them are in docs/dnssec.md.",
                   options, pos, vm))
        return 0;
    auto seconds = [&](const char* flag, uint32_t& out) {
        if (!vm.count(flag)) return false;
        std::string text = vm[flag].as<std::string>();
        int64_t ms = durationFlag(text, std::string("--") + flag);
        if (ms % 1000 != 0 || ms < 1000 || ms > int64_t(0x7FFFFFFF) * 1000)
            throw UsageError(std::string("--") + flag +
                             " wants whole seconds from 1s to 68 years, got '" + text + "'");
        out = uint32_t(ms / 1000);
        return true;
    };
    zones::DnssecZoneRow wanted;
    bool any = false;
    // Parsed before the database is opened: a bad value changes nothing.
    for (auto [flag, field] : {std::pair{"dnskey-ttl", &wanted.dnskeyTtl},
                               {"propagation-delay", &wanted.propagationDelay},
                               {"zsk-lifetime", &wanted.zskLifetime},
                               {"sig-validity", &wanted.sigValidity},
                               {"sig-refresh", &wanted.sigRefresh},
                               {"ds-ttl", &wanted.dsTtl}})
        any = seconds(flag, *field) || any;
    if (!any) throw UsageError("nothing to set (see --help)");
    std::string path = zones::resolveDatabasePath(context.dbPath);
    auto db = openDatabase(context);
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);  // write lock up front
    ZoneRef zone = findZone(*db, vm);
    DnssecZoneState before = signedZone(*db, zone);
    const std::string name = zone.name.toText();
    DnssecZoneState after = before;
    zones::DnssecZoneRow& z = after.zone;
    if (vm.count("dnskey-ttl")) z.dnskeyTtl = wanted.dnskeyTtl;
    if (vm.count("propagation-delay")) z.propagationDelay = wanted.propagationDelay;
    if (vm.count("zsk-lifetime")) z.zskLifetime = wanted.zskLifetime;
    if (vm.count("sig-validity")) z.sigValidity = wanted.sigValidity;
    if (vm.count("sig-refresh")) z.sigRefresh = wanted.sigRefresh;
    if (vm.count("ds-ttl")) z.dsTtl = wanted.dsTtl;
    zones::KeyFileTransaction files(path);
    std::string message = zones::setDnssecTimings(*db, before, after, files, zones::nowMs());
    tx.commit();
    std::cout << name << ": " << message << "\n";
    return 0;
}

}  // namespace

void registerDnssecCommands(Registry& registry) {
    registry.add({"dnssec enable", "sign a zone: make its KSK and ZSK", dnssecEnable});
    registry.add({"dnssec ds", "print the DS (and DNSKEY) for the parent", dnssecDs});
    registry.add({"dnssec status", "keys, signatures, next roll of a signed zone", dnssecStatus});
    registry.add({"dnssec disable", "go insecure in the safe order", dnssecDisable});
    registry.add({"dnssec roll", "start a KSK or ZSK rollover", dnssecRoll});
    registry.add({"dnssec ds-seen", "confirm the parent serves the new DS", dnssecDsSeen});
    registry.add({"dnssec set", "set a signed zone's DNSSEC timings", dnssecSet});
}

}  // namespace dnsctl
