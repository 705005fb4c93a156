// dnsd::RRsetWriter — the one way the answer engine puts records into a response.
//
//     RRsetWriter set(w, counts, Section::Answer, owner, rrtype::A);
//     for (...) if (!set.add(ttl, rdata)) return;   // nothing of the set stays in the message
//     set.commit();                                   // the whole set, and its count, are in
//
// Contract: an RRset goes into the message whole or not at all (RFC 2181 §5, §9). Bytes and
// the section count move together: the count is raised only by commit(), and a writer that is
// destroyed without commit() rolls the message back to where the set began. So a response can
// never carry records its header does not count (a malformed truncated answer came from two
// hand-written copies of "write, roll back" that disagreed). Deciding what a miss means (TC in
// answer/authority, silence in additional) is the caller's; this type only writes.
#pragma once

#include <cstdint>
#include <span>

#include "zones/name.hpp"
#include "zones/record.hpp"
#include "zones/wire_writer.hpp"

namespace dnsd {

enum class Section : uint8_t { Answer, Authority, Additional };

// ANCOUNT, NSCOUNT and ARCOUNT of the records written so far (OPT not included).
struct SectionCounts {
    uint16_t n[3] = {0, 0, 0};
    uint16_t& operator[](Section s) { return n[static_cast<uint8_t>(s)]; }
    uint16_t operator[](Section s) const { return n[static_cast<uint8_t>(s)]; }
};

// Where the owner name of a record comes from.
struct Owner {
    int offset = -1;                // pointer to a name already in the message (the question)
    const uint8_t* wire = nullptr;  // or a name to write (compressed)
};

class RRsetWriter {
  public:
    RRsetWriter(zones::WireWriter& w, SectionCounts& counts, Section section, Owner owner,
                uint16_t type) noexcept
        : w_(w), counts_(counts), section_(section), owner_(owner), type_(type), start_(w.mark()) {}
    RRsetWriter(const RRsetWriter&) = delete;
    RRsetWriter& operator=(const RRsetWriter&) = delete;
    ~RRsetWriter() {
        if (!committed_) w_.rollback(start_);
    }

    // Appends one record of the set; false when it does not fit (the set is then void).
    bool add(uint32_t ttl, std::span<const uint8_t> rd) noexcept {
        if (failed_) return false;
        bool ok = (owner_.offset >= 0 ? w_.pointer(size_t(owner_.offset)) : w_.name(owner_.wire)) &&
                  w_.u16(type_) && w_.u16(zones::rrclass::IN) && w_.u32(ttl);
        size_t rdlenAt = w_.size();
        ok = ok && w_.u16(0) && rdata(rd);
        if (!ok) {
            failed_ = true;
            return false;
        }
        w_.patch16(rdlenAt, uint16_t(w_.size() - rdlenAt - 2));
        ++records_;
        return true;
    }

    // Keeps what was added and counts it; false (and nothing kept) if any add() failed.
    bool commit() noexcept {
        if (failed_) return false;
        committed_ = true;
        counts_[section_] = uint16_t(counts_[section_] + records_);
        return true;
    }

  private:
    // RFC 3597 §4: only names in the RR types of RFC 1035 may be compressed.
    bool rdata(std::span<const uint8_t> b) noexcept {
        switch (type_) {
            case zones::rrtype::NS:
            case zones::rrtype::CNAME:
            case zones::rrtype::PTR:
                return w_.name(b.data());
            case zones::rrtype::MX:
                return w_.bytes(b.data(), 2) && w_.name(b.data() + 2);
            case zones::rrtype::SOA: {
                size_t m = zones::wireNameLength(b);
                size_t r = zones::wireNameLength(b.subspan(m));
                return w_.name(b.data()) && w_.name(b.data() + m) && w_.bytes(b.data() + m + r, 20);
            }
            default:
                return w_.bytes(b.data(), b.size());
        }
    }

    zones::WireWriter& w_;
    SectionCounts& counts_;
    const Section section_;
    const Owner owner_;
    const uint16_t type_;
    const zones::WireWriter::Mark start_;
    uint16_t records_ = 0;
    bool failed_ = false;
    bool committed_ = false;
};

}  // namespace dnsd
