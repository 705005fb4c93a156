// zones::statusJson / eventsJson — the one JSON picture of every pool, shared by
// `dnsctl status --json` and dnsd's /status.json, so the CLI and the status page can never
// disagree about what is served and why.
//
// Contract: read-only; one consistent read of the database (one read transaction). The
// document: {"now", "controller": {pid, heartbeat_at, stale, never_ran}, "pools": [{name,
// zone, owner, type, ttl, ..., "decision": {served[], ttl, decided_at, reason, active_tier,
// all_down, degraded, pending: {tier, since, reason} | null, failback: {tier, at, left_ms,
// manual} | null} | null, "undecided": {served[], ttl} (only while decision is null: what dnsd
// answers meanwhile), "members": [{value, priority, weight, admin, drained, health,
// health_since, last_ok, last_message, last_latency_us, last_checked_at, probes[],
// checks: [{probe, last_ok, last_message, last_latency_us, last_checked_at}], views: [{vantage,
// health, since, last_ok, message, checked_at, counted}], quorum: {up, of, needed, summary} |
// null}], quorum, quorum_lost, quorum_lost_since}], "vantages": [see vantagesJson],
// "secondaries": [...]}.
// Written with nlohmann-json (ordered keys), never by hand.
//
// Vantage points (schema v8): every member's view per vantage (member_views) and the pool's
// quorum are read here once, for the CLI, the status page and whoever words an event, so that
// "up 2/3: fra up, nyc up, sin DOWN since 12:01:03" is said the same way everywhere.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "zones/pool_model.hpp"
#include "zones/vantage_store.hpp"

namespace zones {

// dnsd-probe writes a heartbeat every second; three missed ones mean it is gone.
constexpr int64_t kControllerStaleMs = 3000;

// The controller writes each vantage's row about once a second while it reports.
constexpr int64_t kVantageStaleMs = 3000;

// Reporting: its last report is under kVantageStaleMs old and the controller has not marked
// it silent. Silent: marked (silent_since) or its reports stopped. NeverReported: no report yet.
enum class VantageState { Reporting, Silent, NeverReported };
VantageState vantageState(const VantageInfo& v, int64_t nowMs);
std::string toText(VantageState state);  // "reporting" "silent" "never-reported"
// Since when a silent vantage is silent: silent_since, else its last report (nullopt if none).
std::optional<int64_t> silentSince(const VantageInfo& v);

// One member's views as the quorum counts them: `up` views up of the `of` counted (a vantage
// the controller marked silent is out of the count), `needed` = quorumNeeded(quorum, vantages)
// with `vantages` the number of vantage rows (the views' own count when there are none).
struct ViewTally {
    int up = 0, of = 0, needed = 0;
};
ViewTally tallyViews(const std::vector<MemberView>& views, const std::set<std::string>& silent,
                     Quorum quorum, int vantages);
// "up 2/3: fra up, nyc up, sin DOWN since 12:01:03" (UTC; the date too when not within the
// last 20 hours); a silent vantage's view ends in "(silent, not counted)".
std::string viewsText(const std::vector<MemberView>& views, const std::set<std::string>& silent,
                      const ViewTally& tally, int64_t nowMs);
// "12:01:03", or "2026-12-01 12:01:03" when `at` is 20 hours or more before `nowMs` (UTC).
std::string clockTime(int64_t at, int64_t nowMs);

// `dnsctl vantage list --json` and status' "vantages": [{name, local, state, silent_since,
// created_at, last_report_at, last_report_age_ms, last_address, last_agent_time, offset_ms,
// lag_ms, checks_per_s, reports, results, dropped, refused, last_refusal, version, host}].
std::string vantagesJson(SQLite::Database& db, int64_t nowMs);

// Throws std::runtime_error ("no pool named X") if `onlyPool` names no pool.
std::string statusJson(SQLite::Database& db, int64_t nowMs,
                       const std::optional<std::string>& onlyPool = std::nullopt);

// The newest `limit` events, oldest first: [{"id", "at", "pool", "member", "kind", "message"}].
std::string eventsJson(SQLite::Database& db, int limit);

}  // namespace zones
