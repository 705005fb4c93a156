// probes::decide — the failover policy of one pool, as a pure function.
//
// Contract: given the pool's settings, its members (health after hysteresis, admin state,
// effective drain), the state carried from the previous decision, the operator's pending
// requests and the time, `decide` returns the COMPLETE set of values dnsd must serve, the TTL,
// a human reason, and the state to carry into the next call. No clock, no I/O, no randomness:
// every row of the truth table in tests/probes/policy_test.cpp is one call.
//
// The rules (probes/README.md explains why):
// - a member is usable when it is not drained and is forced up, or is auto and healthy;
// - the best tier is the lowest priority number with a usable member; one tier is
//   active-active, several are active-passive;
// - the first decision, and the one after all members were down, take the best tier at once;
// - while the current tier is usable it stays, except a better tier takes over after it has been
//   usable for hold_down_ms (failback auto) or on `dnsctl pool failback` (manual, or to skip the
//   hold-down under auto); while it waits, failbackTier (and failbackAt under auto) say so;
// - when the current tier has no usable member, the pool moves to the best tier at once, or,
//   with approval manual, keeps serving the current tier and records the move as pending
//   until `dnsctl pool approve`;
// - with no usable member anywhere the pool serves zones::allDownAnswer (serve-all: every
//   member not drained or forced down, or every member if that is none; fallback; or nodata,
//   '' served), the same function dnsd answers with before the first decision;
// - the TTL is capped at degraded_ttl while degraded (backup tier, all down, pending approval,
//   or a non-drained member of the served tier not usable), and while a served member is
//   failing but not yet down (as gdnsd does), so resolvers that cache the answer then ask
//   again soon after the failover instead of a full TTL later.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "probes/hysteresis.hpp"
#include "zones/pool_model.hpp"

namespace probes {

using zones::AdminState;
using zones::AllDownMode;

// value, priority, weight, admin and drain (zones::MemberStanding) plus what the probes say.
struct MemberInput : zones::MemberStanding {
    Health health = Health::Unknown;
    int64_t healthSince = 0;  // ms
    // Up, but some of its `fall` checks have failed (by the quorum's view): it may go down
    // within a few intervals, so answers cached now should not outlive that by a full TTL.
    bool failing = false;
};

struct PoolPolicy {
    bool manualFailback = false;
    int64_t holdDownMs = 60000;
    bool manualApproval = false;
    AllDownMode allDown = AllDownMode::ServeAll;
    std::string fallback;
    int ttl = 30;
    int degradedTtl = 5;
};

// Carried from one decision to the next; the persistent part lives in pool_decisions.
struct PoolState {
    bool decided = false;
    std::optional<int> activeTier;  // nullopt while all down
    std::optional<int> pendingTier;
    int64_t pendingSince = 0;
    std::map<int, int64_t> tierUsableSince;  // tiers usable now, and since when (ms)
};

struct Requests {
    bool approve = false;
    bool failback = false;
};

// What the decision did relative to the previous one (the events it causes).
enum class Move { None, Initial, Failover, Failback, AllDown, Recovered, Pending };
const char* moveName(Move move);

struct Decision {
    std::vector<std::string> served;  // complete, ordered by weight (desc) then value
    int ttl = 0;
    std::string reason;
    std::optional<int> activeTier;
    bool allDown = false;
    bool degraded = false;
    std::optional<int> pendingTier;
    int64_t pendingSince = 0;
    std::string pendingReason;
    // A better tier usable again while the pool stays where it is: failbackAt is when the
    // hold-down ends (failback auto), nullopt when it waits for `dnsctl pool failback`.
    std::optional<int> failbackTier;
    std::optional<int64_t> failbackAt;
    Move move = Move::None;
    std::optional<int64_t> recheckAt;  // decide again at this time even without new results
    std::string approveResult;         // set when a request was consumed
    std::string failbackResult;
    PoolState next;
};

bool memberUsable(const MemberInput& member);
Decision decide(const PoolPolicy& policy, const std::vector<MemberInput>& members,
                const PoolState& state, const Requests& requests, int64_t now);

// The next time zones::drainActive changes by itself, if any.
std::optional<int64_t> nextDrainChange(bool drained, std::optional<int64_t> start,
                                       std::optional<int64_t> end, int64_t now);

// Served values joined by single spaces, the pool_decisions.served format.
std::string joinServed(const std::vector<std::string>& served);

}  // namespace probes
