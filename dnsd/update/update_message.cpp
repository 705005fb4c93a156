#include "dnsd/update/update_message.hpp"

#include <cstring>

#include "zones/ldns/rr_codec.hpp"
#include "zones/record.hpp"

namespace dnsd {
namespace {

constexpr uint16_t kClassNone = 254, kTypeTsig = 250, kTypeTkey = 249;

uint16_t get16(std::span<const uint8_t> m, size_t at) {
    return uint16_t((m[at] << 8) | m[at + 1]);
}

// A possibly compressed name at `pos`, appended uncompressed with its case kept (names in
// RDATA keep the case they were sent with, as the zone file loader keeps them). Advances
// `pos` past the name as it stands in the message.
bool readRdataName(std::span<const uint8_t> m, size_t& pos, size_t end, std::vector<uint8_t>& out) {
    size_t at = pos, total = 0;
    bool jumped = false;
    for (int hops = 0; hops < 64;) {
        if (at >= (jumped ? m.size() : end)) return false;
        uint8_t l = m[at];
        if ((l & 0xC0) == 0xC0) {
            if (at + 1 >= (jumped ? m.size() : end)) return false;
            if (!jumped) pos = at + 2;
            jumped = true;
            at = size_t(l & 0x3F) << 8 | m[at + 1];
            ++hops;
            continue;
        }
        if (l > 63) return false;
        const size_t limit = jumped ? m.size() : end;
        if (at + 1 + l > limit || (total += 1 + l) > zones::Name::kMaxWire) return false;
        out.insert(out.end(), m.begin() + long(at), m.begin() + long(at + 1 + l));
        at += 1 + l;
        if (l == 0) {
            if (!jumped) pos = at;
            return true;
        }
    }
    return false;
}

// RDATA layouts whose names a sender may have compressed (RFC 1035 types, RFC 3597 §4):
// `prefix` fixed octets, then `names` names, then the rest as is.
struct Layout {
    uint16_t type;
    uint8_t prefix;
    uint8_t names;
};
constexpr Layout kCompressible[] = {
    {2, 0, 1},   // NS
    {3, 0, 1},   // MD
    {4, 0, 1},   // MF
    {5, 0, 1},   // CNAME
    {6, 0, 2},   // SOA (then 20 octets)
    {7, 0, 1},   // MB
    {8, 0, 1},   // MG
    {9, 0, 1},   // MR
    {12, 0, 1},  // PTR
    {14, 0, 2},  // MINFO
    {15, 2, 1},  // MX
    {17, 0, 2},  // RP
    {18, 2, 1},  // AFSDB
    {21, 2, 1},  // RT
    {26, 2, 2},  // PX
    {33, 6, 1},  // SRV
    {36, 2, 1},  // KX
    {39, 0, 1},  // DNAME
};

bool readRdata(std::span<const uint8_t> m, size_t pos, size_t len, uint16_t type,
               std::vector<uint8_t>& out) {
    const size_t end = pos + len;
    for (const Layout& l : kCompressible) {
        if (l.type != type || len == 0) continue;
        if (l.prefix > len) return false;
        out.assign(m.begin() + long(pos), m.begin() + long(pos + l.prefix));
        size_t at = pos + l.prefix;
        for (uint8_t i = 0; i < l.names; ++i)
            if (!readRdataName(m, at, end, out)) return false;
        out.insert(out.end(), m.begin() + long(at), m.begin() + long(end));
        return true;
    }
    out.assign(m.begin() + long(pos), m.begin() + long(end));
    return true;
}

bool metaType(uint16_t t) {
    return t == zones::rrtype::AXFR || t == zones::rrtype::IXFR || t == zones::rrtype::MAILA ||
           t == zones::rrtype::MAILB || t == zones::rrtype::OPT || t == kTypeTsig || t == kTypeTkey;
}

// §3.2.1: TTL 0; class ANY or NONE with no RDATA; class IN with a real type.
bool prerequisiteOk(const UpdateRR& rr, size_t rdlength) {
    if (rr.ttl != 0) return false;
    if (rr.rclass == zones::rrclass::ANY || rr.rclass == kClassNone)
        return rdlength == 0 && !metaType(rr.type);
    if (rr.rclass == zones::rrclass::IN) return rr.type != zones::rrtype::ANY && !metaType(rr.type);
    return false;
}

// §3.4.1.3: adds carry a real type and RDATA of that type; deletes of an RRset or a name
// (class ANY) carry TTL 0 and no RDATA; deletes of an RR (class NONE) carry TTL 0.
bool updateOk(const UpdateRR& rr, size_t rdlength) {
    if (metaType(rr.type)) return false;
    if (rr.rclass == zones::rrclass::ANY) return rr.ttl == 0 && rdlength == 0;
    if (rr.rclass == kClassNone) return rr.ttl == 0 && rr.type != zones::rrtype::ANY;
    if (rr.rclass != zones::rrclass::IN || rr.type == zones::rrtype::ANY) return false;
    zones::Record r{rr.owner, rr.type, zones::rrclass::IN, rr.ttl, rr.rdata, 0};
    return zones::ldnsw::rdataMatchesType(r);
}

UpdateParse parse(std::span<const uint8_t> m, UpdateMessage& out) {
    if (m.size() < 12 || (m[2] & 0x80) || ((m[2] >> 3) & 0x0F) != kOpcodeUpdate)
        return UpdateParse::Drop;
    out.id = get16(m, 0);
    const uint16_t zo = get16(m, 4), pr = get16(m, 6), up = get16(m, 8), ad = get16(m, 10);
    if (zo != 1) return UpdateParse::FormErr;
    size_t pos = 12;
    auto zone = zones::readMessageName(m, pos);
    if (!zone || pos + 4 > m.size()) return UpdateParse::FormErr;
    out.zone = *zone;
    out.zoneClass = get16(m, pos + 2);
    const bool soa = get16(m, pos) == zones::rrtype::SOA;
    pos += 4;
    out.haveZone = true;
    out.zoneEnd = pos;
    if (!soa) return UpdateParse::FormErr;
    const uint32_t total = uint32_t(pr) + up + ad;
    for (uint32_t i = 0; i < total; ++i) {
        auto owner = zones::readMessageName(m, pos);
        if (!owner || pos + 10 > m.size()) return UpdateParse::FormErr;
        UpdateRR rr;
        rr.owner = *owner;
        rr.type = get16(m, pos);
        rr.rclass = get16(m, pos + 2);
        rr.ttl = uint32_t(get16(m, pos + 4)) << 16 | get16(m, pos + 6);
        const size_t len = get16(m, pos + 8);
        pos += 10;
        if (pos + len > m.size()) return UpdateParse::FormErr;
        if (i >= uint32_t(pr) + up) {
            // Additional data: only a TSIG, and only as the last record, means anything to us.
            if (rr.type == kTypeTsig) {
                if (i + 1 != total) return UpdateParse::FormErr;
                out.hasTsig = true;
            }
            pos += len;
            continue;
        }
        if (!readRdata(m, pos, len, rr.type, rr.rdata)) return UpdateParse::FormErr;
        pos += len;
        const bool prerequisite = i < pr;
        if (!(prerequisite ? prerequisiteOk(rr, len) : updateOk(rr, len)))
            return UpdateParse::FormErr;
        (prerequisite ? out.prerequisites : out.updates).push_back(std::move(rr));
    }
    if (pos != m.size()) return UpdateParse::FormErr;  // trailing garbage
    return UpdateParse::Ok;
}

}  // namespace

UpdateParse parseUpdate(std::span<const uint8_t> message, UpdateMessage& out) noexcept {
    try {
        out = UpdateMessage{};
        return parse(message, out);
    } catch (...) {  // an allocation failing: answer FORMERR rather than die
        return UpdateParse::FormErr;
    }
}

size_t writeUpdateAnswer(std::span<const uint8_t> message, const UpdateMessage& parsed,
                         uint8_t rcode, std::span<uint8_t> out) noexcept {
    // The zone section is written out afresh (uncompressed), never copied: a pointer in the
    // request's zone name would point into a header we rewrite.
    const auto zone = parsed.zone.wire();
    const size_t size = parsed.haveZone ? 12 + zone.size() + 4 : 12;
    if (message.size() < 12 || out.size() < size) return 0;
    out[0] = message[0];
    out[1] = message[1];
    out[2] = uint8_t(0x80 | (kOpcodeUpdate << 3));  // QR, opcode UPDATE, no AA/TC/RD
    out[3] = uint8_t(rcode & 0x0F);
    std::memset(out.data() + 4, 0, 8);
    if (!parsed.haveZone) return size;
    out[5] = 1;
    std::memcpy(out.data() + 12, zone.data(), zone.size());
    uint8_t* t = out.data() + 12 + zone.size();
    t[0] = 0;
    t[1] = uint8_t(zones::rrtype::SOA);
    t[2] = uint8_t(parsed.zoneClass >> 8);
    t[3] = uint8_t(parsed.zoneClass);
    return size;
}

}  // namespace dnsd
