// zones::Config — the whole configuration dnsctl plan/apply/dump speak about, as typed values.
//
// Contract: a Config is what one configuration file says (tools/dnsctl/config_yaml reads and
// writes the file; docs/config-file.md is the format) or what a database holds (readConfig):
// TSIG keys, zones with their records, journal bounds and secondaries, probes, and pools with
// their members. Every object remembers the file line it came from (0 when it came from the
// database) so that an error found later still names FILE:LINE. Values are canonical where
// the database stores them canonical (names absolute and lower case, member values as
// PoolStore::canonicalValue writes them), so two Configs compare field by field.
//
// Per zone also its RFC 2136 update policies and, for a signed zone, its DNSSEC settings
// (algorithm and timings; keys are made by dnsd and dnsctl, never written in the file).
// What is not here, on purpose: secrets (a key names a file holding its secret, or a key that
// exists), vantages (each holds a key that `dnsctl vantage add` prints once), and operational
// state (drain, force, health, decisions): apply never touches those.
//
// `probeFields` / `poolFields` / `memberFields` list each setting as (file key, text), in the
// file's key order: plan compares and prints them, and dump writes them, from one list.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zones/dnssec_key_store.hpp"
#include "zones/name.hpp"
#include "zones/pool_store.hpp"
#include "zones/probe_store.hpp"
#include "zones/record.hpp"

namespace zones {

struct ConfigKey {
    std::string name;       // absolute, lower case
    std::string algorithm;  // "" = not stated: hmac-sha256 for a new key, else unchanged
    std::optional<std::string> secret;  // base64, read from secretFile; nullopt = must exist
    std::string secretFile;             // as written in the file (for messages)
    int line = 0;
};

struct ConfigSecondary {
    std::string address;  // as inet_ntop writes it
    int port = 53;
    std::string key;  // absolute key name, "" = unsigned transfers
    bool notify = true;
    int line = 0;
};

// One RFC 2136 update policy of a zone (zones::UpdatePolicyStore), as the store normalises it.
struct ConfigUpdatePolicy {
    std::string key;                 // absolute, lower case
    std::string name = "*";          // pattern relative to the zone: @, www, *.dyn, ...
    std::vector<std::string> types;  // mnemonics, empty = every type
    int64_t id = 0;                  // the row (database only)
    int line = 0;
    // "key K name PATTERN types A AAAA": how plan names it; also its identity.
    std::string text() const;
};

// A signed zone's settings. Keys are not configuration: dnsd/dnsctl make them.
struct ConfigDnssec {
    DnssecZoneRow settings;  // algorithm and the timings; the rest is the database's
    bool unsigning = false;  // database only: going insecure (dnsctl dnssec disable)
    int line = 0;
};

struct ConfigZone {
    Name apex;
    std::vector<Record> records;  // Record::line = the file line (inline) or zone-file line
    int64_t journalMaxEntries = 1000;
    int64_t journalMaxAgeMs = 604800000;  // 7 days
    std::vector<ConfigSecondary> secondaries;
    std::string zoneFile;  // the zone file the records came from, "" = inline
    std::vector<ConfigUpdatePolicy> updatePolicies;
    std::optional<ConfigDnssec> dnssec;  // nullopt = unsigned
    int line = 0;
};

struct ConfigProbe {
    ProbeDef def;
    int line = 0;
};

struct ConfigMember {
    std::string value;  // canonical for the pool's type
    int priority = 1;
    int weight = 1;
    std::vector<std::string> probes;
    int line = 0;
};

struct ConfigPool {
    PoolDef def;  // name, zone ("" = the deepest zone holding owner), owner (absolute), policy
    std::vector<ConfigMember> members;
    int line = 0;
};

struct Config {
    std::string source;  // the file name, for messages
    std::vector<ConfigKey> keys;
    std::vector<ConfigZone> zones;
    std::vector<ConfigProbe> probes;
    std::vector<ConfigPool> pools;
};

// One setting as the file writes it. `list` settings (probe headers, member probes) keep
// their items in `items`; `text` then joins them for messages.
struct ConfigField {
    std::string key;
    std::string text;
    std::vector<std::string> items;
    bool list = false;
    bool operator==(const ConfigField& o) const { return key == o.key && text == o.text; }
};

std::vector<ConfigField> probeFields(const ProbeDef& probe);
// The fields worth writing down: type, interval, timeout, rise and fall, and every other one
// that differs from its default (what dump writes and plan shows for a new probe).
std::vector<ConfigField> probeFieldsStated(const ProbeDef& probe);
std::vector<ConfigField> poolFields(const PoolDef& pool);  // policy and binding, not members
std::vector<ConfigField> memberFields(const ConfigMember& member);
// algorithm, dnskey-ttl, propagation-delay, zsk-lifetime, sig-validity, sig-refresh, ds-ttl.
std::vector<ConfigField> dnssecFields(const DnssecZoneRow& settings);
// The dnssec keys a file may give (dnssecFields' keys).
std::vector<std::string> dnssecKeys();
// Seconds as the file writes them and parseDurationMs reads them back: "90d", "1h", "90s".
std::string secondsText(int64_t seconds);
// A probe's dns qtype as the file writes it ("A", "TXT", "TYPE65534").
std::string qtypeText(int qtype);

// What the database holds, as a Config (the source of `dnsctl dump` and of every plan). Read
// in the caller's transaction, if any, so that plan and apply see one moment.
Config readConfig(SQLite::Database& db);

// "www.example.com." relative to "example.com." -> "www"; the apex -> "@"; else absolute.
std::string relativeName(const Name& name, const Name& apex);

}  // namespace zones
