#include "tests/support/dns_message.hpp"

#include <algorithm>
#include <cstdio>

namespace testsupport {
namespace {

using RrPtr = std::unique_ptr<ldns_rr, decltype(&ldns_rr_free)>;
using RdfPtr = std::unique_ptr<ldns_rdf, decltype(&ldns_rdf_deep_free)>;

std::string takeCString(char* s) {
    if (s == nullptr) return "<null>";
    std::string out(s);
    free(s);
    return out;
}

std::string hexDump(const std::vector<uint8_t>& bytes) {
    std::string out;
    char buf[4];
    for (size_t i = 0; i < bytes.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%02x", bytes[i]);
        out += buf;
        out += (i % 32 == 31) ? '\n' : ' ';
    }
    return out;
}

}  // namespace

DnsMessage::DnsMessage(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {
    ldns_pkt* raw = nullptr;
    ldns_status st = ldns_wire2pkt(&raw, bytes_.data(), bytes_.size());
    if (st == LDNS_STATUS_OK && raw != nullptr) {
        pkt_.reset(raw, ldns_pkt_free);
    } else {
        if (raw != nullptr) ldns_pkt_free(raw);
        parseError_ = ldns_get_errorstr_by_id(st);
    }
}

bool DnsMessage::hasOpt() const {
    // ldns removes the OPT RR from the additional list and lowers its arcount; the raw header
    // count still includes it.
    return pkt_ && arcount() > ldns_rr_list_rr_count(ldns_pkt_additional(pkt_.get()));
}

uint8_t DnsMessage::ednsVersion() const {
    return pkt_ ? ldns_pkt_edns_version(pkt_.get()) : 0;
}
bool DnsMessage::ednsDo() const {
    return pkt_ && ldns_pkt_edns_do(pkt_.get());
}
uint16_t DnsMessage::ednsUdpSize() const {
    return pkt_ ? ldns_pkt_edns_udp_size(pkt_.get()) : 0;
}

uint16_t DnsMessage::rcode() const {
    uint16_t low = flags() & 0xF;
    if (!hasOpt()) return low;
    return static_cast<uint16_t>(ldns_pkt_edns_extended_rcode(pkt_.get()) << 4 | low);
}

std::string DnsMessage::questionText() const {
    if (!pkt_) return "<unparsed>";
    const ldns_rr_list* q = ldns_pkt_question(pkt_.get());
    std::string out;
    for (size_t i = 0; i < ldns_rr_list_rr_count(q); ++i) {
        const ldns_rr* rr = ldns_rr_list_rr(q, i);
        if (!out.empty()) out += " | ";
        out += takeCString(ldns_rdf2str(ldns_rr_owner(rr))) + " " +
               takeCString(ldns_rr_class2str(ldns_rr_get_class(rr))) + " " +
               takeCString(ldns_rr_type2str(ldns_rr_get_type(rr)));
    }
    return out;
}

const ldns_rr_list* DnsMessage::rrs(Section s) const {
    if (!pkt_) return nullptr;
    switch (s) {
        case Section::Answer:
            return ldns_pkt_answer(pkt_.get());
        case Section::Authority:
            return ldns_pkt_authority(pkt_.get());
        case Section::Additional:
            return ldns_pkt_additional(pkt_.get());
    }
    return nullptr;
}

std::vector<std::string> DnsMessage::canonicalRrs(Section s) const {
    std::vector<std::string> out;
    const ldns_rr_list* list = rrs(s);
    if (list == nullptr) return out;
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
        out.push_back(canonicalRrText(ldns_rr_list_rr(list, i)));
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string DnsMessage::toString() const {
    if (!pkt_) return "<unparsed: " + parseError_ + ">\n" + hexDump(bytes_);
    return takeCString(ldns_pkt2str(pkt_.get()));
}

std::string canonicalRrText(const ldns_rr* rr) {
    RrPtr copy(ldns_rr_clone(rr), ldns_rr_free);
    if (!copy) return "<clone failed>";
    ldns_rr2canonical(copy.get());
    // ldns_rr2canonical leaves the owner of some types alone; lower-case it explicitly.
    ldns_dname2canonical(ldns_rr_owner(copy.get()));
    std::string text = takeCString(ldns_rr2str(copy.get()));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

std::string sectionName(Section s) {
    switch (s) {
        case Section::Answer:
            return "answer";
        case Section::Authority:
            return "authority";
        case Section::Additional:
            return "additional";
    }
    return "?";
}

}  // namespace testsupport
