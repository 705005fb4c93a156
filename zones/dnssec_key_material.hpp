// zones::DnssecKeyMaterial — DNSSEC key pairs made, stored and checked through OpenSSL.
//
// Contract: no cryptography of our own. `generate` asks OpenSSL's EVP_PKEY keygen for an ECDSA
// P-256 (algorithm 13) or Ed25519 (15) key; the public part leaves as the DNSKEY public key
// field (RFC 6605 §4: X|Y, 64 octets; RFC 8080 §3: 32 octets), the private part as unencrypted
// PKCS#8 PEM. Key tags follow RFC 4034 Appendix B, DS digests RFC 4509 (SHA-256, type 2).
// Files are written 0600 with O_EXCL (never over an existing key), fsynced, and handed to the
// database file's owner when root writes them; every failure throws std::runtime_error naming
// the file. Control-path code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zones/name.hpp"

namespace zones {

struct GeneratedKey {
    uint8_t algorithm = 13;
    std::vector<uint8_t> publicKey;  // DNSKEY public key field
    std::string pem;                 // PKCS#8, unencrypted
};

// "ecdsap256sha256" / "13" -> 13, "ed25519" / "15" -> 15; nullopt for anything else.
std::optional<uint8_t> dnssecAlgorithmFromText(std::string_view text);
std::string dnssecAlgorithmName(uint8_t algorithm);  // "ECDSAP256SHA256", "ED25519"

GeneratedKey generateDnssecKey(uint8_t algorithm);

// DNSKEY RDATA: flags (256, or 257 with SEP), protocol 3, algorithm, public key.
std::vector<uint8_t> dnskeyRdata(uint16_t flags, uint8_t algorithm,
                                 const std::vector<uint8_t>& publicKey);
uint16_t dnssecKeyTag(const std::vector<uint8_t>& dnskeyRdata);
// DS RDATA digest (SHA-256) of the DNSKEY RDATA at `owner`.
std::vector<uint8_t> dsSha256Digest(const Name& owner, const std::vector<uint8_t>& dnskeyRdata);
std::string hexUpper(const std::vector<uint8_t>& bytes);

// Reads the PEM at `path` and checks that it is a private key of `algorithm` whose public
// part is `publicKey`. Returns "" if so, else one sentence saying what is wrong (missing,
// unreadable and why, not a key, another key). Never throws.
std::string checkPrivateKeyFile(const std::string& path, uint8_t algorithm,
                                const std::vector<uint8_t>& publicKey);

// Creates `dir` (0700) if missing; refuses a path that is not a directory. When the caller is
// root and `ownerOf` (the database file) belongs to someone else, the directory is given to
// that owner, so only dnsd's user (and root) can open the keys.
void ensureKeyDirectory(const std::string& dir, const std::string& ownerOf);
// Writes `pem` to the new file `path` (0600, O_EXCL, fsynced; chowned like the directory).
void writeKeyFile(const std::string& path, const std::string& pem, const std::string& ownerOf);

}  // namespace zones
