#include "probes/policy.hpp"

#include <algorithm>
#include <set>

namespace probes {
namespace {

std::vector<std::string> usableIn(const std::vector<MemberInput>& members, int tier) {
    std::vector<const zones::MemberStanding*> picked;
    for (const auto& m : members)
        if (m.priority == tier && memberUsable(m)) picked.push_back(&m);
    return zones::servingOrder(picked);
}

// The one all-down rule (zones/pool_model.hpp), shared with dnsd's undecided answer.
zones::AllDownAnswer allDown(const PoolPolicy& policy, const std::vector<MemberInput>& members) {
    std::vector<zones::MemberStanding> standing(members.begin(), members.end());
    return zones::allDownAnswer(policy.allDown, policy.fallback, policy.ttl, policy.degradedTtl,
                                standing);
}

// The tier's members as served while its move away waits for approval.
std::vector<std::string> stayingSet(const std::vector<MemberInput>& members, int tier) {
    std::vector<const zones::MemberStanding*> picked;
    for (const auto& m : members)
        if (m.priority == tier && !m.drained && m.admin != AdminState::ForceDown)
            picked.push_back(&m);
    return zones::servingOrder(picked);
}

std::string tierName(int tier) {
    return "priority " + std::to_string(tier);
}

std::string countUp(const std::vector<MemberInput>& members, int tier) {
    int up = 0, total = 0;
    for (const auto& m : members) {
        if (m.priority != tier || m.drained) continue;
        ++total;
        if (memberUsable(m)) ++up;
    }
    return std::to_string(up) + " of " + std::to_string(total) + " up";
}

}  // namespace

const char* moveName(Move move) {
    switch (move) {
        case Move::Initial:
            return "initial";
        case Move::Failover:
            return "failover";
        case Move::Failback:
            return "failback";
        case Move::AllDown:
            return "all-down";
        case Move::Recovered:
            return "recovered";
        case Move::Pending:
            return "failover-pending";
        default:
            return "none";
    }
}

bool memberUsable(const MemberInput& m) {
    if (m.drained || m.admin == AdminState::ForceDown) return false;
    return m.admin == AdminState::ForceUp || m.health == Health::Up;
}

std::optional<int64_t> nextDrainChange(bool drained, std::optional<int64_t> start,
                                       std::optional<int64_t> end, int64_t now) {
    if (!drained) return std::nullopt;
    if (start && now < *start) return start;
    if (end && now < *end) return end;
    return std::nullopt;
}

std::string joinServed(const std::vector<std::string>& served) {
    std::string out;
    for (const auto& v : served) {
        if (!out.empty()) out += ' ';
        out += v;
    }
    return out;
}

Decision decide(const PoolPolicy& policy, const std::vector<MemberInput>& members,
                const PoolState& state, const Requests& requests, int64_t now) {
    Decision d;
    std::set<int> tiers;
    for (const auto& m : members) tiers.insert(m.priority);

    // Track since when each tier has been continuously usable (for the failback hold-down).
    for (int tier : tiers) {
        auto usable = usableIn(members, tier);
        if (usable.empty()) continue;
        auto it = state.tierUsableSince.find(tier);
        if (it != state.tierUsableSince.end()) {
            d.next.tierUsableSince[tier] = it->second;
        } else if (state.decided) {
            d.next.tierUsableSince[tier] = now;
        } else {
            // First decision (e.g. after a restart): trust the recorded health history.
            int64_t since = now;
            for (const auto& m : members)
                if (m.priority == tier && memberUsable(m) && m.healthSince > 0)
                    since = std::min(since, m.healthSince);
            d.next.tierUsableSince[tier] = since;
        }
    }
    std::optional<int> best;
    if (!d.next.tierUsableSince.empty()) best = d.next.tierUsableSince.begin()->first;
    std::optional<int> current = state.decided ? state.activeTier : std::nullopt;
    if (current && !tiers.count(*current)) current.reset();  // its members were removed
    bool currentUsable = current && d.next.tierUsableSince.count(*current);

    std::optional<int> target;
    if (!best) {
        d.move = state.decided && state.activeTier ? Move::AllDown
                 : state.decided                   ? Move::None
                                                   : Move::Initial;
    } else if (!current) {
        target = best;
        d.move = !state.decided                                        ? Move::Initial
                 : state.activeTier && !tiers.count(*state.activeTier) ? Move::Failover
                                                                       : Move::Recovered;
    } else if (currentUsable) {
        target = current;
        if (*best < *current) {
            int64_t since = d.next.tierUsableSince[*best];
            if (requests.failback) {
                target = best;
                d.move = Move::Failback;
                d.failbackResult = "failed back to " + tierName(*best);
            } else if (policy.manualFailback) {
                d.failbackTier = best;
                d.reason =
                    tierName(*best) + " is healthy again; waiting for `dnsctl pool failback`";
            } else if (now - since >= policy.holdDownMs) {
                target = best;
                d.move = Move::Failback;
            } else {
                // The countdown is data (failbackAt), not reason text: the reason is written
                // once, and status computes the time left whenever it is asked.
                d.recheckAt = since + policy.holdDownMs;
                d.failbackTier = best;
                d.failbackAt = since + policy.holdDownMs;
                d.reason = tierName(*best) + " healthy again, failback after the hold-down";
            }
        }
    } else if (policy.manualApproval && !requests.approve) {
        // Keep serving the failed tier: the operator decides when to move.
        d.pendingTier = best;
        d.pendingSince = state.pendingTier == best ? state.pendingSince : now;
        d.pendingReason = tierName(*current) + " has no usable member; failover to " +
                          tierName(*best) + " waits for `dnsctl pool approve`";
        d.move = state.pendingTier == best ? Move::None : Move::Pending;
        auto staying = stayingSet(members, *current);
        d.activeTier = current;
        d.served = staying.empty() ? allDown(policy, members).served : staying;
        d.degraded = true;
        d.ttl = std::min(policy.ttl, policy.degradedTtl);
        d.reason = "pending approval: " + d.pendingReason;
        d.next.decided = true;
        d.next.activeTier = current;
        d.next.pendingTier = d.pendingTier;
        d.next.pendingSince = d.pendingSince;
        if (requests.failback)
            d.failbackResult = "no failback possible: " + tierName(*current) + " is down";
        return d;
    } else {
        target = best;
        d.move = *best > *current ? Move::Failover : Move::Failback;
        if (requests.approve && policy.manualApproval)
            d.approveResult =
                "approved: moved from " + tierName(*current) + " to " + tierName(*best);
    }

    if (requests.approve && d.approveResult.empty()) d.approveResult = "nothing pending to approve";
    if (requests.failback && d.failbackResult.empty())
        d.failbackResult = best && target && *best == *target
                               ? "already on the best healthy tier (" + tierName(*best) + ")"
                               : "no better tier is healthy";

    d.next.decided = true;
    d.next.activeTier = target;
    if (!target) {
        d.allDown = true;
        d.degraded = true;
        auto answer = allDown(policy, members);
        d.served = std::move(answer.served);
        d.ttl = answer.ttl;
        const char* mode = policy.allDown == AllDownMode::ServeAll   ? "serving all (fail-open)"
                           : policy.allDown == AllDownMode::Fallback ? "serving the fallback"
                                                                     : "answering NODATA";
        d.reason = members.empty() ? std::string("pool has no members; ") + mode
                                   : std::string("all members down; ") + mode;
    } else {
        d.activeTier = target;
        d.served = usableIn(members, *target);
        bool memberDown = false;
        for (const auto& m : members)
            if (m.priority == *target && !m.drained && !memberUsable(m)) memberDown = true;
        d.degraded = memberDown || *target != *tiers.begin();
        std::string failing;
        for (const auto& m : members)
            if (m.priority == *target && memberUsable(m) && m.failing)
                failing += (failing.empty() ? "" : ", ") + m.value;
        if (!failing.empty() && !d.degraded) {
            d.degraded = true;
            d.reason = failing + " failing checks, TTL lowered until it recovers or goes down";
        }
        std::string base = tierName(*target) + ": " + countUp(members, *target);
        if (d.move == Move::Failover)
            base = "failover to " + base;
        else if (d.move == Move::Failback)
            base = "failback to " + base;
        d.reason = d.reason.empty() ? base : base + "; " + d.reason;
    }
    if (!d.allDown) d.ttl = d.degraded ? std::min(policy.ttl, policy.degradedTtl) : policy.ttl;
    return d;
}

}  // namespace probes
