#include "tests/support/query_builder.hpp"

#include <cstdlib>
// stdbool first: without it ldns/common.h #defines true/false as the ints 1/0 in C++.
#include <stdbool.h>
// clang-format off
#include <ldns/ldns.h>
// clang-format on
#include <memory>
#include <stdexcept>

namespace testsupport {

QueryBuilder::QueryBuilder(std::string qname, uint16_t qtype, uint16_t qclass)
    : qname_(std::move(qname)), qtype_(qtype), qclass_(qclass) {}

std::vector<uint8_t> QueryBuilder::build() const {
    ldns_rdf* name = nullptr;
    if (ldns_str2rdf_dname(&name, qname_.c_str()) != LDNS_STATUS_OK || name == nullptr) {
        throw std::runtime_error("QueryBuilder: bad qname '" + qname_ + "'");
    }
    // ldns_pkt_query_new takes ownership of `name`.
    std::unique_ptr<ldns_pkt, decltype(&ldns_pkt_free)> pkt(
        ldns_pkt_query_new(name, static_cast<ldns_rr_type>(qtype_),
                           static_cast<ldns_rr_class>(qclass_), 0),
        ldns_pkt_free);
    if (!pkt) throw std::runtime_error("QueryBuilder: ldns_pkt_query_new failed");
    ldns_pkt_set_id(pkt.get(), id_);
    ldns_pkt_set_rd(pkt.get(), rd_);
    ldns_pkt_set_cd(pkt.get(), cd_);
    ldns_pkt_set_ad(pkt.get(), ad_);
    ldns_pkt_set_opcode(pkt.get(), static_cast<ldns_pkt_opcode>(opcode_));
    if (ednsSize_) {
        ldns_pkt_set_edns_udp_size(pkt.get(), *ednsSize_);
        ldns_pkt_set_edns_version(pkt.get(), ednsVersion_);
        ldns_pkt_set_edns_do(pkt.get(), do_);
        if (!ednsOptions_.empty()) {
            // The packet owns the rdf once set.
            ldns_pkt_set_edns_data(pkt.get(),
                                   ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, ednsOptions_.size(),
                                                         ednsOptions_.data()));
        }
    }
    uint8_t* wire = nullptr;
    size_t size = 0;
    if (ldns_pkt2wire(&wire, pkt.get(), &size) != LDNS_STATUS_OK || wire == nullptr) {
        throw std::runtime_error("QueryBuilder: ldns_pkt2wire failed for '" + qname_ + "'");
    }
    std::vector<uint8_t> out(wire, wire + size);
    free(wire);
    // ldns only writes an OPT RR when it thinks EDNS is in use; make sure the header agrees
    // with what was asked for, since a silent fallback would make EDNS tests meaningless.
    if (ednsSize_ && (out.size() < 12 || (out[10] << 8 | out[11]) != 1)) {
        throw std::runtime_error("QueryBuilder: ldns did not add the OPT RR");
    }
    return out;
}

void patchU16(std::vector<uint8_t>& wire, size_t offset, uint16_t value) {
    if (wire.size() < offset + 2) throw std::runtime_error("patchU16: message too short");
    wire[offset] = static_cast<uint8_t>(value >> 8);
    wire[offset + 1] = static_cast<uint8_t>(value & 0xFF);
}

}  // namespace testsupport
