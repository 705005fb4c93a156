// zones::SigningKey — one DNSSEC private key, ready to sign (OpenSSL does the cryptography).
//
// Contract: immutable once made; `sign` is safe from several threads at once (each call has
// its own EVP context). Algorithms: 13 (ECDSAP256SHA256, RFC 6605) and 15 (ED25519, RFC 8080),
// whose signatures are both 64 octets in DNSSEC form. `load` throws std::runtime_error naming
// the file when the key cannot be read or does not match the public key the database holds,
// so a swapped or damaged file never signs a zone with a key the parent does not know.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;

namespace zones {

class SigningKey {
  public:
    static std::shared_ptr<const SigningKey> load(const std::string& pemPath, uint8_t algorithm,
                                                  uint16_t flags,
                                                  std::span<const uint8_t> expectedPublicKey);
    // A fresh key (tests, and whoever makes keys): algorithm 13 or 15.
    static std::shared_ptr<const SigningKey> generate(uint8_t algorithm, uint16_t flags);
    ~SigningKey();

    uint8_t algorithm() const { return algorithm_; }
    uint16_t flags() const { return flags_; }
    bool ksk() const { return (flags_ & 1) != 0; }
    uint16_t tag() const { return tag_; }
    // DNSKEY RDATA: flags, protocol 3, algorithm, public key.
    const std::vector<uint8_t>& dnskey() const { return dnskey_; }
    std::span<const uint8_t> publicKey() const {
        return std::span<const uint8_t>(dnskey_).subspan(4);
    }
    // The private key as PKCS#8 PEM (to write a key file).
    std::string pem() const;

    // Appends the DNSSEC-form signature of `data` to `out`; false if OpenSSL failed.
    bool sign(std::span<const uint8_t> data, std::vector<uint8_t>& out) const;

  private:
    SigningKey(EVP_PKEY* key, uint8_t algorithm, uint16_t flags);
    EVP_PKEY* key_;
    uint64_t id_;  // process-wide, for the per-thread signing contexts
    uint8_t algorithm_;
    uint16_t flags_;
    uint16_t tag_ = 0;
    std::vector<uint8_t> dnskey_;
};

// RFC 4034 Appendix B key tag of DNSKEY RDATA.
uint16_t keyTag(std::span<const uint8_t> dnskeyRdata);
// DS RDATA (digest type 2, SHA-256, RFC 4509) for the DNSKEY RDATA at `owner` (wire, lower case).
std::vector<uint8_t> dsRdata(std::string_view owner, std::span<const uint8_t> dnskeyRdata);

}  // namespace zones
