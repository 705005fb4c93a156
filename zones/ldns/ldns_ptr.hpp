// zones::ldnsw owning pointers — every ldns object the zones library creates is owned by one of
// these from the moment it is returned, so no error path can leak it.
//
// Contract: the aliases are move-only unique_ptrs whose deleter is the matching ldns_*_free
// (deep free for rdfs and rr lists, plain free() for strings ldns allocates). Only files in
// zones/ldns/ and zones/*.cpp include this header; public zones/ headers never do.
#pragma once

#include <ldns/ldns.h>

#include <cstdlib>
#include <memory>

namespace zones::ldnsw {

struct RrFree {
    void operator()(ldns_rr* p) const { ldns_rr_free(p); }
};
struct RdfFree {
    void operator()(ldns_rdf* p) const { ldns_rdf_deep_free(p); }
};
struct BufferFree {
    void operator()(ldns_buffer* p) const { ldns_buffer_free(p); }
};
struct ResolverFree {
    void operator()(ldns_resolver* p) const { ldns_resolver_deep_free(p); }
};
struct PktFree {
    void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RrListFree {
    void operator()(ldns_rr_list* p) const { ldns_rr_list_deep_free(p); }
};
struct CharFree {
    void operator()(char* p) const { std::free(p); }
};

using RrPtr = std::unique_ptr<ldns_rr, RrFree>;
using RdfPtr = std::unique_ptr<ldns_rdf, RdfFree>;
using BufferPtr = std::unique_ptr<ldns_buffer, BufferFree>;
using CharPtr = std::unique_ptr<char, CharFree>;
using ResolverPtr = std::unique_ptr<ldns_resolver, ResolverFree>;
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;
using RrListPtr = std::unique_ptr<ldns_rr_list, RrListFree>;

}  // namespace zones::ldnsw
