// zones::applyConfig — make the database say what a configuration file says, and tell what
// that took: the one engine behind `dnsctl plan` (rolled back) and `dnsctl apply` (committed).
//
// Contract: runs inside the caller's write transaction (a JournaledTransaction, so that what
// pools serve is journaled as every pool command does) and commits nothing itself. It reads
// the database once (readConfig), compares object by object, and writes each difference
// through the stores the single dnsctl commands use: records through ZoneStore (validator,
// serial, journal, generation), pools and members through PoolStore (with their events),
// probes through ProbeStore, keys and secondaries through XfrStore. An object that did not
// change is not written at all, so a second apply writes nothing and moves no serial, and a
// member or pool that did not change keeps its health, decision and history. A pool's policy
// change and a member's priority, weight or probes change are updates in place (state kept);
// only a pool moved to another owner, type or zone is replaced (deleted and created).
//
// Objects the file does not mention are left alone (listed as Keep) unless `prune`. Inside an
// object the file is the whole truth: a zone's records and secondaries, a pool's members.
// A zone's update policies are the file's list (added and deleted through UpdatePolicyStore).
// Its `dnssec:` mapping signs it as `dnsctl dnssec enable` does (new keys; a zone going
// insecure has that withdrawn instead) and sets its timings as `dnsctl dnssec set` does; a
// signed zone whose entry has no `dnssec:` takes step 1 of going insecure, as `dnsctl dnssec
// disable` without flags (it stays signed and publishes CDS/CDNSKEY delete; the rest is the
// operator's, because it waits for the parent). Changing a signed zone's algorithm is refused.
// The first problem throws std::runtime_error "FILE:LINE: <object>: <problem>"; the caller's
// rollback then leaves the database exactly as it was.
#pragma once

#include <SQLiteCpp/Database.h>

#include <string>
#include <vector>

#include "zones/config_model.hpp"
#include "zones/dnssec_key_store.hpp"

namespace zones {

struct PlanItem {
    enum class Action { Add, Change, Replace, Remove, Keep };
    Action action = Action::Keep;
    std::string object;                // "pool web", "zone svc.example.com.", ...
    std::vector<std::string> details;  // field-level lines: "ttl: 30 -> 60", "+ member ..."
};

struct ConfigPlan {
    std::vector<PlanItem> items;
    int count(PlanItem::Action action) const;
    bool hasChanges() const;
    // The diff-like text `dnsctl plan` prints, ending with a one-line summary.
    std::string text() const;
};

// `keyFiles` takes the private key files of zones signed by the file (written now, deleted
// unless the caller commits and then calls keyFiles.committed()).
ConfigPlan applyConfig(SQLite::Database& db, const Config& desired, bool prune,
                       KeyFileTransaction& keyFiles);

}  // namespace zones
