// Hand-made conformance queries: malformed packets and header/EDNS edge cases.
//
// Contract: specialQueries() returns a fixed list (same bytes every run). Each entry says in
// its label what is odd about it; the expected behaviour is whatever NSD does, subject to the
// allow-list in conformance_test.cpp (e.g. FORMERR vs drop for garbage).
#pragma once

#include <algorithm>
#include <vector>

#include "tests/conformance/query_catalog.hpp"

namespace conformance {

namespace detail {

inline void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(static_cast<uint8_t>(x >> 8));
    v.push_back(static_cast<uint8_t>(x & 0xFF));
}

// A header with the given counts followed by `body` verbatim.
inline std::vector<uint8_t> rawMessage(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
                                       uint16_t ns, uint16_t ar, const std::vector<uint8_t>& body) {
    std::vector<uint8_t> v;
    put16(v, id);
    put16(v, flags);
    put16(v, qd);
    put16(v, an);
    put16(v, ns);
    put16(v, ar);
    v.insert(v.end(), body.begin(), body.end());
    return v;
}

// Uncompressed wire form of a presentation name (plain labels only).
inline std::vector<uint8_t> wireName(const std::string& name) {
    std::vector<uint8_t> v;
    size_t start = 0;
    while (start < name.size()) {
        size_t dot = name.find('.', start);
        if (dot == std::string::npos) dot = name.size();
        if (dot > start) {
            v.push_back(static_cast<uint8_t>(dot - start));
            v.insert(v.end(), name.begin() + start, name.begin() + dot);
        }
        start = dot + 1;
    }
    v.push_back(0);
    return v;
}

inline std::vector<uint8_t> questionBytes(const std::string& name, uint16_t type, uint16_t cls) {
    auto v = wireName(name);
    put16(v, type);
    put16(v, cls);
    return v;
}

// OPT RR: root owner, given payload size, ext-rcode/version/flags and raw option bytes.
inline std::vector<uint8_t> optRr(uint16_t size, uint8_t version, uint16_t flags,
                                  const std::vector<uint8_t>& options,
                                  const std::vector<uint8_t>& owner = {0}) {
    std::vector<uint8_t> v = owner;
    put16(v, 41);
    put16(v, size);
    v.push_back(0);  // extended rcode
    v.push_back(version);
    put16(v, flags);
    put16(v, static_cast<uint16_t>(options.size()));
    v.insert(v.end(), options.begin(), options.end());
    return v;
}

constexpr uint16_t kSoa = 6, kDnskey = 48;

}  // namespace detail

inline std::vector<ConformanceQuery> specialQueries() {
    using namespace detail;
    std::vector<ConformanceQuery> out;
    uint16_t id = 40000;
    const std::string www = "www.example.test.";
    const auto wwwQ = questionBytes(www, 1, 1);
    auto add = [&](std::string label, std::vector<uint8_t> wire, Transport t = Transport::Udp,
                   size_t limit = 512, uint16_t qtype = 1) {
        ConformanceQuery c;
        c.label = "special: " + label + (t == Transport::Tcp ? " (tcp)" : "");
        c.wire = std::move(wire);
        c.transport = t;
        c.sizeLimit = t == Transport::Tcp ? 65535 : limit;
        c.special = true;
        c.qtype = qtype;
        // Dropped packets cost a full timeout on both servers; keep it short.
        c.timeout = std::chrono::milliseconds(700);
        out.push_back(std::move(c));
    };
    auto query = [&](uint16_t flags, const std::vector<uint8_t>& q = {}) {
        return rawMessage(id++, flags, 1, 0, 0, 0, q.empty() ? wwwQ : q);
    };

    // Opcodes other than QUERY: NOTIMP (IQUERY is obsolete, STATUS/3/DSO/15 unsupported).
    // NOTIFY (4) to a primary is NOTIMP in NSD too; UPDATE (5) is dnsd's (dnsd/update/, tested
    // with real clients in tests/update/), which NSD does not do.
    for (uint16_t op : {1, 2, 3, 4, 6, 15}) {
        auto flags = static_cast<uint16_t>(op << 11);
        add("opcode " + std::to_string(op), query(flags));
        add("opcode " + std::to_string(op) + " rd", query(flags | 0x0100), Transport::Tcp);
    }
    // The opcode is checked before the question count: ISC's EDNS compliance tester ('opcode'
    // test) sends a header-only opcode 15 and expects NOTIMP, as NSD, Knot and BIND answer.
    // (UDP only: NSD 4.6 closes a TCP connection on such a message without answering.)
    for (uint16_t op : {2, 15}) {
        auto flags = static_cast<uint16_t>(op << 11);
        add("opcode " + std::to_string(op) + ", header only",
            rawMessage(id++, flags, 0, 0, 0, 0, {}));
    }
    add("opcode 15, qdcount 2", rawMessage(id++, 15 << 11, 2, 0, 0, 0, wwwQ));
    // QDCOUNT != 1 and broken questions.
    add("qdcount 0, header only", rawMessage(id++, 0, 0, 0, 0, 0, {}));
    add("qdcount 0, header only", rawMessage(id++, 0, 0, 0, 0, 0, {}), Transport::Tcp);
    {
        auto body = wwwQ;
        auto second = questionBytes("mail.example.test.", 1, 1);
        body.insert(body.end(), second.begin(), second.end());
        add("qdcount 2", rawMessage(id++, 0x0100, 2, 0, 0, 0, body));
        add("qdcount 2", rawMessage(id++, 0x0100, 2, 0, 0, 0, body), Transport::Tcp);
    }
    add("qdcount 1, no question bytes", rawMessage(id++, 0, 1, 0, 0, 0, {}));
    add("qdcount 0 followed by a question", rawMessage(id++, 0, 0, 0, 0, 0, wwwQ));
    add("qname cut mid-label",
        rawMessage(id++, 0, 1, 0, 0, 0, std::vector<uint8_t>(wwwQ.begin(), wwwQ.begin() + 6)));
    add("qtype and qclass missing",
        rawMessage(id++, 0, 1, 0, 0, 0, std::vector<uint8_t>(wwwQ.begin(), wwwQ.end() - 4)));
    add("qclass missing",
        rawMessage(id++, 0, 1, 0, 0, 0, std::vector<uint8_t>(wwwQ.begin(), wwwQ.end() - 2)));
    {
        std::vector<uint8_t> body{64};
        body.insert(body.end(), 64, 'a');
        auto rest = questionBytes("example.test.", 1, 1);
        body.insert(body.end(), rest.begin(), rest.end());
        add("label of 64 octets", rawMessage(id++, 0, 1, 0, 0, 0, body));
        add("label of 64 octets", rawMessage(id++, 0, 1, 0, 0, 0, body), Transport::Tcp);
    }
    {
        std::vector<uint8_t> body;
        for (int i = 0; i < 5; ++i) {
            body.push_back(63);
            body.insert(body.end(), 63, static_cast<uint8_t>('a' + i));
        }
        body.push_back(0);
        put16(body, 1);
        put16(body, 1);
        add("qname longer than 255 octets", rawMessage(id++, 0, 1, 0, 0, 0, body));
    }
    add("compression pointer to itself",
        rawMessage(id++, 0, 1, 0, 0, 0, {0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01}));
    add("compression pointer to itself", rawMessage(id++, 0, 1, 0, 0, 0, {0xC0, 0x0C, 0, 1, 0, 1}),
        Transport::Tcp);
    add("compression pointer loop of two",
        rawMessage(id++, 0, 1, 0, 0, 0, {0x01, 'a', 0xC0, 0x0E, 0xC0, 0x0C, 0, 1, 0, 1}));
    add("compression pointer past the end",
        rawMessage(id++, 0, 1, 0, 0, 0, {0xC0, 0xFF, 0x00, 0x01, 0x00, 0x01}));
    {
        // A pointer in a question is legal if it points backwards to a name; none precedes the
        // question, so a pointer into the header is the only possibility: garbage.
        add("compression pointer into the header",
            rawMessage(id++, 0, 1, 0, 0, 0, {0xC0, 0x02, 0x00, 0x01, 0x00, 0x01}));
    }
    add("reserved label type 0x40", rawMessage(id++, 0, 1, 0, 0, 0, {0x41, 'a', 0, 0, 1, 0, 1}));
    add("5 bytes, shorter than a header", {0x12, 0x34, 0x01, 0x00, 0x00});
    add("QR bit set (a response, must be dropped)", query(0x8000));
    add("QR bit set (a response, must be dropped)", query(0x8000), Transport::Tcp);
    {
        auto body = wwwQ;
        body.insert(body.end(), {0xDE, 0xAD, 0xBE, 0xEF});
        add("4 garbage bytes after the question", rawMessage(id++, 0, 1, 0, 0, 0, body));
    }
    add("ancount 1 but no answer bytes", rawMessage(id++, 0, 1, 1, 0, 0, wwwQ));
    add("arcount 1 but no additional bytes", rawMessage(id++, 0, 1, 0, 0, 1, wwwQ));
    // Header bits.
    add("Z bit set", query(0x0040));
    add("AD bit set", query(0x0020));
    add("TC bit set in query", query(0x0200));
    add("all of RD CD AD set", query(0x0130));
    // EDNS edge cases.
    auto withOpt = [&](uint16_t flags, const std::vector<uint8_t>& opt, uint16_t ar = 1,
                       const std::vector<uint8_t>& q = {}) {
        auto body = q.empty() ? wwwQ : q;
        body.insert(body.end(), opt.begin(), opt.end());
        return rawMessage(id++, flags, 1, 0, 0, ar, body);
    };
    add("edns version 1 (BADVERS)", withOpt(0, optRr(1232, 1, 0, {})), Transport::Udp, 1232);
    add("edns version 1 (BADVERS) do", withOpt(0, optRr(1232, 1, 0x8000, {})), Transport::Udp,
        1232);
    add("edns version 1 (BADVERS)", withOpt(0, optRr(1232, 1, 0, {})), Transport::Tcp);
    add("edns version 255", withOpt(0, optRr(4096, 255, 0, {})), Transport::Udp, 4096);
    {
        auto two = optRr(1232, 0, 0, {});
        auto second = optRr(1232, 0, 0, {});
        two.insert(two.end(), second.begin(), second.end());
        add("two OPT RRs", withOpt(0, two, 2), Transport::Udp, 1232);
    }
    add("OPT with non-root owner", withOpt(0, optRr(1232, 0, 0, {}, wireName("example.test."))),
        Transport::Udp, 1232);
    add("edns udp size 0", withOpt(0, optRr(0, 0, 0, {})), Transport::Udp, 512);
    add("edns udp size 100", withOpt(0, optRr(100, 0, 0, {})), Transport::Udp, 512);
    add("edns udp size 511, big answer",
        withOpt(0, optRr(511, 0, 0, {}), 1, questionBytes("medium.other.test.", 16, 1)),
        Transport::Udp, 512, 16);
    add("edns udp size 65535, huge answer",
        withOpt(0, optRr(65535, 0, 0, {}), 1, questionBytes("huge.other.test.", 16, 1)),
        Transport::Udp, 65535, 16);
    add("edns unknown option 65001", withOpt(0, optRr(1232, 0, 0, {0xFD, 0xE9, 0, 4, 1, 2, 3, 4})),
        Transport::Udp, 1232);
    add("edns NSID request", withOpt(0, optRr(1232, 0, 0, {0, 3, 0, 0})), Transport::Udp, 1232);
    add("edns option length past the end", withOpt(0, optRr(1232, 0, 0, {0xFD, 0xE9, 0, 40, 1, 2})),
        Transport::Udp, 1232);
    add("edns unknown flag bits (Z) set", withOpt(0, optRr(1232, 0, 0x4001, {})), Transport::Udp,
        1232);
    add("edns do bit, NXDOMAIN",
        withOpt(0, optRr(1232, 0, 0x8000, {}), 1, questionBytes("nothere.example.test.", 1, 1)),
        Transport::Udp, 1232);
    add("OPT as the question type", query(0, questionBytes(www, 41, 1)), Transport::Udp, 512, 41);

    // The queries of ISC's EDNS compliance tester in full mode (genreport -f), one per test,
    // at the apex of example.test. as the tool asks them. Besides the comparison with NSD,
    // dnsd's answers to these must pass the tool's own verdicts (genreport_checks.hpp).
    const std::string apex = "example.test.";
    auto tool = [&](const std::string& test, const std::string& what, std::vector<uint8_t> wire,
                    Transport t, size_t limit, uint16_t qtype = kSoa) {
        add("genreport " + test + ": " + what, std::move(wire), t, limit, qtype);
        out.back().genreport = true;
        out.back().qname = qtype ? apex : "";
    };
    auto plain = [&](const std::string& test, const std::string& what, uint16_t flags,
                     uint16_t qtype = kSoa, Transport t = Transport::Udp) {
        tool(test, what, rawMessage(id++, flags, 1, 0, 0, 0, questionBytes(apex, qtype, 1)), t, 512,
             qtype);
    };
    // EDNS version 0 or 1, payload size, flags (DO is 0x8000) and raw options.
    auto edns = [&](const std::string& test, const std::string& what, uint8_t version,
                    uint16_t size, uint16_t eflags, const std::vector<uint8_t>& options,
                    uint16_t flags = 0, uint16_t qtype = kSoa, Transport t = Transport::Udp) {
        auto body = questionBytes(apex, qtype, 1);
        auto opt = optRr(size, version, eflags, options);
        body.insert(body.end(), opt.begin(), opt.end());
        tool(test, what, rawMessage(id++, flags, 1, 0, 0, 1, body), t, std::max<size_t>(size, 512),
             qtype);
    };
    const std::vector<uint8_t> nsid{0, 3, 0, 0};
    const std::vector<uint8_t> subnet{0, 8, 0, 4, 0, 1, 0, 0};  // IPv4, source prefix 0
    const std::vector<uint8_t> expire{0, 9, 0, 0};
    const std::vector<uint8_t> cookie{0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};  // client cookie
    const std::vector<uint8_t> option100{0, 100, 0, 0};  // unassigned: ignored, never echoed
    auto cat = [](std::vector<std::vector<uint8_t>> parts) {
        std::vector<uint8_t> v;
        for (const auto& p : parts) v.insert(v.end(), p.begin(), p.end());
        return v;
    };
    plain("dns", "plain SOA, no EDNS", 0);
    plain("aa", "AA set in the query", 0x0400);
    plain("ad", "AD set in the query", 0x0020);
    plain("cd", "CD set in the query", 0x0010);
    plain("ra", "RA set in the query", 0x0080);
    plain("rd", "RD set in the query", 0x0100);
    plain("tc", "TC set in the query", 0x0200);
    plain("zflag", "Z set in the query", 0x0040);
    tool("opcode", "opcode 15, header only", rawMessage(id++, 15 << 11, 0, 0, 0, 0, {}),
         Transport::Udp, 512, 0);
    tool("opcodeflg", "opcode 15, header only, every flag bit set",
         rawMessage(id++, 15 << 11 | 0x07F0, 0, 0, 0, 0, {}), Transport::Udp, 512, 0);
    plain("type666", "unknown type 666 at the apex", 0, 666);
    plain("tcp", "plain SOA", 0, kSoa, Transport::Tcp);
    edns("edns", "EDNS 0", 0, 4096, 0, {});
    edns("edns1", "EDNS version 1 (BADVERS)", 1, 4096, 0, {});
    edns("edns@512", "DNSKEY with DO at 512 octets", 0, 512, 0x8000, {}, 0, kDnskey);
    edns("ednsopt", "unassigned option 100", 0, 4096, 0, option100);
    edns("edns1opt", "version 1 and option 100", 1, 4096, 0, option100);
    edns("do", "DO", 0, 4096, 0x8000, {});
    edns("docd", "DO and CD", 0, 4096, 0x8000, {}, 0x0010);
    edns("edns1do", "version 1 and DO", 1, 4096, 0x8000, {});
    edns("ednsflags", "undefined EDNS flag 0x0080", 0, 4096, 0x0080, {});
    edns("optlist", "NSID, ECS, EXPIRE and COOKIE together", 0, 4096, 0,
         cat({nsid, subnet, expire, cookie}));
    edns("ednsnsid", "NSID", 0, 4096, 0, nsid);
    edns("ednscookie", "client cookie", 0, 4096, 0, cookie);
    edns("ednsexpire", "EXPIRE", 0, 4096, 0, expire);
    edns("ednssubnet", "client subnet 0.0.0.0/0", 0, 4096, 0, subnet);
    edns("edns1nsid", "version 1 and NSID", 1, 4096, 0, nsid);
    edns("edns1cookie", "version 1 and client cookie", 1, 4096, 0, cookie);
    edns("edns1expire", "version 1 and EXPIRE", 1, 4096, 0, expire);
    edns("edns1subnet", "version 1 and client subnet", 1, 4096, 0, subnet);
    edns("ednstcp", "DNSKEY with DO at 512 octets", 0, 512, 0x8000, {}, 0, kDnskey, Transport::Tcp);
    return out;
}

}  // namespace conformance
