// zones::Record — one resource record as stored in the database and fed to snapshot builds.
//
// Contract: `owner` is canonical (see Name); `rdata` is uncompressed wire RDATA exactly as it
// goes on the wire except that names inside it keep the case they were written with. No ldns
// type appears here, so dnsd can build snapshots without linking the parser into its hot path.
#pragma once

#include <cstdint>
#include <vector>

#include "zones/name.hpp"

namespace zones {

namespace rrtype {
constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, MX = 15, TXT = 16, AAAA = 28,
                   SRV = 33, NAPTR = 35, DNAME = 39, OPT = 41, DS = 43, RRSIG = 46, NSEC = 47,
                   DNSKEY = 48, NSEC3 = 50, IXFR = 251, AXFR = 252, MAILB = 253, MAILA = 254,
                   ANY = 255;
}
namespace rrclass {
constexpr uint16_t IN = 1, CH = 3, ANY = 255;
}

struct Record {
    Name owner;
    uint16_t type = 0;
    uint16_t rclass = rrclass::IN;
    uint32_t ttl = 0;
    std::vector<uint8_t> rdata;
    // Where it came from, for error messages (0 = not from a file).
    int line = 0;
};

}  // namespace zones
