// zones::DnssecKeyMaterial against an independent implementation: ldns computes the key tags
// and DS digests of the keys OpenSSL makes for us, and the key files are checked for what
// they must refuse.
#include "zones/dnssec_key_material.hpp"

#include <gtest/gtest.h>
#include <ldns/ldns.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>

#include "tests/support/temp_dir.hpp"
#include "zones/dnssec_key_store.hpp"
#include "zones/tsig.hpp"

namespace {

using namespace zones;
using RrPtr = std::unique_ptr<ldns_rr, decltype(&ldns_rr_free)>;

RrPtr dnskeyRr(const std::string& owner, uint16_t flags, const GeneratedKey& key) {
    std::string text = owner + " 3600 IN DNSKEY " + std::to_string(flags) + " 3 " +
                       std::to_string(key.algorithm) + " " + base64Encode(key.publicKey);
    ldns_rr* rr = nullptr;
    EXPECT_EQ(ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr), LDNS_STATUS_OK) << text;
    return RrPtr(rr, ldns_rr_free);
}

class KeyMaterial : public ::testing::TestWithParam<uint8_t> {};

TEST_P(KeyMaterial, PublicKeySizeFollowsTheAlgorithmRfc) {
    GeneratedKey key = generateDnssecKey(GetParam());
    EXPECT_EQ(key.publicKey.size(), GetParam() == kDnssecEcdsaP256Sha256 ? 64u : 32u);
    EXPECT_NE(key.pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos) << "PKCS#8";
}

TEST_P(KeyMaterial, KeyTagsAgreeWithLdns) {
    for (int i = 0; i < 20; ++i) {
        GeneratedKey key = generateDnssecKey(GetParam());
        for (uint16_t flags : {uint16_t(256), uint16_t(257)}) {
            RrPtr rr = dnskeyRr("example.com.", flags, key);
            ASSERT_TRUE(rr);
            EXPECT_EQ(dnssecKeyTag(dnskeyRdata(flags, key.algorithm, key.publicKey)),
                      ldns_calc_keytag(rr.get()))
                << "flags " << flags;
        }
    }
}

TEST_P(KeyMaterial, DsDigestAgreesWithLdns) {
    GeneratedKey key = generateDnssecKey(GetParam());
    RrPtr rr = dnskeyRr("Example.COM.", 257, key);
    RrPtr ds(ldns_key_rr2ds(rr.get(), LDNS_SHA256), ldns_rr_free);
    ASSERT_TRUE(ds);
    ldns_rdf* digest = ldns_rr_rdf(ds.get(), 3);
    std::vector<uint8_t> expected(ldns_rdf_data(digest),
                                  ldns_rdf_data(digest) + ldns_rdf_size(digest));
    // Our names are canonical (lower case) already, as RFC 4034 §5.1.4 wants for the digest.
    EXPECT_EQ(dsSha256Digest(*Name::fromText("example.com."),
                             dnskeyRdata(257, key.algorithm, key.publicKey)),
              expected);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, KeyMaterial,
                         ::testing::Values(kDnssecEcdsaP256Sha256, kDnssecEd25519));

TEST(KeyFiles, WrittenPrivateAndCheckedAgainstThePublicKey) {
    testsupport::TempDir dir;
    std::string keys = dir.file("db.keys");
    std::string db = dir.writeFile("db", "");
    ensureKeyDirectory(keys, db);
    struct stat st;
    ASSERT_EQ(::stat(keys.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    GeneratedKey a = generateDnssecKey(kDnssecEcdsaP256Sha256);
    GeneratedKey b = generateDnssecKey(kDnssecEcdsaP256Sha256);
    std::string path = keys + "/a.pem";
    ::umask(0);  // the file must come out 0600 whatever the umask
    writeKeyFile(path, a.pem, db);
    ::umask(022);
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(checkPrivateKeyFile(path, a.algorithm, a.publicKey), "");
    EXPECT_NE(checkPrivateKeyFile(path, b.algorithm, b.publicKey).find("another key"),
              std::string::npos);
    EXPECT_NE(checkPrivateKeyFile(path, kDnssecEd25519, a.publicKey).find("is not a ED25519"),
              std::string::npos);
    EXPECT_NE(checkPrivateKeyFile(keys + "/missing.pem", a.algorithm, a.publicKey)
                  .find("cannot be read: No such file"),
              std::string::npos);
    std::string garbage = dir.writeFile("db.keys/garbage.pem", "not a key\n");
    EXPECT_NE(checkPrivateKeyFile(garbage, a.algorithm, a.publicKey).find("no readable PEM"),
              std::string::npos);
    // Never over an existing key.
    EXPECT_THROW(writeKeyFile(path, b.pem, db), std::runtime_error);
    EXPECT_EQ(checkPrivateKeyFile(path, a.algorithm, a.publicKey), "");
    // A file where the directory should be is refused, not used.
    std::string file = dir.writeFile("other.keys", "");
    EXPECT_THROW(ensureKeyDirectory(file, db), std::runtime_error);
}

TEST(KeyFiles, AlgorithmNames) {
    EXPECT_EQ(dnssecAlgorithmFromText("ECDSAP256SHA256"), kDnssecEcdsaP256Sha256);
    EXPECT_EQ(dnssecAlgorithmFromText("ed25519"), kDnssecEd25519);
    EXPECT_EQ(dnssecAlgorithmFromText("13"), kDnssecEcdsaP256Sha256);
    EXPECT_FALSE(dnssecAlgorithmFromText("rsasha256"));
    EXPECT_FALSE(dnssecAlgorithmFromText(""));
}

}  // namespace
