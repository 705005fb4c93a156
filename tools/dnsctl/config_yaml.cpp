#include "tools/dnsctl/config_yaml.hpp"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "zones/dnssec_key_material.hpp"
#include "zones/dnssec_zone_admin.hpp"
#include "zones/pool_model.hpp"
#include "zones/tsig.hpp"
#include "zones/update_policy_store.hpp"
#include "zones/xfr_store.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_validator.hpp"

namespace dnsctl {
namespace {

using zones::ConfigField;

// A problem found in the file, already worded "FILE:LINE: object: problem".
struct FileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string dirOf(const std::string& path) {
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

std::string joinPath(const std::string& dir, const std::string& path) {
    if (path.empty() || path[0] == '/' || dir == ".") return path;
    return dir + "/" + path;
}

// Reads one configuration file; each method knows the object it is inside for messages.
class Reader {
  public:
    explicit Reader(std::string path) : path_(std::move(path)), dir_(dirOf(path_)) {}

    zones::Config read() {
        YAML::Node loaded;
        try {
            loaded = YAML::LoadFile(path_);
        } catch (const YAML::BadFile&) {
            throw FileError("cannot read " + path_ + ": " + std::strerror(errno));
        } catch (const YAML::ParserException& e) {
            throw FileError(path_ + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg +
                            tabHint(e.mark.line));
        }
        // Read through a const node only: yaml-cpp's non-const operator[] adds missing keys.
        const YAML::Node& root = loaded;
        zones::Config c;
        c.source = path_;
        if (root.IsNull()) return c;  // an empty file: nothing configured
        if (!root.IsMap())
            fail(root, "top level",
                 "the top level must be a map (version, keys, zones, probes, pools)");
        checkKeys(root, "top level", {"version", "keys", "zones", "probes", "pools"});
        if (root["version"] && scalar(root["version"], "top level", "version") != "1")
            fail(root["version"], "top level", "version must be 1");
        // "xfr" and "xfr." (or "Example.com" and "example.com.") are one name: once only.
        std::set<std::string> names;
        auto once = [&](const YAML::Node& k, const std::string& object) {
            if (!names.insert(object).second) fail(k, object, "given twice");
        };
        forEachEntry(root["keys"], "keys", [&](const YAML::Node& k, const YAML::Node& v) {
            auto name = zones::Name::fromText(k.Scalar());
            if (name) once(k, "key " + name->toText());
            c.keys.push_back(key(k, v));
        });
        forEachEntry(root["zones"], "zones", [&](const YAML::Node& k, const YAML::Node& v) {
            auto apex = zones::Name::fromText(k.Scalar());
            if (apex) once(k, "zone " + apex->toText());
            c.zones.push_back(zone(k, v));
        });
        forEachEntry(root["probes"], "probes", [&](const YAML::Node& k, const YAML::Node& v) {
            c.probes.push_back(probe(k, v));
        });
        forEachEntry(root["pools"], "pools", [&](const YAML::Node& k, const YAML::Node& v) {
            c.pools.push_back(pool(k, v));
        });
        return c;
    }

  private:
    // yaml-cpp reports a tab in the indentation as a structural error ("end of map not
    // found"); say what it is when the line has one.
    std::string tabHint(int zeroBasedLine) const {
        std::ifstream in(path_);
        std::string text;
        for (int i = 0; i <= zeroBasedLine && std::getline(in, text); ++i) {
        }
        size_t indent = text.find_first_not_of(" \t");
        if (text.substr(0, indent).find('\t') == std::string::npos) return "";
        return " (a tab in the indentation: YAML indents with spaces only)";
    }

    static int line(const YAML::Node& n) { return n.Mark().is_null() ? 0 : n.Mark().line + 1; }

    [[noreturn]] void fail(const YAML::Node& at, const std::string& object,
                           const std::string& problem) const {
        failAt(line(at), object, problem);
    }
    [[noreturn]] void failAt(int line, const std::string& object,
                             const std::string& problem) const {
        std::string text = problem;
        // The stores word some problems "pool NAME: ..." themselves; say the object once.
        if (text.rfind(object + ": ", 0) == 0) text = text.substr(object.size() + 2);
        throw FileError(path_ + (line ? ":" + std::to_string(line) : "") + ": " + object + ": " +
                        text);
    }

    // Unknown and repeated keys are errors: a typo must not silently mean a default.
    void checkKeys(const YAML::Node& map, const std::string& object,
                   const std::vector<std::string>& known) const {
        std::set<std::string> seen;
        for (auto it = map.begin(); it != map.end(); ++it) {
            if (!it->first.IsScalar()) fail(it->first, object, "keys must be plain words");
            std::string k = it->first.Scalar();
            if (std::find(known.begin(), known.end(), k) == known.end()) {
                std::string list;
                for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
                fail(it->first, object, "unknown key '" + k + "' (known: " + list + ")");
            }
            if (!seen.insert(k).second) fail(it->first, object, "key '" + k + "' given twice");
        }
    }

    // A map of NAME: settings (null settings allowed: a reference, or all defaults).
    template <typename F>
    void forEachEntry(const YAML::Node& map, const std::string& section, F&& each) {
        if (!map || map.IsNull()) return;
        if (!map.IsMap()) fail(map, section, "must be a map of NAME: settings");
        std::set<std::string> seen;
        for (auto it = map.begin(); it != map.end(); ++it) {
            if (!it->first.IsScalar()) fail(it->first, section, "names must be plain words");
            if (!seen.insert(it->first.Scalar()).second)
                fail(it->first, section, "'" + it->first.Scalar() + "' given twice");
            if (!it->second.IsNull() && !it->second.IsMap())
                fail(it->second, section + " " + it->first.Scalar(), "settings must be a map");
            each(it->first, it->second);
        }
    }

    std::string scalar(const YAML::Node& n, const std::string& object,
                       const std::string& key) const {
        if (!n.IsScalar()) fail(n, object, key + " must be a single value");
        return n.Scalar();
    }

    int integer(const YAML::Node& n, const std::string& object, const std::string& key) const {
        std::string text = scalar(n, object, key);
        size_t used = 0;
        long long v = 0;
        try {
            v = std::stoll(text, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (text.empty() || used != text.size() || v < -2147483647 || v > 2147483647)
            fail(n, object, key + " must be a whole number (got '" + text + "')");
        return int(v);
    }

    bool boolean(const YAML::Node& n, const std::string& object, const std::string& key) const {
        std::string t = scalar(n, object, key);
        if (t == "true" || t == "yes" || t == "on") return true;
        if (t == "false" || t == "no" || t == "off") return false;
        fail(n, object, key + " must be true or false (got '" + t + "')");
    }

    std::vector<std::string> strings(const YAML::Node& n, const std::string& object,
                                     const std::string& key) const {
        std::vector<std::string> out;
        if (n.IsNull()) return out;
        if (n.IsScalar()) return {n.Scalar()};
        if (!n.IsSequence()) fail(n, object, key + " must be a list");
        for (const auto& item : n) out.push_back(scalar(item, object, key));
        return out;
    }

    // Runs `parse` (a zones parser that throws naming the problem) at the node's line.
    template <typename F>
    auto checked(const YAML::Node& n, const std::string& object, F&& parse) const {
        try {
            return parse();
        } catch (const FileError&) {
            throw;
        } catch (const std::exception& e) {
            fail(n, object, e.what());
        }
    }

    zones::ConfigKey key(const YAML::Node& name, const YAML::Node& v) {
        zones::ConfigKey k;
        std::string object = "key " + name.Scalar();
        k.name = checked(name, object, [&] { return zones::XfrStore::keyName(name.Scalar()); });
        k.line = line(name);
        if (v.IsNull()) return k;
        checkKeys(v, object, {"algorithm", "secret-file"});
        if (v["algorithm"]) {
            std::string text = scalar(v["algorithm"], object, "algorithm");
            auto alg = zones::tsigAlgorithmFromText(text);
            if (!alg)
                fail(v["algorithm"], object,
                     "unknown algorithm '" + text +
                         "' (hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha1)");
            k.algorithm = zones::tsigAlgorithmText(*alg);
        }
        if (v["secret-file"]) {
            k.secretFile = scalar(v["secret-file"], object, "secret-file");
            std::string path = joinPath(dir_, k.secretFile);
            std::ifstream in(path);
            if (!in)
                fail(v["secret-file"], object, "cannot read " + path + ": " + std::strerror(errno));
            std::stringstream text;
            text << in.rdbuf();
            std::string secret = text.str();
            secret.erase(std::remove_if(secret.begin(), secret.end(),
                                        [](char c) { return std::isspace(uint8_t(c)); }),
                         secret.end());
            auto bytes = zones::base64Decode(secret);
            if (!bytes || bytes->size() < 16)
                fail(v["secret-file"], object,
                     path + " must hold the secret in base64, at least 16 octets");
            k.secret = zones::base64Encode(*bytes);
        }
        return k;
    }

    zones::ConfigZone zone(const YAML::Node& name, const YAML::Node& v) {
        zones::ConfigZone z;
        std::string object = "zone " + name.Scalar();
        auto apex = zones::Name::fromText(name.Scalar());
        if (!apex || name.Scalar() == "@") fail(name, object, "not a valid zone name");
        z.apex = *apex;
        object = "zone " + z.apex.toText();
        z.line = line(name);
        if (v.IsNull()) fail(name, object, "needs records or a file");
        checkKeys(v, object,
                  {"file", "records", "journal", "secondaries", "update-policies", "dnssec"});
        if (v["file"] && v["records"])
            fail(v["records"], object, "give records or a file, not both");
        if (v["file"]) {
            z.zoneFile = joinPath(dir_, scalar(v["file"], object, "file"));
            try {
                z.records = zones::loadZoneFile(z.zoneFile, z.apex).records;
            } catch (const zones::ZoneFileError& e) {
                throw FileError(e.what());  // already "ZONEFILE:LINE: ..." for every problem
            } catch (const std::exception& e) {
                fail(v["file"], object, e.what());
            }
        } else if (v["records"]) {
            z.records = records(v["records"], z.apex, object);
        } else {
            fail(name, object, "needs records or a file");
        }
        auto problems = zones::ZoneValidator::findProblems(z.apex, z.records,
                                                           z.zoneFile.empty() ? path_ : z.zoneFile);
        if (!problems.empty()) {
            std::string all;
            for (const auto& p : problems) all += (all.empty() ? "" : "\n") + p;
            throw FileError(all);
        }
        if (const auto& j = v["journal"]; j && !j.IsNull()) {
            if (!j.IsMap()) fail(j, object, "journal must be a map (max-entries, max-age)");
            checkKeys(j, object + " journal", {"max-entries", "max-age"});
            if (j["max-entries"]) {
                z.journalMaxEntries = integer(j["max-entries"], object, "journal max-entries");
                if (z.journalMaxEntries < 0 || z.journalMaxEntries > 1000000)
                    fail(j["max-entries"], object, "journal max-entries must be 0..1000000");
            }
            if (j["max-age"])
                z.journalMaxAgeMs = checked(j["max-age"], object, [&] {
                    return zones::parseDurationMs(scalar(j["max-age"], object, "max-age"));
                });
        }
        if (const auto& list = v["secondaries"]; list && !list.IsNull()) {
            if (!list.IsSequence()) fail(list, object, "secondaries must be a list");
            for (const auto& s : list) z.secondaries.push_back(secondary(s, object));
        }
        if (const auto& list = v["update-policies"]; list && !list.IsNull()) {
            if (!list.IsSequence()) fail(list, object, "update-policies must be a list");
            for (const auto& p : list) {
                auto policy = updatePolicy(p, z.apex, object);
                for (const auto& seen : z.updatePolicies)
                    if (seen.text() == policy.text())
                        fail(p, object + " update-policy", "listed twice (" + policy.text() + ")");
                z.updatePolicies.push_back(std::move(policy));
            }
        }
        if (const auto& d = v["dnssec"]; d) z.dnssec = dnssec(d, object);
        return z;
    }

    // "- {key: NAME, name: PATTERN, types: [A, AAAA]}" (name defaults to *, types to any).
    zones::ConfigUpdatePolicy updatePolicy(const YAML::Node& p, const zones::Name& apex,
                                           const std::string& zoneObject) {
        std::string object = zoneObject + " update-policy";
        if (!p.IsMap()) fail(p, object, "must be a map (key, name, types)");
        checkKeys(p, object, {"key", "name", "types"});
        if (!p["key"]) fail(p, object, "needs a key (a TSIG key)");
        zones::ConfigUpdatePolicy out;
        out.line = line(p);
        out.key = checked(p["key"], object, [&] {
            return zones::XfrStore::keyName(scalar(p["key"], object, "key"));
        });
        if (p["name"])
            out.name = checked(p["name"], object, [&] {
                return zones::UpdatePolicyStore::normalisePattern(scalar(p["name"], object, "name"),
                                                                  apex);
            });
        if (p["types"])
            out.types = checked(p["types"], object, [&] {
                return zones::UpdatePolicyStore::normaliseTypes(
                    strings(p["types"], object, "types"));
            });
        return out;
    }

    // "dnssec: {algorithm: ed25519, zsk-lifetime: 30d}", "dnssec: {}" or "dnssec: true" (all
    // defaults); "dnssec: false" is the same as no dnssec (unsigned). Durations in whole seconds,
    // like `dnsctl dnssec set`.
    std::optional<zones::ConfigDnssec> dnssec(const YAML::Node& d, const std::string& zoneObject) {
        std::string object = zoneObject + " dnssec";
        zones::ConfigDnssec out;
        out.line = line(d);
        if (d.IsScalar()) {
            if (boolean(d, zoneObject, "dnssec")) return out;
            return std::nullopt;  // as if left out
        }
        if (d.IsNull()) return out;
        if (!d.IsMap()) fail(d, object, "must be a map (" + joinWords(zones::dnssecKeys()) + ")");
        checkKeys(d, object, zones::dnssecKeys());
        zones::DnssecZoneRow& row = out.settings;
        if (d["algorithm"]) {
            std::string text = scalar(d["algorithm"], object, "algorithm");
            auto alg = zones::dnssecAlgorithmFromText(text);
            if (!alg)
                fail(d["algorithm"], object,
                     "unknown algorithm '" + text + "' (ecdsap256sha256 or ed25519)");
            row.algorithm = *alg;
        }
        auto seconds = [&](const char* key, uint32_t& field) {
            if (!d[key]) return;
            std::string text = scalar(d[key], object, key);
            int64_t ms = checked(d[key], object, [&] { return zones::parseDurationMs(text); });
            if (ms % 1000 != 0 || ms < 1000 || ms > int64_t(0x7FFFFFFF) * 1000)
                fail(d[key], object,
                     std::string(key) + " wants whole seconds from 1s to 68 years, got '" + text +
                         "'");
            field = uint32_t(ms / 1000);
        };
        seconds("dnskey-ttl", row.dnskeyTtl);
        seconds("propagation-delay", row.propagationDelay);
        seconds("zsk-lifetime", row.zskLifetime);
        seconds("sig-validity", row.sigValidity);
        seconds("sig-refresh", row.sigRefresh);
        seconds("ds-ttl", row.dsTtl);
        checked(d, object, [&] {
            zones::checkDnssecTimings(row);
            return 0;
        });
        return out;
    }

    static std::string joinWords(const std::vector<std::string>& words) {
        std::string out;
        for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
        return out;
    }

    // Inline records: one presentation-format record per item, owners relative to the zone.
    // A record without a TTL takes its RRset's, else the SOA's (as `dnsctl record add` does).
    std::vector<zones::Record> records(const YAML::Node& list, const zones::Name& apex,
                                       const std::string& object) {
        if (!list.IsSequence())
            fail(list, object, "records must be a list of \"OWNER TTL TYPE RDATA\"");
        std::vector<zones::Record> out;
        std::vector<bool> ttlGiven;
        for (const auto& item : list) {
            std::string text = scalar(item, object, "a record");
            auto parsed = checked(item, object, [&] { return zones::parseRecordText(text, apex); });
            parsed.record.line = line(item);
            out.push_back(parsed.record);
            ttlGiven.push_back(parsed.ttlGiven);
        }
        const zones::Record* soa = nullptr;
        for (size_t i = 0; i < out.size(); ++i)
            if (out[i].type == zones::rrtype::SOA && ttlGiven[i]) soa = &out[i];
        for (size_t i = 0; i < out.size(); ++i) {
            if (ttlGiven[i]) continue;
            const zones::Record* from = soa;
            for (size_t k = 0; k < out.size(); ++k)
                if (ttlGiven[k] && out[k].owner == out[i].owner && out[k].type == out[i].type)
                    from = &out[k];
            if (!from)
                failAt(out[i].line, object,
                       "the record has no TTL, and neither has its RRset or the SOA");
            out[i].ttl = from->ttl;
        }
        // Exact duplicates are one record (RFC 2181 §5), as in a zone file.
        std::vector<zones::Record> unique;
        for (auto& r : out)
            if (std::none_of(unique.begin(), unique.end(), [&](const zones::Record& u) {
                    return u.owner == r.owner && u.type == r.type && u.rdata == r.rdata;
                }))
                unique.push_back(std::move(r));
        return unique;
    }

    zones::ConfigSecondary secondary(const YAML::Node& s, const std::string& zoneObject) {
        std::string object = zoneObject + " secondary";
        if (!s.IsMap()) fail(s, object, "must be a map (address, key, notify)");
        checkKeys(s, object, {"address", "key", "notify"});
        if (!s["address"]) fail(s, object, "needs an address");
        zones::ConfigSecondary out;
        out.line = line(s);
        std::string address = scalar(s["address"], object, "address");
        std::tie(out.address, out.port) = checked(
            s["address"], object, [&] { return zones::XfrStore::parseEndpoint(address, 53); });
        if (s["key"])
            out.key = checked(s["key"], object, [&] {
                return zones::XfrStore::keyName(scalar(s["key"], object, "key"));
            });
        if (s["notify"]) out.notify = boolean(s["notify"], object, "notify");
        return out;
    }

    zones::ConfigProbe probe(const YAML::Node& name, const YAML::Node& v) {
        zones::ConfigProbe out;
        zones::ProbeDef& p = out.def;
        p.name = name.Scalar();
        out.line = line(name);
        std::string object = "probe " + p.name;
        if (v.IsNull() || !v["type"])
            fail(name, object, "needs a type (tcp, http, https, dns, icmp, exec)");
        std::vector<std::string> known;
        for (const auto& f : zones::probeFields(p)) known.push_back(f.key);
        checkKeys(v, object, known);
        auto str = [&](const char* k) { return scalar(v[k], object, k); };
        auto duration = [&](const char* k) {
            return int(checked(v[k], object, [&] { return zones::parseDurationMs(str(k)); }));
        };
        p.type = str("type");
        if (v["port"]) p.port = integer(v["port"], object, "port");
        if (v["interval"]) p.intervalMs = duration("interval");
        p.timeoutMs =
            v["timeout"] ? duration("timeout") : zones::ProbeDef::defaultTimeoutMs(p.intervalMs);
        if (v["rise"]) p.rise = integer(v["rise"], object, "rise");
        if (v["fall"]) p.fall = integer(v["fall"], object, "fall");
        if (v["target"]) p.target = str("target");
        if (v["method"]) p.method = str("method");
        if (v["path"]) p.path = str("path");
        if (v["host"]) p.hostHeader = str("host");
        if (v["user-agent"]) p.userAgent = str("user-agent");
        if (v["headers"]) {
            for (const auto& h : strings(v["headers"], object, "headers")) {
                if (h.find('\n') != std::string::npos)
                    fail(v["headers"], object, "a header must be one line");
                p.headers += (p.headers.empty() ? "" : "\n") + h;
            }
        }
        if (v["expect"]) p.expect = str("expect");
        if (v["body"]) p.body = str("body");
        if (v["sni"]) p.sni = str("sni");
        if (v["verify"]) p.verify = boolean(v["verify"], object, "verify");
        if (v["query"]) p.query = str("query");
        if (v["qtype"]) {
            std::string t = str("qtype");
            auto code = zones::rrTypeFromText(t);
            if (!code && !t.empty() && t.size() < 6 &&
                t.find_first_not_of("0123456789") == std::string::npos && std::stoi(t) > 0 &&
                std::stoi(t) < 65536)
                code = uint16_t(std::stoi(t));
            if (!code) fail(v["qtype"], object, "qtype '" + t + "' is not a record type");
            p.qtype = *code;
        }
        if (v["command"]) p.command = str("command");
        checked(name, object, [&] {
            zones::ProbeStore::validate(p);
            return 0;
        });
        return out;
    }

    zones::ConfigPool pool(const YAML::Node& name, const YAML::Node& v) {
        zones::ConfigPool out;
        zones::PoolDef& p = out.def;
        p.name = name.Scalar();
        out.line = line(name);
        std::string object = "pool " + p.name;
        if (v.IsNull() || !v["name"])
            fail(name, object, "needs a name (the owner name it answers)");
        std::vector<std::string> known;
        for (const auto& f : zones::poolFields(p)) known.push_back(f.key);
        known.push_back("members");
        checkKeys(v, object, known);
        auto str = [&](const char* k) { return scalar(v[k], object, k); };
        std::string owner = str("name");
        if (v["zone"]) {
            auto zone = zones::Name::fromText(str("zone"));
            if (!zone || str("zone") == "@")
                fail(v["zone"], object, "zone '" + str("zone") + "' is not a valid name");
            p.zone = zone->toText();
            auto o = zones::Name::fromText(owner, &*zone);
            if (!o) fail(v["name"], object, "name '" + owner + "' is not a valid name");
            if (!o->isSubdomainOf(*zone))
                fail(v["name"], object, o->toText() + " is outside zone " + p.zone);
            p.owner = o->toText();
        } else {
            auto o = zones::Name::fromText(owner);
            if (!o || owner.empty() || owner.back() != '.')
                fail(v["name"], object,
                     "name '" + owner + "' must be absolute (ending in '.') without a zone");
            p.owner = o->toText();
        }
        auto setting = [&](const char* k, auto parse) {
            return checked(v[k], object, [&] { return parse(str(k)); });
        };
        if (v["type"]) p.rtype = setting("type", zones::parsePoolType);
        if (v["ttl"]) p.ttl = integer(v["ttl"], object, "ttl");
        if (v["degraded-ttl"]) p.degradedTtl = integer(v["degraded-ttl"], object, "degraded-ttl");
        if (v["max-answers"]) p.maxAnswers = integer(v["max-answers"], object, "max-answers");
        if (v["all-down"]) p.allDown = setting("all-down", zones::parseAllDownMode);
        if (v["fallback"])
            p.fallback = checked(v["fallback"], object, [&] {
                return zones::PoolStore::canonicalValue(p, str("fallback"));
            });
        if (v["failback"]) p.failback = setting("failback", zones::parseFailbackMode);
        if (v["hold-down"])
            p.holdDownMs = setting("hold-down",
                                   [](const std::string& t) { return zones::parseDurationMs(t); });
        if (v["approval"]) p.approval = setting("approval", zones::parseApprovalMode);
        if (v["quorum"]) p.quorum = setting("quorum", zones::parseQuorum);
        checked(name, object, [&] {
            zones::PoolStore::validatePool(p);
            return 0;
        });
        if (const auto& list = v["members"]; list && !list.IsNull()) {
            if (!list.IsSequence()) fail(list, object, "members must be a list");
            for (const auto& m : list) out.members.push_back(member(m, p, object));
        }
        return out;
    }

    // "- 192.0.2.10" or "- {value: 192.0.2.10, priority: 1, weight: 1, probes: [web]}".
    zones::ConfigMember member(const YAML::Node& m, const zones::PoolDef& pool,
                               const std::string& poolObject) {
        zones::ConfigMember out;
        out.line = line(m);
        std::string object = poolObject + ", member";
        YAML::Node value = m;
        if (m.IsMap()) {
            std::vector<std::string> known = {"value"};
            for (const auto& f : zones::memberFields(out)) known.push_back(f.key);
            checkKeys(m, object, known);
            if (!m["value"]) fail(m, object, "needs a value (an address, or a name for CNAME)");
            value.reset(m["value"]);  // reset: `=` would write into `m` (yaml-cpp refs)
        }
        std::string text = scalar(value, object, "value");
        out.value =
            checked(value, object, [&] { return zones::PoolStore::canonicalValue(pool, text); });
        object = poolObject + ", member " + out.value;
        if (m.IsMap()) {
            if (m["priority"]) out.priority = integer(m["priority"], object, "priority");
            if (m["weight"]) out.weight = integer(m["weight"], object, "weight");
            if (m["probes"]) out.probes = strings(m["probes"], object, "probes");
            if (out.priority < 1 || out.priority > 1000)
                fail(m["priority"], object, "priority must be 1..1000");
            if (out.weight < 1 || out.weight > 1000)
                fail(m["weight"], object, "weight must be 1..1000");
        }
        std::sort(out.probes.begin(), out.probes.end());
        if (std::adjacent_find(out.probes.begin(), out.probes.end()) != out.probes.end())
            fail(m, object, "a probe is named twice");
        for (const auto& seen : members_[pool.name])
            if (seen == out.value) fail(value, object, "listed twice in the pool");
        members_[pool.name].push_back(out.value);
        return out;
    }

    std::string path_;
    std::string dir_;
    std::map<std::string, std::vector<std::string>> members_;
};

// Writes a field list as YAML keys; `keep(field, i)` says which to write.
template <typename Keep>
void emitFields(YAML::Emitter& out, const std::vector<ConfigField>& fields, Keep keep) {
    for (size_t i = 0; i < fields.size(); ++i) {
        const auto& f = fields[i];
        if (!keep(f, i)) continue;
        out << YAML::Key << f.key << YAML::Value;
        if (f.list) {
            out << YAML::Flow << YAML::BeginSeq;
            for (const auto& item : f.items) out << item;
            out << YAML::EndSeq;
        } else {
            out << f.text;
        }
    }
}

std::string recordText(const zones::Record& r, const zones::Name& apex) {
    return zones::relativeName(r.owner, apex) + " " + std::to_string(r.ttl) + " IN " +
           zones::rrTypeToText(r.type) + " " + zones::formatRdata(r, true);
}

std::string endpoint(const zones::ConfigSecondary& s) {
    if (s.port == 53) return s.address;
    bool v6 = s.address.find(':') != std::string::npos;
    return (v6 ? "[" + s.address + "]" : s.address) + ":" + std::to_string(s.port);
}

std::string writeSecret(const std::string& dir, const zones::ConfigKey& k) {
    std::string base = k.name.substr(0, k.name.size() - 1);  // without the trailing dot
    std::string path = dir + "/" + (base.empty() ? "root" : base) + ".key";
    ::mkdir(dir.c_str(), 0700);
    std::ofstream f(path, std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    ::chmod(path.c_str(), 0600);
    f << *k.secret << "\n";
    if (!f.flush()) throw std::runtime_error("writing " + path + " failed");
    return path;
}

std::string relativeTo(const std::string& path, const std::string& dir) {
    if (dir == "." || dir.empty()) return path;
    std::string prefix = dir + "/";
    return path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : path;
}

}  // namespace

zones::Config readConfigFile(const std::string& path) {
    return Reader(path).read();
}

void writeConfigFile(std::ostream& os, const zones::Config& c, const std::string& secretsDir,
                     const std::string& fileDir) {
    YAML::Emitter out;
    out << YAML::Comment("dnsd configuration (dnsctl dump); apply with: dnsctl apply FILE");
    out << YAML::BeginMap << YAML::Key << "version" << YAML::Value << 1;
    if (!c.keys.empty()) {
        out << YAML::Key << "keys" << YAML::Value << YAML::BeginMap;
        for (const auto& k : c.keys) {
            out << YAML::Key << k.name << YAML::Value << YAML::BeginMap;
            out << YAML::Key << "algorithm" << YAML::Value << k.algorithm;
            if (!secretsDir.empty() && k.secret)
                out << YAML::Key << "secret-file" << YAML::Value
                    << relativeTo(writeSecret(secretsDir, k), fileDir);
            out << YAML::EndMap;
        }
        out << YAML::EndMap;
    }
    if (!c.zones.empty()) {
        out << YAML::Key << "zones" << YAML::Value << YAML::BeginMap;
        zones::ConfigZone defaults;
        for (const auto& z : c.zones) {
            out << YAML::Key << z.apex.toText() << YAML::Value << YAML::BeginMap;
            if (z.journalMaxEntries != defaults.journalMaxEntries ||
                z.journalMaxAgeMs != defaults.journalMaxAgeMs) {
                out << YAML::Key << "journal" << YAML::Value << YAML::BeginMap;
                out << YAML::Key << "max-entries" << YAML::Value << z.journalMaxEntries;
                out << YAML::Key << "max-age" << YAML::Value
                    << zones::formatDurationMs(z.journalMaxAgeMs);
                out << YAML::EndMap;
            }
            if (!z.secondaries.empty()) {
                out << YAML::Key << "secondaries" << YAML::Value << YAML::BeginSeq;
                for (const auto& s : z.secondaries) {
                    out << YAML::BeginMap << YAML::Key << "address" << YAML::Value << endpoint(s);
                    if (!s.key.empty()) out << YAML::Key << "key" << YAML::Value << s.key;
                    if (!s.notify) out << YAML::Key << "notify" << YAML::Value << false;
                    out << YAML::EndMap;
                }
                out << YAML::EndSeq;
            }
            if (!z.updatePolicies.empty()) {
                out << YAML::Key << "update-policies" << YAML::Value << YAML::BeginSeq;
                for (const auto& p : z.updatePolicies) {
                    out << YAML::BeginMap << YAML::Key << "key" << YAML::Value << p.key;
                    out << YAML::Key << "name" << YAML::Value << p.name;
                    if (!p.types.empty()) {
                        out << YAML::Key << "types" << YAML::Value << YAML::Flow << YAML::BeginSeq;
                        for (const auto& t : p.types) out << t;
                        out << YAML::EndSeq;
                    }
                    out << YAML::EndMap;
                }
                out << YAML::EndSeq;
            }
            // A zone going insecure is written unsigned: that is where it is going (its keys
            // and the rest of the safe order stay with dnsctl dnssec).
            if (z.dnssec && !z.dnssec->unsigning) {
                out << YAML::Key << "dnssec" << YAML::Value << YAML::BeginMap;
                emitFields(out, zones::dnssecFields(z.dnssec->settings),
                           [](const ConfigField&, size_t) { return true; });
                out << YAML::EndMap;
            }
            out << YAML::Key << "records" << YAML::Value << YAML::BeginSeq;
            for (const auto& r : z.records) out << recordText(r, z.apex);
            out << YAML::EndSeq << YAML::EndMap;
        }
        out << YAML::EndMap;
    }
    if (!c.probes.empty()) {
        out << YAML::Key << "probes" << YAML::Value << YAML::BeginMap;
        for (const auto& p : c.probes) {
            out << YAML::Key << p.def.name << YAML::Value << YAML::BeginMap;
            emitFields(out, zones::probeFieldsStated(p.def),
                       [](const ConfigField&, size_t) { return true; });
            out << YAML::EndMap;
        }
        out << YAML::EndMap;
    }
    if (!c.pools.empty()) {
        out << YAML::Key << "pools" << YAML::Value << YAML::BeginMap;
        for (const auto& p : c.pools) {
            out << YAML::Key << p.def.name << YAML::Value << YAML::BeginMap;
            auto fields = zones::poolFields(p.def);
            auto zone = zones::Name::fromText(p.def.zone);
            auto owner = zones::Name::fromText(p.def.owner);
            for (auto& f : fields)  // "app", not "app.svc.example.com.", under its zone
                if (f.key == "name" && zone && owner) f.text = zones::relativeName(*owner, *zone);
            emitFields(out, fields, [](const ConfigField& f, size_t) { return !f.text.empty(); });
            out << YAML::Key << "members" << YAML::Value << YAML::BeginSeq;
            for (const auto& m : p.members) {
                out << YAML::BeginMap << YAML::Key << "value" << YAML::Value << m.value;
                emitFields(out, zones::memberFields(m),
                           [](const ConfigField&, size_t) { return true; });
                out << YAML::EndMap;
            }
            out << YAML::EndSeq << YAML::EndMap;
        }
        out << YAML::EndMap;
    }
    out << YAML::EndMap;
    if (!out.good()) throw std::logic_error("writing YAML: " + out.GetLastError());
    os << out.c_str() << "\n";
}

}  // namespace dnsctl
