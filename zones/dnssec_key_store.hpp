// zones::DnssecKeyStore — DNSSEC keys and per-zone signing settings in the database.
//
// Contract: the database holds only public parts and metadata (tables dnssec_zones and
// dnssec_keys); each private key is one unencrypted PKCS#8 PEM file in `keyDirectory()`
// (mode 0700, files 0600, owned by the database file's owner), named by `privatePath`.
// `loadZoneDnssec` is the one reader the signer uses: it reads rows only (it never opens a
// key file, so a missing file is the signer's error to report with the path given here) and
// throws std::runtime_error naming the zone for rows it cannot represent (unknown role,
// public key of the wrong size). Control-path code: nothing here runs per query.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace zones {

// DNSKEY algorithm numbers we make keys with (RFC 8624 "MUST"/"RECOMMENDED" for signing).
inline constexpr uint8_t kDnssecEcdsaP256Sha256 = 13;
inline constexpr uint8_t kDnssecEd25519 = 15;

struct DnssecKey {
    int64_t id = 0;
    bool ksk = false;  // flags 257 (SEP) if true, else 256
    uint8_t algorithm = 13;
    uint16_t tag = 0;
    std::vector<uint8_t> publicKey;  // DNSKEY public key field
    bool publish = false;            // in the DNSKEY RRset
    bool sign = false;        // makes signatures (zsk: all but DNSKEY/CDS/CDNSKEY; ksk: those)
    bool cds = false;         // published as CDS+CDNSKEY (the key the parent should have)
    std::string privatePath;  // absolute path of the PEM file

    uint16_t flags() const { return ksk ? 257 : 256; }
};

struct ZoneDnssec {
    bool enabled = false;    // a dnssec_zones row exists
    bool unsigning = false;  // publish CDS/CDNSKEY "delete" (RFC 8078 §4) instead of real ones
    uint32_t dnskeyTtl = 3600;
    uint32_t sigValidity = 0, sigRefresh = 0;
    int64_t sigEpoch = 0;  // unix s: inception = epoch - 3600, expiration = epoch + sigValidity
    std::vector<DnssecKey> keys;
};

// `<databasePath>.keys`, absolute (made absolute against the current directory if relative).
std::string keyDirectory(const std::string& databasePath);

// Every signed zone's settings in one read, keyed by zone id (dnsd calls this inside the
// read transaction it loads zones in). Zones without a dnssec_zones row are absent. Keys are
// ordered KSKs first, then by id (oldest first).
std::map<int64_t, ZoneDnssec> loadZoneDnssec(SQLite::Database& db, const std::string& databasePath);

}  // namespace zones
