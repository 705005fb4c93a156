#include "zones/dnssec_key_store.hpp"

#include <SQLiteCpp/Statement.h>
#include <openssl/rand.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "zones/dnssec_key_material.hpp"
#include "zones/journal.hpp"
#include "zones/zone_store.hpp"

namespace zones {
namespace {

std::optional<int64_t> optInt(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getInt64();
}

void bindOpt(SQLite::Statement& q, int i, const std::optional<int64_t>& v) {
    if (v)
        q.bind(i, *v);
    else
        q.bind(i);
}

const char* kZoneColumns =
    "d.zone_id, z.name, d.state, d.algorithm, d.dnskey_ttl, d.sig_validity, d.sig_refresh, "
    "d.sig_epoch, d.zsk_lifetime, d.propagation_delay, d.ds_ttl, d.created_at, d.updated_at, "
    "d.unsigning_at, d.ds_removed_at";

DnssecZoneRow zoneRow(SQLite::Statement& q) {
    DnssecZoneRow r;
    r.zoneId = q.getColumn(0).getInt64();
    r.zone = q.getColumn(1).getString();
    r.unsigning = q.getColumn(2).getString() == "unsigning";
    r.algorithm = uint8_t(q.getColumn(3).getInt());
    r.dnskeyTtl = uint32_t(q.getColumn(4).getInt64());
    r.sigValidity = uint32_t(q.getColumn(5).getInt64());
    r.sigRefresh = uint32_t(q.getColumn(6).getInt64());
    r.sigEpoch = q.getColumn(7).getInt64();
    r.zskLifetime = uint32_t(q.getColumn(8).getInt64());
    r.propagationDelay = uint32_t(q.getColumn(9).getInt64());
    r.dsTtl = uint32_t(q.getColumn(10).getInt64());
    r.createdAt = q.getColumn(11).getInt64();
    r.updatedAt = q.getColumn(12).getInt64();
    r.unsigningAt = optInt(q.getColumn(13));
    r.dsRemovedAt = optInt(q.getColumn(14));
    return r;
}

const char* kKeyColumns =
    "id, zone_id, role, algorithm, key_tag, public_key, private_file, state, publish, sign, cds, "
    "created_at, published_at, active_at, retired_at, remove_at, ds_seen_at";

// Throws for a row the signer could not use, naming the zone: a damaged or foreign database
// must not make dnsd sign with garbage.
DnssecKeyRow keyRow(SQLite::Statement& q, const std::string& zone) {
    DnssecKeyRow r;
    r.id = q.getColumn(0).getInt64();
    r.zoneId = q.getColumn(1).getInt64();
    std::string role = q.getColumn(2).getString();
    if (role != "ksk" && role != "zsk")
        throw std::runtime_error("zone " + zone + ": DNSSEC key " + std::to_string(r.id) +
                                 " has unknown role '" + role + "'");
    r.ksk = role == "ksk";
    r.algorithm = uint8_t(q.getColumn(3).getInt());
    r.tag = uint16_t(q.getColumn(4).getInt());
    const auto* blob = static_cast<const uint8_t*>(q.getColumn(5).getBlob());
    r.publicKey.assign(blob, blob + q.getColumn(5).getBytes());
    size_t want = r.algorithm == kDnssecEcdsaP256Sha256 ? 64
                  : r.algorithm == kDnssecEd25519       ? 32
                                                        : 0;
    if (want == 0 || r.publicKey.size() != want)
        throw std::runtime_error("zone " + zone + ": DNSSEC key " + std::to_string(r.tag) +
                                 " has algorithm " + std::to_string(r.algorithm) +
                                 " with a public key of " + std::to_string(r.publicKey.size()) +
                                 " octets; dnsd signs with algorithms 13 and 15 only");
    r.privateFile = q.getColumn(6).getString();
    r.state = q.getColumn(7).getString();
    r.publish = q.getColumn(8).getInt() != 0;
    r.sign = q.getColumn(9).getInt() != 0;
    r.cds = q.getColumn(10).getInt() != 0;
    r.createdAt = q.getColumn(11).getInt64();
    r.publishedAt = optInt(q.getColumn(12));
    r.activeAt = optInt(q.getColumn(13));
    r.retiredAt = optInt(q.getColumn(14));
    r.removeAt = optInt(q.getColumn(15));
    r.dsSeenAt = optInt(q.getColumn(16));
    return r;
}

}  // namespace

std::string keyDirectory(const std::string& databasePath) {
    return std::filesystem::absolute(databasePath + ".keys").lexically_normal().string();
}

std::map<int64_t, ZoneDnssec> loadZoneDnssec(SQLite::Database& db,
                                             const std::string& databasePath) {
    std::map<int64_t, ZoneDnssec> out;
    if (!db.tableExists("dnssec_zones")) return out;  // a database older than this build
    DnssecKeyStore store(db);
    std::string dir = keyDirectory(databasePath);
    for (const DnssecZoneRow& z : store.zones()) {
        ZoneDnssec& d = out[z.zoneId];
        d.enabled = true;
        d.unsigning = z.unsigning;
        d.dnskeyTtl = z.dnskeyTtl;
        d.sigValidity = z.sigValidity;
        d.sigRefresh = z.sigRefresh;
        d.sigEpoch = z.sigEpoch;
        for (DnssecKeyRow& k : store.keys(z.zoneId)) {
            DnssecKey key;
            key.id = k.id;
            key.ksk = k.ksk;
            key.algorithm = k.algorithm;
            key.tag = k.tag;
            key.publicKey = std::move(k.publicKey);
            key.publish = k.publish;
            key.sign = k.sign;
            key.cds = k.cds;
            key.privatePath = dir + "/" + k.privateFile;
            d.keys.push_back(std::move(key));
        }
    }
    return out;
}

std::vector<uint8_t> DnssecKeyRow::dnskeyRdata() const {
    return zones::dnskeyRdata(flags(), algorithm, publicKey);
}

std::optional<DnssecZoneRow> DnssecKeyStore::zone(int64_t zoneId) {
    SQLite::Statement q(db_, std::string("SELECT ") + kZoneColumns +
                                 " FROM dnssec_zones d JOIN zones z ON z.id = d.zone_id"
                                 " WHERE d.zone_id = ?");
    q.bind(1, zoneId);
    if (!q.executeStep()) return std::nullopt;
    return zoneRow(q);
}

std::vector<DnssecZoneRow> DnssecKeyStore::zones() {
    SQLite::Statement q(db_, std::string("SELECT ") + kZoneColumns +
                                 " FROM dnssec_zones d JOIN zones z ON z.id = d.zone_id"
                                 " ORDER BY z.name");
    std::vector<DnssecZoneRow> out;
    while (q.executeStep()) out.push_back(zoneRow(q));
    return out;
}

std::vector<DnssecKeyRow> DnssecKeyStore::keys(int64_t zoneId) {
    SQLite::Statement name(db_, "SELECT name FROM zones WHERE id = ?");
    name.bind(1, zoneId);
    std::string zone = name.executeStep() ? name.getColumn(0).getString() : "?";
    SQLite::Statement q(db_, std::string("SELECT ") + kKeyColumns +
                                 " FROM dnssec_keys WHERE zone_id = ?"
                                 " ORDER BY role = 'zsk', id");
    q.bind(1, zoneId);
    std::vector<DnssecKeyRow> out;
    while (q.executeStep()) out.push_back(keyRow(q, zone));
    return out;
}

void DnssecKeyStore::insertZone(const DnssecZoneRow& r) {
    SQLite::Statement q(db_,
                        "INSERT INTO dnssec_zones (zone_id, state, algorithm, dnskey_ttl, "
                        "sig_validity, sig_refresh, sig_epoch, zsk_lifetime, propagation_delay, "
                        "ds_ttl, created_at, updated_at, unsigning_at, ds_removed_at) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    q.bind(1, r.zoneId);
    q.bind(2, r.unsigning ? "unsigning" : "signed");
    q.bind(3, int(r.algorithm));
    q.bind(4, int64_t(r.dnskeyTtl));
    q.bind(5, int64_t(r.sigValidity));
    q.bind(6, int64_t(r.sigRefresh));
    q.bind(7, r.sigEpoch);
    q.bind(8, int64_t(r.zskLifetime));
    q.bind(9, int64_t(r.propagationDelay));
    q.bind(10, int64_t(r.dsTtl));
    q.bind(11, r.createdAt);
    q.bind(12, r.updatedAt);
    bindOpt(q, 13, r.unsigningAt);
    bindOpt(q, 14, r.dsRemovedAt);
    q.exec();
}

void DnssecKeyStore::updateZone(const DnssecZoneRow& r) {
    SQLite::Statement q(db_,
                        "UPDATE dnssec_zones SET state = ?, algorithm = ?, dnskey_ttl = ?, "
                        "sig_validity = ?, sig_refresh = ?, sig_epoch = ?, zsk_lifetime = ?, "
                        "propagation_delay = ?, ds_ttl = ?, updated_at = ?, unsigning_at = ?, "
                        "ds_removed_at = ? WHERE zone_id = ?");
    q.bind(1, r.unsigning ? "unsigning" : "signed");
    q.bind(2, int(r.algorithm));
    q.bind(3, int64_t(r.dnskeyTtl));
    q.bind(4, int64_t(r.sigValidity));
    q.bind(5, int64_t(r.sigRefresh));
    q.bind(6, r.sigEpoch);
    q.bind(7, int64_t(r.zskLifetime));
    q.bind(8, int64_t(r.propagationDelay));
    q.bind(9, int64_t(r.dsTtl));
    q.bind(10, r.updatedAt);
    bindOpt(q, 11, r.unsigningAt);
    bindOpt(q, 12, r.dsRemovedAt);
    q.bind(13, r.zoneId);
    q.exec();
}

void DnssecKeyStore::deleteZone(int64_t zoneId) {
    SQLite::Statement keys(db_, "DELETE FROM dnssec_keys WHERE zone_id = ?");
    keys.bind(1, zoneId);
    keys.exec();
    SQLite::Statement zone(db_, "DELETE FROM dnssec_zones WHERE zone_id = ?");
    zone.bind(1, zoneId);
    zone.exec();
}

int64_t DnssecKeyStore::insertKey(const DnssecKeyRow& r) {
    SQLite::Statement q(db_,
                        "INSERT INTO dnssec_keys (zone_id, role, algorithm, key_tag, public_key, "
                        "private_file, state, publish, sign, cds, created_at, published_at, "
                        "active_at, retired_at, remove_at, ds_seen_at) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    q.bind(1, r.zoneId);
    q.bind(2, r.ksk ? "ksk" : "zsk");
    q.bind(3, int(r.algorithm));
    q.bind(4, int(r.tag));
    q.bind(5, r.publicKey.data(), int(r.publicKey.size()));
    q.bind(6, r.privateFile);
    q.bind(7, r.state);
    q.bind(8, int(r.publish));
    q.bind(9, int(r.sign));
    q.bind(10, int(r.cds));
    q.bind(11, r.createdAt);
    bindOpt(q, 12, r.publishedAt);
    bindOpt(q, 13, r.activeAt);
    bindOpt(q, 14, r.retiredAt);
    bindOpt(q, 15, r.removeAt);
    bindOpt(q, 16, r.dsSeenAt);
    q.exec();
    return db_.getLastInsertRowid();
}

void DnssecKeyStore::updateKey(const DnssecKeyRow& r) {
    SQLite::Statement q(db_,
                        "UPDATE dnssec_keys SET state = ?, publish = ?, sign = ?, cds = ?, "
                        "published_at = ?, active_at = ?, retired_at = ?, remove_at = ?, "
                        "ds_seen_at = ? WHERE id = ?");
    q.bind(1, r.state);
    q.bind(2, int(r.publish));
    q.bind(3, int(r.sign));
    q.bind(4, int(r.cds));
    bindOpt(q, 5, r.publishedAt);
    bindOpt(q, 6, r.activeAt);
    bindOpt(q, 7, r.retiredAt);
    bindOpt(q, 8, r.removeAt);
    bindOpt(q, 9, r.dsSeenAt);
    q.bind(10, r.id);
    q.exec();
}

void DnssecKeyStore::deleteKey(int64_t id) {
    SQLite::Statement q(db_, "DELETE FROM dnssec_keys WHERE id = ?");
    q.bind(1, id);
    q.exec();
}

uint32_t DnssecKeyStore::maxServedTtl(int64_t zoneId) {
    SQLite::Statement q(db_,
                        "SELECT max(coalesce((SELECT max(ttl) FROM records WHERE zone_id = ?1), 0),"
                        " coalesce((SELECT max(ttl) FROM pools WHERE zone_id = ?1), 0))");
    q.bind(1, zoneId);
    q.executeStep();
    return uint32_t(q.getColumn(0).getInt64());
}

void DnssecKeyStore::markZoneChanged(SQLite::Database& db, int64_t zoneId) {
    Journal::restart(db, zoneId);
    ZoneStore(db).markRebuild(zoneId);
}

KeyFileTransaction::KeyFileTransaction(std::string databasePath)
    : databasePath_(std::move(databasePath)), directory_(keyDirectory(databasePath_)) {}

KeyFileTransaction::~KeyFileTransaction() {
    if (committed_) return;
    for (const std::string& name : created_) ::unlink((directory_ + "/" + name).c_str());
}

NewDnssecKey KeyFileTransaction::create(const std::string& zone, uint8_t algorithm, bool ksk,
                                        const std::vector<uint16_t>& avoidTags) {
    ensureKeyDirectory(directory_, databasePath_);
    NewDnssecKey key;
    key.algorithm = algorithm;
    for (int attempt = 0;; ++attempt) {
        GeneratedKey made = generateDnssecKey(algorithm);
        key.publicKey = std::move(made.publicKey);
        key.tag = dnssecKeyTag(dnskeyRdata(ksk ? 257 : 256, algorithm, key.publicKey));
        bool clash = false;
        for (uint16_t t : avoidTags) clash = clash || t == key.tag;
        if (clash && attempt < 16) continue;
        key.privateFile = newKeyFileName(zone, algorithm, key.tag);
        writeKeyFile(directory_ + "/" + key.privateFile, made.pem, databasePath_);
        created_.push_back(key.privateFile);
        return key;
    }
}

void KeyFileTransaction::removeOnCommit(const std::string& privateFile) {
    removed_.push_back(privateFile);
}

std::vector<std::string> KeyFileTransaction::committed() {
    committed_ = true;
    std::vector<std::string> problems;
    for (const std::string& name : removed_) {
        std::string path = directory_ + "/" + name;
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            problems.push_back("cannot delete key file " + path + ": " + std::strerror(errno));
    }
    removed_.clear();
    return problems;
}

std::string newKeyFileName(const std::string& zone, uint8_t algorithm, uint16_t tag) {
    std::string safe;
    for (char c : zone)
        safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')
                    ? c
                    : '_';
    uint8_t random[4];
    if (RAND_bytes(random, sizeof random) != 1)
        throw std::runtime_error("cannot read random bytes for a key file name");
    char buf[64];
    std::snprintf(buf, sizeof buf, "+%03u+%05u.%02x%02x%02x%02x.pem", unsigned(algorithm),
                  unsigned(tag), random[0], random[1], random[2], random[3]);
    return "K" + safe + buf;
}

}  // namespace zones
