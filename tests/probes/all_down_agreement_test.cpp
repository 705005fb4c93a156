// dnsd's answer before the first decision and dnsd-probe's all-down decision are the same
// set and TTL, for every combination of member states and every all-down mode (issue 10:
// they used to disagree on drained and forced-down members and on the TTL).
//
// dnsd's side is the real StateLoader reading a real database written through PoolStore (the
// dnsctl path); dnsd-probe's side is probes::decide, the policy the controller runs.
#include <gtest/gtest.h>

#include <SQLiteCpp/Transaction.h>

#include "dnsd/state_loader.hpp"
#include "probes/policy.hpp"
#include "tests/support/temp_dir.hpp"
#include "zones/pool_store.hpp"
#include "zones/schema.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_store.hpp"

namespace {

enum class State { Drained, ForcedDown, ForcedUp, Healthy, Down };
constexpr State kStates[] = {State::Drained, State::ForcedDown, State::ForcedUp, State::Healthy,
                             State::Down};
constexpr zones::AllDownMode kModes[] = {zones::AllDownMode::ServeAll, zones::AllDownMode::Fallback,
                                         zones::AllDownMode::Nodata};

struct Slot {
    const char* value;
    int priority, weight;
};
// Two tiers and unequal weights, so order and tier both matter.
constexpr Slot kSlots[] = {{"192.0.2.1", 1, 1}, {"192.0.2.2", 1, 3}, {"192.0.2.3", 2, 2}};
constexpr size_t kMembers = std::size(kSlots);
constexpr const char* kFallback = "198.51.100.7";

struct Case {
    zones::AllDownMode mode;
    std::array<State, kMembers> states;
    int64_t poolId = 0;
};

std::vector<Case> everyCase() {
    std::vector<Case> out;
    for (auto mode : kModes)
        for (State a : kStates)
            for (State b : kStates)
                for (State c : kStates) out.push_back({mode, {a, b, c}});
    return out;
}

zones::MemberDef memberDef(const Slot& slot, State state) {
    zones::MemberDef m;
    m.value = slot.value;
    m.priority = slot.priority;
    m.weight = slot.weight;
    m.drained = state == State::Drained;
    m.admin = state == State::ForcedDown ? zones::AdminState::ForceDown
              : state == State::ForcedUp ? zones::AdminState::ForceUp
                                         : zones::AdminState::Auto;
    return m;
}

probes::MemberInput memberInput(const Slot& slot, State state, probes::Health health) {
    zones::MemberDef def = memberDef(slot, state);
    probes::MemberInput in;
    in.value = def.value;
    in.priority = def.priority;
    in.weight = def.weight;
    in.admin = def.admin;
    in.drained = def.drained;
    in.health = health;
    in.healthSince = 1000;
    return in;
}

TEST(AllDownAgreement, UndecidedAnswerIsTheAllDownDecisionForEveryMemberCombination) {
    testsupport::TempDir dir;
    std::string path = dir.path().string() + "/dnsd.db";
    auto cases = everyCase();
    {
        auto db = zones::openDatabase(path, zones::OpenMode::CreateReadWrite);
        auto zone = zones::parseZoneText(
            "$ORIGIN svc.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 60\n"
            "@ IN NS ns1\nns1 IN A 192.0.2.53\n",
            "svc.test.zone");
        zones::ZoneStore(*db).importZone(*zones::Name::fromText("svc.test."), zone.records, false,
                                         "svc.test.zone");
        SQLite::Transaction tx(*db);  // PoolStore callers own the transaction
        zones::PoolStore store(*db);
        for (size_t i = 0; i < cases.size(); ++i) {
            zones::PoolDef pool;
            pool.name = "p" + std::to_string(i);
            pool.ttl = 30;
            pool.degradedTtl = 5;
            pool.allDown = cases[i].mode;
            if (pool.allDown == zones::AllDownMode::Fallback) pool.fallback = kFallback;
            cases[i].poolId = store.createPool(pool, "svc.test", pool.name);
            std::vector<zones::MemberDef> members;
            for (size_t k = 0; k < kMembers; ++k)
                members.push_back(memberDef(kSlots[k], cases[i].states[k]));
            store.addMembers(pool, members, nullptr);
        }
        tx.commit();
    }
    dnsd::StateLoader loader(path);
    auto state = loader.load(nullptr);
    ASSERT_TRUE(state);

    size_t compared = 0;
    for (const Case& c : cases) {
        const dnsd::PoolAnswer* answer = state->pools->find(c.poolId);
        ASSERT_NE(answer, nullptr);
        std::vector<std::string> undecided;
        for (const auto& r : answer->rdatas) {
            EXPECT_EQ(r.ttl, answer->ttl);
            undecided.push_back(r.text);
        }

        probes::PoolPolicy policy;
        policy.allDown = c.mode;
        policy.fallback = kFallback;
        policy.ttl = 30;
        policy.degradedTtl = 5;
        // The members as they are once every probe fails: healthy ones are down too. A member
        // forced up stays usable, so such a pool is never all down.
        std::vector<probes::MemberInput> failed;
        bool forcedUp = false;
        for (size_t k = 0; k < kMembers; ++k) {
            failed.push_back(memberInput(kSlots[k], c.states[k], probes::Health::Down));
            forcedUp |= c.states[k] == State::ForcedUp;
        }
        std::string what = "mode " + zones::toText(c.mode) + ", states " +
                           std::to_string(int(c.states[0])) + std::to_string(int(c.states[1])) +
                           std::to_string(int(c.states[2]));
        for (const probes::PoolState& before : {probes::PoolState{}, [] {
                                                    probes::PoolState s;  // was serving tier 1
                                                    s.decided = true;
                                                    s.activeTier = 1;
                                                    return s;
                                                }()}) {
            auto d = probes::decide(policy, failed, before, {}, 5000);
            if (forcedUp) {
                EXPECT_FALSE(d.allDown) << what;
                continue;
            }
            ASSERT_TRUE(d.allDown) << what;
            EXPECT_EQ(d.served, undecided) << what;
            EXPECT_EQ(uint32_t(d.ttl), answer->ttl) << what;
            ++compared;
        }
        // Never an accidental empty answer: only nodata answers with nothing.
        EXPECT_EQ(undecided.empty(), c.mode == zones::AllDownMode::Nodata) << what;
    }
    // 3 modes x 4^3 combinations without a forced-up member, each from two starting states.
    EXPECT_EQ(compared, 3u * 64u * 2u);
}

}  // namespace
