// Differential conformance: NSD (the reference) and dnsd serve the same zones
// (tests/conformance/zones/) and get the same several hundred queries; every difference in
// rcode, header flags, EDNS, question or any section (compared as sets of RRs) fails the test
// unless a rule of the allow-list below permits it, with the RFC text that allows it.
//
// dnsd's answers to the queries of ISC's EDNS compliance tester must in addition pass that
// tool's own verdicts (genreport_checks.hpp), whatever NSD answers.
//
// Setting DNSD_CONFORMANCE_CANDIDATE=nsd compares NSD with a second NSD instead of dnsd,
// which is how the harness itself is checked (it must report zero differences).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "tests/conformance/genreport_checks.hpp"
#include "tests/conformance/query_catalog.hpp"
#include "tests/conformance/special_queries.hpp"
#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/ldns_zone_signer.hpp"
#include "tests/support/nsd_server.hpp"
#include "tests/support/response_diff.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"
#include "tests/support/zone_verifiers.hpp"

namespace {

using namespace testsupport;
using namespace conformance;

const std::vector<ZoneFile>& zoneFiles() {
    static const std::vector<ZoneFile> files = [] {
        std::string dir = std::string(DNSD_SOURCE_DIR) + "/tests/conformance/zones/";
        return std::vector<ZoneFile>{{"example.test.", dir + "example.test.zone"},
                                     {"child.example.test.", dir + "child.example.test.zone"},
                                     {"other.test.", dir + "other.test.zone"}};
    }();
    return files;
}

// One server under comparison, reachable on 127.0.0.1 and (maybe) ::1 at one port.
struct Endpoint {
    std::string name;
    uint16_t port;
    bool ipv6;
    DnsClient client(bool v6) const { return DnsClient(v6 ? "::1" : "127.0.0.1", port); }
};

// What happened to one query on both sides.
struct Exchange {
    const ConformanceQuery* query = nullptr;
    std::optional<DnsMessage> ref;
    std::optional<DnsMessage> cand;
    // The reference's complete answer (same question over TCP) when either side truncated.
    std::optional<DnsMessage> refComplete;
    // For ANY queries: every RR the reference holds at the qname for each type the candidate
    // answered with (asked one type at a time), sorted canonical strings.
    std::vector<std::string> refKnown;
    std::vector<Difference> diffs;
};

// ---------------------------------------------------------------------------------------
// The allow-list. A rule permits one Difference of one Exchange; a query whose differences
// are all permitted counts as an "allowed difference", anything else is a failure. Keep every
// rule as narrow as possible and cite the RFC that makes both answers correct.
// ---------------------------------------------------------------------------------------
struct AllowRule {
    const char* name;
    const char* reason;
    std::function<bool(const Exchange&, const Difference&)> allows;
};

bool isSection(const Difference& d) {
    return d.field == "answer" || d.field == "authority" || d.field == "additional";
}

bool subsetOf(const std::vector<std::string>& small, const std::vector<std::string>& big) {
    return std::includes(big.begin(), big.end(), small.begin(), small.end());
}

std::vector<std::string> minus(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
    std::vector<std::string> out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

// Fields of a canonical RR line "owner<TAB>ttl<TAB>class<TAB>type<TAB>rdata".
struct RrFields {
    std::string owner, type, rdata;
};
RrFields fields(const std::string& rr) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (int i = 0; i < 4; ++i) {
        size_t tab = rr.find('\t', start);
        if (tab == std::string::npos) break;
        parts.push_back(rr.substr(start, tab - start));
        start = tab + 1;
    }
    if (parts.size() < 4) return {};
    return {parts[0], parts[3], rr.substr(start)};
}

// The host name an NS/MX/SRV RR points at (lower case, absolute), or "".
std::string targetOf(const std::string& rr) {
    RrFields f = fields(rr);
    auto last = [&] { return f.rdata.substr(f.rdata.rfind(' ') + 1); };
    if (f.type == "NS") return f.rdata;
    if (f.type == "MX" || f.type == "SRV") return last();
    return "";
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool isSubdomain(const std::string& name, const std::string& zone) {
    if (zone == ".") return true;
    return name == zone || (name.size() > zone.size() &&
                            name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
                            name[name.size() - zone.size() - 1] == '.');
}

// The served zone a (lower-case, absolute) name belongs to: the longest origin above it.
std::string zoneOf(const std::string& name) {
    std::string best;
    for (const auto& z : zoneFiles()) {
        if (isSubdomain(name, z.origin) && z.origin.size() > best.size()) best = z.origin;
    }
    return best;
}

bool isZoneApex(const std::string& name) {
    for (const auto& z : zoneFiles()) {
        if (z.origin == name) return true;
    }
    return false;
}

// Every RR the candidate put in any section also appears somewhere in `complete`.
bool nothingInvented(const DnsMessage& cand, const DnsMessage& complete) {
    std::vector<std::string> all;
    for (Section s : {Section::Answer, Section::Authority, Section::Additional}) {
        auto v = complete.canonicalRrs(s);
        all.insert(all.end(), v.begin(), v.end());
    }
    std::sort(all.begin(), all.end());
    for (Section s : {Section::Answer, Section::Authority, Section::Additional}) {
        if (!subsetOf(cand.canonicalRrs(s), all)) return false;
    }
    return true;
}

bool bothParsed(const Exchange& e) {
    return e.ref && e.cand && e.ref->parsed() && e.cand->parsed();
}

// The type an RRSIG covers (first field of its RDATA), "" for other RRs.
std::string coveredType(const RrFields& f) {
    return f.type == "RRSIG" ? f.rdata.substr(0, f.rdata.find(' ')) : "";
}

// A zone's apex NS RR, or (answers with DO) the RRSIG over that NS RRset.
bool isApexNsOrItsSignature(const std::string& rr) {
    RrFields f = fields(rr);
    return isZoneApex(f.owner) && (f.type == "NS" || coveredType(f) == "NS");
}

// The NS RRs of the reference's authority section when they are a zone's apex NS RRset (with
// its RRSIG when signed) added to a positive answer (NSD does that) that the candidate left
// out; empty otherwise. Other authority RRs (a wildcard answer's NSEC proof) must be the same
// on both sides.
std::vector<std::string> apexNsExtras(const Exchange& e) {
    std::vector<std::string> targets;
    if (!bothParsed(e) || e.ref->rcode() != 0 || !e.ref->aa()) return {};
    if (e.ref->canonicalRrs(Section::Answer).empty()) return {};
    auto refAuth = e.ref->canonicalRrs(Section::Authority);
    auto candAuth = e.cand->canonicalRrs(Section::Authority);
    if (!minus(candAuth, refAuth).empty()) return {};
    for (const auto& rr : candAuth) {
        if (isApexNsOrItsSignature(rr)) return {};
    }
    for (const auto& rr : minus(refAuth, candAuth)) {
        if (!isApexNsOrItsSignature(rr)) return {};
        RrFields f = fields(rr);
        if (f.type == "NS") targets.push_back(f.rdata);
    }
    return targets;
}

bool onlyApexNsExtras(const Exchange& e, const Difference& d) {
    return d.field == "authority" && !apexNsExtras(e).empty();
}

// A referral: no AA, empty answer, NS RRset of one delegation point in the authority section
// (with DO also the cut's DS, or its NSEC proving there is none, and their RRSIGs: RFC 4035
// §3.1.4).
std::string referralCut(const DnsMessage& m) {
    if (!m.parsed() || m.aa() || !m.canonicalRrs(Section::Answer).empty()) return "";
    std::string cut;
    for (const auto& rr : m.canonicalRrs(Section::Authority)) {
        RrFields f = fields(rr);
        bool dnssec = f.type == "DS" || f.type == "NSEC" || f.type == "RRSIG";
        if ((f.type != "NS" && !dnssec) || (!cut.empty() && cut != f.owner)) return "";
        if (f.type == "NS") cut = f.owner;
    }
    return cut;
}

// Wire size of an address RR written after its parent name (compressed to one label).
size_t approxWireSize(const std::string& rr) {
    RrFields f = fields(rr);
    size_t dot = f.owner.find('.');
    size_t label = dot == std::string::npos ? f.owner.size() : dot;
    if (f.type == "RRSIG") {
        // Fixed fields (18), the signer name compressed to a pointer (2), the signature.
        size_t b64 = f.rdata.size() - f.rdata.rfind(' ') - 1;
        return 1 + label + 2 + 10 + 18 + 2 + b64 * 3 / 4;
    }
    return 1 + label + 2 + 10 + (f.type == "AAAA" ? 16 : 4);
}

// An address RR, or (answers with DO) the RRSIG over an address RRset.
bool isAddressOrItsSignature(const RrFields& f) {
    std::string t = f.type == "RRSIG" ? coveredType(f) : f.type;
    return t == "A" || t == "AAAA";
}

// Additional-section differences that RFC 1034 §4.3.2 step 6 and RFC 2181 §9 permit: the
// candidate adds only real addresses of NS/MX/SRV targets it returned, and leaves out only
// the reference's apex-NS extras or records that no longer fit (but never in-domain glue of
// a referral without setting TC, RFC 9471 §3.1). With DO, an address RRset's RRSIG counts as
// part of it (RFC 4035 §3.1.1: the RRSIGs go with the RRset into the additional section).
bool additionalDifferenceAllowed(const Exchange& e, const Difference& d) {
    if (d.field != "additional" || !bothParsed(e)) return false;
    if (e.ref->rcode() != e.cand->rcode() || e.ref->tc() || e.cand->tc()) return false;
    auto refAdd = e.ref->canonicalRrs(Section::Additional);
    auto candAdd = e.cand->canonicalRrs(Section::Additional);
    std::vector<std::string> candTargets;
    for (Section s : {Section::Answer, Section::Authority}) {
        for (const auto& rr : e.cand->canonicalRrs(s)) candTargets.push_back(targetOf(rr));
    }
    auto contains = [](const std::vector<std::string>& v, const std::string& x) {
        return std::find(v.begin(), v.end(), x) != v.end();
    };
    std::vector<std::string> real;
    if (e.refComplete) {
        for (Section s : {Section::Answer, Section::Authority, Section::Additional}) {
            auto v = e.refComplete->canonicalRrs(s);
            real.insert(real.end(), v.begin(), v.end());
        }
    }
    for (const auto& rr : minus(candAdd, refAdd)) {
        RrFields f = fields(rr);
        if (!isAddressOrItsSignature(f)) return false;
        if (!contains(candTargets, f.owner) || !contains(real, rr)) return false;
    }
    auto nsExtras = apexNsExtras(e);
    auto candAuth = e.cand->canonicalRrs(Section::Authority);
    bool candHasExtras = std::any_of(candAuth.begin(), candAuth.end(), isApexNsOrItsSignature);
    std::string cut = referralCut(*e.ref);
    for (const auto& rr : minus(refAdd, candAdd)) {
        RrFields f = fields(rr);
        if (!isAddressOrItsSignature(f)) return false;
        if (!candHasExtras && contains(nsExtras, f.owner) && !contains(candTargets, f.owner)) {
            continue;
        }
        // With DO an address RRset only goes in with its RRSIG, so both must have fitted.
        size_t needed = 0;
        for (const auto& other : refAdd) {
            RrFields o = fields(other);
            if (o.owner == f.owner && (o.type == "RRSIG" ? coveredType(o) : o.type) ==
                                          (f.type == "RRSIG" ? coveredType(f) : f.type)) {
                needed += approxWireSize(other);
            }
        }
        bool noRoom = e.cand->size() + needed > e.query->sizeLimit;
        bool inDomainGlue = !cut.empty() && isSubdomain(f.owner, cut);
        if (!noRoom || inDomainGlue) return false;
    }
    return true;
}

// The candidate's answer is the reference's CNAME chain cut where it leaves the qname's zone.
bool chainCutAtZone(const Exchange& e) {
    if (!bothParsed(e) || e.ref->rcode() != e.cand->rcode()) return false;
    auto refAns = e.ref->canonicalRrs(Section::Answer);
    auto candAns = e.cand->canonicalRrs(Section::Answer);
    if (candAns.empty() || !subsetOf(candAns, refAns)) return false;
    const std::string home = zoneOf(lower(e.query->qname));
    bool leaves = false;
    for (const auto& rr : candAns) {
        RrFields f = fields(rr);
        if (f.type == "CNAME" && zoneOf(f.rdata) != home) leaves = true;
    }
    if (!leaves) return false;
    for (const auto& rr : minus(refAns, candAns)) {
        if (zoneOf(fields(rr).owner) == home) return false;
    }
    return true;
}

// The reference sent a UDP referral without TC that lacks in-domain glue the zone has.
bool glueTcExpected(const Exchange& e) {
    if (!e.ref || !e.refComplete || e.ref->tc() || e.query->transport != Transport::Udp) {
        return false;
    }
    std::string cut = referralCut(*e.ref);
    if (cut.empty()) return false;
    auto sent = e.ref->canonicalRrs(Section::Additional);
    for (const auto& rr : e.refComplete->canonicalRrs(Section::Additional)) {
        RrFields f = fields(rr);
        if ((f.type == "A" || f.type == "AAAA") && isSubdomain(f.owner, cut) &&
            !std::binary_search(sent.begin(), sent.end(), rr)) {
            return true;
        }
    }
    return false;
}

const std::vector<AllowRule>& allowList() {
    static const std::vector<AllowRule> rules = {
        {"positive-answer-without-apex-ns",
         "RFC 1034 §4.3.2 steps 3a and 6: beyond the matching RRs, authority and additional data "
         "are optional ('may be useful'); only referral NS and glue are required (RFC 9471). "
         "NSD adds the zone's NS RRset and its addresses to positive answers (its "
         "minimal-responses option removes them, together with the MX/SRV addresses we want to "
         "compare); dnsd answers minimally, as Knot and BIND do by default. With DO the NS "
         "RRset's RRSIG goes with it (RFC 4035 §3.1.1).",
         onlyApexNsExtras},
        {"additional-data-is-optional",
         "RFC 1034 §4.3.2 step 6 ('attempt to add other RRs which may be useful') and RFC 2181 "
         "§9 (additional data that does not fit is left out without TC): the servers may pick "
         "different addresses of NS/MX/SRV targets to add, or stop at different points when "
         "the message is full. Not allowed: inventing data, adding unrelated RRs, or leaving "
         "out in-domain referral glue without TC (RFC 9471 §3.1). With DO an address RRset "
         "and its RRSIG are added or left out together (RFC 4035 §3.1.1).",
         additionalDifferenceAllowed},
        {"cname-chain-stops-at-zone",
         "RFC 1034 §4.3.2 step 3a restarts the lookup at the CNAME target, but RFC 6604 §2.1 / "
         "RFC 2181 §5.4.1 trust rules make data from another zone in the same response useless "
         "to a resolver, which re-queries the target anyway; dnsd follows CNAMEs only inside "
         "the zone (issue 2). NSD also follows into other zones it serves.",
         [](const Exchange& e, const Difference& d) {
             if (!chainCutAtZone(e)) return false;
             return d.field == "answer" || onlyApexNsExtras(e, d) ||
                    (d.field == "authority" && e.cand->canonicalRrs(Section::Authority).empty()) ||
                    (d.field == "additional" && subsetOf(e.cand->canonicalRrs(Section::Additional),
                                                         e.ref->canonicalRrs(Section::Additional)));
         }},
        {"cd-bit-copied",
         "RFC 4035 §3.1.6: 'the name server side MUST copy the setting of the CD bit from a "
         "query to the corresponding response'. NSD 4.6 clears it; dnsd copies it.",
         [](const Exchange& e, const Difference& d) {
             return d.field == "flag.cd" && e.cand && e.cand->cd() && e.query->wire.size() > 3 &&
                    (e.query->wire[3] & 0x10) != 0;
         }},
        {"do-bit-copied-in-badvers",
         "RFC 3225 §3: the DO bit of the query MUST be copied in the response; NSD leaves it "
         "clear in its BADVERS answer (RFC 6891 §6.1.3), dnsd copies it.",
         [](const Exchange& e, const Difference& d) {
             return d.field == "edns.do" && e.cand && e.cand->rcode() == 16 && e.cand->ednsDo();
         }},
        {"question-echoed-in-error",
         "RFC 1035 §4.1.2 does not require an error response to repeat the question. NSD "
         "omits it in REFUSED (unknown class) and NOTIMP answers; dnsd echoes it exactly, as "
         "BIND and Knot do.",
         [](const Exchange& e, const Difference& d) {
             if (!bothParsed(e) || e.ref->rcode() != e.cand->rcode()) return false;
             uint16_t rc = e.ref->rcode();
             if (rc != LDNS_RCODE_REFUSED && rc != LDNS_RCODE_NOTIMPL && rc != LDNS_RCODE_FORMERR) {
                 return false;
             }
             if (e.ref->qdcount() != 0 || e.cand->qdcount() != 1) return false;
             if (d.field == "qdcount") return true;
             // The echoed question must be the one asked, byte for byte.
             return d.field == "question" &&
                    DnsMessage(e.query->wire).questionText() == e.cand->questionText();
         }},
        {"notify-not-implemented",
         "RFC 1996 NOTIFY is for secondaries; dnsd is not one and answers NOTIMP (RFC 1035 "
         "§4.1.1: 'the name server does not support the requested kind of query'). NSD looks "
         "the name up as a zone and answers NXDOMAIN.",
         [](const Exchange& e, const Difference& d) {
             if (!e.cand || !e.cand->hasHeader() || e.cand->opcode() != LDNS_PACKET_NOTIFY) {
                 return false;
             }
             if ((e.cand->flags() & 0xF) != LDNS_RCODE_NOTIMPL) return false;
             return d.field == "rcode" || d.field == "qdcount" || d.field == "question" ||
                    d.field == "flag.aa" || isSection(d);
         }},
        {"notimp-header-bits-clear",
         "RFC 1035 §4.1.1 defines AA, TC, RD and RA for the answer to a query (Z 'must be zero "
         "in all queries and responses'), RFC 4035 §3.1.6 and §3.2.3 AD and CD for QUERY; a "
         "NOTIMP answer to an opcode the server does not implement answers no query, so dnsd "
         "clears them all, as ISC's EDNS compliance tester requires (its 'opcodeflg' test "
         "flags rd, cd, aa, ra and z). NSD 4.6 copies the query's bits, Z and TC included.",
         [](const Exchange& e, const Difference& d) {
             if (e.query->wire.size() < 4 || (e.query->wire[2] & 0x78) == 0) return false;
             if (!e.cand || !e.cand->hasHeader() ||
                 e.cand->flags() != (0x8000 | (e.cand->opcode() << 11) | LDNS_RCODE_NOTIMPL)) {
                 return false;
             }
             return d.field == "flag.aa" || d.field == "flag.tc" || d.field == "flag.rd" ||
                    d.field == "flag.ra" || d.field == "flag.z" || d.field == "flag.ad" ||
                    d.field == "flag.cd";
         }},
        {"qtype-opt-formerr",
         "RFC 6891 §6.1.1: OPT is a pseudo-RR that only exists in the additional section and "
         "cannot be asked for; FORMERR (as BIND answers) and NODATA (NSD) are both acceptable.",
         [](const Exchange& e, const Difference& d) {
             return e.query->qtype == 41 && e.cand && e.cand->hasHeader() &&
                    (e.cand->flags() & 0xF) == LDNS_RCODE_FORMERR &&
                    (d.field == "rcode" || d.field == "flag.aa" || isSection(d));
         }},
        {"any-minimal",
         "RFC 8482 §4: a server may answer qtype ANY with a subset of the RRsets (one RRset, or "
         "a synthesised HINFO) instead of all of them; the other sections and TC follow from "
         "that smaller answer.",
         [](const Exchange& e, const Difference& d) {
             if (e.query->qtype != 255 || !bothParsed(e)) return false;
             if (e.cand->rcode() != e.ref->rcode()) return false;
             if (d.field == "flag.tc" || d.field == "authority" || d.field == "additional") {
                 return true;
             }
             if (d.field != "answer") return false;
             auto ans = e.cand->canonicalRrs(Section::Answer);
             if (ans.empty()) return false;
             if (subsetOf(ans, e.refKnown)) return true;
             return ans.size() == 1 && ans[0].find("\tHINFO\t\"RFC8482\"") != std::string::npos;
         }},
        {"truncated-content",
         "RFC 2181 §9 and RFC 1035 §4.1.1: once TC is set the client discards the sections and "
         "retries over TCP, so which RRs a truncated response still carries is the server's "
         "choice; only data that really exists may appear.",
         [](const Exchange& e, const Difference& d) {
             if (!isSection(d) || !e.cand || !e.ref || !e.refComplete) return false;
             if (!e.cand->tc() || !(e.ref->tc() || glueTcExpected(e))) return false;
             return nothingInvented(*e.cand, *e.refComplete);
         }},
        {"tc-for-missing-glue",
         "RFC 9471 §3.1: a referral that cannot carry all in-domain glue over UDP MUST set TC. "
         "NSD 4.6 predates RFC 9471 and drops the glue silently.",
         [](const Exchange& e, const Difference& d) {
             return d.field == "flag.tc" && e.cand && e.cand->tc() && glueTcExpected(e);
         }},
        {"malformed-formerr-or-drop",
         "RFC 1035 §4.1.1 defines FORMERR for queries the server cannot interpret but does not "
         "oblige a reply to garbage; DESIGN.md: malformed input gets FORMERR or is dropped. For a "
         "FORMERR to an uninterpretable question, echoing the question is optional.",
         [](const Exchange& e, const Difference& d) {
             if (!e.query->special) return false;
             auto formerrOrNothing = [](const std::optional<DnsMessage>& m) {
                 return !m || (m->hasHeader() && (m->flags() & 0xF) == LDNS_RCODE_FORMERR);
             };
             if (!formerrOrNothing(e.ref) || !formerrOrNothing(e.cand)) return false;
             if (d.field == "presence") return true;
             return d.field == "qdcount" || d.field == "question" || isSection(d) ||
                    d.field == "flag.rd" || d.field == "flag.cd" || d.field == "opcode" ||
                    d.field == "edns";
         }},
    };
    return rules;
}

// Checks that do not need the reference: every candidate response must be well-formed.
std::vector<std::string> validityProblems(const ConformanceQuery& q, const DnsMessage& m) {
    std::vector<std::string> out;
    if (!m.hasHeader()) {
        out.push_back("response shorter than a DNS header");
        return out;
    }
    if (!m.qr()) out.push_back("QR bit clear in response");
    if (q.wire.size() >= 2 && m.id() != (q.wire[0] << 8 | q.wire[1])) {
        out.push_back("ID " + std::to_string(m.id()) + " does not match the query");
    }
    if (m.size() > q.sizeLimit) {
        out.push_back("response of " + std::to_string(m.size()) + " bytes exceeds the limit " +
                      std::to_string(q.sizeLimit));
    }
    if (!m.parsed()) out.push_back("ldns cannot parse the response: " + m.parseError());
    return out;
}

std::optional<DnsMessage> completeAnswer(const Endpoint& ep, const ConformanceQuery& q) {
    if (q.qname.empty()) return std::nullopt;
    // With the query's DO bit, so a signed answer's RRSIGs and NSECs are in it too (without DO
    // it is the same answer as before signed zones existed).
    DnsMessage asked(q.wire);
    bool doBit = asked.parsed() && asked.hasOpt() && asked.ednsDo();
    auto wire = QueryBuilder(q.qname, q.qtype, q.qclass).id(7).edns(4096).dnssecOk(doBit).build();
    return ep.client(false).tcp(wire, std::chrono::seconds(2));
}

std::vector<std::string> knownAtName(const Endpoint& ep, const ConformanceQuery& q,
                                     const DnsMessage& cand) {
    std::vector<std::string> out;
    const ldns_rr_list* ans = cand.rrs(Section::Answer);
    std::vector<uint16_t> types;
    for (size_t i = 0; i < ldns_rr_list_rr_count(ans); ++i) {
        uint16_t t = ldns_rr_get_type(ldns_rr_list_rr(ans, i));
        if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
    }
    for (uint16_t t : types) {
        auto wire = QueryBuilder(q.qname, t, q.qclass).id(8).edns(4096).build();
        auto r = ep.client(false).tcp(wire, std::chrono::seconds(2));
        if (!r || !r->parsed()) continue;
        auto v = r->canonicalRrs(Section::Answer);
        out.insert(out.end(), v.begin(), v.end());
    }
    std::sort(out.begin(), out.end());
    return out;
}

struct Summary {
    size_t queries = 0, identical = 0, allowed = 0, failed = 0;
    size_t toolChecked = 0;               // answers also held to genreport's verdicts
    std::vector<std::string> unanswered;  // neither server replied (expected only for drops)
    std::map<std::string, size_t> ruleUse;
    std::string failureText;
};

// toolVerdicts: also hold the candidate to genreport's verdicts on the queries marked so.
Summary runAll(const Endpoint& ref, const Endpoint& cand, const std::vector<ConformanceQuery>& qs,
               bool toolVerdicts) {
    Summary sum;
    size_t detailed = 0;
    for (const auto& q : qs) {
        Exchange e;
        e.query = &q;
        e.ref = ref.client(q.ipv6).query(q.wire, q.transport, q.timeout);
        e.cand = cand.client(q.ipv6).query(q.wire, q.transport, q.timeout);
        if ((e.ref && e.ref->tc()) || (e.cand && e.cand->tc()) || q.qtype == 255) {
            e.refComplete = completeAnswer(ref, q);
        }
        if (q.qtype == 255 && e.cand && e.cand->parsed()) e.refKnown = knownAtName(ref, q, *e.cand);
        e.diffs = diffResponses(e.ref, e.cand);
        bool sectionDiff = std::any_of(e.diffs.begin(), e.diffs.end(), isSection);
        if (sectionDiff && !e.refComplete) e.refComplete = completeAnswer(ref, q);
        std::vector<std::string> problems;
        if (e.cand) problems = validityProblems(q, *e.cand);
        if (toolVerdicts && q.genreport) {
            ++sum.toolChecked;
            if (!e.cand) problems.push_back("genreport verdict: no response");
            if (e.cand) {
                for (const auto& tag : genreportProblems(q.wire, *e.cand, q.sizeLimit))
                    problems.push_back("genreport verdict: " + tag);
            }
        }
        std::vector<std::string> unexplained;
        std::vector<std::string> usedRules;
        for (const auto& d : e.diffs) {
            const AllowRule* rule = nullptr;
            for (const auto& r : allowList()) {
                if (r.allows(e, d)) {
                    rule = &r;
                    break;
                }
            }
            if (rule) {
                if (std::find(usedRules.begin(), usedRules.end(), rule->name) == usedRules.end()) {
                    usedRules.push_back(rule->name);
                }
            } else {
                unexplained.push_back(formatDifference(d));
            }
        }
        ++sum.queries;
        if (!e.ref && !e.cand) sum.unanswered.push_back(q.label);
        if (unexplained.empty() && problems.empty()) {
            if (e.diffs.empty()) {
                ++sum.identical;
            } else {
                ++sum.allowed;
                for (const auto& r : usedRules) ++sum.ruleUse[r];
            }
            continue;
        }
        ++sum.failed;
        std::ostringstream f;
        f << "FAIL " << q.label << "\n";
        for (const auto& p : problems) f << "  invalid " << cand.name << " response: " << p << "\n";
        for (const auto& u : unexplained) f << u << "\n";
        // Full packets for the first failures; the rest stay one-screen readable.
        if (detailed++ < 25) {
            f << "  --- " << ref.name << " ---\n"
              << (e.ref ? e.ref->toString() : "(no response)\n") << "  --- " << cand.name
              << " ---\n"
              << (e.cand ? e.cand->toString() : "(no response)\n");
        }
        sum.failureText += f.str();
    }
    return sum;
}

void printSummary(const Summary& s, const std::string& title) {
    std::cout << "\n==== conformance: " << title << " ====\n"
              << s.failureText << "queries: " << s.queries << "  identical: " << s.identical
              << "  allowed differences: " << s.allowed << "  failures: " << s.failed << "\n";
    if (s.toolChecked) std::cout << "  held to genreport's verdicts: " << s.toolChecked << "\n";
    std::cout << "  unanswered by both (dropped): " << s.unanswered.size() << "\n";
    for (const auto& l : s.unanswered) std::cout << "    " << l << "\n";
    for (const auto& [rule, n] : s.ruleUse) {
        std::cout << "  allowed by " << rule << ": " << n << "\n";
    }
    std::cout << std::flush;
}

// A well-formed query that neither server answers means the harness is broken (wrong port,
// zone not loaded), not that both servers agree.
void expectOnlySpecialsUnanswered(const Summary& s) {
    for (const auto& l : s.unanswered) {
        EXPECT_EQ(l.rfind("special:", 0), 0u) << "no server answered: " << l;
    }
}

std::vector<ConformanceQuery> fullCatalog() {
    auto qs = buildCatalog(haveIpv6Loopback());
    auto sp = specialQueries();
    qs.insert(qs.end(), sp.begin(), sp.end());
    return qs;
}

TEST(Conformance, CatalogCoversEnough) {
    auto qs = fullCatalog();
    EXPECT_GE(qs.size(), 500u);
    size_t tcp = std::count_if(qs.begin(), qs.end(),
                               [](const auto& q) { return q.transport == Transport::Tcp; });
    EXPECT_GE(tcp, 100u);
}

TEST(Conformance, TwoNsdInstancesAgree) {
    // The harness must not see differences where there are none (IDs, ordering, TTLs...).
    NsdServer a(zoneFiles(), freePort());
    NsdServer b(zoneFiles(), freePort());
    Summary s = runAll({"nsd", a.port(), haveIpv6Loopback()},
                       {"nsd2", b.port(), haveIpv6Loopback()}, fullCatalog(), false);
    printSummary(s, "nsd vs nsd");
    EXPECT_EQ(s.failed, 0u);
    expectOnlySpecialsUnanswered(s);
    EXPECT_EQ(s.allowed, 0u) << "two identical servers should need no allow-list";
    EXPECT_EQ(s.identical, s.queries);
}

// dnsd on a database holding the conformance zones (unsigned).
std::unique_ptr<DnsdServer> startDnsd(const TempDir& dir) {
    std::string db = dir.file("zones.db");
    std::vector<std::string> files;
    for (const auto& z : zoneFiles()) files.push_back(z.path);
    createDatabase(db, files);
    // 4096 like NSD's ipv4-edns-size above, so both honour every client size we send.
    return std::make_unique<DnsdServer>(
        db, freePort(), std::vector<std::string>{"--max-udp-payload", "4096"}, "example.test.");
}

TEST(Conformance, DnsdAnswersLikeNsd) {
    const char* mode = std::getenv("DNSD_CONFORMANCE_CANDIDATE");
    bool nsdCandidate = mode != nullptr && std::string(mode) == "nsd";
    NsdServer reference(zoneFiles(), freePort());
    TempDir dir("dnsd-conformance");
    std::unique_ptr<NsdServer> otherNsd;
    std::unique_ptr<DnsdServer> dnsd;
    Endpoint cand;
    if (nsdCandidate) {
        otherNsd = std::make_unique<NsdServer>(zoneFiles(), freePort());
        cand = {"nsd2", otherNsd->port(), haveIpv6Loopback()};
    } else {
        dnsd = startDnsd(dir);
        cand = {"dnsd", dnsd->port(), dnsd->ipv6()};
    }
    Summary s =
        runAll({"nsd", reference.port(), haveIpv6Loopback()}, cand, fullCatalog(), dnsd != nullptr);
    printSummary(s, std::string("nsd vs ") + cand.name);
    EXPECT_EQ(s.failed, 0u) << "differences not covered by the allow-list (details above)";
    EXPECT_GE(s.queries, 500u);
    expectOnlySpecialsUnanswered(s);
    if (dnsd) {
        EXPECT_EQ(s.toolChecked, 31u) << "the 31 tests of genreport -f, once each";
        EXPECT_TRUE(dnsd->process().alive()) << dnsd->process().describe();
    }
}

// ---------------------------------------------------------------------------------------
// Signed zones (issue 13). The reference is NSD serving exactly what the candidate serves:
// each zone is transferred from the candidate (AXFR) into a file NSD loads, so keys and
// signatures are the candidate's own and a difference can only come from how they are
// served (which RRSIGs and NSECs go into which answer, DO handling, truncation).
// ---------------------------------------------------------------------------------------

// The conformance zones signed by ldns-signzone, fresh keys per run (one signer per zone).
struct SignedZones {
    std::vector<std::unique_ptr<LdnsZoneSigner>> signers;
    std::vector<ZoneFile> files;
};

SignedZones signConformanceZones() {
    SignedZones out;
    for (const auto& z : zoneFiles()) {
        out.signers.push_back(std::make_unique<LdnsZoneSigner>(z.origin));
        out.files.push_back({z.origin, out.signers.back()->sign(z.path, z.origin + "signed")});
    }
    return out;
}

// Runs buildDnssecCatalog() against `candidate` and an NSD fed from the candidate's AXFR of
// every conformance zone (files kept in `dir`). For dnsd: sign the zones in its database,
// start it with transfers allowed to 127.0.0.1, and call this with its endpoint.
Summary compareWithNsdServingItsZones(const Endpoint& candidate, const TempDir& dir) {
    std::vector<ZoneFile> files;
    for (const auto& z : zoneFiles()) {
        std::string path = dir.file(z.origin + "axfr");
        axfrToFile(z.origin, candidate.port, path);
        files.push_back({z.origin, path});
    }
    NsdServer reference(files, freePort());
    return runAll({"nsd", reference.port(), false}, candidate, buildDnssecCatalog(), false);
}

TEST(Conformance, DnssecCatalogCoversSignedAnswers) {
    auto qs = buildDnssecCatalog();
    EXPECT_GE(qs.size(), 600u);
    auto count = [&](auto pred) { return std::count_if(qs.begin(), qs.end(), pred); };
    EXPECT_GE(count([](const auto& q) { return q.wire.size() > 3 && q.sizeLimit == 512; }), 100);
    EXPECT_GE(count([](const auto& q) { return q.transport == Transport::Tcp; }), 40);
    // Every query carries an OPT; all but the "nodo" variant have DO set.
    size_t withoutDo = 0;
    for (const auto& q : qs) {
        DnsMessage m(q.wire);
        ASSERT_TRUE(m.parsed()) << q.label;
        ASSERT_TRUE(m.hasOpt()) << q.label;
        EXPECT_EQ(m.ednsDo(), !q.label.ends_with(" nodo")) << q.label;
        withoutDo += !m.ednsDo();
    }
    EXPECT_GE(withoutDo, 150u);
    EXPECT_LE(withoutDo, qs.size() / 3);
    // Its IDs do not overlap the unsigned catalog's, which it leaves unchanged.
    for (const auto& q : buildCatalog(false)) {
        ASSERT_LT(DnsMessage(q.wire).id(), 20000) << q.label;
    }
}

TEST(Conformance, DnssecCatalogOnUnsignedZones) {
    // DO, tiny buffers and questions for DNSSEC types against unsigned zones: nothing to sign,
    // so dnsd must answer as NSD does (RFC 4035 §3.1.1-3: RRSIGs only where the zone has them;
    // RFC 3225 §3: the DO bit is copied).
    NsdServer reference(zoneFiles(), freePort());
    TempDir dir("dnsd-conformance-do");
    auto dnsd = startDnsd(dir);
    Summary s = runAll({"nsd", reference.port(), false}, {"dnsd", dnsd->port(), false},
                       buildDnssecCatalog(), false);
    printSummary(s, "DNSSEC catalog, unsigned zones: nsd vs dnsd");
    EXPECT_EQ(s.failed, 0u) << "differences not covered by the allow-list (details above)";
    EXPECT_TRUE(s.unanswered.empty());
    EXPECT_TRUE(dnsd->process().alive()) << dnsd->process().describe();
}

TEST(Conformance, SignedZonesNsdFromAxfrAgrees) {
    // NSD serving ldns-signzone output stands in for a signing dnsd: the path dnsd will take
    // must find no difference between a server and NSD fed from that server's transfer.
    TempDir dir("dnsd-conformance-signed");
    SignedZones signedZones = signConformanceZones();
    for (const auto& z : signedZones.files) {
        for (const auto& v : verifyZoneWithAll(z.path, z.origin)) {
            ASSERT_TRUE(v.ok) << v.command << "\n" << v.output;
        }
    }
    NsdServer candidate(signedZones.files, freePort());
    Endpoint cand{"nsd-signed", candidate.port(), false};
    Summary s = compareWithNsdServingItsZones(cand, dir);
    printSummary(s, "signed: nsd from axfr vs nsd-signed");
    EXPECT_EQ(s.failed, 0u);
    EXPECT_EQ(s.allowed, 0u);
    EXPECT_EQ(s.identical, s.queries);
    EXPECT_TRUE(s.unanswered.empty());
    // The catalog really got signed answers: RRSIGs with DO, NSEC denials, none without DO.
    auto ask = [&](const std::string& name, uint16_t type, bool doBit) {
        auto wire = QueryBuilder(name, type).edns(4096).dnssecOk(doBit).build();
        auto r = cand.client(false).udp(wire, std::chrono::seconds(2));
        EXPECT_TRUE(r && r->parsed()) << name;
        return r ? r->toString() : std::string();
    };
    EXPECT_NE(ask("www.example.test.", 1, true).find("RRSIG"), std::string::npos);
    EXPECT_NE(ask("nothere.example.test.", 1, true).find("NSEC"), std::string::npos);
    EXPECT_EQ(ask("www.example.test.", 1, false).find("RRSIG"), std::string::npos);
}

TEST(Conformance, SignedComparisonSeesOtherSignatures) {
    // Negative control: the same zones signed with other keys must not compare equal, so the
    // signed comparison really looks at RRSIG, DNSKEY and NSEC data.
    SignedZones a = signConformanceZones();
    SignedZones b = signConformanceZones();
    NsdServer ref(a.files, freePort());
    NsdServer cand(b.files, freePort());
    // Without DO, only questions for DNSSEC types themselves see the keys.
    std::vector<ConformanceQuery> withDo, withoutDo;
    for (auto& q : buildDnssecCatalog()) {
        bool dnssecType = q.qtype == 46 || q.qtype == 48 || q.qtype == 59 || q.qtype == 60;
        (q.label.ends_with(" nodo") && !dnssecType ? withoutDo : withDo).push_back(std::move(q));
    }
    Endpoint refEp{"nsd-a", ref.port(), false}, candEp{"nsd-b", cand.port(), false};
    Summary signedAnswers = runAll(refEp, candEp, withDo, false);
    EXPECT_GT(signedAnswers.failed, signedAnswers.queries / 2)
        << "signed answers made with different keys must differ";
    Summary plain = runAll(refEp, candEp, withoutDo, false);
    EXPECT_GE(plain.queries, 150u);
    EXPECT_EQ(plain.failed, 0u) << plain.failureText;
}

TEST(Conformance, SignedDnsdAnswersLikeNsd) {
    // dnsd signs the conformance zones itself (dnsctl dnssec enable); NSD serves dnsd's AXFR
    // of them, so both hold the same keys and signatures, and the DNSSEC catalog compares how
    // they are served. The transferred zones must also pass the three verifiers.
    TempDir dir("dnsd-conformance-signed-dnsd");
    std::string db = dir.file("zones.db");
    std::vector<std::string> files;
    for (const auto& z : zoneFiles()) files.push_back(z.path);
    createDatabase(db, files);
    for (const auto& z : zoneFiles()) {
        for (std::vector<std::string> args :
             {std::vector<std::string>{"dnssec", "enable", z.origin},
              // 127.0.0.1 may transfer the zone unsigned; --no-notify: nothing listens there.
              std::vector<std::string>{"secondary", "add", z.origin, "127.0.0.1:5999",
                                       "--no-notify"}}) {
            auto r = runDnsctl(db, args);
            ASSERT_TRUE(r.ok()) << r.command << "\n" << r.err;
        }
    }
    DnsdServer dnsd(db, freePort(), {"--max-udp-payload", "4096"}, "example.test.");
    // dnsd serves transfers once it has loaded the secondaries.
    ASSERT_TRUE(waitUntil(
        [&] {
            auto r = DnsClient("127.0.0.1", dnsd.port())
                         .tcp(QueryBuilder("example.test.", 252).build(), std::chrono::seconds(2));
            return r && r->rcode() == 0 && r->ancount() > 0;
        },
        std::chrono::seconds(10)));
    Summary s = compareWithNsdServingItsZones({"dnsd", dnsd.port(), false}, dir);
    printSummary(s, "signed: nsd from axfr of dnsd vs dnsd");
    EXPECT_EQ(s.failed, 0u) << "differences not covered by the allow-list (details above)";
    EXPECT_TRUE(s.unanswered.empty());
    for (const auto& z : zoneFiles()) {
        for (const auto& v : verifyZoneWithAll(dir.file(z.origin + "axfr"), z.origin)) {
            EXPECT_TRUE(v.ok) << v.command << "\n" << v.output;
        }
    }
    EXPECT_TRUE(dnsd.process().alive()) << dnsd.process().describe();
}

}  // namespace
