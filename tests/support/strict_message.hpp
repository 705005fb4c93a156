// testsupport::strictMessageProblem — is this a well-formed DNS message, to the last byte?
//
// Contract: returns "" when `m` is a DNS message whose header counts describe exactly its
// bytes: every question and RR parses, names are at most 255 octets with compression
// pointers that point backwards to a name already in the message, RDATA of the RFC 1035
// types with names (NS, CNAME, PTR, MX, SOA) parses to exactly RDLENGTH, at most one OPT,
// owned by the root and only in the additional section, and no byte is left after the last
// record. Otherwise, a one-line description of the first problem and where it is.
// Stricter than ldns (which ignores trailing bytes: the "extra bytes at end" dig warns about)
// and free of any library, so a fuzz target can call it on every response.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace testsupport {

namespace strictdetail {

inline uint16_t get16(std::span<const uint8_t> m, size_t at) {
    return uint16_t((m[at] << 8) | m[at + 1]);
}

// Reads a name at `pos` (advancing past it); "" or a problem.
inline std::string readName(std::span<const uint8_t> m, size_t& pos, size_t end) {
    size_t at = pos;
    bool jumped = false;
    size_t total = 0;
    for (int hops = 0;;) {
        if (at >= end) return "name runs past its end at offset " + std::to_string(at);
        uint8_t len = m[at];
        if ((len & 0xC0) == 0xC0) {
            if (at + 1 >= end) return "pointer cut short at offset " + std::to_string(at);
            size_t target = size_t(len & 0x3F) << 8 | m[at + 1];
            if (target >= at || target < 12)
                return "pointer at offset " + std::to_string(at) + " does not point backwards " +
                       "into the message (to " + std::to_string(target) + ")";
            if (!jumped) pos = at + 2;
            jumped = true;
            end = m.size();  // the name goes on where the pointer leads
            at = target;
            if (++hops > 127) return "pointer loop";
            continue;
        }
        if (len & 0xC0) return "reserved label type at offset " + std::to_string(at);
        total += 1 + len;
        if (total > 255) return "name longer than 255 octets";
        if (at + 1 + len > end) return "label runs past its end at offset " + std::to_string(at);
        at += 1 + len;
        if (len == 0) {
            if (!jumped) pos = at;
            return "";
        }
    }
}

}  // namespace strictdetail

inline std::string strictMessageProblem(std::span<const uint8_t> m) {
    using strictdetail::get16;
    using strictdetail::readName;
    if (m.size() < 12) return "shorter than a header";
    size_t pos = 12;
    const uint16_t qd = get16(m, 4);
    for (uint16_t i = 0; i < qd; ++i) {
        if (std::string p = readName(m, pos, m.size()); !p.empty()) return "question: " + p;
        if (pos + 4 > m.size()) return "question type/class cut short";
        pos += 4;
    }
    const uint32_t an = get16(m, 6), ns = get16(m, 8), ar = get16(m, 10);
    bool opt = false;
    for (uint32_t i = 0; i < an + ns + ar; ++i) {
        const char* section = i < an ? "answer" : i < an + ns ? "authority" : "additional";
        std::string where = std::string(section) + " RR " + std::to_string(i) + ": ";
        size_t owner = pos;
        if (std::string p = readName(m, pos, m.size()); !p.empty()) return where + p;
        if (pos + 10 > m.size()) return where + "fixed fields cut short";
        uint16_t type = get16(m, pos);
        uint16_t rdlen = get16(m, pos + 8);
        pos += 10;
        size_t end = pos + rdlen;
        if (end > m.size()) return where + "RDATA runs past the end of the message";
        if (type == 41) {
            if (i < an + ns) return where + "OPT outside the additional section";
            if (opt) return where + "a second OPT";
            if (m[owner] != 0) return where + "OPT not owned by the root";
            opt = true;
        }
        size_t r = pos;
        std::string p;
        switch (type) {
            case 2:   // NS
            case 5:   // CNAME
            case 12:  // PTR
                p = readName(m, r, end);
                break;
            case 15:  // MX
                r += 2;
                p = r > end ? "MX preference cut short" : readName(m, r, end);
                break;
            case 6:  // SOA
                p = readName(m, r, end);
                if (p.empty()) p = readName(m, r, end);
                if (p.empty()) r += 20;
                break;
            default:
                r = end;
        }
        if (!p.empty()) return where + "RDATA: " + p;
        if (r != end) return where + "RDATA length does not match its content";
        pos = end;
    }
    if (pos != m.size())
        return std::to_string(m.size() - pos) + " bytes after the last record the counts allow";
    return "";
}

}  // namespace testsupport
