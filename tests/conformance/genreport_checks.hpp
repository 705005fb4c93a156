// The verdicts of ISC's EDNS compliance tester (genreport, DNS-Compliance-Testing), restated
// as checks on one response, so CI keeps dnsd passing the tool without fetching it.
//
// Contract: genreportProblems(query, response) looks only at the query bytes and the
// response bytes and returns one short tag per rule the response breaks (empty when the
// tool would print "ok"), named like the tool's own tags ("noaa", "mbz", "echoed", ...). The
// rules are our reading of what genreport checks in full mode (-f) for a query at a zone
// apex that the server is authoritative for; tests/README.md ("EDNS compliance") says how to
// run the real tool by hand. Nothing here is copied from the tool.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tests/support/dns_message.hpp"
#include "tests/support/strict_message.hpp"

namespace conformance {

namespace genreport {

// What the checks need to know about a query or a response, read from its bytes.
struct Facts {
    uint16_t flags = 0;
    uint16_t qdcount = 0, ancount = 0;
    uint16_t qtype = 0;
    std::string qname;        // lower case, wire labels joined by '.', "" for the root
    bool soaAtQname = false;  // an SOA owned by the qname in the answer section
    bool rrsig = false;       // an RRSIG anywhere in the answer section
    bool opt = false;
    uint16_t udpSize = 0;
    uint8_t extRcode = 0, version = 0;
    uint16_t ednsFlags = 0;
    std::vector<std::pair<uint16_t, std::vector<uint8_t>>> options;

    uint8_t opcode() const { return (flags >> 11) & 0xF; }
    uint16_t rcode() const { return uint16_t(extRcode << 4 | (flags & 0xF)); }
    bool bit(uint16_t mask) const { return (flags & mask) != 0; }
    const std::vector<uint8_t>* option(uint16_t code) const {
        for (const auto& [c, data] : options)
            if (c == code) return &data;
        return nullptr;
    }
};

// Lower-case text of an uncompressed or compressed name at `pos` (advancing past it).
inline std::optional<std::string> nameText(std::span<const uint8_t> m, size_t& pos) {
    size_t start = pos;
    if (!testsupport::strictdetail::readName(m, start, m.size()).empty()) return std::nullopt;
    std::string out;
    size_t at = pos;
    for (int hops = 0; hops < 128; ++hops) {
        uint8_t len = m[at];
        if ((len & 0xC0) == 0xC0) {
            at = size_t(len & 0x3F) << 8 | m[at + 1];
            continue;
        }
        if (len == 0) break;
        for (size_t i = 1; i <= len; ++i)
            out += char(std::tolower(static_cast<unsigned char>(m[at + i])));
        out += '.';
        at += 1 + len;
    }
    pos = start;
    return out;
}

// Facts of a message, or nullopt when the bytes are not a well-formed DNS message.
inline std::optional<Facts> readFacts(std::span<const uint8_t> m) {
    using testsupport::strictdetail::get16;
    if (m.size() < 12) return std::nullopt;
    Facts f;
    f.flags = get16(m, 2);
    f.qdcount = get16(m, 4);
    f.ancount = get16(m, 6);
    const uint32_t rrs = uint32_t(f.ancount) + get16(m, 8) + get16(m, 10);
    size_t pos = 12;
    for (uint16_t i = 0; i < f.qdcount; ++i) {
        auto name = nameText(m, pos);
        if (!name || pos + 4 > m.size()) return std::nullopt;
        if (i == 0) {
            f.qname = *name;
            f.qtype = get16(m, pos);
        }
        pos += 4;
    }
    for (uint32_t i = 0; i < rrs; ++i) {
        auto owner = nameText(m, pos);
        if (!owner || pos + 10 > m.size()) return std::nullopt;
        uint16_t type = get16(m, pos);
        uint16_t cls = get16(m, pos + 2);
        uint32_t ttl = uint32_t(get16(m, pos + 4)) << 16 | get16(m, pos + 6);
        size_t rdlen = get16(m, pos + 8);
        pos += 10;
        if (pos + rdlen > m.size()) return std::nullopt;
        if (i < f.ancount && type == 6 && *owner == f.qname) f.soaAtQname = true;
        if (i < f.ancount && type == 46) f.rrsig = true;
        if (type == 41) {
            f.opt = true;
            f.udpSize = cls;
            f.extRcode = uint8_t(ttl >> 24);
            f.version = uint8_t(ttl >> 16);
            f.ednsFlags = uint16_t(ttl);
            for (size_t o = pos; o < pos + rdlen;) {
                if (o + 4 > pos + rdlen) return std::nullopt;
                uint16_t code = get16(m, o), len = get16(m, o + 2);
                if (o + 4 + len > pos + rdlen) return std::nullopt;
                f.options.emplace_back(
                    code, std::vector<uint8_t>(m.begin() + o + 4, m.begin() + o + 4 + len));
                o += 4 + len;
            }
        }
        pos += rdlen;
    }
    return f;
}

constexpr uint16_t kAa = 0x0400, kTc = 0x0200, kRd = 0x0100, kRa = 0x0080, kZ = 0x0040,
                   kAd = 0x0020, kCd = 0x0010;
constexpr uint16_t kOptionCookie = 10, kOptionExpire = 9, kOptionEcho = 100;

}  // namespace genreport

// The tags genreport would print instead of "ok" for this exchange (see the contract above).
// `sizeLimit` is the largest response the query allows (its EDNS size, or 512).
inline std::vector<std::string> genreportProblems(std::span<const uint8_t> queryWire,
                                                  const testsupport::DnsMessage& response,
                                                  size_t sizeLimit) {
    using namespace genreport;
    std::vector<std::string> out;
    auto q = readFacts(queryWire);
    if (!q) return {"query-unreadable"};  // a mistake in the test, not in the server
    if (!testsupport::strictMessageProblem(response.bytes()).empty()) return {"malformed"};
    auto r = readFacts(response.bytes());
    if (!r) return {"malformed"};

    const bool query = q->opcode() == 0;
    const uint8_t version = q->opt ? q->version : 0;
    const bool cookieSent = q->option(kOptionCookie) != nullptr;
    const uint16_t rcode = r->rcode();
    constexpr uint16_t kNotImp = 4, kBadVers = 16, kBadCookie = 23;

    if (r->opcode() != q->opcode()) out.push_back("opcode");
    // An opcode the server does not implement defines no sections it could fill.
    if (!query && r->qdcount != 0) out.push_back("non-empty-question-section");
    if (!query && r->ancount != 0) out.push_back("non-empty-answer-section");
    // The rcode: NOERROR for a QUERY (BADCOOKIE allowed when a cookie was sent and one comes
    // back), NOTIMP for any other opcode, BADVERS for EDNS versions above 0 (RFC 6891 §6.1.3).
    if (version == 0 && query && rcode != 0 &&
        !(cookieSent && rcode == kBadCookie && r->option(kOptionCookie)))
        out.push_back("rcode " + std::to_string(rcode));
    if (version == 0 && !query && rcode != kNotImp) out.push_back("rcode " + std::to_string(rcode));
    if (version != 0 && rcode != kBadVers) out.push_back("rcode " + std::to_string(rcode));
    // OPT in the response exactly when the query had one (RFC 6891 §7), always version 0 here.
    if (r->opt && r->version != 0) out.push_back("version-not-zero");
    if (r->opt && (r->version < version) != (rcode == kBadVers)) out.push_back("badversion");
    if (q->opt && !r->opt) out.push_back("noopt");
    if (!q->opt && r->opt) out.push_back("opt");
    // SOA at the apex in a NOERROR answer to an SOA query, and not in a BADVERS answer.
    if (q->qtype == 6 && version == 0 && rcode == 0 && !r->soaAtQname && !r->bit(kTc))
        out.push_back("nosoa");
    if (q->qtype == 6 && r->soaAtQname && (version != 0 || rcode != 0)) out.push_back("soa");
    // Unknown EDNS options are ignored, never echoed (RFC 6891 §6.1.2).
    if (r->option(kOptionEcho)) out.push_back("echoed");
    const bool doSent = q->opt && (q->ednsFlags & 0x8000);
    if (doSent && r->opt && !(r->ednsFlags & 0x8000) && r->rrsig) out.push_back("nodo");
    if (doSent && q->bit(kCd) && r->opt && (r->ednsFlags & 0x8000) && !r->bit(kCd) && r->rrsig)
        out.push_back("nocd");
    // Header bits: AA for our own data, none of AA/RA/RD/AD/CD in answers to other opcodes
    // (those bits are defined for QUERY only), RD copied for QUERY, Z never set.
    if (!r->bit(kAa) && version == 0 && rcode == 0 && query) out.push_back("noaa");
    if (r->bit(kAa) && !query) out.push_back("aa");
    if (r->bit(kRa) && !query) out.push_back("ra");
    if (r->bit(kRd) && (!query || !q->bit(kRd))) out.push_back("rd");
    if (!r->bit(kRd) && q->bit(kRd) && query) out.push_back("nord");
    if (r->bit(kAd) && (!query || (!q->bit(kAd) && !doSent))) out.push_back("ad");
    if (r->bit(kCd) && (!query || !q->bit(kCd))) out.push_back("cd");
    if (r->bit(kZ)) out.push_back("z");
    // Only DO is defined among the EDNS flags; the others must be zero in a response.
    if (r->opt && (r->ednsFlags & 0x7FFF) != 0) out.push_back("mbz");
    if (response.size() > sizeLimit) out.push_back("toobig");
    // A server cookie (RFC 7873 §4.2: 16 to 40 octets) must start with our client cookie.
    if (const auto* c = r->option(kOptionCookie); c && cookieSent) {
        const auto* sent = q->option(kOptionCookie);
        if (c->size() < 16 || c->size() > 40 || sent->size() < 8 ||
            !std::equal(sent->begin(), sent->begin() + 8, c->begin()))
            out.push_back("cookie-mismatch");
    }
    // RFC 7314 §2: EXPIRE in a response carries exactly four octets.
    if (const auto* e = r->option(kOptionExpire); e && e->size() != 4) out.push_back("expire");
    return out;
}

}  // namespace conformance
