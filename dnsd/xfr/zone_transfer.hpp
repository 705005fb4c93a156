// dnsd::ZoneTransfer — an outgoing zone transfer (RFC 5936 AXFR, RFC 1995 IXFR) as a stream
// of messages a TCP connection pulls one at a time.
//
//     ZoneTransfer::Start s = ZoneTransfer::begin(state, query, out, client, now);
//     if (s.size) send(out.first(s.size));                 // a single answer (error, up to date)
//     while (s.transfer && (n = s.transfer->next(out))) send(out.first(n));
//
// Contract: `begin` judges the request (RFC 8945 TSIG first, then the zone's ACL: address,
// and the key the secondary must sign with) and either writes one complete response or
// returns a transfer. A transfer holds the ServedState it started from, so every message
// comes from one consistent state however long the secondary takes to read, and the
// control thread may publish new states meanwhile. What it transfers is what dnsd answers:
// a pool's owner carries the RRset served now, at the TTL in force (the answer engine's
// choice of RRset, minus per-query rotation and max-answers subsets, which a secondary
// cannot do). `next` never blocks and does a bounded amount of work (one message), so a
// million-record transfer shares its thread with other TCP clients. Every message is
// TSIG-signed when the request was.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "dnsd/answer/answer.hpp"
#include "dnsd/served_state.hpp"
#include "zones/tsig.hpp"

namespace dnsd {

enum class XfrOutcome : uint8_t {
    Axfr,         // a full zone, asked for as AXFR
    Ixfr,         // IXFR answered with the differences from the client's serial (the journal)
    IxfrFull,     // IXFR answered with the full zone (no journal reaches the client's serial)
    IxfrCurrent,  // IXFR from a secondary already at our serial: the SOA alone
    Refused,      // address not allowed, or not signed with the key its entry names
    NotAuth,      // not a zone of ours, or a TSIG error (BADKEY, BADSIG, BADTIME, BADTRUNC)
    FormErr,      // malformed request (IXFR without an SOA, bad TSIG, ...)
};
const char* xfrOutcomeName(XfrOutcome o);

// One transfer request's result, for the secondary's status (Notifier::transferDone).
struct TransferReport {
    std::string zoneKey;  // apex, zones::Name::key() form
    uint8_t family = 4;
    uint8_t addr[16] = {};
    XfrOutcome outcome = XfrOutcome::Axfr;
    uint64_t bytes = 0;
    int64_t durationMs = 0;
    int64_t atMs = 0;
};

class ZoneTransfer {
  public:
    struct Start {
        XfrOutcome outcome = XfrOutcome::FormErr;
        size_t size = 0;  // a single response written into `out`, if not 0
        std::unique_ptr<ZoneTransfer> transfer;
        std::string zone;     // the zone asked for, presentation form ("" if unparsable)
        std::string zoneKey;  // the same as a zones::Name::key()
        std::string detail;   // why it was refused, for the log
    };

    // Judges a request whose QTYPE is AXFR or IXFR, arriving over TCP.
    static Start begin(std::shared_ptr<const ServedState> state, std::span<const uint8_t> query,
                       std::span<uint8_t> out, const Client& client, uint64_t nowSeconds);

    // Writes the next message of the transfer; 0 once the final SOA has been sent.
    size_t next(std::span<uint8_t> out);

    uint64_t messages() const { return messages_; }
    uint64_t records() const { return records_; }
    uint64_t bytes() const { return bytes_; }
    XfrOutcome outcome() const { return outcome_; }
    const std::string& zoneKey() const { return zoneKey_; }

  private:
    ZoneTransfer() = default;
    // Appends the next record to `w`; false if it did not fit (the caller starts a new message).
    enum class Put : uint8_t { Written, Full, Done };

    std::shared_ptr<const ServedState> state_;
    const zones::ZoneSnapshot* zone_ = nullptr;
    std::vector<uint8_t> question_;  // header template (12 bytes) + question as asked
    std::optional<zones::TsigSigner> signer_;
    zones::TsigKey key_;  // the signer refers to it
    // Where the walk stands: phase, node, RRset (static sets, then pool bindings), record.
    uint8_t phase_ = 0;  // 0 opening SOA, 1 records, 2 closing SOA, 3 done
    size_t node_ = 0, set_ = 0, rdata_ = 0;
    // An incremental IXFR: the journal's difference sequences (old SOA, removed, new SOA,
    // added, per serial step), pointing into state_'s journal; walked instead of the zone.
    std::vector<const zones::Record*> ixfr_;
    bool incremental_ = false;
    uint64_t messages_ = 0, records_ = 0, bytes_ = 0;
    XfrOutcome outcome_ = XfrOutcome::Axfr;
    std::string zoneKey_;

    friend class TransferWalk;
};

}  // namespace dnsd
