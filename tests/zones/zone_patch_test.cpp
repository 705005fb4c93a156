// ZoneSnapshot::patch must give exactly what a full build of the changed zone gives: a long
// random sequence of record changes (new names below empty non-terminals, wildcards, deleted
// last records, MX targets that appear and go, SOA bumps) is applied by patching, and after
// every step the patched snapshot is compared, node by node, with a fresh build.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "zones/zone_snapshot.hpp"

namespace {

using zones::Name;
using zones::Record;
using zones::ZoneSnapshot;

Name name(const std::string& text) {
    auto n = Name::fromText(text);
    EXPECT_TRUE(n) << text;
    return *n;
}

std::vector<uint8_t> wire(const std::string& text) {
    Name n = name(text);
    return {n.wire().begin(), n.wire().end()};
}

Record rec(const std::string& owner, uint16_t type, std::vector<uint8_t> rdata,
           uint32_t ttl = 300) {
    Record r;
    r.owner = name(owner);
    r.type = type;
    r.ttl = ttl;
    r.rdata = std::move(rdata);
    return r;
}

std::vector<uint8_t> soa(uint32_t serial) {
    std::vector<uint8_t> r = wire("ns1.example.");
    auto mbox = wire("hostmaster.example.");
    r.insert(r.end(), mbox.begin(), mbox.end());
    for (uint32_t v : {serial, 3600u, 600u, 86400u, 60u})
        for (int s = 24; s >= 0; s -= 8) r.push_back(uint8_t(v >> s));
    return r;
}

std::vector<uint8_t> mx(const std::string& target) {
    std::vector<uint8_t> r = {0, 10};
    auto t = wire(target);
    r.insert(r.end(), t.begin(), t.end());
    return r;
}

std::string nodeName(const ZoneSnapshot& z, int32_t n) {
    if (n < 0) return "-";
    auto key = z.key(z.node(n));
    return Name::fromWire({reinterpret_cast<const uint8_t*>(key.data()), key.size()})->toText();
}

// Everything the answer path can observe, by name (node numbers differ between a patch and
// a build), in name order.
std::string dump(const ZoneSnapshot& z) {
    std::map<std::string, std::string> nodes;
    for (size_t i = 0; i < z.nodeCount(); ++i) {
        const zones::Node& n = z.node(int32_t(i));
        if (n.removed) {
            EXPECT_NE(z.find(z.key(n)), int32_t(i)) << "removed node still indexed";
            continue;
        }
        EXPECT_EQ(z.find(z.key(n)), int32_t(i)) << "live node not found by its name";
        std::ostringstream o;
        o << " cut=" << nodeName(z, n.cut) << " wildcard=" << nodeName(z, n.wildcard);
        for (const zones::RRset& s : z.rrsets(n)) {
            o << " [" << s.type << ":";
            for (const zones::RData& rd : z.rdatas(s)) {
                o << " " << rd.ttl << "/";
                for (uint8_t b : z.bytes(rd)) o << int(b) << ".";
            }
            std::set<std::string> targets;
            for (int32_t t : z.targets(s)) targets.insert(nodeName(z, t));
            o << " targets:";
            for (const auto& t : targets) o << " " << t;
            o << "]";
        }
        for (const zones::PoolBinding& p : z.pools(n)) o << " pool" << p.poolId << "/" << p.type;
        EXPECT_TRUE(nodes.emplace(nodeName(z, int32_t(i)), o.str()).second) << "duplicate node";
    }
    std::string out;
    for (const auto& [k, v] : nodes) out += k + v + "\n";
    out +=
        "negttl=" + std::to_string(z.negativeTtl()) + " records=" + std::to_string(z.recordCount());
    return out;
}

class ZonePatchTest : public ::testing::Test {
  protected:
    std::vector<Record> zone_;
    uint32_t serial_ = 1;
    std::vector<zones::PoolBinding> pools_{{name("pool.example."), zones::rrtype::A, 7}};

    void SetUp() override {
        zone_ = {rec("example.", zones::rrtype::SOA, soa(serial_)),
                 rec("example.", zones::rrtype::NS, wire("ns1.example.")),
                 rec("ns1.example.", zones::rrtype::A, {192, 0, 2, 53}),
                 rec("sub.example.", zones::rrtype::NS, wire("ns.sub.example.")),
                 rec("ns.sub.example.", zones::rrtype::A, {192, 0, 2, 54}),
                 rec("example.", zones::rrtype::MX, mx("mail.example."))};
    }

    // Replaces the SOA with the next serial, as every dnsctl record change does.
    void bumpSoa() {
        for (Record& r : zone_)
            if (r.type == zones::rrtype::SOA) r.rdata = soa(++serial_);
    }

    std::shared_ptr<const ZoneSnapshot> build(uint64_t generation) {
        return ZoneSnapshot::build(name("example."), zone_, pools_, generation);
    }

    zones::RecordBatch recordsAt(const std::vector<std::string>& owners) {
        std::vector<Record> at;
        for (const Record& r : zone_)
            for (const std::string& o : owners)
                if (std::string(r.owner.key()) == o) at.push_back(r);
        return zones::RecordBatch(at);
    }
};

TEST_F(ZonePatchTest, RandomChangesPatchToWhatABuildGives) {
    std::mt19937 rng(20261123);
    const std::vector<std::string> labels = {"a", "b", "c", "*", "mail", "www", "x"};
    auto pick = [&](size_t n) { return size_t(rng() % n); };
    auto randomOwner = [&]() {
        std::string owner = "example.";
        size_t depth = 1 + pick(3);
        for (size_t i = 0; i < depth; ++i) owner = labels[pick(labels.size())] + "." + owner;
        return owner;
    };

    auto current = build(1);
    int patched = 0, rebuilt = 0, removals = 0;
    for (uint64_t step = 2; step < 1500; ++step) {
        std::string changed;
        switch (pick(5)) {
            case 0:
            case 1: {  // add an address somewhere, often below names that do not exist yet
                std::string owner = randomOwner();
                uint8_t last = uint8_t(pick(4));
                Record r = rec(owner, pick(2) ? zones::rrtype::A : zones::rrtype::AAAA,
                               std::vector<uint8_t>(4, last));
                if (r.type == zones::rrtype::AAAA) r.rdata.resize(16, last);
                if (std::none_of(zone_.begin(), zone_.end(), [&](const Record& o) {
                        return o.owner == r.owner && o.type == r.type && o.rdata == r.rdata;
                    }))
                    zone_.push_back(r);
                changed = owner;
                break;
            }
            case 2: {  // an MX whose target may or may not exist
                std::string owner = randomOwner();
                zone_.push_back(rec(owner, zones::rrtype::MX, mx(randomOwner())));
                changed = owner;
                break;
            }
            case 3:
            case 4: {  // delete every record at an owner (never the apex or the delegation)
                std::vector<std::string> owners;
                for (const Record& r : zone_)
                    if (r.owner.labelCount() > 1 && !r.owner.isSubdomainOf(name("sub.example.")) &&
                        r.owner != name("ns1.example."))
                        owners.push_back(r.owner.toText());
                if (owners.empty()) continue;
                changed = owners[pick(owners.size())];
                Name n = name(changed);
                std::erase_if(zone_, [&](const Record& r) { return r.owner == n; });
                ++removals;
                break;
            }
        }
        bumpSoa();
        std::vector<std::string> keys = {std::string(name("example.").key()),
                                         std::string(name(changed).key())};
        auto next = ZoneSnapshot::patch(*current, keys, recordsAt(keys), step);
        auto fresh = build(step);
        if (next) {
            ++patched;
            ASSERT_EQ(dump(*next), dump(*fresh)) << "after step " << step << " at " << changed;
            EXPECT_EQ(next->generation(), step);
            current = next;
        } else {
            ++rebuilt;
            current = fresh;
        }
    }
    EXPECT_GT(patched, 1000) << "rebuilt " << rebuilt;
    EXPECT_GT(rebuilt, 0) << "dead space never forced a compacting rebuild";
    EXPECT_GT(removals, 100);
}

TEST_F(ZonePatchTest, DeletingTheLastRecordBelowAnEmptyNonTerminalRemovesBoth) {
    zone_.push_back(rec("deep.ent.example.", zones::rrtype::A, {192, 0, 2, 1}));
    auto base = build(1);
    ASSERT_GE(base->find(name("ent.example.").key()), 0);
    std::erase_if(zone_, [](const Record& r) { return r.owner == name("deep.ent.example."); });
    bumpSoa();
    std::vector<std::string> keys = {std::string(name("example.").key()),
                                     std::string(name("deep.ent.example.").key())};
    auto next = ZoneSnapshot::patch(*base, keys, recordsAt(keys), 2);
    ASSERT_TRUE(next);
    EXPECT_LT(next->find(name("deep.ent.example.").key()), 0);
    EXPECT_LT(next->find(name("ent.example.").key()), 0) << "the ENT must go with its only child";
    EXPECT_EQ(dump(*next), dump(*build(2)));
}

TEST_F(ZonePatchTest, NsChangesAndUnlistedOwnersAreLeftToAFullBuild) {
    auto base = build(1);
    zone_.push_back(rec("deleg.example.", zones::rrtype::NS, wire("ns.other.")));
    std::vector<std::string> keys = {std::string(name("deleg.example.").key())};
    EXPECT_FALSE(ZoneSnapshot::patch(*base, keys, recordsAt(keys), 2)) << "a new zone cut";

    // A record whose owner is not among the listed owners: the caller's bookkeeping is wrong.
    zones::RecordBatch stray(
        std::vector<Record>{rec("y.example.", zones::rrtype::A, {1, 2, 3, 4})});
    EXPECT_FALSE(ZoneSnapshot::patch(*base, {std::string(name("x.example.").key())}, stray, 2));
}

TEST_F(ZonePatchTest, BadRecordsAreRefusedLikeABuildRefusesThem) {
    auto base = build(1);
    zones::RecordBatch bad(std::vector<Record>{rec("x.example.", zones::rrtype::MX, {0})});
    EXPECT_THROW(ZoneSnapshot::patch(*base, {std::string(name("x.example.").key())}, bad, 2),
                 std::runtime_error);
}

}  // namespace
