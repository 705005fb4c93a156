#include "zones/vantage_store.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "zones/pool_store.hpp"
#include "zones/schema.hpp"
#include "zones/tsig.hpp"

namespace zones {

namespace {

std::optional<int64_t> optInt(SQLite::Statement& q, int i) {
    if (q.getColumn(i).isNull()) return std::nullopt;
    return q.getColumn(i).getInt64();
}
std::string text(SQLite::Statement& q, int i) {
    return q.getColumn(i).isNull() ? std::string() : q.getColumn(i).getString();
}

}  // namespace

void checkVantageName(const std::string& name) {
    bool ok = !name.empty() && name.size() <= 32 && name[0] != '-';
    for (char c : name) ok &= (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok)
        throw std::runtime_error("vantage name '" + name +
                                 "' must be 1..32 characters of a-z, 0-9 and '-' (not first)");
}

std::string VantageStore::add(const std::string& name) {
    checkVantageName(name);
    if (name == kLocalVantage)
        throw std::runtime_error(
            "'local' is the controller's own checks (dnsd-probe --no-local-vantage turns them "
            "off); name the agent after where it runs");
    std::array<uint8_t, 32> key{};
    if (RAND_bytes(key.data(), int(key.size())) != 1)
        throw std::runtime_error("cannot generate a key (OpenSSL RAND_bytes failed)");
    std::string secret = base64Encode(key);
    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement exists(db_, "SELECT 1 FROM vantages WHERE name=?");
    exists.bind(1, name);
    if (exists.executeStep()) throw std::runtime_error("vantage " + name + " already exists");
    SQLite::Statement q(db_, "INSERT INTO vantages (name, secret, created_at) VALUES (?,?,?)");
    q.bind(1, name);
    q.bind(2, secret);
    q.bind(3, nowMs());
    q.exec();
    appendEvent(db_, "", "", "admin-vantage-add", "vantage " + name + " added");
    tx.commit();
    return secret;
}

void VantageStore::remove(const std::string& name) {
    if (name == kLocalVantage)
        throw std::runtime_error(
            "'local' cannot be deleted: it is the controller's own checks; run dnsd-probe with "
            "--no-local-vantage to leave them out of the count");
    SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement q(db_, "DELETE FROM vantages WHERE name=?");
    q.bind(1, name);
    if (q.exec() != 1) throw std::runtime_error("no vantage named " + name);
    SQLite::Statement v(db_, "DELETE FROM member_views WHERE vantage=?");
    v.bind(1, name);
    v.exec();
    appendEvent(db_, "", "", "admin-vantage-delete", "vantage " + name + " deleted");
    tx.commit();
}

std::vector<VantageInfo> VantageStore::list() {
    SQLite::Statement q(
        db_,
        "SELECT name, secret IS NULL, created_at, last_report_at, last_address, last_agent_time, "
        "offset_ms, lag_ms, checks_per_s, reports, results, dropped, refused, last_refusal, "
        "silent_since, version, host FROM vantages ORDER BY name <> 'local', name");
    std::vector<VantageInfo> out;
    while (q.executeStep()) {
        VantageInfo v;
        v.name = q.getColumn(0).getString();
        v.local = q.getColumn(1).getInt() != 0;
        v.createdAt = q.getColumn(2).getInt64();
        v.lastReportAt = optInt(q, 3);
        v.lastAddress = text(q, 4);
        v.lastAgentTime = optInt(q, 5);
        v.offsetMs = optInt(q, 6).value_or(0);
        v.lagMs = optInt(q, 7).value_or(0);
        v.checksPerS = q.getColumn(8).isNull() ? 0 : q.getColumn(8).getDouble();
        v.reports = q.getColumn(9).getInt64();
        v.results = q.getColumn(10).getInt64();
        v.dropped = q.getColumn(11).getInt64();
        v.refused = q.getColumn(12).getInt64();
        v.lastRefusal = text(q, 13);
        v.silentSince = optInt(q, 14);
        v.version = text(q, 15);
        v.host = text(q, 16);
        out.push_back(std::move(v));
    }
    return out;
}

std::vector<std::pair<std::string, std::vector<uint8_t>>> VantageStore::keys() {
    SQLite::Statement q(db_, "SELECT name, secret FROM vantages WHERE secret IS NOT NULL");
    std::vector<std::pair<std::string, std::vector<uint8_t>>> out;
    while (q.executeStep()) {
        auto key = base64Decode(q.getColumn(1).getString());
        if (!key || key->empty()) continue;  // unusable: the agent is refused as unknown
        out.emplace_back(q.getColumn(0).getString(), std::move(*key));
    }
    return out;
}

void VantageStore::setLocal(bool present) {
    if (present) {
        SQLite::Statement q(db_,
                            "INSERT INTO vantages (name, created_at) VALUES ('local', ?) "
                            "ON CONFLICT(name) DO NOTHING");
        q.bind(1, nowMs());
        q.exec();
    } else {
        db_.exec("DELETE FROM vantages WHERE name='local'");
        db_.exec("DELETE FROM member_views WHERE vantage='local'");
    }
}

std::vector<MemberView> VantageStore::views() {
    SQLite::Statement q(db_,
                        "SELECT member_id, vantage, health, health_since, last_ok, last_message, "
                        "checked_at FROM member_views ORDER BY member_id, vantage <> 'local', "
                        "vantage");
    std::vector<MemberView> out;
    while (q.executeStep()) {
        MemberView v;
        v.memberId = q.getColumn(0).getInt64();
        v.vantage = q.getColumn(1).getString();
        v.health = q.getColumn(2).getString();
        v.healthSince = optInt(q, 3);
        if (!q.getColumn(4).isNull()) v.lastOk = q.getColumn(4).getInt() != 0;
        v.lastMessage = text(q, 5);
        v.checkedAt = optInt(q, 6);
        out.push_back(std::move(v));
    }
    return out;
}

}  // namespace zones
