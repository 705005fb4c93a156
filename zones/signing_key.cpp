#include "zones/signing_key.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace zones {

namespace {

std::atomic<uint64_t> nextKeyId{1};  // SigningKey ids

struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct FileClose {
    void operator()(FILE* f) const { std::fclose(f); }
};
struct EcdsaSigFree {
    void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

// The DNSKEY public key field: X|Y for P-256 (RFC 6605 §4), the raw 32 octets for Ed25519.
std::vector<uint8_t> publicKeyField(EVP_PKEY* key, uint8_t algorithm) {
    std::vector<uint8_t> out;
    if (algorithm == 13) {
        uint8_t buf[65];
        size_t len = 0;
        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf,
                                            sizeof buf, &len) != 1 ||
            len != 65 || buf[0] != 0x04)
            return out;
        out.assign(buf + 1, buf + 65);
    } else if (algorithm == 15) {
        uint8_t buf[32];
        size_t len = sizeof buf;
        if (EVP_PKEY_get_raw_public_key(key, buf, &len) != 1 || len != 32) return out;
        out.assign(buf, buf + 32);
    }
    return out;
}

bool keyTypeMatches(EVP_PKEY* key, uint8_t algorithm) {
    if (algorithm == 15) return EVP_PKEY_get_id(key) == EVP_PKEY_ED25519;
    if (algorithm != 13 || EVP_PKEY_get_id(key) != EVP_PKEY_EC) return false;
    char group[64] = {};
    size_t len = 0;
    return EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                          &len) == 1 &&
           std::strcmp(group, "prime256v1") == 0;
}

}  // namespace

uint16_t keyTag(std::span<const uint8_t> rd) {
    uint32_t ac = 0;
    for (size_t i = 0; i < rd.size(); ++i) ac += (i & 1) ? rd[i] : uint32_t(rd[i]) << 8;
    ac += (ac >> 16) & 0xFFFF;
    return uint16_t(ac & 0xFFFF);
}

std::vector<uint8_t> dsRdata(std::string_view owner, std::span<const uint8_t> dnskey) {
    std::vector<uint8_t> input(owner.begin(), owner.end());
    input.insert(input.end(), dnskey.begin(), dnskey.end());
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(input.data(), input.size(), digest);
    uint16_t tag = keyTag(dnskey);
    std::vector<uint8_t> out = {uint8_t(tag >> 8), uint8_t(tag),
                                dnskey.size() > 3 ? dnskey[3] : uint8_t(0), 2};
    out.insert(out.end(), digest, digest + sizeof digest);
    return out;
}

SigningKey::SigningKey(EVP_PKEY* key, uint8_t algorithm, uint16_t flags)
    : key_(key), id_(nextKeyId.fetch_add(1)), algorithm_(algorithm), flags_(flags) {
    std::vector<uint8_t> pub = publicKeyField(key, algorithm);
    dnskey_ = {uint8_t(flags >> 8), uint8_t(flags), 3, algorithm};
    dnskey_.insert(dnskey_.end(), pub.begin(), pub.end());
    tag_ = keyTag(dnskey_);
}

SigningKey::~SigningKey() {
    EVP_PKEY_free(key_);
}

std::shared_ptr<const SigningKey> SigningKey::load(const std::string& path, uint8_t algorithm,
                                                   uint16_t flags,
                                                   std::span<const uint8_t> expected) {
    std::unique_ptr<FILE, FileClose> f(std::fopen(path.c_str(), "r"));
    if (!f)
        throw std::runtime_error("private key file " + path +
                                 " cannot be read: " + std::strerror(errno));
    std::unique_ptr<EVP_PKEY, PkeyFree> key(
        PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!key)
        throw std::runtime_error("private key file " + path + " holds no readable PEM private key");
    if (!keyTypeMatches(key.get(), algorithm)) {
        std::string name = algorithm == 13   ? "ECDSAP256SHA256"
                           : algorithm == 15 ? "ED25519"
                                             : "ALG" + std::to_string(algorithm);
        throw std::runtime_error("private key file " + path + " is not a " + name + " key");
    }
    std::vector<uint8_t> pub = publicKeyField(key.get(), algorithm);
    if (pub.empty() || (!expected.empty() &&
                        !std::equal(pub.begin(), pub.end(), expected.begin(), expected.end())))
        throw std::runtime_error("private key file " + path +
                                 " holds another key than the DNSKEY in the database");
    return std::shared_ptr<const SigningKey>(new SigningKey(key.release(), algorithm, flags));
}

std::shared_ptr<const SigningKey> SigningKey::generate(uint8_t algorithm, uint16_t flags) {
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
        algorithm == 15 ? EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr)
                        : EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
    if (algorithm != 13 && algorithm != 15)
        throw std::runtime_error("unsupported DNSSEC algorithm " + std::to_string(algorithm));
    EVP_PKEY* raw = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
        (algorithm == 13 &&
         EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.get(), NID_X9_62_prime256v1) != 1) ||
        EVP_PKEY_keygen(ctx.get(), &raw) != 1)
        throw std::runtime_error("could not generate a DNSSEC key (OpenSSL)");
    return std::shared_ptr<const SigningKey>(new SigningKey(raw, algorithm, flags));
}

std::string SigningKey::pem() const {
    std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key_, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw std::runtime_error("could not write a DNSSEC key (OpenSSL)");
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, size_t(len));
}

namespace {

// Each thread keeps a ready EVP_PKEY_CTX for the last two keys it signed with (a zone's KSK and
// ZSK): setting one up per signature was 15-24% of an ECDSA signature's cost (tools/BENCH.md,
// dnssec). Keys are told apart by a process-wide id, never by address, and a context holds its
// own reference to the key, so a cached one can outlive the SigningKey safely.
struct SignContexts {
    struct Slot {
        uint64_t key = 0;
        EVP_PKEY_CTX* ctx = nullptr;
    };
    Slot slots[2];
    size_t next = 0;
    ~SignContexts() {
        for (Slot& s : slots) EVP_PKEY_CTX_free(s.ctx);
    }
    EVP_PKEY_CTX* get(uint64_t id, EVP_PKEY* key) {
        for (Slot& s : slots)
            if (s.key == id) return s.ctx;
        Slot& s = slots[next++ % 2];
        EVP_PKEY_CTX_free(s.ctx);
        s = {};
        EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
        if (!ctx || EVP_PKEY_sign_init(ctx) != 1) {
            EVP_PKEY_CTX_free(ctx);
            return nullptr;
        }
        s = {id, ctx};
        return ctx;
    }
};

}  // namespace

bool SigningKey::sign(std::span<const uint8_t> data, std::vector<uint8_t>& out) const {
    uint8_t sig[80];
    size_t len = sizeof sig;
    if (algorithm_ == 15) {
        // Ed25519 hashes inside the signature (PureEdDSA): one-shot only.
        std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
        if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_) != 1 ||
            EVP_DigestSign(ctx.get(), sig, &len, data.data(), data.size()) != 1 || len != 64)
            return false;
        out.insert(out.end(), sig, sig + len);
        return true;
    }
    thread_local SignContexts contexts;
    EVP_PKEY_CTX* ctx = contexts.get(id_, key_);
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(data.data(), data.size(), digest);
    if (!ctx || EVP_PKEY_sign(ctx, sig, &len, digest, sizeof digest) != 1) return false;
    // ECDSA: DER SEQUENCE { r, s } to the fixed r|s form of RFC 6605 §4.
    const uint8_t* p = sig;
    std::unique_ptr<ECDSA_SIG, EcdsaSigFree> es(d2i_ECDSA_SIG(nullptr, &p, long(len)));
    if (!es) return false;
    uint8_t rs[64];
    if (BN_bn2binpad(ECDSA_SIG_get0_r(es.get()), rs, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es.get()), rs + 32, 32) != 32)
        return false;
    out.insert(out.end(), rs, rs + 64);
    return true;
}

}  // namespace zones
