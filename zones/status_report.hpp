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
// checks: [{probe, last_ok, last_message, last_latency_us, last_checked_at}]}]}]}.
// Written with nlohmann-json (ordered keys), never by hand.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>

namespace zones {

// dnsd-probe writes a heartbeat every second; three missed ones mean it is gone.
constexpr int64_t kControllerStaleMs = 3000;

// Throws std::runtime_error ("no pool named X") if `onlyPool` names no pool.
std::string statusJson(SQLite::Database& db, int64_t nowMs,
                       const std::optional<std::string>& onlyPool = std::nullopt);

// The newest `limit` events, oldest first: [{"id", "at", "pool", "member", "kind", "message"}].
std::string eventsJson(SQLite::Database& db, int limit);

}  // namespace zones
