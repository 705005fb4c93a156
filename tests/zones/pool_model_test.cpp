// zones/pool_model: every setting's text form round-trips, bad text is refused naming the
// setting, and the all-down rule row by row.
#include "zones/pool_model.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace zones {
namespace {

template <typename Parse>
std::string refusal(Parse parse, const char* text) {
    try {
        parse(text);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(PoolModel, TextFormsRoundTrip) {
    for (auto m : {AllDownMode::ServeAll, AllDownMode::Fallback, AllDownMode::Nodata})
        EXPECT_EQ(parseAllDownMode(toText(m)), m);
    for (auto m : {FailbackMode::Auto, FailbackMode::Manual})
        EXPECT_EQ(parseFailbackMode(toText(m)), m);
    for (auto m : {ApprovalMode::Auto, ApprovalMode::Manual})
        EXPECT_EQ(parseApprovalMode(toText(m)), m);
    for (auto s : {AdminState::Auto, AdminState::ForceUp, AdminState::ForceDown})
        EXPECT_EQ(parseAdminState(toText(s)), s);
    for (auto t : {PoolType::A, PoolType::AAAA, PoolType::CNAME}) {
        EXPECT_EQ(parsePoolType(toText(t)), t);
        EXPECT_EQ(poolTypeFromCode(int(t)), t);
    }
    // The stored forms are the schema's CHECK values: changing one breaks every database.
    EXPECT_EQ(toText(AllDownMode::ServeAll), "serve-all");
    EXPECT_EQ(toText(AdminState::ForceDown), "down");
    EXPECT_EQ(parsePoolType("aaaa"), PoolType::AAAA);
    EXPECT_EQ(int(PoolType::AAAA), 28);
}

TEST(PoolModel, BadTextNamesTheSettingAndTheText) {
    EXPECT_EQ(refusal(parseAllDownMode, "maybe"),
              "all-down must be serve-all, fallback or nodata (got 'maybe')");
    EXPECT_EQ(refusal(parseFailbackMode, "sometimes"),
              "failback must be auto or manual (got 'sometimes')");
    EXPECT_EQ(refusal(parseApprovalMode, ""), "approval must be auto or manual (got '')");
    EXPECT_EQ(refusal(parseAdminState, "sideways"),
              "force state must be up, down or auto (got 'sideways')");
    EXPECT_EQ(refusal(parsePoolType, "MX"), "type must be A, AAAA or CNAME (got 'MX')");
    EXPECT_EQ(refusal([](const char*) { return poolTypeFromCode(15); }, ""),
              "pool type must be A (1), AAAA (28) or CNAME (5) (got '15')");
}

MemberStanding member(const char* value, int weight, AdminState admin = AdminState::Auto,
                      bool drained = false) {
    MemberStanding m;
    m.value = value;
    m.weight = weight;
    m.admin = admin;
    m.drained = drained;
    return m;
}

using V = std::vector<std::string>;

TEST(PoolModel, ServeAllLeavesOutDrainedAndForcedDownInWeightOrder) {
    auto a = allDownAnswer(
        AllDownMode::ServeAll, "", 30, 5,
        {member("10.0.0.1", 1), member("10.0.0.2", 1, AdminState::Auto, true),
         member("10.0.0.3", 1, AdminState::ForceDown), member("10.0.0.4", 2, AdminState::ForceUp)});
    EXPECT_EQ(a.served, (V{"10.0.0.4", "10.0.0.1"}));
    EXPECT_EQ(a.ttl, 5);
}

TEST(PoolModel, ServeAllWithOnlyDrainedOrForcedDownServesEveryMember) {
    auto a = allDownAnswer(AllDownMode::ServeAll, "", 30, 5,
                           {member("10.0.0.2", 1, AdminState::Auto, true),
                            member("10.0.0.1", 1, AdminState::ForceDown)});
    EXPECT_EQ(a.served, (V{"10.0.0.1", "10.0.0.2"}));  // never an accidental empty answer
}

TEST(PoolModel, FallbackAndNodataIgnoreMembers) {
    EXPECT_EQ(
        allDownAnswer(AllDownMode::Fallback, "192.0.2.9", 30, 5, {member("10.0.0.1", 1)}).served,
        V{"192.0.2.9"});
    auto n = allDownAnswer(AllDownMode::Nodata, "", 30, 5, {member("10.0.0.1", 1)});
    EXPECT_TRUE(n.served.empty());
    EXPECT_EQ(n.ttl, 5);
}

TEST(PoolModel, TtlIsThePoolTtlCappedAtTheDegradedTtl) {
    EXPECT_EQ(allDownAnswer(AllDownMode::Nodata, "", 3, 5, {}).ttl, 3);
    EXPECT_EQ(allDownAnswer(AllDownMode::Nodata, "", 30, 10, {}).ttl, 10);
}

TEST(PoolModel, DrainWindow) {
    EXPECT_FALSE(drainActive(false, std::nullopt, std::nullopt, 100));
    EXPECT_TRUE(drainActive(true, std::nullopt, std::nullopt, 100));
    EXPECT_FALSE(drainActive(true, 200, 300, 100));
    EXPECT_TRUE(drainActive(true, 200, 300, 200));
    EXPECT_TRUE(drainActive(true, 200, 300, 299));
    EXPECT_FALSE(drainActive(true, 200, 300, 300));
}

}  // namespace
}  // namespace zones
