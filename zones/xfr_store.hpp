// zones::XfrStore — TSIG keys and zone secondaries in the database, for dnsctl and dnsd.
//
// Contract: what reaches the tables was validated here (a key name, a known algorithm, a
// base64 secret of at least 16 octets; a secondary's zone exists, its address is an IP
// literal, its key exists); each failure throws std::runtime_error with one message naming
// the bad value. A key still named by a secondary cannot be deleted. Callers own the
// transaction: a throw before commit changes nothing. Secrets leave this type only in
// TsigKeyRow::secret: whoever prints one decides to.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zones/tsig.hpp"

namespace zones {

struct TsigKeyRow {
    int64_t id = 0;
    std::string name;       // absolute, lower case
    std::string algorithm;  // hmac-sha256, ...
    std::string secret;     // base64
    int64_t createdAt = 0;

    TsigKey key() const;  // decoded (validated on the way in)
};

struct SecondaryRow {
    int64_t id = 0;
    std::string zone;     // absolute, lower case
    std::string address;  // IP literal
    int port = 53;
    std::string keyName;  // "" = unsigned transfers allowed from the address
    bool notify = true;
    int64_t createdAt = 0;

    std::string endpoint() const;  // 192.0.2.1:53, [2001:db8::1]:53
};

// What dnsd knows of one secondary of one zone (table secondary_state, written by dnsd).
struct SecondaryStateRow {
    std::string zone, endpoint;
    uint32_t serial = 0;
    std::optional<uint32_t> notifiedSerial, ackedSerial, confirmedSerial;
    std::optional<int64_t> lastNotifyAt, ackedAt, confirmedAt, behindSince;
    int64_t notifies = 0, retries = 0, errors = 0;
    std::string lastError;
    std::string lastTransferKind;
    std::optional<int64_t> lastTransferAt, lastTransferBytes, lastTransferMs;
    int64_t updatedAt = 0;
};

class XfrStore {
  public:
    explicit XfrStore(SQLite::Database& db) : db_(db) {}

    // Adds a key; returns it as stored.
    TsigKeyRow addKey(const std::string& name, const std::string& algorithm,
                      const std::string& secretBase64);
    // Changes an existing key's algorithm and secret (a rotation), validated as addKey does.
    TsigKeyRow setKey(const std::string& name, const std::string& algorithm,
                      const std::string& secretBase64);
    void deleteKey(const std::string& name);
    // A key name as stored ("xfr" -> "xfr."), or throws naming it.
    static std::string keyName(const std::string& text);
    std::vector<TsigKeyRow> keys();
    std::optional<TsigKeyRow> findKey(const std::string& name);

    SecondaryRow addSecondary(const std::string& zone, const std::string& address, int port,
                              const std::string& keyName, bool notify);
    void deleteSecondary(const std::string& zone, const std::string& address, int port);
    // All secondaries, or those of one zone.
    std::vector<SecondaryRow> secondaries(const std::string& zone = "");

    // Replaces the secondary_state rows with `rows` (the caller owns the transaction).
    void saveStates(const std::vector<SecondaryStateRow>& rows, int64_t now);
    std::vector<SecondaryStateRow> states();  // empty if the table does not exist yet

    // "192.0.2.1", "192.0.2.1:5300", "2001:db8::1", "[2001:db8::1]:5300" -> address, port.
    // Throws naming the text if it is not an IP literal with an optional port.
    static std::pair<std::string, int> parseEndpoint(const std::string& text, int defaultPort);

  private:
    SQLite::Database& db_;
};

}  // namespace zones
