// The conformance query catalog: every query the differential test sends to NSD and dnsd.
//
// Contract: buildCatalog() returns the same queries in the same order on every call (no
// randomness: a failure report names a query that can be replayed). Each question is sent in
// several transport/EDNS variants; malformed packets and header/EDNS edge cases are added
// as hand-made "special" queries. The zones they refer to live in tests/conformance/zones/.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/dns_client.hpp"
#include "tests/support/query_builder.hpp"

namespace conformance {

using testsupport::QueryBuilder;
using testsupport::Transport;

struct ConformanceQuery {
    std::string label;  // replayable description, e.g. "www.example.test. A udp edns=1232 rd"
    std::vector<uint8_t> wire;
    Transport transport = Transport::Udp;
    bool ipv6 = false;
    // Largest response the client accepts: 512 without EDNS, the advertised size (at least
    // 512) with it, 65535 over TCP.
    size_t sizeLimit = 512;
    // The question, for rules and for re-asking over TCP; empty qname for malformed packets.
    std::string qname;
    uint16_t qtype = 0;
    uint16_t qclass = 1;
    bool special = false;  // hand-made packet (malformed or unusual header/EDNS)
    // One of genreport's queries: the candidate's answer must also pass the tool's verdicts.
    bool genreport = false;
    std::chrono::milliseconds timeout{2000};
};

struct Question {
    std::string qname;
    uint16_t qtype;
    uint16_t qclass = 1;
};

inline const char* typeName(uint16_t t) {
    static thread_local std::string buf;
    char* s = ldns_rr_type2str(static_cast<ldns_rr_type>(t));
    buf = s ? s : "?";
    free(s);
    return buf.c_str();
}

// Letter case flipped in a fixed pattern (every other letter upper), to check that the
// question comes back exactly as sent while matching stays case-insensitive.
inline std::string mixCase(const std::string& name) {
    std::string out = name;
    bool upper = true;
    for (char& ch : out) {
        if (std::isalpha(static_cast<unsigned char>(ch))) {
            ch = upper ? static_cast<char>(std::toupper(ch)) : static_cast<char>(std::tolower(ch));
            upper = !upper;
        }
    }
    return out;
}

// Names and types covering every behaviour of issue 2; comments say what each group checks.
inline std::vector<Question> questions() {
    constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, HINFO = 13, MX = 15, TXT = 16,
                       RP = 17, AAAA = 28, LOC = 29, SRV = 33, NAPTR = 35, DS = 43, SSHFP = 44,
                       RRSIG = 46, NSEC = 47, DNSKEY = 48, TLSA = 52, CAA = 257, ANY = 255;
    std::vector<Question> q = {
        // apex: positive answers, NODATA for absent types, DNSSEC types on an unsigned zone
        {"example.test.", SOA},
        {"example.test.", NS},
        {"example.test.", MX},
        {"example.test.", A},
        {"example.test.", AAAA},
        {"example.test.", TXT},
        {"example.test.", SRV},
        {"example.test.", CAA},
        {"example.test.", DNSKEY},
        {"example.test.", DS},
        {"example.test.", RRSIG},
        {"example.test.", NSEC},
        {"example.test.", ANY},
        // plain hosts, additional data, case in the zone file, escaped label
        {"www.example.test.", A},
        {"www.example.test.", AAAA},
        {"www.example.test.", MX},
        {"www.example.test.", CNAME},
        {"www.example.test.", ANY},
        {"ns1.example.test.", A},
        {"ns1.example.test.", AAAA},
        {"ns2.example.test.", AAAA},
        {"mail.example.test.", A},
        {"upper.example.test.", A},
        {"UPPER.example.test.", AAAA},
        {"odd\\.label.example.test.", A},
        {"txt.example.test.", TXT},
        // SRV targets: in zone (additional), without address, root target; ENT _udp
        {"_sip._udp.example.test.", SRV},
        {"_sip._tcp.example.test.", SRV},
        {"_none._tcp.example.test.", SRV},
        {"_udp.example.test.", SRV},
        {"sip.example.test.", A},
        {"mxcname.example.test.", MX},
        // CNAME chains, leaving the zone, dangling, loops
        {"alias.example.test.", A},
        {"alias.example.test.", AAAA},
        {"alias.example.test.", CNAME},
        {"alias.example.test.", TXT},
        {"alias.example.test.", ANY},
        {"alias2.example.test.", A},
        {"alias3.example.test.", A},
        {"alias3.example.test.", CNAME},
        {"mxalias.example.test.", MX},
        {"outalias.example.test.", A},
        {"extalias.example.test.", A},
        {"dangle.example.test.", A},
        {"deleg-alias.example.test.", A},
        {"wild-alias.example.test.", A},
        {"loop1.example.test.", A},
        {"loop1.example.test.", CNAME},
        {"selfloop.example.test.", A},
        {"up.child.example.test.", A},
        // NXDOMAIN with SOA (negative TTL = min(SOA TTL, MINIMUM), RFC 2308 §3)
        {"nothere.example.test.", A},
        {"nothere.example.test.", MX},
        {"a.b.c.nothere.example.test.", A},
        {"nothere.other.x.other.test.", TXT},
        // wildcards: match, NODATA, multi-label, explicit name blocks, closest encloser, literal *
        {"foo.wild.example.test.", A},
        {"foo.wild.example.test.", TXT},
        {"foo.wild.example.test.", MX},
        {"foo.wild.example.test.", AAAA},
        {"foo.wild.example.test.", ANY},
        {"bar.foo.wild.example.test.", A},
        {"exists.wild.example.test.", A},
        {"exists.wild.example.test.", TXT},
        {"sub.exists.wild.example.test.", A},
        {"*.wild.example.test.", A},
        {"*.wild.example.test.", AAAA},
        {"wild.example.test.", A},
        {"wild.example.test.", ANY},
        // wildcard CNAME, wildcard CNAME loop
        {"a.wc.example.test.", A},
        {"a.wc.example.test.", AAAA},
        {"a.wc.example.test.", CNAME},
        {"a.wcl.example.test.", A},
        // ENT between wildcard and name; deeper wildcard under ENTs
        {"q.wild2.example.test.", A},
        {"y.wild2.example.test.", A},
        {"z.y.wild2.example.test.", A},
        {"x.y.wild2.example.test.", A},
        {"a.deep.wild3.example.test.", TXT},
        {"a.b.deep.wild3.example.test.", TXT},
        {"deep.wild3.example.test.", TXT},
        {"wild3.example.test.", TXT},
        // empty non-terminals
        {"ent.example.test.", A},
        {"b.ent.example.test.", A},
        {"b.ent.example.test.", AAAA},
        {"a.b.ent.example.test.", A},
        {"x.b.ent.example.test.", A},
        {"ent2.example.test.", AAAA},
        {"ent.example.test.", ANY},
        // unknown types (RFC 3597) and assorted known types
        {"unk.example.test.", 65280},
        {"unk.example.test.", 65281},
        {"unk.example.test.", 65282},
        {"unk.example.test.", A},
        {"unk.example.test.", ANY},
        {"unk3597a.example.test.", A},
        {"rare.example.test.", HINFO},
        {"rare.example.test.", CAA},
        {"rare.example.test.", SSHFP},
        {"rare.example.test.", NAPTR},
        {"rare.example.test.", LOC},
        {"rare.example.test.", TLSA},
        {"rare.example.test.", PTR},
        {"rare.example.test.", RP},
        {"rare.example.test.", ANY},
        // referrals (AA clear, NS in authority, glue), DS from the parent side
        {"sub.example.test.", NS},
        {"sub.example.test.", A},
        {"sub.example.test.", DS},
        {"sub.example.test.", SOA},
        {"sub.example.test.", ANY},
        {"host.sub.example.test.", A},
        {"ns.sub.example.test.", A},
        {"ns.sub.example.test.", AAAA},
        {"a.b.sub.example.test.", MX},
        {"x.sub.example.test.", DS},
        {"nodeleg-ds.example.test.", DS},
        {"nodeleg-ds.example.test.", A},
        {"glueless.example.test.", A},
        {"sibling.example.test.", A},
        {"x.sibling.example.test.", A},
        // nested zones: child.example.test is delegated and served; grand is delegated in it
        {"child.example.test.", SOA},
        {"child.example.test.", NS},
        {"child.example.test.", A},
        {"child.example.test.", DS},
        {"child.example.test.", DNSKEY},
        {"child.example.test.", ANY},
        {"www.child.example.test.", A},
        {"ns1.child.example.test.", A},
        {"ns2.child.example.test.", AAAA},
        {"nothere.child.example.test.", A},
        {"ent.child.example.test.", TXT},
        {"deep.ent.child.example.test.", TXT},
        {"grand.child.example.test.", NS},
        {"grand.child.example.test.", A},
        {"grand.child.example.test.", DS},
        {"x.grand.child.example.test.", A},
        {"ns.grand.child.example.test.", A},
        // big RRsets (truncation, EDNS sizes), big additional, big referral
        {"medium.other.test.", TXT},
        {"large.other.test.", TXT},
        {"huge.other.test.", TXT},
        {"onebig.other.test.", TXT},
        {"many.other.test.", A},
        {"bigmx.other.test.", MX},
        {"bigdeleg.other.test.", NS},
        {"x.bigdeleg.other.test.", A},
        {"tobig.other.test.", TXT},
        {"huge.other.test.", ANY},
        // apex wildcard, ENT blocking it, empty TXT, NS targets in another zone
        {"www.other.test.", A},
        {"random.other.test.", TXT},
        {"random.other.test.", MX},
        {"random.other.test.", A},
        {"a.b.random.other.test.", TXT},
        {"x.other.test.", TXT},
        {"y.x.other.test.", TXT},
        {"empty.other.test.", TXT},
        {"other.test.", NS},
        {"other.test.", SOA},
        {"other.test.", ANY},
        // outside all zones: REFUSED
        {"www.example.net.", A},
        {".", SOA},
        {".", NS},
        {"test.", NS},
        {"com.", A},
        {"otherexample.test.", A},
        {"xexample.test.", SOA},
        // CHAOS class (identity/version are hidden) and other classes
        {"version.bind.", TXT, 3},
        {"id.server.", TXT, 3},
        {"hostname.bind.", TXT, 3},
        {"version.server.", TXT, 3},
        {"www.example.test.", A, 3},
        {"example.test.", SOA, 3},
        {"www.example.test.", A, 4},
        {"www.example.test.", A, 254},
    };
    return q;
}

struct Variant {
    const char* name;
    Transport transport;
    int edns;  // -1 = no OPT
    bool rd;
    bool doBit;
    bool cd;
};

inline std::vector<ConformanceQuery> buildCatalog(bool haveIpv6) {
    const Variant variants[] = {
        {"udp", Transport::Udp, -1, false, false, false},
        {"udp edns=512 rd", Transport::Udp, 512, true, false, false},
        {"udp edns=1232", Transport::Udp, 1232, false, false, false},
        {"udp edns=4096 do cd", Transport::Udp, 4096, false, true, true},
        {"tcp rd", Transport::Tcp, -1, true, false, false},
        {"tcp edns=1232", Transport::Tcp, 1232, false, false, false},
    };
    std::vector<ConformanceQuery> out;
    uint16_t id = 1000;
    auto add = [&](const Question& q, const Variant& v, bool mixed, bool ipv6) {
        ConformanceQuery c;
        c.qname = mixed ? mixCase(q.qname) : q.qname;
        c.qtype = q.qtype;
        c.qclass = q.qclass;
        QueryBuilder b(c.qname, q.qtype, q.qclass);
        b.id(id++).rd(v.rd).cd(v.cd);
        if (v.edns >= 0) b.edns(static_cast<uint16_t>(v.edns)).dnssecOk(v.doBit);
        c.wire = b.build();
        c.transport = v.transport;
        c.ipv6 = ipv6;
        c.sizeLimit = v.transport == Transport::Tcp ? 65535
                      : v.edns < 0                  ? 512
                                                    : std::max(512, v.edns);
        c.label = c.qname + " " +
                  (q.qclass == 1 ? "" : std::string("class") + std::to_string(q.qclass) + " ") +
                  typeName(q.qtype) + " " + v.name + (ipv6 ? " ipv6" : "");
        out.push_back(std::move(c));
    };
    auto qs = questions();
    for (const auto& q : qs) {
        for (const auto& v : variants) add(q, v, false, false);
    }
    // Mixed case: every third question, over UDP with EDNS and over TCP.
    for (size_t i = 0; i < qs.size(); i += 3) {
        add(qs[i], variants[2], true, false);
        add(qs[i], variants[4], true, false);
    }
    // IPv6 transport: a handful of questions on ::1.
    if (haveIpv6) {
        for (size_t i = 0; i < qs.size(); i += 15) {
            add(qs[i], variants[1], false, true);
            add(qs[i], variants[5], false, true);
        }
    }
    return out;
}

// Questions whose answers change when a zone is signed: the DNSSEC types at the apex, at plain
// names, at delegations and at names that do not exist, plus one of each kind of denial and
// wildcard proof (RFC 4035 §3.1). Against the unsigned zones they are NODATA or plain answers.
inline std::vector<Question> dnssecQuestions() {
    constexpr uint16_t A = 1, NS = 2, SOA = 6, MX = 15, TXT = 16, AAAA = 28, DS = 43, RRSIG = 46,
                       NSEC = 47, DNSKEY = 48, NSEC3PARAM = 51, CDS = 59, CDNSKEY = 60;
    return {
        // apex: the keys, the first NSEC, every RRSIG, CDS/CDNSKEY (RFC 7344)
        {"example.test.", DNSKEY},
        {"example.test.", NSEC},
        {"example.test.", RRSIG},
        {"example.test.", NSEC3PARAM},
        {"example.test.", CDS},
        {"example.test.", CDNSKEY},
        {"child.example.test.", DNSKEY},
        {"child.example.test.", NSEC},
        {"other.test.", DNSKEY},
        // plain names: RRSIG and NSEC asked directly
        {"www.example.test.", RRSIG},
        {"www.example.test.", NSEC},
        {"www.example.test.", DNSKEY},
        {"mail.example.test.", NSEC},
        // delegations: DS signed by the parent, NSEC proving no DS, NS not signed (RFC 4035
        // §2.2), DNSSEC types asked at and below a cut
        {"sub.example.test.", DS},
        {"sub.example.test.", NSEC},
        {"sub.example.test.", RRSIG},
        {"sub.example.test.", DNSKEY},
        {"host.sub.example.test.", NSEC},
        {"glueless.example.test.", DS},
        {"child.example.test.", DS},
        {"grand.child.example.test.", DS},
        {"grand.child.example.test.", NSEC},
        // wildcards: answer with its RRSIG (labels field < owner labels) and NSEC, wildcard
        // NODATA, the wildcard owner itself, DNSSEC types at a synthesised name
        {"foo.wild.example.test.", A},
        {"foo.wild.example.test.", AAAA},
        {"foo.wild.example.test.", NSEC},
        {"foo.wild.example.test.", RRSIG},
        {"*.wild.example.test.", NSEC},
        {"*.wild.example.test.", RRSIG},
        {"a.wc.example.test.", A},
        {"random.other.test.", RRSIG},
        // NXDOMAIN: covering NSEC plus the wildcard denial; below an ENT; DNSSEC types
        {"nothere.example.test.", NSEC},
        {"nothere.example.test.", RRSIG},
        {"nothere.example.test.", DS},
        {"zzz.example.test.", A},
        {"x.b.ent.example.test.", A},
        {"nothere.child.example.test.", DNSKEY},
        // NODATA at a name and at an empty non-terminal
        {"ent.example.test.", NSEC},
        {"ent.example.test.", RRSIG},
        {"www.example.test.", TXT},
        // big signed RRsets: truncation, TCP
        {"large.other.test.", TXT},
        {"many.other.test.", A},
        {"example.test.", MX},
        {"example.test.", NS},
        {"example.test.", SOA},
    };
}

// The DNSSEC catalog: questions() and dnssecQuestions() with DO=1 at every buffer size a client
// uses, down to the smallest (512, and 100, which RFC 6891 §6.2.5 says to treat as 512), over
// TCP, with CD, and without DO (a signed zone must answer that exactly as unsigned, RFC 3225
// §3: no RRSIG/NSEC unless asked for by type). IDs start at 20000 and the list is separate from
// buildCatalog(), so adding it changed no query of the unsigned comparison.
inline std::vector<ConformanceQuery> buildDnssecCatalog() {
    const Variant variants[] = {
        {"udp edns=4096 do", Transport::Udp, 4096, false, true, false},
        {"udp edns=1232 do rd", Transport::Udp, 1232, true, true, false},
        {"udp edns=512 do", Transport::Udp, 512, false, true, false},
        {"udp edns=100 do", Transport::Udp, 100, false, true, false},
        {"udp edns=1232 do cd", Transport::Udp, 1232, false, true, true},
        {"tcp edns=4096 do", Transport::Tcp, 4096, false, true, false},
        {"udp edns=1232 nodo", Transport::Udp, 1232, false, false, false},
    };
    std::vector<ConformanceQuery> out;
    uint16_t id = 20000;
    auto add = [&](const Question& q, const Variant& v) {
        ConformanceQuery c;
        c.qname = q.qname;
        c.qtype = q.qtype;
        c.qclass = q.qclass;
        c.wire = QueryBuilder(c.qname, q.qtype, q.qclass)
                     .id(id++)
                     .rd(v.rd)
                     .cd(v.cd)
                     .edns(static_cast<uint16_t>(v.edns))
                     .dnssecOk(v.doBit)
                     .build();
        c.transport = v.transport;
        c.sizeLimit = v.transport == Transport::Tcp ? 65535 : std::max(512, v.edns);
        c.label = c.qname + " " +
                  (q.qclass == 1 ? "" : std::string("class") + std::to_string(q.qclass) + " ") +
                  typeName(q.qtype) + " " + v.name;
        out.push_back(std::move(c));
    };
    for (const auto& q : dnssecQuestions()) {
        for (const auto& v : variants) add(q, v);
    }
    // Every question of the unsigned catalog with DO at a common size and at the smallest, so
    // each answer path is seen signed, and without DO, where nothing may change.
    for (const auto& q : questions()) {
        add(q, variants[1]);
        add(q, variants[2]);
        add(q, variants[6]);
    }
    return out;
}

}  // namespace conformance
