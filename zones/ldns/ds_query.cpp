#include "zones/ldns/ds_query.hpp"

#include <arpa/inet.h>

#include <stdexcept>

#include "zones/ldns/ldns_ptr.hpp"

namespace zones {

std::vector<DsRdata> queryDs(const Name& zone, const std::string& address, uint16_t port,
                             int timeoutMs) {
    const std::string where = address + " port " + std::to_string(port);
    unsigned char probe[16];
    ldns_rdf_type type = ::inet_pton(AF_INET, address.c_str(), probe) == 1    ? LDNS_RDF_TYPE_A
                         : ::inet_pton(AF_INET6, address.c_str(), probe) == 1 ? LDNS_RDF_TYPE_AAAA
                                                                              : LDNS_RDF_TYPE_NONE;
    if (type == LDNS_RDF_TYPE_NONE)
        throw std::runtime_error("'" + address + "' is not an IP address");
    ldnsw::ResolverPtr resolver(ldns_resolver_new());
    ldnsw::RdfPtr server(ldns_rdf_new_frm_str(type, address.c_str()));
    ldnsw::RdfPtr name(ldns_rdf_new_frm_str(LDNS_RDF_TYPE_DNAME, zone.toText().c_str()));
    if (!resolver || !server || !name) throw std::runtime_error("out of memory");
    if (ldns_resolver_push_nameserver(resolver.get(), server.get()) != LDNS_STATUS_OK)
        throw std::runtime_error("cannot use name server " + where);
    ldns_resolver_set_port(resolver.get(), port);
    ldns_resolver_set_recursive(resolver.get(), false);  // the parent answers for itself
    ldns_resolver_set_fallback(resolver.get(), true);    // TCP when truncated
    ldns_resolver_set_retry(resolver.get(), 2);
    ldns_resolver_set_timeout(resolver.get(), timeval{timeoutMs / 1000, (timeoutMs % 1000) * 1000});
    ldns_pkt* raw = nullptr;
    ldns_status status = ldns_resolver_query_status(&raw, resolver.get(), name.get(),
                                                    LDNS_RR_TYPE_DS, LDNS_RR_CLASS_IN, 0);
    ldnsw::PktPtr answer(raw);
    if (status != LDNS_STATUS_OK || !answer)
        throw std::runtime_error("no answer from " + where + " to " + zone.toText() +
                                 " DS: " + ldns_get_errorstr_by_id(status));
    if (ldns_pkt_get_rcode(answer.get()) != LDNS_RCODE_NOERROR) {
        ldnsw::CharPtr rcode(ldns_pkt_rcode2str(ldns_pkt_get_rcode(answer.get())));
        throw std::runtime_error(where + " answers " + zone.toText() + " DS with " +
                                 (rcode ? rcode.get() : "an error"));
    }
    std::vector<DsRdata> out;
    ldns_rr_list* rrs = ldns_pkt_answer(answer.get());
    for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); ++i) {
        ldns_rr* rr = ldns_rr_list_rr(rrs, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_DS || ldns_rr_rd_count(rr) != 4) continue;
        if (ldns_dname_compare(ldns_rr_owner(rr), name.get()) != 0) continue;
        DsRdata ds;
        ds.tag = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
        ds.algorithm = ldns_rdf2native_int8(ldns_rr_rdf(rr, 1));
        ds.digestType = ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
        ldns_rdf* digest = ldns_rr_rdf(rr, 3);
        ds.digest.assign(ldns_rdf_data(digest), ldns_rdf_data(digest) + ldns_rdf_size(digest));
        out.push_back(std::move(ds));
    }
    return out;
}

}  // namespace zones
