#include "zones/ldns/rr_codec.hpp"

#include <cstdio>
#include <cstring>

#include "zones/ldns/ldns_ptr.hpp"

namespace zones::ldnsw {
namespace {

// Stands in for the origin when there is none, so that a relative RDATA name becomes visible
// (it ends up below this name) instead of silently turning absolute below the root.
constexpr const char* kNoOrigin = "origin-unknown.dnsd.invalid.";

// Types whose usual presentation form NSD 4, Knot 3 and ldns all read and write the same way.
// Any other type is exported in RFC 3597 generic form, which every RFC 3597 server must read.
bool presentationIsPortable(uint16_t type) {
    switch (type) {
        case rrtype::A:
        case rrtype::NS:
        case rrtype::CNAME:
        case rrtype::SOA:
        case rrtype::PTR:
        case 13:  // HINFO
        case rrtype::MX:
        case rrtype::TXT:
        case 17:  // RP
        case 18:  // AFSDB
        case rrtype::AAAA:
        case 29:  // LOC
        case rrtype::SRV:
        case rrtype::NAPTR:
        case 36:  // KX
        case rrtype::DNAME:
        case rrtype::DS:
        case 44:  // SSHFP
        case rrtype::RRSIG:
        case rrtype::NSEC:
        case rrtype::DNSKEY:
        case rrtype::NSEC3:
        case 51:   // NSEC3PARAM
        case 52:   // TLSA
        case 59:   // CDS
        case 60:   // CDNSKEY
        case 99:   // SPF
        case 256:  // URI
        case 257:  // CAA
            return true;
        default:
            return false;
    }
}

std::string hex(const std::vector<uint8_t>& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

std::string genericRdata(const Record& record) {
    std::string out = "\\# " + std::to_string(record.rdata.size());
    if (!record.rdata.empty()) out += " " + hex(record.rdata);
    return out;
}

// The record's RDATA decoded into an ldns RR of its type (owner and TTL are not set), or
// nullptr if ldns cannot decode it.
RrPtr decodeRdata(const Record& record) {
    // A bare RR (not ldns_rr_new_frm_type, which pre-sizes the rdf array with empty slots).
    RrPtr rr(ldns_rr_new());
    if (!rr) return nullptr;
    ldns_rr_set_type(rr.get(), ldns_rr_type(record.type));
    std::vector<uint8_t> wire(2 + record.rdata.size());
    wire[0] = uint8_t(record.rdata.size() >> 8);
    wire[1] = uint8_t(record.rdata.size());
    if (!record.rdata.empty())
        std::memcpy(wire.data() + 2, record.rdata.data(), record.rdata.size());
    size_t pos = 0;
    if (ldns_wire2rdf(rr.get(), wire.data(), wire.size(), &pos) != LDNS_STATUS_OK ||
        pos != wire.size())
        return nullptr;
    return rr;
}

// The RDATA in the type's own presentation form, or nullopt if ldns cannot decode it.
std::optional<std::string> typedRdata(const Record& record) {
    RrPtr rr = decodeRdata(record);
    if (!rr) return std::nullopt;
    std::string out;
    for (size_t i = 0; i < ldns_rr_rd_count(rr.get()); ++i) {
        CharPtr text(ldns_rdf2str(ldns_rr_rdf(rr.get(), i)));
        if (!text) return std::nullopt;
        if (i) out.push_back(' ');
        out += text.get();
    }
    return out;
}

bool isBelow(const ldns_rdf* name, const ldns_rdf* ancestor) {
    return ldns_dname_compare(name, ancestor) == 0 || ldns_dname_is_subdomain(name, ancestor);
}

}  // namespace

ParseResult parseRr(const std::string& text, const std::string* origin) {
    ParseResult result;
    RdfPtr originRdf(ldns_dname_new_frm_str(origin ? origin->c_str() : kNoOrigin));
    if (!originRdf) {
        result.error = "bad origin";
        return result;
    }
    ldns_rr* raw = nullptr;
    ldns_status status = ldns_rr_new_frm_str(&raw, text.c_str(), 0, originRdf.get(), nullptr);
    RrPtr rr(raw);
    if (status != LDNS_STATUS_OK || !rr) {
        result.error = ldns_get_errorstr_by_id(status);
        return result;
    }
    const ldns_rdf* owner = ldns_rr_owner(rr.get());
    auto ownerName =
        owner ? Name::fromWire({ldns_rdf_data(owner), ldns_rdf_size(owner)}) : std::nullopt;
    if (!ownerName) {
        result.error = "bad owner name";
        return result;
    }
    Record record{*ownerName,
                  uint16_t(ldns_rr_get_type(rr.get())),
                  uint16_t(ldns_rr_get_class(rr.get())),
                  ldns_rr_ttl(rr.get()),
                  {},
                  0};
    for (size_t i = 0; i < ldns_rr_rd_count(rr.get()); ++i) {
        const ldns_rdf* rdf = ldns_rr_rdf(rr.get(), i);
        if (!origin && ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME &&
            isBelow(rdf, originRdf.get())) {
            result.usedMissingOrigin = true;
            result.error = "relative name in the RDATA but no origin is known";
            return result;
        }
        const uint8_t* data = ldns_rdf_data(rdf);
        record.rdata.insert(record.rdata.end(), data, data + ldns_rdf_size(rdf));
    }
    if (record.rdata.size() > 65535) {
        result.error = "RDATA longer than 65535 octets";
        return result;
    }
    result.record = std::move(record);
    return result;
}

bool rdataMatchesType(const Record& record) {
    const ldns_rr_descriptor* desc = ldns_rr_descript(record.type);
    // ldns answers unknown types with a one-field "anything" descriptor.
    if (!desc || desc->_type != record.type ||
        ldns_rr_descriptor_field_type(desc, 0) == LDNS_RDF_TYPE_UNKNOWN)
        return true;
    RrPtr rr = decodeRdata(record);  // fails on truncation and on leftover bytes
    return rr && ldns_rr_rd_count(rr.get()) >= ldns_rr_descriptor_minimum(desc);
}

std::vector<uint8_t> canonicalRdata(const Record& record) {
    RrPtr rr = decodeRdata(record);
    if (!rr) return record.rdata;
    ldns_rr_set_owner(rr.get(), ldns_dname_new_frm_str("."));
    ldns_rr2canonical(rr.get());
    std::vector<uint8_t> out;
    out.reserve(record.rdata.size());
    for (size_t i = 0; i < ldns_rr_rd_count(rr.get()); ++i) {
        const ldns_rdf* rdf = ldns_rr_rdf(rr.get(), i);
        out.insert(out.end(), ldns_rdf_data(rdf), ldns_rdf_data(rdf) + ldns_rdf_size(rdf));
    }
    return out;
}

std::string formatRdata(const Record& record, bool portable) {
    if (!portable || presentationIsPortable(record.type)) {
        if (auto text = typedRdata(record)) return *text;
    }
    return genericRdata(record);
}

std::string formatRr(const Record& record, bool portable) {
    bool typedOk = !portable || presentationIsPortable(record.type);
    std::optional<std::string> typed = typedOk ? typedRdata(record) : std::nullopt;
    std::string type = typed ? typeToText(record.type) : "TYPE" + std::to_string(record.type);
    std::string out = record.owner.toText();
    out += '\t';
    out += std::to_string(record.ttl);
    out += "\tIN\t";
    out += type;
    out += '\t';
    out += typed ? *typed : genericRdata(record);
    return out;
}

std::optional<uint16_t> typeFromText(std::string_view text) {
    std::string s(text);
    if (s.empty()) return std::nullopt;
    ldns_rr_type t = ldns_get_rr_type_by_name(s.c_str());
    if (t == 0) return std::nullopt;
    return uint16_t(t);
}

std::string typeToText(uint16_t type) {
    CharPtr text(ldns_rr_type2str(ldns_rr_type(type)));
    return text ? std::string(text.get()) : "TYPE" + std::to_string(type);
}

}  // namespace zones::ldnsw
