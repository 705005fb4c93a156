// testsupport::QueryBuilder — wire bytes of a DNS query, built with ldns.
//
// Contract: build() returns a well-formed query for (qname, qtype, qclass) with the header
// bits and EDNS(0) OPT RR as configured; qname keeps the case it is written in. Raw EDNS
// options are appended verbatim. build() throws if the name does not parse. Tests that need
// malformed packets patch the returned bytes (see the helpers below).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace testsupport {

class QueryBuilder {
  public:
    QueryBuilder(std::string qname, uint16_t qtype, uint16_t qclass = 1);

    QueryBuilder& id(uint16_t v) {
        id_ = v;
        return *this;
    }
    QueryBuilder& rd(bool v = true) {
        rd_ = v;
        return *this;
    }
    QueryBuilder& cd(bool v = true) {
        cd_ = v;
        return *this;
    }
    QueryBuilder& ad(bool v = true) {
        ad_ = v;
        return *this;
    }
    QueryBuilder& opcode(uint8_t v) {
        opcode_ = v;
        return *this;
    }
    // Adds an OPT RR advertising `udpSize`.
    QueryBuilder& edns(uint16_t udpSize) {
        ednsSize_ = udpSize;
        return *this;
    }
    QueryBuilder& ednsVersion(uint8_t v) {
        ednsVersion_ = v;
        return *this;
    }
    QueryBuilder& dnssecOk(bool v = true) {
        do_ = v;
        return *this;
    }
    // Raw EDNS option TLVs (code, length, data) placed in the OPT RDATA.
    QueryBuilder& ednsOptions(std::vector<uint8_t> raw) {
        ednsOptions_ = std::move(raw);
        return *this;
    }

    std::vector<uint8_t> build() const;

  private:
    std::string qname_;
    uint16_t qtype_;
    uint16_t qclass_;
    uint16_t id_ = 0x1234;
    bool rd_ = false;
    bool cd_ = false;
    bool ad_ = false;
    uint8_t opcode_ = 0;
    std::optional<uint16_t> ednsSize_;
    uint8_t ednsVersion_ = 0;
    bool do_ = false;
    std::vector<uint8_t> ednsOptions_;
};

// Sets a 16-bit header field (offset 0 id, 2 flags, 4 qdcount, 6 ancount, 8 nscount, 10 arcount).
void patchU16(std::vector<uint8_t>& wire, size_t offset, uint16_t value);

}  // namespace testsupport
