// testsupport::DnsMessage — one DNS message as received: the raw bytes plus ldns's parse.
//
// Contract: keeps the exact bytes; header fields are read from the bytes (so they work even
// when ldns cannot parse the rest), the ldns_pkt is owned (freed on destruction) and is null
// when parsing failed (parseError() says why). Sections are exposed as RR lists and as sorted
// canonical strings (owner and rdata names lower-cased, RFC 4034 §6.2) for set comparison.
#pragma once

#include <cstdint>
// stdbool first: without it ldns/common.h #defines true/false as the ints 1/0 in C++.
#include <stdbool.h>
// clang-format off
#include <ldns/ldns.h>
// clang-format on
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace testsupport {

enum class Section { Answer, Authority, Additional };

class DnsMessage {
  public:
    explicit DnsMessage(std::vector<uint8_t> bytes);

    const std::vector<uint8_t>& bytes() const { return bytes_; }
    size_t size() const { return bytes_.size(); }
    // Null if ldns could not parse the message.
    const ldns_pkt* pkt() const { return pkt_.get(); }
    bool parsed() const { return pkt_ != nullptr; }
    const std::string& parseError() const { return parseError_; }

    // Header fields straight from the bytes (0 if the message is shorter than a header).
    bool hasHeader() const { return bytes_.size() >= 12; }
    uint16_t id() const { return u16(0); }
    uint16_t flags() const { return u16(2); }
    bool qr() const { return flags() & 0x8000; }
    uint8_t opcode() const { return (flags() >> 11) & 0xF; }
    bool aa() const { return flags() & 0x0400; }
    bool tc() const { return flags() & 0x0200; }
    bool rd() const { return flags() & 0x0100; }
    bool ra() const { return flags() & 0x0080; }
    bool z() const { return flags() & 0x0040; }
    bool ad() const { return flags() & 0x0020; }
    bool cd() const { return flags() & 0x0010; }
    uint16_t qdcount() const { return u16(4); }
    uint16_t ancount() const { return u16(6); }
    uint16_t nscount() const { return u16(8); }
    uint16_t arcount() const { return u16(10); }

    // EDNS as ldns saw it (requires parsed()). hasOpt: an OPT RR was in the additional section.
    bool hasOpt() const;
    uint8_t ednsVersion() const;
    bool ednsDo() const;
    uint16_t ednsUdpSize() const;
    // The full 12-bit RCODE: header bits plus the OPT extended bits (RFC 6891 §6.1.3).
    uint16_t rcode() const;

    // The question as sent back: owner name in presentation form with its original case.
    std::string questionText() const;
    const ldns_rr_list* rrs(Section s) const;
    // Sorted canonical presentation strings of the RRs in a section.
    std::vector<std::string> canonicalRrs(Section s) const;
    // dig-like dump (ldns_pkt2str), or a hex dump when unparsed.
    std::string toString() const;

  private:
    uint16_t u16(size_t at) const {
        return bytes_.size() >= at + 2 ? static_cast<uint16_t>(bytes_[at] << 8 | bytes_[at + 1])
                                       : 0;
    }

    std::vector<uint8_t> bytes_;
    std::shared_ptr<ldns_pkt> pkt_;  // shared so DnsMessage stays copyable; the pkt is immutable
    std::string parseError_;
};

// Canonical presentation form of one RR (see DnsMessage contract).
std::string canonicalRrText(const ldns_rr* rr);
std::string sectionName(Section s);

}  // namespace testsupport
