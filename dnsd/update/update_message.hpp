// dnsd::UpdateMessage — an RFC 2136 UPDATE message taken apart, for the update thread.
//
// Contract: `parseUpdate` reads any bytes without throwing and without reading past them. It
// fills the header fields, the zone section (ZOCOUNT must be 1, type SOA: §3.1.1), the
// prerequisite (§2.4) and update (§2.5) RRs with owners folded to lower case and the names
// inside RDATA of the RFC 1035/3597 §4 types decompressed (case kept), and where a TSIG, if
// any, sits. It judges only the wire format and the §3.2.1 / §3.4.1.3 rules that need no
// zone (TTL and RDLENGTH of the delete forms, meta types, RDATA that does not fit its type):
// a violation is FormErr; a message not worth an answer (shorter than a header, QR set, not
// opcode UPDATE) is Drop. What needs the zone (NOTZONE, NOTAUTH, prerequisites, policy) is
// the processor's job.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "zones/name.hpp"

namespace dnsd {

constexpr uint8_t kOpcodeUpdate = 5;

struct UpdateRR {
    zones::Name owner;
    uint16_t type = 0;
    uint16_t rclass = 0;
    uint32_t ttl = 0;
    std::vector<uint8_t> rdata;  // uncompressed
};

struct UpdateMessage {
    uint16_t id = 0;
    bool haveZone = false;  // the zone section was read (an answer echoes it)
    size_t zoneEnd = 12;    // where the zone section ends: header + zone, echoed in answers
    zones::Name zone;
    uint16_t zoneClass = 0;
    std::vector<UpdateRR> prerequisites, updates;
    bool hasTsig = false;  // the last additional RR is a TSIG
};

enum class UpdateParse : uint8_t { Ok, FormErr, Drop };

UpdateParse parseUpdate(std::span<const uint8_t> message, UpdateMessage& out) noexcept;

// The answer's header and zone section: ID, QR, opcode UPDATE, RCODE, the zone section
// echoed if it was read. Returns the size (0 if `out` is shorter than 12 bytes).
size_t writeUpdateAnswer(std::span<const uint8_t> message, const UpdateMessage& parsed,
                         uint8_t rcode, std::span<uint8_t> out) noexcept;

}  // namespace dnsd
