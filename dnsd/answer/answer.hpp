// dnsd::answer — the answer engine: query bytes in, response bytes out.
//
//     dnsd::Scratch scratch;                      // one per thread, reused for every query
//     dnsd::AnswerResult r = dnsd::answer(snap, pools, config, query, out, Transport::Udp,
//     scratch); if (r.action == Action::Send) send(out.first(r.size));
//
// Contract: a pure function of its arguments (plus the per-thread rotation counter in
// Scratch): no system calls, no locks, no allocation, no exceptions. Every byte of `query` is
// bounds-checked; malformed input yields FORMERR or Action::Drop, never a crash. The response
// never exceeds what the transport and the client allow; when an answer does not fit, whole
// RRsets are dropped and TC is set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dnsd/answer/pool_table.hpp"
#include "zones/snapshot.hpp"

namespace dnsd {

enum class Transport : uint8_t { Udp, Tcp };

// Transfer: an AXFR or IXFR request, well-formed as a query, for the transfer code
// (dnsd/xfr/) to judge and answer; the engine writes nothing. Update: an RFC 2136 UPDATE
// (opcode 5), for the update thread (dnsd/update/); the engine writes nothing.
enum class Action : uint8_t { Send, Drop, Transfer, Update };

// Why a query was dropped or how it was answered, for counters.
enum class Outcome : uint8_t {
    Answer,
    NoData,
    NxDomain,
    Referral,
    Refused,
    FormErr,
    NotImp,
    BadVers,
    DropShort,     // shorter than a header
    DropResponse,  // QR set: never answer a response (reflection loops)
    BadCookie,     // answered BADCOOKIE (see badCookie())
    Transfer,      // AXFR/IXFR, handed to dnsd/xfr/
    Update,        // UPDATE, handed to dnsd/update/
};

// What the query's DNS COOKIE option (RFC 7873) says about the client.
enum class CookieState : uint8_t {
    None,        // no cookie (or cookies turned off)
    ClientOnly,  // a client cookie only: the first query, or a client that forgot ours
    Valid,       // our own server cookie for this client, under an hour old: not spoofed
    Invalid,     // a server cookie that is not ours now: forged, expired or another server's
};

struct AnswerResult {
    Action action = Action::Drop;
    Outcome outcome = Outcome::DropShort;
    uint8_t rcode = 0;
    bool truncated = false;
    uint16_t qtype = 0;
    size_t size = 0;
    // Header plus question: what a slipped (TC) response keeps under rate limiting.
    size_t questionSize = 0;
    // Response-rate-limiting class (RFC-less, as NSD/Knot do it): the name the response is
    // "about" (qname for answers, zone or cut for NXDOMAIN/referrals), hashed, plus the outcome.
    uint64_t rrlKey = 0;
    // A Valid cookie proves the source address (the client received our earlier answer), so
    // rate limiting lets it through, as Knot and BIND do.
    CookieState cookie = CookieState::None;
    // The query was TSIG-signed: the transport must have the answer signed (or turned into
    // the TSIG error) by dnsd/xfr/ signAnswer(); room for the TSIG RR was kept.
    bool tsig = false;
};

// Who asked, as far as the engine needs to know: for limits, cookies and time.
struct Client {
    Transport transport = Transport::Udp;
    uint8_t family = 0;  // 4, 6, or 0 when unknown (tests)
    uint8_t addr[16] = {};
    uint32_t now = 0;  // Unix seconds, for cookie timestamps; read once per batch
};

struct EngineConfig {
    // Largest UDP response we send, whatever the client offers (NSD and Knot default: 1232,
    // the DNS Flag Day 2020 value that avoids IP fragmentation).
    uint16_t maxUdpPayload = 1232;
    // How many CNAMEs we follow inside a zone before answering with what we have.
    uint8_t maxCnameChain = 8;
    // DNS Cookies (RFC 7873, server cookies as RFC 9018): answered whenever a client sends one.
    bool cookies = true;
    uint8_t cookieSecret[16] = {};
    // NSID (RFC 5001): returned to clients that ask, if set. At most 128 bytes.
    uint8_t nsid[128] = {};
    uint8_t nsidSize = 0;
};

struct Scratch {
    // The question name folded to lower case: the key for every lookup.
    uint8_t qname[zones::Name::kMaxWire];
    size_t qnameSize = 0;
    // CNAME targets while following a chain, folded to lower case, one per step.
    static constexpr size_t kMaxChain = 16;
    uint8_t chase[kMaxChain][zones::Name::kMaxWire];
    // "*.<closest encloser>", for the NSEC that proves no wildcard matched (NXDOMAIN).
    uint8_t wildcard[zones::Name::kMaxWire];
    // Rotates active-active pool answers; per thread, so no shared counter.
    uint32_t rotation = 0;
};

AnswerResult answer(const zones::Snapshot& snapshot, const PoolTable& pools,
                    const EngineConfig& config, std::span<const uint8_t> query,
                    std::span<uint8_t> out, const Client& client, Scratch& scratch) noexcept;

// What a client that sent a DNS Cookie gets instead of a TC slip under rate limiting:
// BADCOOKIE (RFC 7873 §5.2.3-4, "based on server policy, including rate limiting") with a
// fresh server cookie and nothing else, no larger than the query's question. The client can
// retry at once over UDP with a cookie that exempts it, instead of falling back to TCP.
// Action::Drop when the query carries no cookie or is not an answerable message.
AnswerResult badCookie(const EngineConfig& config, std::span<const uint8_t> query,
                       std::span<uint8_t> out, const Client& client, Scratch& scratch) noexcept;

// For callers with no client address (engine tests, fuzzing).
inline AnswerResult answer(const zones::Snapshot& snapshot, const PoolTable& pools,
                           const EngineConfig& config, std::span<const uint8_t> query,
                           std::span<uint8_t> out, Transport transport, Scratch& scratch) noexcept {
    Client c;
    c.transport = transport;
    return answer(snapshot, pools, config, query, out, c, scratch);
}

}  // namespace dnsd
