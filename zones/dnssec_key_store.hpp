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
#include <optional>
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

// ---- The rest is for dnsctl and zones::DnssecMaintenance (the key life cycle). ----

// One dnssec_zones row. Durations in seconds, *At in ms, sigEpoch in unix seconds.
struct DnssecZoneRow {
    int64_t zoneId = 0;
    std::string zone;  // absolute, lower case (from zones.name)
    bool unsigning = false;
    uint8_t algorithm = kDnssecEcdsaP256Sha256;
    uint32_t dnskeyTtl = 3600;
    uint32_t sigValidity = 14 * 86400, sigRefresh = 7 * 86400;
    int64_t sigEpoch = 0;
    uint32_t zskLifetime = 90 * 86400;
    uint32_t propagationDelay = 3600;
    uint32_t dsTtl = 86400;  // the parent's DS TTL: how long an old DS may stay in caches
    int64_t createdAt = 0, updatedAt = 0;
    std::optional<int64_t> unsigningAt, dsRemovedAt;
};

// Key states (RFC 7583 terms in brackets):
//   published  in the DNSKEY RRset, not signing yet: an incoming ZSK [Published]
//   active     signing [Active]
//   leaving    a KSK replaced by a KSK roll, still signing the DNSKEY RRset until the parent's
//              DS for its successor is confirmed (`dnsctl dnssec ds-seen`)
//   retired    waiting for `removeAt`: a ZSK no longer signing (its signatures may still be
//              cached), or a KSK whose DS may still be cached (it keeps signing DNSKEY)
// A removed key's row and file are deleted.
struct DnssecKeyRow {
    int64_t id = 0;  // 0 = not inserted yet
    int64_t zoneId = 0;
    bool ksk = false;
    uint8_t algorithm = kDnssecEcdsaP256Sha256;
    uint16_t tag = 0;
    std::vector<uint8_t> publicKey;
    std::string privateFile;  // name inside keyDirectory()
    std::string state;
    bool publish = false, sign = false, cds = false;
    int64_t createdAt = 0;
    std::optional<int64_t> publishedAt, activeAt, retiredAt, removeAt, dsSeenAt;

    uint16_t flags() const { return ksk ? 257 : 256; }
    std::vector<uint8_t> dnskeyRdata() const;
};

// Rows in and out; the caller owns the transaction (a throw before its commit changes
// nothing).
class DnssecKeyStore {
  public:
    explicit DnssecKeyStore(SQLite::Database& db) : db_(db) {}

    std::optional<DnssecZoneRow> zone(int64_t zoneId);
    std::vector<DnssecZoneRow> zones();
    std::vector<DnssecKeyRow> keys(int64_t zoneId);  // KSKs first, then by id

    void insertZone(const DnssecZoneRow& row);
    void updateZone(const DnssecZoneRow& row);  // every column but zone_id and created_at
    void deleteZone(int64_t zoneId);            // and its keys' rows
    int64_t insertKey(const DnssecKeyRow& row);
    void updateKey(const DnssecKeyRow& row);  // state, flags and dates
    void deleteKey(int64_t id);

    // The longest TTL the zone serves (records and pool answers): how long a signature made by
    // a retired ZSK may stay in a cache.
    uint32_t maxServedTtl(int64_t zoneId);

    // What the zone serves changed without a record changing (keys, signatures): advances the
    // SOA serial with a journal restart (the signed difference is dnsd's to compute, so IXFR
    // from before it gets the full zone) and makes dnsd rebuild, not patch, the zone.
    static void markZoneChanged(SQLite::Database& db, int64_t zoneId);

  private:
    SQLite::Database& db_;
};

// A key just made, its private file already written (see KeyFileTransaction).
struct NewDnssecKey {
    uint8_t algorithm = kDnssecEcdsaP256Sha256;
    uint16_t tag = 0;
    std::vector<uint8_t> publicKey;
    std::string privateFile;  // name inside keyDirectory()
};

// Key files that belong to one database transaction: files of new keys are written before the
// commit (a key row never names a file that is not there) and deleted again if the transaction
// does not commit (the destructor); files of removed keys are deleted only after it commits
// (`committed`), so a failed commit loses nothing.
class KeyFileTransaction {
  public:
    explicit KeyFileTransaction(std::string databasePath);
    ~KeyFileTransaction();
    KeyFileTransaction(const KeyFileTransaction&) = delete;
    KeyFileTransaction& operator=(const KeyFileTransaction&) = delete;

    // Makes a key (OpenSSL) whose tag, with the flags of `ksk`, is none of `avoidTags` (two
    // keys of one zone with one tag make validators try both), and writes its file.
    NewDnssecKey create(const std::string& zone, uint8_t algorithm, bool ksk,
                        const std::vector<uint16_t>& avoidTags);
    void removeOnCommit(const std::string& privateFile);
    // Call after the commit. Returns the files that could not be deleted, with the reason
    // (the keys are gone from the database; a leftover file is harmless but worth a log line).
    std::vector<std::string> committed();

  private:
    std::string databasePath_, directory_;
    std::vector<std::string> created_, removed_;
    bool committed_ = false;
};

// A private key file name for a new key: K<zone>+<alg>+<tag>.<random>.pem (zone characters
// other than letters, digits, '-', '_' and '.' become '_').
std::string newKeyFileName(const std::string& zone, uint8_t algorithm, uint16_t tag);

}  // namespace zones
