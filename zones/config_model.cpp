#include "zones/config_model.hpp"

#include <SQLiteCpp/Statement.h>

#include <cctype>
#include <map>

#include "zones/dnssec_key_material.hpp"
#include "zones/update_policy_store.hpp"
#include "zones/xfr_store.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_store.hpp"

namespace zones {
namespace {

ConfigField field(std::string key, std::string text) {
    return {std::move(key), std::move(text), {}, false};
}

ConfigField listField(std::string key, std::vector<std::string> items) {
    std::string text;
    for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
    return {std::move(key), "[" + text + "]", std::move(items), true};
}

std::vector<std::string> splitLines(const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

}  // namespace

std::string qtypeText(int qtype) {
    return rrTypeToText(uint16_t(qtype));
}

std::vector<ConfigField> probeFields(const ProbeDef& p) {
    return {field("type", p.type),
            field("port", p.port ? std::to_string(*p.port) : ""),
            field("interval", formatDurationMs(p.intervalMs)),
            field("timeout", formatDurationMs(p.timeoutMs)),
            field("rise", std::to_string(p.rise)),
            field("fall", std::to_string(p.fall)),
            field("target", p.target),
            field("method", p.method),
            field("path", p.path),
            field("host", p.hostHeader),
            field("user-agent", p.userAgent),
            listField("headers", splitLines(p.headers)),
            field("expect", p.expect),
            field("body", p.body),
            field("sni", p.sni),
            field("verify", p.verify ? "true" : "false"),
            field("query", p.query),
            field("qtype", qtypeText(p.qtype)),
            field("command", p.command)};
}

std::vector<ConfigField> probeFieldsStated(const ProbeDef& p) {
    ProbeDef plain;
    plain.type = p.type;
    auto defaults = probeFields(plain);
    auto fields = probeFields(p);
    std::vector<ConfigField> out;
    for (size_t i = 0; i < fields.size(); ++i) {
        const std::string& k = fields[i].key;
        bool always =
            k == "type" || k == "interval" || k == "timeout" || k == "rise" || k == "fall";
        if (always || !(fields[i] == defaults[i])) out.push_back(fields[i]);
    }
    return out;
}

std::vector<ConfigField> poolFields(const PoolDef& p) {
    return {field("zone", p.zone),
            field("name", p.owner),
            field("type", toText(p.rtype)),
            field("ttl", std::to_string(p.ttl)),
            field("degraded-ttl", std::to_string(p.degradedTtl)),
            field("max-answers", std::to_string(p.maxAnswers)),
            field("all-down", toText(p.allDown)),
            field("fallback", p.fallback),
            field("failback", toText(p.failback)),
            field("hold-down", formatDurationMs(p.holdDownMs)),
            field("approval", toText(p.approval)),
            field("quorum", toText(p.quorum))};
}

std::vector<ConfigField> memberFields(const ConfigMember& m) {
    return {field("priority", std::to_string(m.priority)),
            field("weight", std::to_string(m.weight)), listField("probes", m.probes)};
}

std::string ConfigUpdatePolicy::text() const {
    std::string t = "key " + key + " name " + name + " types ";
    if (types.empty()) return t + "any";
    for (size_t i = 0; i < types.size(); ++i) t += (i ? " " : "") + types[i];
    return t;
}

std::string secondsText(int64_t seconds) {
    if (seconds != 0 && seconds % 86400 == 0) return std::to_string(seconds / 86400) + "d";
    if (seconds != 0 && seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
    if (seconds != 0 && seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
    return std::to_string(seconds) + "s";
}

std::vector<ConfigField> dnssecFields(const DnssecZoneRow& d) {
    std::string alg = dnssecAlgorithmName(d.algorithm);
    for (auto& c : alg) c = char(std::tolower(static_cast<unsigned char>(c)));
    return {field("algorithm", alg),
            field("dnskey-ttl", secondsText(d.dnskeyTtl)),
            field("propagation-delay", secondsText(d.propagationDelay)),
            field("zsk-lifetime", secondsText(d.zskLifetime)),
            field("sig-validity", secondsText(d.sigValidity)),
            field("sig-refresh", secondsText(d.sigRefresh)),
            field("ds-ttl", secondsText(d.dsTtl))};
}

std::vector<std::string> dnssecKeys() {
    std::vector<std::string> out;
    for (const auto& f : dnssecFields(DnssecZoneRow{})) out.push_back(f.key);
    return out;
}

std::string relativeName(const Name& name, const Name& apex) {
    if (name == apex) return "@";
    std::string text = name.toText();
    std::string suffix = "." + apex.toText();
    if (name.isSubdomainOf(apex) && !apex.isRoot() && text.size() > suffix.size())
        return text.substr(0, text.size() - suffix.size());
    return text;
}

Config readConfig(SQLite::Database& db) {
    Config c;
    c.source = "database";
    XfrStore xfr(db);
    for (const auto& k : xfr.keys()) {
        ConfigKey key;
        key.name = k.name;
        key.algorithm = k.algorithm;
        key.secret = k.secret;
        c.keys.push_back(std::move(key));
    }
    std::map<int64_t, DnssecZoneRow> signedZones;
    if (db.tableExists("dnssec_zones"))
        for (auto& row : DnssecKeyStore(db).zones()) signedZones[row.zoneId] = row;
    const bool withPolicies = db.tableExists("update_policies");
    ZoneStore zoneStore(db);
    for (const auto& info : zoneStore.listZones()) {
        ConfigZone z;
        z.apex = info.name;
        z.records = zoneStore.listRecords(info.name, std::nullopt, std::nullopt);
        SQLite::Statement q(
            db, "SELECT journal_max_entries, journal_max_age_ms FROM zones WHERE id = ?");
        q.bind(1, info.id);
        if (q.executeStep()) {
            z.journalMaxEntries = q.getColumn(0).getInt64();
            z.journalMaxAgeMs = q.getColumn(1).getInt64();
        }
        for (const auto& s : xfr.secondaries(info.name.toText()))
            z.secondaries.push_back({s.address, s.port, s.keyName, s.notify, 0});
        if (withPolicies)
            for (const auto& p : UpdatePolicyStore(db).list(info.name.toText()))
                z.updatePolicies.push_back({p.key, p.name, p.types, p.id, 0});
        if (auto it = signedZones.find(info.id); it != signedZones.end())
            z.dnssec = ConfigDnssec{it->second, it->second.unsigning, 0};
        c.zones.push_back(std::move(z));
    }
    for (auto& p : ProbeStore(db).list()) c.probes.push_back({std::move(p), 0});
    PoolStore pools(db);
    for (auto& p : pools.listPools()) {
        ConfigPool pool;
        pool.def = p;
        for (auto& m : pools.members(p.id))
            pool.members.push_back({m.value, m.priority, m.weight, m.probes, 0});
        c.pools.push_back(std::move(pool));
    }
    return c;
}

}  // namespace zones
