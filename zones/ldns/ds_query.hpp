// zones::queryDs — ask one name server for a zone's DS RRset (`dnsctl dnssec ds-seen --check`).
//
// Contract: one non-recursive DS query over UDP (TCP when the answer is truncated) to
// `address` (IPv4 or IPv6 literal) at `port`, through ldns' resolver: control-path code, it
// blocks up to about twice `timeoutMs`. Returns the DS RDATA in the answer section (owner
// `zone`); throws std::runtime_error naming the server when there is no answer, or an answer
// with an RCODE other than NOERROR.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "zones/name.hpp"

namespace zones {

struct DsRdata {
    uint16_t tag = 0;
    uint8_t algorithm = 0, digestType = 0;
    std::vector<uint8_t> digest;
};

std::vector<DsRdata> queryDs(const Name& zone, const std::string& address, uint16_t port,
                             int timeoutMs = 2000);

}  // namespace zones
