// zones::Tsig against an independent implementation: ldns signs what we verify and verifies
// what we sign (single messages, answers over a request MAC, and multi-message streams with
// timers-only digests), for every algorithm; then each refusal (RFC 8945 §5.2).
#include "zones/tsig.hpp"

#include <gtest/gtest.h>
#include <stdbool.h>
// clang-format off
#include <ldns/ldns.h>
// clang-format on

#include <ctime>
#include <memory>

#include "tests/support/query_builder.hpp"

using namespace zones;

namespace {

using PktPtr = std::unique_ptr<ldns_pkt, decltype(&ldns_pkt_free)>;

const char* kSecretB64 = "c2VjcmV0LWtleS1mb3ItdHNpZy10ZXN0cy0xMjM0NTY3OA==";

TsigKey key(TsigAlgorithm a = TsigAlgorithm::HmacSha256) {
    return TsigKey{*Name::fromText("xfr-key."), a, *base64Decode(kSecretB64)};
}

std::string ldnsAlg(TsigAlgorithm a) {
    return tsigAlgorithmText(a) + ".";
}

// A query signed by ldns, as a secondary would send it.
std::vector<uint8_t> ldnsSigned(TsigAlgorithm a, ldns_rdf** macOut = nullptr) {
    auto wire = testsupport::QueryBuilder("example.com.", 252).build();
    ldns_pkt* raw = nullptr;
    EXPECT_EQ(ldns_wire2pkt(&raw, wire.data(), wire.size()), LDNS_STATUS_OK);
    PktPtr pkt(raw, ldns_pkt_free);
    EXPECT_EQ(
        ldns_pkt_tsig_sign(pkt.get(), "xfr-key.", kSecretB64, 300, ldnsAlg(a).c_str(), nullptr),
        LDNS_STATUS_OK);
    uint8_t* out = nullptr;
    size_t size = 0;
    EXPECT_EQ(ldns_pkt2wire(&out, pkt.get(), &size), LDNS_STATUS_OK);
    std::vector<uint8_t> v(out, out + size);
    free(out);
    if (macOut) {
        TsigRecord t;
        EXPECT_EQ(findTsig(v, t), TsigFind::Found);
        std::vector<uint8_t> rdf = {uint8_t(t.mac.size() >> 8), uint8_t(t.mac.size())};
        rdf.insert(rdf.end(), t.mac.begin(), t.mac.end());
        *macOut = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, rdf.size(), rdf.data());
    }
    return v;
}

// A response message (header + question) to append a TSIG to, with `pad` TXT-ish bytes of
// answer so messages differ.
std::vector<uint8_t> response(uint16_t id, int n) {
    auto q = testsupport::QueryBuilder("example.com.", 252).id(id).build();
    q[2] |= 0x80;
    std::vector<uint8_t> v(q.begin(), q.end());
    // one A record per message: example.com. A 192.0.2.n, owner as a pointer to the question
    v[7] = 1;
    std::vector<uint8_t> rr = {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, uint8_t(n)};
    v.insert(v.end(), rr.begin(), rr.end());
    v.resize(v.size() + 512);
    return v;
}

ldns_pkt* parse(const std::vector<uint8_t>& w) {
    ldns_pkt* p = nullptr;
    EXPECT_EQ(ldns_wire2pkt(&p, w.data(), w.size()), LDNS_STATUS_OK);
    return p;
}

class TsigTest : public ::testing::TestWithParam<TsigAlgorithm> {};

TEST_P(TsigTest, WeVerifyWhatLdnsSigns) {
    if (GetParam() == TsigAlgorithm::HmacSha384) GTEST_SKIP() << "ldns 1.8 has no hmac-sha384";
    TsigKey k = key(GetParam());
    std::vector<TsigKey> keys = {k};
    auto q = ldnsSigned(GetParam());
    TsigRequest r = verifyTsigRequest(q, keys, uint64_t(::time(nullptr)));
    EXPECT_EQ(r.status, TsigStatus::Valid);
    EXPECT_EQ(r.key, &keys[0]);
    EXPECT_EQ(r.record.mac.size(), tsigMacSize(GetParam()));
}

TEST_P(TsigTest, LdnsVerifiesOurAnswerAndEveryLaterMessageOfTheStream) {
    if (GetParam() == TsigAlgorithm::HmacSha384) GTEST_SKIP() << "ldns 1.8 has no hmac-sha384";
    TsigKey k = key(GetParam());
    ldns_rdf* requestMacRdf = nullptr;
    auto q = ldnsSigned(GetParam(), &requestMacRdf);
    TsigRecord t;
    ASSERT_EQ(findTsig(q, t), TsigFind::Found);
    TsigSigner signer(k, t.mac, uint64_t(::time(nullptr)));
    ldns_rdf* prior = requestMacRdf;
    for (int i = 0; i < 3; ++i) {
        auto msg = response(0x1234, i);
        size_t base = msg.size() - 512;
        size_t n = signer.sign(msg.data(), base, msg.size());
        ASSERT_GT(n, base);
        msg.resize(n);
        PktPtr pkt(parse(msg), ldns_pkt_free);
        ASSERT_TRUE(pkt);
        bool ok = ldns_pkt_tsig_verify_next(pkt.get(), msg.data(), msg.size(), "xfr-key.",
                                            kSecretB64, prior, i > 0 ? 1 : 0);
        EXPECT_TRUE(ok) << "message " << i;
        // The next message chains on this one's MAC.
        TsigRecord mine;
        ASSERT_EQ(findTsig(msg, mine), TsigFind::Found);
        std::vector<uint8_t> rdf = {uint8_t(mine.mac.size() >> 8), uint8_t(mine.mac.size())};
        rdf.insert(rdf.end(), mine.mac.begin(), mine.mac.end());
        ldns_rdf_deep_free(prior);
        prior = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, rdf.size(), rdf.data());
    }
    ldns_rdf_deep_free(prior);
}

TEST_P(TsigTest, OurRequestAndAnswerVerifyEachOther) {
    TsigKey k = key(GetParam());
    std::vector<TsigKey> keys = {k};
    uint64_t now = uint64_t(::time(nullptr));
    auto q = testsupport::QueryBuilder("example.com.", 6).opcode(4).build();
    q.resize(q.size() + 200);
    TsigSigner client(k, {}, now);
    size_t n = client.sign(q.data(), q.size() - 200, q.size());
    ASSERT_GT(n, 0u);
    q.resize(n);
    TsigRequest r = verifyTsigRequest(q, keys, now);
    ASSERT_EQ(r.status, TsigStatus::Valid);
    auto a = response(0x1234, 1);
    TsigSigner server(k, r.record.mac, now);
    size_t m = server.sign(a.data(), a.size() - 512, a.size());
    ASSERT_GT(m, 0u);
    a.resize(m);
    TsigVerifier check(k, client.lastMac());
    EXPECT_TRUE(check.verify(a, now));
    auto tampered = a;
    tampered[20] ^= 1;
    TsigVerifier check2(k, client.lastMac());
    EXPECT_FALSE(check2.verify(tampered, now));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, TsigTest,
                         ::testing::Values(TsigAlgorithm::HmacSha1, TsigAlgorithm::HmacSha256,
                                           TsigAlgorithm::HmacSha384, TsigAlgorithm::HmacSha512));

TEST(Tsig, EachRefusalHasItsError) {
    std::vector<TsigKey> keys = {key()};
    uint64_t now = uint64_t(::time(nullptr));
    auto q = ldnsSigned(TsigAlgorithm::HmacSha256);
    // Unknown key (another name, or the right name with another algorithm).
    std::vector<TsigKey> other = {key(TsigAlgorithm::HmacSha512)};
    EXPECT_EQ(verifyTsigRequest(q, other, now).error, TsigError::BadKey);
    other[0] = key();
    other[0].name = *Name::fromText("another.");
    EXPECT_EQ(verifyTsigRequest(q, other, now).error, TsigError::BadKey);
    // Wrong secret, or a changed message: BADSIG.
    std::vector<TsigKey> wrong = {key()};
    wrong[0].secret[0] ^= 1;
    EXPECT_EQ(verifyTsigRequest(q, wrong, now).error, TsigError::BadSig);
    auto changed = q;
    changed[3] ^= 0x10;  // CD bit
    EXPECT_EQ(verifyTsigRequest(changed, keys, now).error, TsigError::BadSig);
    // Outside the fudge (300 s): BADTIME.
    EXPECT_EQ(verifyTsigRequest(q, keys, now + 301).error, TsigError::BadTime);
    EXPECT_EQ(verifyTsigRequest(q, keys, now - 301).error, TsigError::BadTime);
    EXPECT_EQ(verifyTsigRequest(q, keys, now + 299).status, TsigStatus::Valid);
    // No TSIG.
    EXPECT_EQ(
        verifyTsigRequest(testsupport::QueryBuilder("example.com.", 252).build(), keys, now).status,
        TsigStatus::Unsigned);
}

// Rewrites the MAC of a signed message to its first `n` octets.
std::vector<uint8_t> truncateMac(const std::vector<uint8_t>& m, size_t n) {
    TsigRecord t;
    EXPECT_EQ(findTsig(m, t), TsigFind::Found);
    size_t macAt = t.offset + t.keyName.wire().size() + 10 + t.algorithm.wire().size() + 8;
    std::vector<uint8_t> out(m.begin(), m.begin() + ptrdiff_t(macAt));
    out.push_back(uint8_t(n >> 8));
    out.push_back(uint8_t(n));
    out.insert(out.end(), t.mac.begin(), t.mac.begin() + ptrdiff_t(n));
    out.insert(out.end(), m.begin() + ptrdiff_t(macAt + 2 + t.mac.size()), m.end());
    size_t rdlenAt = t.offset + t.keyName.wire().size() + 8;
    uint16_t rdlen = uint16_t(out.size() - rdlenAt - 2);
    out[rdlenAt] = uint8_t(rdlen >> 8);
    out[rdlenAt + 1] = uint8_t(rdlen);
    return out;
}

TEST(Tsig, TruncatedMacsAreRefusedOrMalformed) {
    std::vector<TsigKey> keys = {key()};
    uint64_t now = uint64_t(::time(nullptr));
    auto q = ldnsSigned(TsigAlgorithm::HmacSha256);
    EXPECT_EQ(verifyTsigRequest(truncateMac(q, 16), keys, now).error, TsigError::BadTrunc);
    EXPECT_EQ(verifyTsigRequest(truncateMac(q, 8), keys, now).status, TsigStatus::Malformed);
    EXPECT_EQ(verifyTsigRequest(truncateMac(q, 0), keys, now).status, TsigStatus::Malformed);
    // Cut anywhere inside the TSIG record: malformed or absent, never a crash.
    for (size_t cut = 12; cut < q.size(); ++cut) {
        std::vector<uint8_t> part(q.begin(), q.begin() + ptrdiff_t(cut));
        TsigRequest r = verifyTsigRequest(part, keys, now);
        EXPECT_NE(r.status, TsigStatus::Valid) << cut;
    }
}

TEST(Tsig, ATsigThatIsNotTheLastRecordIsMalformed) {
    auto q = ldnsSigned(TsigAlgorithm::HmacSha256);
    // Append an A record after the TSIG and count it.
    std::vector<uint8_t> a = {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
    q.insert(q.end(), a.begin(), a.end());
    q[11] = uint8_t(q[11] + 1);
    TsigRecord t;
    EXPECT_EQ(findTsig(q, t), TsigFind::Malformed);
}

TEST(Tsig, Base64RoundTripsAndRefusesGarbage) {
    for (size_t n : {1, 2, 3, 16, 32, 64}) {
        std::vector<uint8_t> v(n);
        for (size_t i = 0; i < n; ++i) v[i] = uint8_t(i * 37);
        auto back = base64Decode(base64Encode(v));
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, v);
    }
    EXPECT_FALSE(base64Decode("abc"));
    EXPECT_FALSE(base64Decode("a!bc"));
    EXPECT_FALSE(base64Decode(""));
    EXPECT_EQ(*tsigAlgorithmFromText("HMAC-SHA512."), TsigAlgorithm::HmacSha512);
    EXPECT_FALSE(tsigAlgorithmFromText("hmac-md5"));
}

}  // namespace
