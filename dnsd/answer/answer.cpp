#include "dnsd/answer/answer.hpp"

#include <algorithm>
#include <cstring>

#include "dnsd/answer/rrset_writer.hpp"
#include "dnsd/answer/siphash.hpp"
#include "zones/wire_writer.hpp"

namespace dnsd {
namespace {

using zones::Node;
using zones::RData;
using zones::RRset;
using zones::WireWriter;
using zones::ZoneSnapshot;
namespace rrtype = zones::rrtype;

enum Rcode : uint8_t {
    NOERROR = 0,
    FORMERR = 1,
    SERVFAIL = 2,
    NXDOMAIN = 3,
    NOTIMP = 4,
    REFUSED = 5
};
constexpr uint16_t kHeaderSize = 12;
constexpr uint16_t kOptSize = 11;  // root name, type, class, ttl, rdlength: an OPT with no options
constexpr uint16_t kOptionNsid = 3, kOptionCookie = 10;
constexpr uint16_t kTypeTsig = 250;
// Room kept for the TSIG of a signed query's answer: its own size (same key name, same
// algorithm) plus the 6 octets of other data a BADTIME answer carries.
constexpr size_t kTsigExtra = 6;
constexpr uint16_t kServerCookieSize = 16;  // RFC 9018: version, reserved, time, SipHash-2-4
constexpr int32_t kCookieMaxAge = 3600, kCookieMaxAhead = 300;  // RFC 9018 §4.3
constexpr uint16_t kBadCookie = 23;                             // RFC 7873 §8: extended RCODE

uint16_t get16(const uint8_t* p) {
    return uint16_t((p[0] << 8) | p[1]);
}

// Everything the engine needs from the query, taken out once with every read bounds-checked.
struct Query {
    uint16_t id = 0;
    uint8_t opcode = 0;
    bool rd = false;
    bool cd = false;
    uint16_t qdcount = 0;
    size_t questionEnd = 0;  // 0 = no usable question
    uint16_t qtype = 0;
    uint16_t qclass = 0;
    bool edns = false;
    uint16_t ednsPayload = 0;
    uint8_t ednsVersion = 0;
    bool dnssecOk = false;
    bool nsid = false;                // the client asked for our NSID
    const uint8_t* cookie = nullptr;  // the client's 8-byte client cookie, if it sent one
    uint16_t cookieSize = 0;          // 8 (client cookie only) or 16..40 (with a server cookie)
    size_t tsigSize = 0;              // bytes of the query's TSIG RR (0: unsigned)
    bool wellFormed = false;          // question and every record parsed
    size_t limit = 512;               // largest response the transport and the client allow
};

// Skips a possibly compressed name in a record we do not interpret.
bool skipName(std::span<const uint8_t> q, size_t& pos) {
    for (size_t total = 0;;) {
        if (pos >= q.size()) return false;
        uint8_t len = q[pos];
        if ((len & 0xC0) == 0xC0) {
            if (pos + 2 > q.size()) return false;
            pos += 2;
            return true;
        }
        if (len > 63) return false;
        pos += 1 + len;
        total += 1 + len;
        if (total > zones::Name::kMaxWire) return false;
        if (len == 0) return true;
    }
}

// The size of the name at `at` written out without compression (0 if it does not parse):
// the same rules as zones::readMessageName, without building the name.
size_t expandedNameSize(std::span<const uint8_t> q, size_t at) {
    size_t total = 0;
    for (int hops = 0; hops < 64;) {
        if (at >= q.size()) return 0;
        uint8_t len = q[at];
        if ((len & 0xC0) == 0xC0) {
            if (at + 1 >= q.size()) return 0;
            at = size_t(len & 0x3F) << 8 | q[at + 1];
            ++hops;
            continue;
        }
        if (len > 63 || total + 1 + len > zones::Name::kMaxWire || at + 1 + len > q.size())
            return 0;
        total += 1 + len;
        if (len == 0) return total;
        at += 1 + len;
    }
    return 0;
}

// Parses the question (no compression allowed: nothing precedes it) into scratch.qname.
bool parseQuestion(std::span<const uint8_t> q, Query& query, Scratch& s) {
    size_t pos = kHeaderSize;
    size_t out = 0;
    for (;;) {
        if (pos >= q.size()) return false;
        uint8_t len = q[pos];
        if (len > 63) return false;
        if (out + 1 + len > zones::Name::kMaxWire || pos + 1 + len > q.size()) return false;
        s.qname[out++] = len;
        for (size_t i = 1; i <= len; ++i) s.qname[out++] = zones::foldCase(q[pos + i]);
        pos += 1 + len;
        if (len == 0) break;
    }
    if (pos + 4 > q.size()) return false;
    s.qnameSize = out;
    query.qtype = get16(&q[pos]);
    query.qclass = get16(&q[pos + 2]);
    query.questionEnd = pos + 4;
    return true;
}

// Walks answer/authority/additional of the query; takes EDNS(0) out of an OPT record.
bool parseRest(std::span<const uint8_t> q, Query& query, uint16_t an, uint16_t ns, uint16_t ar) {
    size_t pos = query.questionEnd;
    uint32_t total = uint32_t(an) + ns + ar;
    for (uint32_t i = 0; i < total; ++i) {
        size_t nameStart = pos;
        if (!skipName(q, pos)) return false;
        if (pos + 10 > q.size()) return false;
        uint16_t type = get16(&q[pos]);
        uint16_t cls = get16(&q[pos + 2]);
        uint32_t ttl = (uint32_t(get16(&q[pos + 4])) << 16) | get16(&q[pos + 6]);
        uint16_t rdlen = get16(&q[pos + 8]);
        pos += 10;
        if (pos + rdlen > q.size()) return false;
        if (type == kTypeTsig) {
            // RFC 8945 §5.1: the last record. Verified and answered by the transport (dnsd/xfr/
            // signs what the engine wrote); the engine only keeps room for it.
            if (i + 1 != total) return false;
            // The answer's TSIG writes the key and algorithm names out in full, and either may
            // be a compression pointer here: keep room for their full length, or a signed
            // answer can outgrow what the client takes.
            query.tsigSize = pos + rdlen - nameStart;
            size_t algEnd = pos;
            const size_t owner = expandedNameSize(q, nameStart), alg = expandedNameSize(q, pos);
            if (owner && alg && skipName(q, algEnd) && algEnd <= pos + rdlen)
                query.tsigSize += owner - (pos - 10 - nameStart) + alg - (algEnd - pos);
        }
        if (type == rrtype::OPT) {
            // RFC 6891 §6.1.1: one OPT, owned by the root, in the additional section only.
            if (i < uint32_t(an) + ns || query.edns || q[nameStart] != 0) return false;
            query.edns = true;
            query.ednsPayload = cls;
            query.ednsVersion = uint8_t(ttl >> 16);
            query.dnssecOk = (ttl & 0x8000) != 0;
            // Options must be well-formed; unknown ones are ignored (RFC 6891 §6.1.2).
            for (size_t o = pos; o < pos + rdlen;) {
                if (o + 4 > pos + rdlen) return false;
                uint16_t code = get16(&q[o]);
                uint16_t olen = get16(&q[o + 2]);
                if (o + 4 + olen > pos + rdlen) return false;
                if (code == kOptionNsid) {
                    if (olen != 0) return false;  // RFC 5001 §2.1: empty in queries
                    query.nsid = true;
                } else if (code == kOptionCookie && !query.cookie) {
                    // RFC 7873 §5.2.2: 8 (client only) or 16..40 octets, else FORMERR.
                    if (olen != 8 && (olen < 16 || olen > 40)) return false;
                    query.cookie = &q[o + 4];
                    query.cookieSize = olen;
                }
                o += 4 + olen;
            }
        }
        pos += rdlen;
    }
    return true;
}

class Responder {
  public:
    Responder(const zones::Snapshot& snap, const PoolTable& pools, const EngineConfig& config,
              const Query& q, WireWriter& w, Scratch& s)
        : snap_(snap), pools_(pools), config_(config), q_(q), w_(w), s_(s) {}

    uint8_t rcode = NOERROR;
    bool aa = false;
    bool tc = false;
    Outcome outcome = Outcome::Answer;
    SectionCounts counts;

    uint64_t rrlKey() const { return rrlKey_; }

    void resolve() {
        std::string_view key(reinterpret_cast<const char*>(s_.qname), s_.qnameSize);
        rrlKey_ = zones::nameHash(key) ^ q_.qtype;
        const ZoneSnapshot* zone = snap_.findZone(key);
        // DS lives on the parent side of a cut (RFC 4035 §3.1.4.1): when we also serve the
        // parent, a DS query for a child apex is answered from there.
        if (zone && q_.qtype == rrtype::DS && zone->apex().key() == key && key.size() > 1) {
            if (const ZoneSnapshot* parent = snap_.findZone(key.substr(1 + uint8_t(key[0]))))
                zone = parent;
        }
        if (!zone) {
            rcode = REFUSED;
            outcome = Outcome::Refused;
            return;
        }
        aa = true;
        Owner owner{kHeaderSize, nullptr};
        // Names already answered in this chain, so a loop (even through a wildcard) stops
        // the first time a name comes back.
        std::string_view seen[Scratch::kMaxChain + 1];
        size_t seenCount = 0;
        seen[seenCount++] = key;
        const unsigned maxChain = std::min<unsigned>(config_.maxCnameChain, Scratch::kMaxChain);
        for (unsigned chain = 0;; ++chain) {
            const uint8_t* next = step(*zone, key, owner, chain);
            if (!next || tc) return;
            // Follow a CNAME only inside this zone, only so far, and never in a circle.
            if (chain + 1 >= maxChain) return;
            uint8_t* buf = s_.chase[chain];
            size_t len = 0;
            for (size_t pos = 0;; pos += 1 + next[pos]) {
                uint8_t l = next[pos];
                for (size_t i = 0; i <= l; ++i) buf[pos + i] = zones::foldCase(next[pos + i]);
                if (l == 0) {
                    len = pos + 1;
                    break;
                }
            }
            key = std::string_view(reinterpret_cast<const char*>(buf), len);
            if (!inZone(*zone, key)) return;
            if (std::find(seen, seen + seenCount, key) != seen + seenCount) return;
            seen[seenCount++] = key;
            owner = Owner{-1, next};
        }
    }

    // Additional-section data gathered while answering, written last.
    void finishAdditional() {
        for (size_t i = 0; i < pendingCount_ && !tc; ++i) {
            const ZoneSnapshot& z = *pending_[i].zone;
            const Node& n = z.node(pending_[i].node);
            for (uint16_t t : {rrtype::A, rrtype::AAAA}) {
                if (const RRset* set = z.rrset(n, t))
                    addRRset(Section::Additional, Owner{-1, z.name(n)}, z, n, *set,
                             pending_[i].required);
            }
        }
    }

  private:
    static bool inZone(const ZoneSnapshot& zone, std::string_view key) {
        std::string_view apex = zone.apex().key();
        if (key.size() < apex.size() || key.substr(key.size() - apex.size()) != apex) return false;
        // The suffix must start on a label boundary.
        for (size_t pos = 0; pos <= key.size() - apex.size(); pos += 1 + uint8_t(key[pos]))
            if (pos == key.size() - apex.size()) return true;
        return false;
    }

    // Answers `key` in `zone`. Returns a CNAME target to chase, or nullptr when done.
    const uint8_t* step(const ZoneSnapshot& zone, std::string_view key, Owner owner,
                        unsigned chain) {
        int32_t idx = zone.find(key);
        if (idx >= 0) {
            const Node& n = zone.node(idx);
            if (n.cut >= 0 && !(n.cut == idx && q_.qtype == rrtype::DS)) {
                referral(zone, n.cut, chain);
                return nullptr;
            }
            return atNode(zone, n, owner, key);
        }
        // Closest encloser: the deepest existing ancestor (the apex at worst).
        std::string_view ce = key;
        int32_t ceIdx = -1;
        while (ceIdx < 0 && ce.size() > 1) {
            ce = ce.substr(1 + uint8_t(ce[0]));
            ceIdx = zone.find(ce);
        }
        if (ceIdx < 0) {  // cannot happen for a name inside the zone; answer safely anyway
            rcode = SERVFAIL;
            return nullptr;
        }
        const Node& encloser = zone.node(ceIdx);
        if (encloser.cut >= 0) {
            referral(zone, encloser.cut, chain);
            return nullptr;
        }
        if (encloser.wildcard >= 0) {
            // RFC 4035 §3.1.3.3: a wildcard answer proves that the name itself does not exist.
            if (dnssec(zone)) proveCovered(zone, key);
            return atNode(zone, zone.node(encloser.wildcard), owner, key);
        }
        rcode = NXDOMAIN;
        rrlKey_ = zones::nameHash(zone.apex().key());  // random-subdomain floods share one bucket
        outcome = Outcome::NxDomain;
        if (dnssec(zone)) {
            // RFC 4035 §3.1.3.2: no such name, and no wildcard at the closest encloser.
            proveCovered(zone, key);
            if (ce.size() + 2 <= zones::Name::kMaxWire) {
                s_.wildcard[0] = 1;
                s_.wildcard[1] = '*';
                std::memcpy(s_.wildcard + 2, ce.data(), ce.size());
                proveCovered(zone, {reinterpret_cast<const char*>(s_.wildcard), ce.size() + 2});
            }
        }
        negative(zone);
        return nullptr;
    }

    // The name exists (or a wildcard stands in for it): answer from its data and pools.
    const uint8_t* atNode(const ZoneSnapshot& zone, const Node& n, Owner owner,
                          std::string_view key) {
        const uint16_t qtype = q_.qtype;
        const zones::PoolBinding* cnamePool = nullptr;
        const zones::PoolBinding* typePool = nullptr;
        for (const zones::PoolBinding& b : zone.pools(n)) {
            if (b.type == rrtype::CNAME) cnamePool = &b;
            if (b.type == qtype || (qtype == rrtype::ANY && !typePool)) typePool = &b;
        }
        if (cnamePool && qtype != rrtype::CNAME && qtype != rrtype::ANY) {
            const PoolAnswer* pa = pools_.find(cnamePool->poolId);
            if (!pa || pa->rdatas.empty()) return poolNodata(zone, n, pa), nullptr;
            const PoolRecord& rd = pa->rdatas[0];
            if (!addRR(Section::Answer, owner, rrtype::CNAME, pa->ttl, rd.bytes)) return nullptr;
            if (!addPoolSigs(zone, owner, *pa, 0)) return nullptr;
            countServed(*pa, &rd, 1);
            outcome = Outcome::Answer;
            return rd.bytes.data();
        }
        const RRset* cname = zone.rrset(n, rrtype::CNAME);
        if (cname && qtype != rrtype::CNAME && qtype != rrtype::ANY) {
            if (!addRRset(Section::Answer, owner, zone, n, *cname, true)) return nullptr;
            outcome = Outcome::Answer;
            return zone.bytes(zone.rdatas(*cname)[0]).data();
        }
        if (typePool) {
            const PoolAnswer* pa = pools_.find(typePool->poolId);
            if (!pa || pa->rdatas.empty()) return poolNodata(zone, n, pa), nullptr;
            size_t count = pa->rdatas.size();
            size_t take = pa->maxAnswers ? std::min<size_t>(pa->maxAnswers, count) : count;
            size_t start = count > 1 ? s_.rotation++ % count : 0;
            RRsetWriter set(w_, counts, Section::Answer, owner, typePool->type);
            for (size_t i = 0; i < take; ++i)
                set.add(pa->ttl, pa->rdatas[(start + i) % count].bytes);
            if (!set.commit()) return missed(Section::Answer, true), nullptr;
            if (!addPoolSigs(zone, owner, *pa, take < count ? start : 0)) return nullptr;
            for (size_t i = 0; i < take; ++i)
                countServed(*pa, &pa->rdatas[(start + i) % count], i == 0);
            outcome = Outcome::Answer;
            return nullptr;
        }
        const RRset* set = nullptr;
        if (qtype == rrtype::ANY) {
            // RFC 8482: answer ANY with one RRset rather than everything we have.
            for (const RRset& s : zone.rrsets(n)) {
                if (s.type != rrtype::RRSIG) {
                    set = &s;
                    break;
                }
            }
        } else {
            set = zone.rrset(n, qtype);
        }
        if (!set) return nodata(zone, n, key), nullptr;
        if (!addRRset(Section::Answer, owner, zone, n, *set, true)) return nullptr;
        outcome = Outcome::Answer;
        queueTargets(zone, *set, false);
        return nullptr;
    }

    // The one write of the answer path outside Scratch: per-thread slots of the pool metrics.
    static void countServed(const PoolAnswer& pa, const PoolRecord* rd, bool newAnswer) {
        if (newAnswer && pa.answers) pa.answers->add();
        if (rd->served) rd->served->add();
    }

    // RFC 4035 §3.1.3.1: the name's own NSEC shows the type is absent; an empty non-terminal
    // has none, and the NSEC that covers it shows it has no data at all.
    void nodata(const ZoneSnapshot& zone, const Node& n, std::string_view key) {
        outcome = Outcome::NoData;
        if (dnssec(zone)) {
            if (zone.rrset(n, rrtype::NSEC))
                proveNode(zone, &n, nullptr);
            else
                proveCovered(zone, key);
        }
        negative(zone);
    }

    // NODATA from a pool with nothing to serve: the owner's NSEC lists the pool's type, so
    // the denial uses the NSEC made for the empty answer.
    void poolNodata(const ZoneSnapshot& zone, const Node& n, const PoolAnswer* pa) {
        outcome = Outcome::NoData;
        if (dnssec(zone) && pa && !pa->emptyNsec.empty()) proveNode(zone, &n, pa);
        negative(zone);
    }

    // RFC 2308: the zone's SOA in authority, with the negative-caching TTL; then the NSEC
    // proofs gathered on the way (DO only).
    void negative(const ZoneSnapshot& zone) {
        const RRset& soa = zone.soa();
        Owner apex{-1, zone.apex().wire().data()};
        if (!addRR(Section::Authority, apex, rrtype::SOA, zone.negativeTtl(),
                   zone.bytes(zone.rdatas(soa)[0])))
            return;
        if (dnssec(zone) && !addSigs(Section::Authority, apex, zone, zone.node(zone.apexNode()),
                                     rrtype::SOA, zone.negativeTtl()))
            missed(Section::Authority, true);
    }

    bool dnssec(const ZoneSnapshot& zone) const { return q_.dnssecOk && zone.isSigned(); }

    // Queues the NSEC of `n` (or a pool's empty-answer NSEC) for the authority section.
    void proveNode(const ZoneSnapshot& zone, const Node* n, const PoolAnswer* empty) {
        for (size_t i = 0; i < proofCount_; ++i)
            if (proofs_[i].node == n && proofs_[i].zone == &zone) return;
        if (proofCount_ < kMaxProofs) proofs_[proofCount_++] = {&zone, n, empty};
    }
    void proveCovered(const ZoneSnapshot& zone, std::string_view key) {
        int32_t idx = zone.nsecCovering(key);
        if (idx >= 0) proveNode(zone, &zone.node(idx), nullptr);
    }

  public:
    // The NSEC proofs, after everything else in authority (a referral's NS, the SOA).
    void finishProofs() {
        for (size_t i = 0; i < proofCount_ && !tc; ++i) {
            const Proof& p = proofs_[i];
            const ZoneSnapshot& z = *p.zone;
            Owner owner{-1, z.name(*p.node)};
            if (p.empty) {
                auto mark = w_.mark();
                SectionCounts before = counts;
                if (!addRR(Section::Authority, owner, rrtype::NSEC, z.negativeTtl(),
                           p.empty->emptyNsec))
                    return;
                RRsetWriter sigs(w_, counts, Section::Authority, owner, rrtype::RRSIG);
                for (const auto& rd : p.empty->emptyNsecSigs) sigs.add(z.negativeTtl(), rd);
                if (!sigs.commit()) {
                    w_.rollback(mark);
                    counts = before;
                    missed(Section::Authority, true);
                }
            } else if (const RRset* nsec = z.rrset(*p.node, rrtype::NSEC)) {
                addRRset(Section::Authority, owner, z, *p.node, *nsec, true);
            }
        }
    }

  private:
    void referral(const ZoneSnapshot& zone, int32_t cutIdx, unsigned chain) {
        const Node& cut = zone.node(cutIdx);
        if (chain == 0) rrlKey_ = zones::nameHash(zone.key(cut));
        const RRset* ns = zone.rrset(cut, rrtype::NS);
        if (chain == 0) {
            aa = false;
            outcome = Outcome::Referral;
        }
        if (!ns) return;
        Owner owner{-1, zone.name(cut)};
        if (!addRRset(Section::Authority, owner, zone, cut, *ns, true)) return;
        if (dnssec(zone)) {
            // RFC 4035 §3.1.4: the DS (signed) of a secure delegation, else the NSEC that
            // proves there is none.
            if (const RRset* ds = zone.rrset(cut, rrtype::DS)) {
                if (!addRRset(Section::Authority, owner, zone, cut, *ds, true)) return;
            } else {
                proveNode(zone, &cut, nullptr);
            }
        }
        queueTargets(zone, *ns, true);
    }

    void queueTargets(const ZoneSnapshot& zone, const RRset& set, bool glue) {
        for (int32_t t : zone.targets(set)) {
            // Outside a referral only authoritative data goes in additional, never glue.
            if (!glue && zone.node(t).cut >= 0) continue;
            bool seen = false;
            for (size_t i = 0; i < pendingCount_; ++i)
                seen |= pending_[i].zone == &zone && pending_[i].node == t;
            // RFC 9471: glue for name servers inside the delegated zone is required; if it
            // does not fit, the referral is truncated. Other additional data is optional.
            bool required = glue && zone.node(t).cut >= 0;
            if (!seen && pendingCount_ < kMaxPending)
                pending_[pendingCount_++] = {&zone, t, required};
        }
    }

    // A whole RRset or nothing (RRsetWriter), with its RRSIGs when the client set DO: the
    // set and its signatures go in together or not at all. What a miss means is decided in
    // missed().
    bool addRRset(Section section, Owner owner, const ZoneSnapshot& zone, const Node& node,
                  const RRset& set, bool required) {
        const auto mark = w_.mark();
        const SectionCounts before = counts;
        {
            RRsetWriter out(w_, counts, section, owner, set.type);
            for (const RData& rd : zone.rdatas(set)) out.add(rd.ttl, zone.bytes(rd));
            if (!out.commit()) return missed(section, required);
        }
        if (set.type == rrtype::RRSIG || !dnssec(zone) ||
            addSigs(section, owner, zone, node, set.type, 0))
            return true;
        w_.rollback(mark);
        counts = before;
        return missed(section, required);
    }

    // The RRSIGs at `node` that cover `type` (TTLs capped at `ttlCap` when it is set: the
    // SOA of a negative answer). False if they do not fit.
    bool addSigs(Section section, Owner owner, const ZoneSnapshot& zone, const Node& node,
                 uint16_t type, uint32_t ttlCap) {
        const RRset* sigs = zone.rrset(node, rrtype::RRSIG);
        if (!sigs) return true;
        RRsetWriter out(w_, counts, section, owner, rrtype::RRSIG);
        for (const RData& rd : zone.rdatas(*sigs)) {
            auto b = zone.bytes(rd);
            if (b.size() >= 2 && get16(b.data()) == type)
                out.add(ttlCap ? std::min(rd.ttl, ttlCap) : rd.ttl, b);
        }
        return out.commit();
    }

    // A pool answer's signatures (made with the pool table); TC when they do not fit.
    bool addPoolSigs(const ZoneSnapshot& zone, Owner owner, const PoolAnswer& pa, size_t window) {
        if (!dnssec(zone) || pa.rrsigs.empty()) return true;
        const auto& sigs = pa.rrsigs[window < pa.rrsigs.size() ? window : 0];
        RRsetWriter out(w_, counts, Section::Answer, owner, rrtype::RRSIG);
        for (const auto& rd : sigs) out.add(pa.ttl, rd);
        return out.commit() || missed(Section::Answer, true);
    }

    // An RRset of one record.
    bool addRR(Section section, Owner owner, uint16_t type, uint32_t ttl,
               std::span<const uint8_t> rd) {
        RRsetWriter out(w_, counts, section, owner, type);
        out.add(ttl, rd);
        return out.commit() || missed(section, true);
    }

    // An RRset did not fit. In answer and authority that truncates the response (TC, and
    // nothing more is written: NSD's encode_answer does the same); in additional it only
    // leaves optional data out (RFC 2181 §9), unless the data is required glue (RFC 9471).
    // Always false, so callers can return it.
    bool missed(Section section, bool required) {
        if (section != Section::Additional || required) tc = true;
        return false;
    }

    uint64_t rrlKey_ = 0;
    static constexpr size_t kMaxPending = 32;
    struct Pending {
        const ZoneSnapshot* zone;
        int32_t node;
        bool required;
    };
    Pending pending_[kMaxPending];
    size_t pendingCount_ = 0;
    // NSEC records for the authority section, written by finishProofs().
    static constexpr size_t kMaxProofs = 2 * (Scratch::kMaxChain + 1);
    struct Proof {
        const ZoneSnapshot* zone;
        const Node* node;
        const PoolAnswer* empty;  // a pool's empty-answer NSEC instead of the node's
    };
    Proof proofs_[kMaxProofs];
    size_t proofCount_ = 0;

    const zones::Snapshot& snap_;
    const PoolTable& pools_;
    const EngineConfig& config_;
    const Query& q_;
    WireWriter& w_;
    Scratch& s_;
};

// Fills in the header of a response to `q` (counts and all).
void writeHeader(uint8_t* out, const Query& q, uint8_t rcode, bool aa, bool tc, uint16_t qd,
                 const SectionCounts& counts, uint16_t ar) {
    out[0] = uint8_t(q.id >> 8);
    out[1] = uint8_t(q.id);
    out[2] =
        uint8_t(0x80 | (q.opcode << 3) | (aa ? 0x04 : 0) | (tc ? 0x02 : 0) | (q.rd ? 0x01 : 0));
    out[3] = uint8_t((q.cd ? 0x10 : 0) | (rcode & 0x0F));
    uint16_t v[4] = {qd, counts[Section::Answer], counts[Section::Authority], ar};
    for (int i = 0; i < 4; ++i) {
        out[4 + 2 * i] = uint8_t(v[i] >> 8);
        out[5 + 2 * i] = uint8_t(v[i]);
    }
}

// Bytes our OPT record takes for this query, options included.
size_t optSize(const EngineConfig& config, const Query& q) {
    size_t n = kOptSize;
    if (q.nsid && config.nsidSize) n += 4 + config.nsidSize;
    if (q.cookie && config.cookies) n += 4 + 8 + kServerCookieSize;
    return n;
}

// RFC 9018 §4: Version 1 | Reserved | Timestamp | SipHash-2-4(client cookie | version |
// reserved | timestamp | client address).
void serverCookie(const EngineConfig& config, const Client& client, const uint8_t* clientCookie,
                  uint32_t timestamp, uint8_t out[kServerCookieSize]) {
    uint8_t msg[8 + 8 + 16];
    std::memcpy(msg, clientCookie, 8);
    msg[8] = 1;
    msg[9] = msg[10] = msg[11] = 0;
    msg[12] = uint8_t(timestamp >> 24);
    msg[13] = uint8_t(timestamp >> 16);
    msg[14] = uint8_t(timestamp >> 8);
    msg[15] = uint8_t(timestamp);
    size_t addrLen = client.family == 6 ? 16 : client.family == 4 ? 4 : 0;
    std::memcpy(msg + 16, client.addr, addrLen);
    uint64_t h = siphash24(config.cookieSecret, msg, 16 + addrLen);
    std::memcpy(out, msg + 8, 8);
    for (int i = 0; i < 8; ++i) out[8 + i] = uint8_t(h >> (56 - 8 * i));
}

// RFC 7873 §5.2: what the client's COOKIE option says about it. A server cookie is valid
// when it is one we made (same secret, same client cookie and address) at most an hour ago
// and at most five minutes ahead of our clock (RFC 9018 §4.3). Forged, expired and another
// server's cookies (another secret) are all just invalid.
CookieState cookieState(const EngineConfig& config, const Query& q, const Client& client) {
    if (!config.cookies || !q.edns || !q.cookie) return CookieState::None;
    if (q.cookieSize == 8) return CookieState::ClientOnly;
    const uint8_t* sc = q.cookie + 8;
    if (q.cookieSize != 8 + kServerCookieSize || sc[0] != 1) return CookieState::Invalid;
    uint32_t ts = uint32_t(sc[4]) << 24 | uint32_t(sc[5]) << 16 | uint32_t(sc[6]) << 8 | sc[7];
    // Serial-number arithmetic (RFC 1982), so the check survives the 2106 wrap.
    int32_t age = int32_t(client.now - ts);
    if (age > kCookieMaxAge || age < -kCookieMaxAhead) return CookieState::Invalid;
    uint8_t expected[kServerCookieSize];
    serverCookie(config, client, q.cookie, ts, expected);
    // Constant time: a forger learns nothing from how long the comparison took.
    uint8_t diff = 0;
    for (size_t i = 0; i < kServerCookieSize; ++i) diff |= uint8_t(expected[i] ^ sc[i]);
    return diff == 0 ? CookieState::Valid : CookieState::Invalid;
}

bool writeOpt(WireWriter& w, const EngineConfig& config, const Query& q, const Client& client,
              uint8_t extendedRcode) {
    size_t rdlen = optSize(config, q) - kOptSize;
    bool ok = w.u8(0) && w.u16(rrtype::OPT) && w.u16(config.maxUdpPayload) &&
              w.u32((uint32_t(extendedRcode) << 24) | (q.dnssecOk ? 0x8000u : 0u)) &&
              w.u16(uint16_t(rdlen));
    if (ok && q.nsid && config.nsidSize)
        ok = w.u16(kOptionNsid) && w.u16(config.nsidSize) && w.bytes(config.nsid, config.nsidSize);
    if (ok && q.cookie && config.cookies) {
        uint8_t sc[kServerCookieSize];
        serverCookie(config, client, q.cookie, client.now, sc);
        ok = w.u16(kOptionCookie) && w.u16(8 + kServerCookieSize) && w.bytes(q.cookie, 8) &&
             w.bytes(sc, kServerCookieSize);
    }
    return ok;
}

// A response with no records: FORMERR, NOTIMP, REFUSED, BADVERS.
AnswerResult errorResponse(const Query& q, std::span<const uint8_t> query, std::span<uint8_t> out,
                           const EngineConfig& config, const Client& client, uint16_t rcode,
                           Outcome outcome) {
    AnswerResult r;
    r.outcome = outcome;
    r.rcode = uint8_t(rcode & 0x0F);
    r.qtype = q.qtype;
    r.cookie = cookieState(config, q, client);
    r.tsig = q.tsigSize > 0;
    WireWriter w(out, q.limit);
    w.bytes(query.data(), kHeaderSize);
    uint16_t qd = 0;
    if (q.questionEnd > kHeaderSize &&
        w.bytes(query.data() + kHeaderSize, q.questionEnd - kHeaderSize))
        qd = 1;
    uint16_t ar = 0;
    if (q.edns && writeOpt(w, config, q, client, uint8_t(rcode >> 4))) ar = 1;
    writeHeader(out.data(), q, uint8_t(rcode), false, false, qd, SectionCounts{}, ar);
    r.action = Action::Send;
    r.size = w.size();
    r.questionSize = kHeaderSize + (qd ? q.questionEnd - kHeaderSize : 0);
    return r;
}

// Takes apart header, question and EDNS. False (with `dropped` set) when the message gets no
// answer at all: shorter than a header, or a response (never answer one: reflection loops).
// What can be read of the question and EDNS is read before any verdict, so that every error
// response echoes what it can (question, OPT) whatever the verdict is.
bool readQuery(std::span<const uint8_t> query, size_t outSize, const EngineConfig& config,
               Transport transport, Scratch& scratch, Query& q, AnswerResult& dropped) {
    if (query.size() < kHeaderSize || outSize < 512) {
        dropped.outcome = Outcome::DropShort;
        return false;
    }
    if (query[2] & 0x80) {
        dropped.outcome = Outcome::DropResponse;
        return false;
    }
    q.id = get16(&query[0]);
    q.opcode = uint8_t((query[2] >> 3) & 0x0F);
    q.rd = q.opcode == 0 && (query[2] & 0x01) != 0;  // RD and CD are defined for QUERY only
    q.cd = q.opcode == 0 && (query[3] & 0x10) != 0;
    q.qdcount = get16(&query[4]);
    uint16_t an = get16(&query[6]), ns = get16(&query[8]), ar = get16(&query[10]);
    const bool questionOk = q.qdcount == 1 && parseQuestion(query, q, scratch);
    if (!questionOk) q.questionEnd = 0;
    q.wellFormed = questionOk && parseRest(query, q, an, ns, ar);
    if (!q.wellFormed) q.edns = false;
    q.limit = transport == Transport::Tcp ? std::min<size_t>(outSize, 65535) : 512;
    if (transport == Transport::Udp && q.edns)
        q.limit =
            std::clamp<size_t>(q.ednsPayload, 512, std::min<size_t>(config.maxUdpPayload, outSize));
    if (q.tsigSize) {
        // Never below header, question and OPT: every response has them (a query whose own
        // TSIG leaves no room gets them with TC, and the transport signs or refuses that).
        const size_t keep = q.tsigSize + kTsigExtra;
        const size_t floor =
            std::max<size_t>(kHeaderSize, q.questionEnd) + (q.edns ? optSize(config, q) : 0);
        q.limit = q.limit > keep + floor ? q.limit - keep : floor;
    }
    return true;
}

}  // namespace

AnswerResult answer(const zones::Snapshot& snapshot, const PoolTable& pools,
                    const EngineConfig& config, std::span<const uint8_t> query,
                    std::span<uint8_t> out, const Client& client, Scratch& scratch) noexcept {
    AnswerResult result;
    Query q;
    if (!readQuery(query, out.size(), config, client.transport, scratch, q, result)) return result;
    // The opcode comes first (RFC 1035 §4.1.1): another opcode may define the sections
    // differently (UPDATE, DSO), so a message we cannot serve is NOTIMP even when its sections
    // would be malformed as a QUERY. NSD, Knot and BIND answer so; ISC's EDNS compliance
    // tester checks it with a header-only opcode 15.
    if (q.opcode == 5) {  // UPDATE: the update thread owns the database (dnsd/update/)
        result.action = Action::Update;
        result.outcome = Outcome::Update;
        return result;
    }
    if (q.opcode != 0) return errorResponse(q, query, out, config, client, NOTIMP, Outcome::NotImp);
    if (!q.wellFormed)
        return errorResponse(q, query, out, config, client, FORMERR, Outcome::FormErr);
    if (q.edns && q.ednsVersion > 0)  // RFC 6891 §6.1.3: BADVERS (16), version 0 in our OPT
        return errorResponse(q, query, out, config, client, 16, Outcome::BadVers);
    if (q.qclass != zones::rrclass::IN && q.qclass != zones::rrclass::ANY)
        return errorResponse(q, query, out, config, client, REFUSED, Outcome::Refused);
    // AXFR is defined over TCP only (RFC 5936 §4.2); IXFR over UDP is answered by the
    // transfer code too (RFC 1995 §2: the SOA when current, else TC).
    if (q.qtype == rrtype::IXFR ||
        (q.qtype == rrtype::AXFR && client.transport == Transport::Tcp)) {
        result.action = Action::Transfer;
        result.outcome = Outcome::Transfer;
        result.qtype = q.qtype;
        result.cookie = cookieState(config, q, client);
        return result;
    }
    if (q.qtype == rrtype::AXFR)
        return errorResponse(q, query, out, config, client, REFUSED, Outcome::Refused);
    if (q.qtype == rrtype::OPT)
        return errorResponse(q, query, out, config, client, FORMERR, Outcome::FormErr);

    const size_t limit = q.limit;
    WireWriter w(out, limit - (q.edns ? optSize(config, q) : 0));
    w.bytes(query.data(), q.questionEnd);  // header (patched below) and question, as sent
    w.remember(kHeaderSize);
    Responder responder(snapshot, pools, config, q, w, scratch);
    responder.resolve();
    if (!responder.tc) responder.finishProofs();
    if (!responder.tc) responder.finishAdditional();
    w.setLimit(limit);
    uint16_t arCount = responder.counts[Section::Additional];
    if (q.edns && writeOpt(w, config, q, client, 0)) ++arCount;
    writeHeader(out.data(), q, responder.rcode, responder.aa, responder.tc, 1, responder.counts,
                arCount);

    result.action = Action::Send;
    result.outcome = responder.outcome;
    result.rcode = responder.rcode;
    result.truncated = responder.tc;
    result.qtype = q.qtype;
    result.size = w.size();
    result.questionSize = q.questionEnd;
    result.rrlKey = responder.rrlKey() ^ (uint64_t(responder.outcome) << 56);
    result.cookie = cookieState(config, q, client);
    result.tsig = q.tsigSize > 0;
    return result;
}

AnswerResult badCookie(const EngineConfig& config, std::span<const uint8_t> query,
                       std::span<uint8_t> out, const Client& client, Scratch& scratch) noexcept {
    AnswerResult result;
    Query q;
    if (!readQuery(query, out.size(), config, client.transport, scratch, q, result)) return result;
    if (cookieState(config, q, client) == CookieState::None) return result;  // nothing to answer
    return errorResponse(q, query, out, config, client, kBadCookie, Outcome::BadCookie);
}

}  // namespace dnsd
