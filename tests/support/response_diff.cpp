#include "tests/support/response_diff.hpp"

#include <algorithm>
#include <iterator>

namespace testsupport {
namespace {

std::string yesNo(bool b) {
    return b ? "1" : "0";
}

std::string joinLines(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : "\n") + s;
    return out.empty() ? "(none)" : out;
}

// Question as raw owner bytes (case preserved) + type + class, from the message bytes.
std::string rawQuestion(const DnsMessage& m) {
    const ldns_rr_list* q = m.pkt() ? ldns_pkt_question(m.pkt()) : nullptr;
    if (q == nullptr) return "";
    std::string out;
    for (size_t i = 0; i < ldns_rr_list_rr_count(q); ++i) {
        const ldns_rr* rr = ldns_rr_list_rr(q, i);
        const ldns_rdf* owner = ldns_rr_owner(rr);
        out.append(reinterpret_cast<const char*>(ldns_rdf_data(owner)), ldns_rdf_size(owner));
        out += "/" + std::to_string(ldns_rr_get_type(rr)) + "/" +
               std::to_string(ldns_rr_get_class(rr)) + ";";
    }
    return out;
}

}  // namespace

std::vector<Difference> diffResponses(const std::optional<DnsMessage>& reference,
                                      const std::optional<DnsMessage>& candidate) {
    std::vector<Difference> out;
    if (!reference || !candidate) {
        if (reference.has_value() != candidate.has_value()) {
            out.push_back({"presence", reference ? "answered" : "no response",
                           candidate ? "answered" : "no response"});
        }
        return out;
    }
    const DnsMessage& r = *reference;
    const DnsMessage& c = *candidate;
    if (r.parsed() != c.parsed()) {
        out.push_back(
            {"parse", r.parsed() ? "ok" : r.parseError(), c.parsed() ? "ok" : c.parseError()});
        return out;
    }
    auto cmp = [&](const std::string& field, const std::string& a, const std::string& b) {
        if (a != b) out.push_back({field, a, b});
    };
    cmp("id", std::to_string(r.id()), std::to_string(c.id()));
    cmp("qdcount", std::to_string(r.qdcount()), std::to_string(c.qdcount()));
    if (r.parsed()) {
        if (rawQuestion(r) != rawQuestion(c)) {
            out.push_back({"question", r.questionText(), c.questionText()});
        }
    }
    cmp("flag.qr", yesNo(r.qr()), yesNo(c.qr()));
    cmp("opcode", std::to_string(r.opcode()), std::to_string(c.opcode()));
    cmp("flag.aa", yesNo(r.aa()), yesNo(c.aa()));
    cmp("flag.tc", yesNo(r.tc()), yesNo(c.tc()));
    cmp("flag.rd", yesNo(r.rd()), yesNo(c.rd()));
    cmp("flag.ra", yesNo(r.ra()), yesNo(c.ra()));
    cmp("flag.z", yesNo(r.z()), yesNo(c.z()));
    cmp("flag.ad", yesNo(r.ad()), yesNo(c.ad()));
    cmp("flag.cd", yesNo(r.cd()), yesNo(c.cd()));
    if (!r.parsed()) {
        // Neither parses: only the header can be compared, plus the bytes themselves.
        cmp("rcode", std::to_string(r.flags() & 0xF), std::to_string(c.flags() & 0xF));
        if (r.bytes() != c.bytes()) out.push_back({"bytes", r.toString(), c.toString()});
        return out;
    }
    const char* rcodeNames[] = {"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};
    auto rcodeText = [&](uint16_t v) {
        if (v < std::size(rcodeNames)) return std::string(rcodeNames[v]);
        if (v == 16) return std::string("BADVERS");
        return "RCODE" + std::to_string(v);
    };
    cmp("rcode", rcodeText(r.rcode()), rcodeText(c.rcode()));
    cmp("edns", r.hasOpt() ? "OPT" : "no OPT", c.hasOpt() ? "OPT" : "no OPT");
    if (r.hasOpt() && c.hasOpt()) {
        cmp("edns.version", std::to_string(r.ednsVersion()), std::to_string(c.ednsVersion()));
        cmp("edns.do", yesNo(r.ednsDo()), yesNo(c.ednsDo()));
    }
    for (Section s : {Section::Answer, Section::Authority, Section::Additional}) {
        auto a = r.canonicalRrs(s);
        auto b = c.canonicalRrs(s);
        if (a == b) continue;
        std::vector<std::string> onlyA, onlyB;
        std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(onlyA));
        std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(onlyB));
        out.push_back({sectionName(s), joinLines(onlyA), joinLines(onlyB)});
    }
    return out;
}

std::string formatDifference(const Difference& d) {
    auto indent = [](const std::string& s) {
        std::string out = "      ";
        for (char ch : s) {
            out += ch;
            if (ch == '\n') out += "      ";
        }
        return out;
    };
    if (d.reference.find('\n') == std::string::npos &&
        d.candidate.find('\n') == std::string::npos &&
        d.reference.size() + d.candidate.size() < 80) {
        return "  " + d.field + ": nsd=" + d.reference + " dnsd=" + d.candidate;
    }
    return "  " + d.field + ":\n    only nsd:\n" + indent(d.reference) + "\n    only dnsd:\n" +
           indent(d.candidate);
}

}  // namespace testsupport
