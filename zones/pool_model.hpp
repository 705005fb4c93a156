// zones pool model — the typed pool settings dnsctl, dnsd and dnsd-probe share, and the one
// all-down rule both daemons apply.
//
// Contract: every pool setting that crosses a process boundary (all-down mode, failback,
// approval, a member's admin state, the record type) is an enum here. The database stores
// the text form; `parse*` turns it into the enum (and is the only place that does), throwing
// std::runtime_error with one message naming the setting and the bad text; `toText` gives
// the stored and printed form back. Before this, each process compared strings of its own
// and dnsd's "no decision yet" answer and dnsd-probe's all-down decision drifted apart
// (drained members served at the full TTL by one, left out by the other).
//
// `allDownAnswer` is what a pool serves when no member is usable: dnsd calls it while the
// controller has made no decision yet, dnsd-probe's policy when every member is down, so the
// two can never disagree (tests/zones/pool_model_test.cpp checks every member combination).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zones {

// What a pool answers when no member is usable (DESIGN.md "All members down").
enum class AllDownMode { ServeAll, Fallback, Nodata };
// Back to a better tier after the hold-down (Auto) or only on `dnsctl pool failback`.
enum class FailbackMode { Auto, Manual };
// Failovers happen at once (Auto) or wait for `dnsctl pool approve` (Manual).
enum class ApprovalMode { Auto, Manual };
// A member's admin override: Auto lets the probes decide; force beats probes.
enum class AdminState { Auto, ForceUp, ForceDown };
// How many vantage points must see a member up (dnsctl pool --quorum; probes/README.md).
struct Quorum {
    enum class Kind { Majority, All, Any, Count } kind = Kind::Majority;
    int count = 0;  // for Count
    bool operator==(const Quorum& o) const { return kind == o.kind && count == o.count; }
};
// The record type a pool answers; values are the RR type codes.
enum class PoolType : uint16_t { A = 1, CNAME = 5, AAAA = 28 };

// Stored and printed forms: "serve-all" "fallback" "nodata"; "auto" "manual"; admin "auto"
// "up" "down"; "A" "AAAA" "CNAME".
std::string toText(AllDownMode mode);
std::string toText(FailbackMode mode);
std::string toText(ApprovalMode mode);
std::string toText(AdminState state);
std::string toText(PoolType type);
std::string toText(Quorum quorum);  // "majority" "all" "any" or the count

// Each throws "<setting> must be ... (got 'TEXT')".
AllDownMode parseAllDownMode(std::string_view text);
FailbackMode parseFailbackMode(std::string_view text);
ApprovalMode parseApprovalMode(std::string_view text);
AdminState parseAdminState(std::string_view text);
PoolType parsePoolType(std::string_view text);  // any case
Quorum parseQuorum(std::string_view text);      // majority|all|any|N (1..64)
// Vantages that must agree, out of `of`: majority ⌊of/2⌋+1, all `of`, any 1, N itself.
int quorumNeeded(Quorum quorum, int of);
PoolType poolTypeFromCode(int64_t code);  // as stored in pools.rtype

// Whether a drain with an optional window is in effect at `now` (ms): drained from `start`
// (or at once) until `end` (or until undrained).
bool drainActive(bool drained, std::optional<int64_t> start, std::optional<int64_t> end,
                 int64_t now);

// A member as the serving rules see it (health aside).
struct MemberStanding {
    std::string value;
    int priority = 1;
    int weight = 1;
    AdminState admin = AdminState::Auto;
    bool drained = false;  // in effect now: see drainActive()
};

// Served values in serving order: weight (highest first), then value.
std::vector<std::string> servingOrder(std::vector<const MemberStanding*> members);

struct AllDownAnswer {
    std::vector<std::string> served;  // serving order; empty means NODATA
    int ttl = 0;
};

// The all-down rule. ServeAll fails open: every member not drained and not forced down (an
// answer with every plausible member beats an empty one), or every member if that leaves
// none; Fallback serves `fallback`; Nodata serves nothing. The TTL is the pool's TTL capped at
// its degraded TTL, so resolvers ask again soon after the pool recovers.
AllDownAnswer allDownAnswer(AllDownMode mode, const std::string& fallback, int ttl, int degradedTtl,
                            const std::vector<MemberStanding>& members);

}  // namespace zones
