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

struct ConfigZone {
    Name apex;
    std::vector<Record> records;  // Record::line = the file line (inline) or zone-file line
    int64_t journalMaxEntries = 1000;
    int64_t journalMaxAgeMs = 604800000;  // 7 days
    std::vector<ConfigSecondary> secondaries;
    std::string zoneFile;  // the zone file the records came from, "" = inline
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
// A probe's dns qtype as the file writes it ("A", "TXT", "TYPE65534").
std::string qtypeText(int qtype);

// What the database holds, as a Config (the source of `dnsctl dump` and of every plan). Read
// in the caller's transaction, if any, so that plan and apply see one moment.
Config readConfig(SQLite::Database& db);

// "www.example.com." relative to "example.com." -> "www"; the apex -> "@"; else absolute.
std::string relativeName(const Name& name, const Name& apex);

}  // namespace zones
