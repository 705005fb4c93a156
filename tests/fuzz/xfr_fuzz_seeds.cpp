// The seeds of tests/fuzz/corpus/xfr_fuzz/, made here: real requests (AXFR, IXFR with the
// client's SOA, signed with xfrWorld()'s keys at kXfrNow, each TSIG error, truncated ones).
//
// Linked into xfr_fuzz_replay only (never into the libFuzzer binary). The test checks that the
// committed files are exactly these bytes and that each still takes the path it was made for
// (a transfer, which refusal, or an ordinary answer), so a change to the keys, the ACL or the
// request parser cannot quietly leave the fuzzer starting from seeds that no longer reach the
// transfer code. After such a change, rewrite them:
//
//     DNSD_WRITE_XFR_SEEDS=1 build/tests/fuzz/xfr_fuzz_replay --gtest_filter='XfrSeeds.*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "dnsd/xfr/zone_transfer.hpp"
#include "tests/fuzz/xfr_world.hpp"
#include "tests/support/query_builder.hpp"

#ifndef DNSD_FUZZ_CORPUS
#error "DNSD_FUZZ_CORPUS must name the corpus directory"
#endif

namespace {

using dnsd::XfrOutcome;
using fuzzsupport::kXfrNow;
using testsupport::QueryBuilder;
using Bytes = std::vector<uint8_t>;

constexpr uint16_t kAxfr = 252, kIxfr = 251, kSoa = 6, kTxt = 16;

const zones::TsigKey& key(size_t i) {
    return fuzzsupport::xfrKeys()[i];
}

Bytes signedWith(Bytes q, const zones::TsigKey& k, uint64_t when = kXfrNow) {
    size_t size = q.size();
    q.resize(size + 512);
    zones::TsigSigner signer(k, {}, when);
    q.resize(signer.sign(q.data(), size, q.size()));
    return q;
}

// An IXFR carrying the client's SOA (RFC 1995 §3) at `serial`, its names compressed to the
// question as secondaries send them.
Bytes ixfr(const std::string& zone, uint32_t serial) {
    Bytes q = QueryBuilder(zone, kIxfr).id(0x4242).build();
    const uint8_t head[] = {0xC0, 12, 0, kSoa, 0, 1, 0, 0, 0, 0, 0, 24, 0xC0, 12, 0xC0, 12};
    q.insert(q.end(), std::begin(head), std::end(head));
    for (uint32_t v : {serial, 7200u, 3600u, 1209600u, 300u})
        for (int s = 24; s >= 0; s -= 8) q.push_back(uint8_t(v >> s));
    testsupport::patchU16(q, 8, 1);
    return q;
}

// The message without its TSIG, and that TSIG (as found).
std::pair<Bytes, zones::TsigRecord> unsign(const Bytes& m) {
    zones::TsigRecord t;
    EXPECT_EQ(zones::findTsig(m, t), zones::TsigFind::Found);
    return {Bytes(m.begin(), m.begin() + ptrdiff_t(t.offset)), t};
}

// `t` written back after `body` with `owner` as its owner name (raw: may be a pointer) and
// `mac` as its MAC: a TSIG no signer of ours would write.
Bytes withTsig(Bytes body, const Bytes& owner, const zones::TsigRecord& t, const Bytes& mac) {
    auto put16 = [&](uint16_t v) {
        body.push_back(uint8_t(v >> 8));
        body.push_back(uint8_t(v));
    };
    body.insert(body.end(), owner.begin(), owner.end());
    for (uint16_t v : {uint16_t(250), uint16_t(255), uint16_t(0), uint16_t(0)}) put16(v);
    Bytes rd(t.algorithm.wire().begin(), t.algorithm.wire().end());
    for (int s = 40; s >= 0; s -= 8) rd.push_back(uint8_t(t.timeSigned >> s));
    rd.push_back(uint8_t(t.fudge >> 8));
    rd.push_back(uint8_t(t.fudge));
    rd.push_back(uint8_t(mac.size() >> 8));
    rd.push_back(uint8_t(mac.size()));
    rd.insert(rd.end(), mac.begin(), mac.end());
    for (uint16_t v : {t.originalId, t.error, uint16_t(0)}) {
        rd.push_back(uint8_t(v >> 8));
        rd.push_back(uint8_t(v));
    }
    put16(uint16_t(rd.size()));
    body.insert(body.end(), rd.begin(), rd.end());
    return body;
}

struct Seed {
    std::string name;
    Bytes bytes;
    std::optional<XfrOutcome> outcome;  // over TCP; nullopt: not a transfer request to dnsd
};

std::vector<Seed> seeds() {
    auto axfr = [](const std::string& zone) {
        return QueryBuilder(zone, kAxfr).id(0x1111).build();
    };
    const Bytes signedAxfr = signedWith(axfr("example.test."), key(0));
    std::vector<Seed> s = {
        {"axfr-example.com", axfr("example.com."), XfrOutcome::Axfr},
        {"axfr-example.com-edns", QueryBuilder("example.com.", kAxfr).edns(1232).build(),
         XfrOutcome::Axfr},
        {"axfr-class-any", QueryBuilder("example.com.", kAxfr, 255).build(), XfrOutcome::FormErr},
        {"ixfr-example.com-serial-0", ixfr("example.com.", 0), XfrOutcome::IxfrFull},
        {"ixfr-example.com-current", ixfr("example.com.", 1), XfrOutcome::IxfrCurrent},
        {"ixfr-example.com-ahead", ixfr("example.com.", 5), XfrOutcome::IxfrCurrent},
        {"ixfr-without-soa", QueryBuilder("example.com.", kIxfr).build(), XfrOutcome::FormErr},
        {"axfr-example.test-xfr-key", signedAxfr, XfrOutcome::Axfr},
        {"axfr-example.test-other-key", signedWith(axfr("example.test."), key(1)),
         XfrOutcome::Axfr},
        {"axfr-example.test-unused-key", signedWith(axfr("example.test."), key(2)),
         XfrOutcome::Refused},
        {"axfr-example.test-unsigned", axfr("example.test."), XfrOutcome::Refused},
        {"axfr-example.test-edns-signed",
         signedWith(QueryBuilder("example.test.", kAxfr).edns(4096).build(), key(0)),
         XfrOutcome::Axfr},
        {"axfr-big-signed", signedWith(axfr("big.xfr.test."), key(0)), XfrOutcome::Axfr},
        {"ixfr-big-signed", signedWith(ixfr("big.xfr.test.", 6), key(0)), XfrOutcome::IxfrFull},
        {"axfr-big-unsigned", axfr("big.xfr.test."), XfrOutcome::Refused},
        {"axfr-other.test-not-listed", axfr("other.test."), XfrOutcome::Refused},
        {"axfr-child-no-secondaries", axfr("child.example.test."), XfrOutcome::Refused},
        {"axfr-not-ours", axfr("example.org."), XfrOutcome::NotAuth},
        {"axfr-below-apex", axfr("www.example.com."), XfrOutcome::NotAuth},
        {"axfr-unknown-key",
         signedWith(axfr("example.test."),
                    fuzzsupport::xfrKey("unknown-key.", zones::TsigAlgorithm::HmacSha256, "x")),
         XfrOutcome::NotAuth},
        {"axfr-stale", signedWith(axfr("example.test."), key(0), kXfrNow - 3600),
         XfrOutcome::NotAuth},
        {"soa-signed", signedWith(QueryBuilder("example.test.", kSoa).build(), key(0)),
         std::nullopt},
        {"soa-signed-stale", signedWith(QueryBuilder("example.test.", kSoa).build(), key(0), 1),
         std::nullopt},
        {"axfr-first-5-bytes", Bytes(signedAxfr.begin(), signedAxfr.begin() + 5), std::nullopt},
        {"axfr-header-only", Bytes(signedAxfr.begin(), signedAxfr.begin() + 12), std::nullopt},
        {"axfr-question-cut", Bytes(signedAxfr.begin(), signedAxfr.begin() + 20), std::nullopt},
        {"axfr-tsig-cut", Bytes(signedAxfr.begin(), signedAxfr.end() - 10), std::nullopt},
    };
    {
        auto [body, t] = unsign(signedAxfr);
        Bytes owner(t.keyName.wire().begin(), t.keyName.wire().end());
        Bytes bad = t.mac;
        bad[0] ^= 1;
        s.push_back({"axfr-bad-mac", withTsig(body, owner, t, bad), XfrOutcome::NotAuth});
        Bytes half(t.mac.begin(), t.mac.begin() + 16);
        s.push_back({"axfr-truncated-mac", withTsig(body, owner, t, half), XfrOutcome::NotAuth});
        Bytes tiny(t.mac.begin(), t.mac.begin() + 4);
        s.push_back({"axfr-mac-too-short", withTsig(body, owner, t, tiny), XfrOutcome::FormErr});
        // A record after the TSIG: the TSIG is not the last record (RFC 8945 §5.1).
        Bytes notLast = signedAxfr;
        const uint8_t opt[] = {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
        notLast.insert(notLast.end(), std::begin(opt), std::end(opt));
        testsupport::patchU16(notLast, 10, 2);
        s.push_back({"axfr-tsig-not-last", notLast, std::nullopt});
    }
    {
        // The key name example.com. as a pointer into the question (big.example.com.): valid.
        auto [body, t] = unsign(signedWith(QueryBuilder("big.example.com.", kTxt).build(), key(2)));
        s.push_back(
            {"txt-signed-key-name-compressed", withTsig(body, {0xC0, 16}, t, t.mac), std::nullopt});
        // The same with EDNS, offering 833 octets: the answer (722) and the TSIG of the query
        // as received fit; the answer's TSIG, its key name written out, is 11 octets longer.
        // dnsd once sent 838 octets here.
        auto [body2, t2] =
            unsign(signedWith(QueryBuilder("big.example.com.", kTxt).edns(833).build(), key(2)));
        s.push_back({"txt-signed-key-name-compressed-edns-833",
                     withTsig(body2, {0xC0, 16}, t2, t2.mac), std::nullopt});
    }
    return s;
}

std::optional<XfrOutcome> outcomeOf(const Bytes& q) {
    static const auto state = fuzzsupport::xfrWorld();
    static dnsd::Scratch scratch;
    const dnsd::EngineConfig config;
    const dnsd::Client client = fuzzsupport::xfrClient(dnsd::Transport::Tcp);
    Bytes out(65535);
    auto r = dnsd::answer(*state->zones, *state->pools, config, q, out, client, scratch);
    if (r.action != dnsd::Action::Transfer) return std::nullopt;
    return dnsd::ZoneTransfer::begin(state, q, out, client, kXfrNow).outcome;
}

std::string name(std::optional<XfrOutcome> o) {
    return o ? dnsd::xfrOutcomeName(*o) : "no transfer";
}

TEST(XfrSeeds, CommittedSeedsAreTheseRequestsAndTakeTheirPaths) {
    namespace fs = std::filesystem;
    const fs::path dir = DNSD_FUZZ_CORPUS;
    const bool write = std::getenv("DNSD_WRITE_XFR_SEEDS") != nullptr;
    for (const Seed& seed : seeds()) {
        EXPECT_EQ(name(outcomeOf(seed.bytes)), name(seed.outcome)) << seed.name;
        const fs::path file = dir / seed.name;
        if (write) {
            std::ofstream(file, std::ios::binary)
                .write(reinterpret_cast<const char*>(seed.bytes.data()),
                       std::streamsize(seed.bytes.size()));
        }
        std::ifstream in(file, std::ios::binary);
        Bytes committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_EQ(committed, seed.bytes)
            << file << " differs from the request it was made from (see the top of this file)";
    }
    // The signed seeds must be valid at kXfrNow: otherwise the fuzzer never starts from a
    // signed transfer.
    for (const Seed& seed : seeds()) {
        if (seed.name == "axfr-big-signed" || seed.name == "soa-signed" ||
            seed.name == "txt-signed-key-name-compressed") {
            EXPECT_EQ(zones::verifyTsigRequest(seed.bytes, fuzzsupport::xfrKeys(), kXfrNow).status,
                      zones::TsigStatus::Valid)
                << seed.name;
        }
    }
}

}  // namespace
