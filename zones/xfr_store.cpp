#include "zones/xfr_store.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <stdexcept>

#include "zones/name.hpp"
#include "zones/schema.hpp"

namespace zones {
namespace {

std::string canonicalName(const std::string& text, const char* what) {
    auto n = Name::fromText(text.empty() || text.back() == '.' ? text : text + ".");
    if (!n || text.empty())
        throw std::runtime_error(std::string(what) + " '" + text + "' is not a valid name");
    return n->toText();
}

// The address as inet_ntop writes it (so "2001:DB8::1" and "2001:db8:0::1" are one secondary).
std::string canonicalAddress(const std::string& text) {
    unsigned char buf[16];
    char out[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, text.c_str(), buf) == 1) return inet_ntop(AF_INET, buf, out, sizeof out);
    if (inet_pton(AF_INET6, text.c_str(), buf) == 1)
        return inet_ntop(AF_INET6, buf, out, sizeof out);
    throw std::runtime_error("'" + text + "' is not an IPv4 or IPv6 address");
}

int64_t zoneId(SQLite::Database& db, const std::string& zone) {
    SQLite::Statement q(db, "SELECT id FROM zones WHERE name = ?");
    q.bind(1, zone);
    if (!q.executeStep()) throw std::runtime_error("no zone " + zone);
    return q.getColumn(0).getInt64();
}

}  // namespace

TsigKey TsigKeyRow::key() const {
    TsigKey k;
    k.name = *Name::fromText(name);
    k.algorithm = *tsigAlgorithmFromText(algorithm);
    k.secret = *base64Decode(secret);
    return k;
}

std::string SecondaryRow::endpoint() const {
    bool v6 = address.find(':') != std::string::npos;
    return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

namespace {

// A key as it may be stored: name canonical, algorithm known, secret base64 of 16+ octets.
TsigKeyRow checkedKey(const std::string& name, const std::string& algorithm,
                      const std::string& secretBase64) {
    TsigKeyRow k;
    k.name = canonicalName(name, "key name");
    auto alg = tsigAlgorithmFromText(algorithm);
    if (!alg)
        throw std::runtime_error("unknown TSIG algorithm '" + algorithm +
                                 "' (hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha1)");
    k.algorithm = tsigAlgorithmText(*alg);
    auto secret = base64Decode(secretBase64);
    if (!secret) throw std::runtime_error("the secret is not base64");
    // RFC 8945 §6: a key should be as long as the hash output; 16 octets is a floor.
    if (secret->size() < 16)
        throw std::runtime_error("the secret is " + std::to_string(secret->size()) +
                                 " octets; at least 16 are needed");
    k.secret = base64Encode(*secret);
    return k;
}

}  // namespace

std::string XfrStore::keyName(const std::string& text) {
    return canonicalName(text, "key name");
}

TsigKeyRow XfrStore::setKey(const std::string& name, const std::string& algorithm,
                            const std::string& secretBase64) {
    TsigKeyRow k = checkedKey(name, algorithm, secretBase64);
    auto old = findKey(k.name);
    if (!old) throw std::runtime_error("no key " + k.name);
    SQLite::Statement up(db_, "UPDATE tsig_keys SET algorithm = ?, secret = ? WHERE id = ?");
    up.bind(1, k.algorithm);
    up.bind(2, k.secret);
    up.bind(3, old->id);
    up.exec();
    k.id = old->id;
    k.createdAt = old->createdAt;
    return k;
}

TsigKeyRow XfrStore::addKey(const std::string& name, const std::string& algorithm,
                            const std::string& secretBase64) {
    TsigKeyRow k = checkedKey(name, algorithm, secretBase64);
    if (findKey(k.name)) throw std::runtime_error("key " + k.name + " exists");
    k.createdAt = nowMs();
    SQLite::Statement ins(
        db_, "INSERT INTO tsig_keys (name, algorithm, secret, created_at) VALUES (?,?,?,?)");
    ins.bind(1, k.name);
    ins.bind(2, k.algorithm);
    ins.bind(3, k.secret);
    ins.bind(4, k.createdAt);
    ins.exec();
    k.id = db_.getLastInsertRowid();
    return k;
}

void XfrStore::deleteKey(const std::string& name) {
    std::string n = canonicalName(name, "key name");
    auto k = findKey(n);
    if (!k) throw std::runtime_error("no key " + n);
    SQLite::Statement used(db_,
                           "SELECT z.name, s.address, s.port FROM secondaries s JOIN zones z ON "
                           "z.id = s.zone_id WHERE s.key_id = ? LIMIT 1");
    used.bind(1, k->id);
    if (used.executeStep())
        throw std::runtime_error("key " + n + " is used by the secondary " +
                                 used.getColumn(1).getString() + " of " +
                                 used.getColumn(0).getString() + ": delete that secondary first");
    SQLite::Statement policy(db_,
                             "SELECT p.id, z.name FROM update_policies p JOIN zones z ON "
                             "z.id = p.zone_id WHERE p.key_id = ? LIMIT 1");
    policy.bind(1, k->id);
    if (policy.executeStep())
        throw std::runtime_error("key " + n + " is used by update policy " +
                                 policy.getColumn(0).getString() + " of " +
                                 policy.getColumn(1).getString() +
                                 ": delete that policy first (dnsctl update-policy delete)");
    SQLite::Statement del(db_, "DELETE FROM tsig_keys WHERE id = ?");
    del.bind(1, k->id);
    del.exec();
}

std::vector<TsigKeyRow> XfrStore::keys() {
    std::vector<TsigKeyRow> out;
    SQLite::Statement q(
        db_, "SELECT id, name, algorithm, secret, created_at FROM tsig_keys ORDER BY name");
    while (q.executeStep())
        out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                       q.getColumn(2).getString(), q.getColumn(3).getString(),
                       q.getColumn(4).getInt64()});
    return out;
}

std::optional<TsigKeyRow> XfrStore::findKey(const std::string& name) {
    for (auto& k : keys())
        if (k.name == name) return k;
    return std::nullopt;
}

SecondaryRow XfrStore::addSecondary(const std::string& zone, const std::string& address, int port,
                                    const std::string& keyName, bool notify) {
    SecondaryRow s;
    s.zone = canonicalName(zone, "zone");
    s.address = canonicalAddress(address);
    if (port < 1 || port > 65535)
        throw std::runtime_error("port " + std::to_string(port) + " is not in 1..65535");
    s.port = port;
    s.notify = notify;
    int64_t zid = zoneId(db_, s.zone);
    std::optional<int64_t> keyId;
    if (!keyName.empty()) {
        s.keyName = canonicalName(keyName, "key name");
        auto k = findKey(s.keyName);
        if (!k)
            throw std::runtime_error("no key " + s.keyName + " (dnsctl tsig add " + keyName + ")");
        keyId = k->id;
    }
    for (const auto& e : secondaries(s.zone))
        if (e.address == s.address && e.port == s.port)
            throw std::runtime_error("secondary " + s.endpoint() + " of " + s.zone + " exists");
    s.createdAt = nowMs();
    SQLite::Statement ins(db_,
                          "INSERT INTO secondaries (zone_id, address, port, key_id, notify, "
                          "created_at) VALUES (?,?,?,?,?,?)");
    ins.bind(1, zid);
    ins.bind(2, s.address);
    ins.bind(3, s.port);
    if (keyId)
        ins.bind(4, *keyId);
    else
        ins.bind(4);
    ins.bind(5, notify ? 1 : 0);
    ins.bind(6, s.createdAt);
    ins.exec();
    s.id = db_.getLastInsertRowid();
    return s;
}

void XfrStore::deleteSecondary(const std::string& zone, const std::string& address, int port) {
    std::string z = canonicalName(zone, "zone");
    std::string a = canonicalAddress(address);
    SQLite::Statement del(db_,
                          "DELETE FROM secondaries WHERE zone_id = (SELECT id FROM zones WHERE "
                          "name = ?) AND address = ? AND port = ?");
    del.bind(1, z);
    del.bind(2, a);
    del.bind(3, port);
    if (del.exec() == 0) {
        SecondaryRow missing;
        missing.zone = z;
        missing.address = a;
        missing.port = port;
        throw std::runtime_error("no secondary " + missing.endpoint() + " of " + z);
    }
}

std::vector<SecondaryRow> XfrStore::secondaries(const std::string& zone) {
    std::vector<SecondaryRow> out;
    SQLite::Statement q(db_,
                        "SELECT s.id, z.name, s.address, s.port, COALESCE(k.name, ''), s.notify, "
                        "s.created_at FROM secondaries s JOIN zones z ON z.id = s.zone_id "
                        "LEFT JOIN tsig_keys k ON k.id = s.key_id "
                        "WHERE ? = '' OR z.name = ? ORDER BY z.name, s.address, s.port");
    std::string z = zone.empty() ? "" : canonicalName(zone, "zone");
    q.bind(1, z);
    q.bind(2, z);
    while (q.executeStep())
        out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                       q.getColumn(2).getString(), q.getColumn(3).getInt(),
                       q.getColumn(4).getString(), q.getColumn(5).getInt() != 0,
                       q.getColumn(6).getInt64()});
    return out;
}

std::pair<std::string, int> XfrStore::parseEndpoint(const std::string& text, int defaultPort) {
    std::string host = text;
    int port = defaultPort;
    auto parsePort = [&](const std::string& p) {
        size_t used = 0;
        int v = -1;
        try {
            v = std::stoi(p, &used);
        } catch (const std::exception&) {
        }
        if (used != p.size() || v < 1 || v > 65535)
            throw std::runtime_error("'" + text + "': port must be 1..65535");
        return v;
    };
    if (!text.empty() && text[0] == '[') {
        size_t close = text.find(']');
        if (close == std::string::npos) throw std::runtime_error("'" + text + "': missing ]");
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') throw std::runtime_error("'" + text + "': expected :PORT");
            port = parsePort(text.substr(close + 2));
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        host = text.substr(0, text.find(':'));
        port = parsePort(text.substr(text.find(':') + 1));
    }
    return {canonicalAddress(host), port};
}

void XfrStore::saveStates(const std::vector<SecondaryStateRow>& rows, int64_t now) {
    db_.exec("DELETE FROM secondary_state");
    SQLite::Statement ins(db_,
                          "INSERT INTO secondary_state (zone, endpoint, serial, notified_serial, "
                          "acked_serial, confirmed_serial, last_notify_at, acked_at, confirmed_at, "
                          "behind_since, notifies, retries, errors, last_error, last_xfr_kind, "
                          "last_xfr_at, last_xfr_bytes, last_xfr_ms, updated_at) VALUES "
                          "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    auto opt32 = [&](int i, const std::optional<uint32_t>& v) {
        if (v)
            ins.bind(i, int64_t(*v));
        else
            ins.bind(i);
    };
    auto opt64 = [&](int i, const std::optional<int64_t>& v) {
        if (v)
            ins.bind(i, *v);
        else
            ins.bind(i);
    };
    for (const auto& r : rows) {
        ins.bind(1, r.zone);
        ins.bind(2, r.endpoint);
        ins.bind(3, int64_t(r.serial));
        opt32(4, r.notifiedSerial);
        opt32(5, r.ackedSerial);
        opt32(6, r.confirmedSerial);
        opt64(7, r.lastNotifyAt);
        opt64(8, r.ackedAt);
        opt64(9, r.confirmedAt);
        opt64(10, r.behindSince);
        ins.bind(11, r.notifies);
        ins.bind(12, r.retries);
        ins.bind(13, r.errors);
        ins.bind(14, r.lastError);
        ins.bind(15, r.lastTransferKind);
        opt64(16, r.lastTransferAt);
        opt64(17, r.lastTransferBytes);
        opt64(18, r.lastTransferMs);
        ins.bind(19, now);
        ins.exec();
        ins.reset();
    }
}

std::vector<SecondaryStateRow> XfrStore::states() {
    std::vector<SecondaryStateRow> out;
    if (!db_.tableExists("secondary_state")) return out;
    SQLite::Statement q(db_,
                        "SELECT zone, endpoint, serial, notified_serial, acked_serial, "
                        "confirmed_serial, last_notify_at, acked_at, confirmed_at, behind_since, "
                        "notifies, retries, errors, coalesce(last_error, ''), updated_at, "
                        "coalesce(last_xfr_kind, ''), last_xfr_at, last_xfr_bytes, last_xfr_ms "
                        "FROM secondary_state ORDER BY zone, endpoint");
    auto o32 = [&](int i) {
        return q.getColumn(i).isNull()
                   ? std::nullopt
                   : std::optional<uint32_t>(uint32_t(q.getColumn(i).getInt64()));
    };
    auto o64 = [&](int i) {
        return q.getColumn(i).isNull() ? std::nullopt
                                       : std::optional<int64_t>(q.getColumn(i).getInt64());
    };
    while (q.executeStep()) {
        SecondaryStateRow r;
        r.zone = q.getColumn(0).getString();
        r.endpoint = q.getColumn(1).getString();
        r.serial = uint32_t(q.getColumn(2).getInt64());
        r.notifiedSerial = o32(3);
        r.ackedSerial = o32(4);
        r.confirmedSerial = o32(5);
        r.lastNotifyAt = o64(6);
        r.ackedAt = o64(7);
        r.confirmedAt = o64(8);
        r.behindSince = o64(9);
        r.notifies = q.getColumn(10).getInt64();
        r.retries = q.getColumn(11).getInt64();
        r.errors = q.getColumn(12).getInt64();
        r.lastError = q.getColumn(13).getString();
        r.updatedAt = q.getColumn(14).getInt64();
        r.lastTransferKind = q.getColumn(15).getString();
        r.lastTransferAt = o64(16);
        r.lastTransferBytes = o64(17);
        r.lastTransferMs = o64(18);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace zones
