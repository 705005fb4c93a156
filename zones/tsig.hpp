// zones::Tsig — transaction signatures (RFC 8945) for zone transfers and NOTIFY.
//
//     TsigKey key{*Name::fromText("xfr."), TsigAlgorithm::HmacSha256, secret};
//     TsigRequest req = verifyTsigRequest(message, keys, now);   // a secondary's AXFR query
//     if (req.status == TsigStatus::Valid) ...
//     TsigSigner s(key, req.mac, now);                           // every message we send back
//     s.sign(response, limit);                                  // appends the TSIG RR
//
// Contract: pure functions over wire messages; HMAC from OpenSSL (no cryptography written
// here). A request's TSIG must be the last record of the message (RFC 8945 §5.1); the MAC
// covers the message as received with the TSIG taken out, ARCOUNT lowered and the original
// ID restored, then the TSIG variables. A response's first message also covers the request's
// MAC; each later message of a multi-message response covers the previous message's MAC and
// only the timers (§5.3.1). MACs are compared in constant time. Truncated MACs (§5.2.2.1)
// shorter than half the hash (or 10 octets) are malformed; longer truncations are refused
// with BADTRUNC: dnsd accepts only full-length MACs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zones/name.hpp"

namespace zones {

enum class TsigAlgorithm : uint8_t { HmacSha1, HmacSha256, HmacSha384, HmacSha512 };

// "hmac-sha256" (with or without the trailing dot, any case) and back.
std::optional<TsigAlgorithm> tsigAlgorithmFromText(std::string_view text);
std::string tsigAlgorithmText(TsigAlgorithm a);  // "hmac-sha256"
size_t tsigMacSize(TsigAlgorithm a);             // full MAC length in octets

struct TsigKey {
    Name name;
    TsigAlgorithm algorithm = TsigAlgorithm::HmacSha256;
    std::vector<uint8_t> secret;
};

// TSIG error codes (RFC 8945 §3, the Error field); the header RCODE is NOTAUTH (9) with all
// but NOERROR.
enum class TsigError : uint16_t {
    NoError = 0,
    BadSig = 16,
    BadKey = 17,
    BadTime = 18,
    BadTrunc = 22
};

// A TSIG record as found at the end of a message.
struct TsigRecord {
    size_t offset = 0;  // where the TSIG RR starts (the message without it ends here)
    Name keyName;
    Name algorithm;
    uint64_t timeSigned = 0;  // 48 bits
    uint16_t fudge = 0;
    std::vector<uint8_t> mac;
    uint16_t originalId = 0;
    uint16_t error = 0;
    std::vector<uint8_t> other;
};

enum class TsigFind : uint8_t { None, Found, Malformed };

// Finds the TSIG RR. None: the message has none. Malformed: a TSIG that is not the last
// record, not class ANY / TTL 0, or whose RDATA does not parse (RFC 8945: FORMERR).
TsigFind findTsig(std::span<const uint8_t> message, TsigRecord& out);

enum class TsigStatus : uint8_t {
    Unsigned,   // no TSIG
    Valid,      // signed with `key`, MAC and time good
    Malformed,  // FORMERR
    Failed,     // answer NOTAUTH with `error` (BADKEY and BADSIG unsigned, BADTIME signed)
};

struct TsigRequest {
    TsigStatus status = TsigStatus::Unsigned;
    TsigError error = TsigError::NoError;
    const TsigKey* key = nullptr;  // the key named (for Valid and BADTIME)
    TsigRecord record;             // as found (when there was one)
};

// Verifies a signed request (a query, NOTIFY or UPDATE) against the keys we know, at `now`
// (Unix seconds).
TsigRequest verifyTsigRequest(std::span<const uint8_t> message, std::span<const TsigKey> keys,
                              uint64_t now);

// Signs a stream of messages with one key: the answer to one request (or a request itself,
// with an empty `requestMac`). Each sign() appends a TSIG RR to a complete message of `size`
// bytes in `buf` (raising ARCOUNT) and returns the new size, or 0 if it would not fit `limit`.
class TsigSigner {
  public:
    TsigSigner(const TsigKey& key, std::span<const uint8_t> requestMac, uint64_t now,
               uint16_t fudge = 300);
    size_t sign(uint8_t* buf, size_t size, size_t limit, TsigError error = TsigError::NoError);
    // The MAC of the last message signed (a request's MAC, to verify its answer with).
    const std::vector<uint8_t>& lastMac() const { return prior_; }
    // Size of the TSIG RR sign() appends: reserve it when filling a message.
    size_t recordSize() const;

  private:
    const TsigKey& key_;
    std::vector<uint8_t> prior_;  // the request's MAC, then each message's own
    uint64_t now_;
    uint16_t fudge_;
    bool first_ = true;
};

// An unsigned NOTAUTH answer's TSIG (BADKEY, BADSIG: RFC 8945 §5.3.2): the key name and
// algorithm of the request, its time, an empty MAC and the error. Appended like sign().
size_t appendUnsignedTsig(const TsigRecord& request, TsigError error, uint8_t* buf, size_t size,
                          size_t limit);

// Verifies the answer to a request we signed (NOTIFY, SOA check) and every later message of a
// stream; true when it is signed with `key` over `requestMac` (or the previous message).
class TsigVerifier {
  public:
    TsigVerifier(const TsigKey& key, std::span<const uint8_t> requestMac)
        : key_(key), prior_(requestMac.begin(), requestMac.end()) {}
    bool verify(std::span<const uint8_t> message, uint64_t now);

  private:
    const TsigKey& key_;
    std::vector<uint8_t> prior_;
    bool first_ = true;
};

// Base64 (RFC 4648) for secrets on the command line and in secondary configurations.
std::optional<std::vector<uint8_t>> base64Decode(std::string_view text);
std::string base64Encode(std::span<const uint8_t> bytes);

}  // namespace zones
