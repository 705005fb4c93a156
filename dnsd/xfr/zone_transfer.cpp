#include "dnsd/xfr/zone_transfer.hpp"

#include <algorithm>
#include <cstring>

#include "dnsd/answer/rrset_writer.hpp"
#include "zones/wire_writer.hpp"

namespace dnsd {
namespace {

namespace rrtype = zones::rrtype;
constexpr uint8_t kNotAuth = 9, kRefused = 5, kFormErr = 1, kNoError = 0;
// Messages of about 16 KB: large enough that headers cost nothing, small enough that a
// transfer interleaves with the other clients of its TCP thread.
constexpr size_t kMessageTarget = 16384;

uint16_t get16(std::span<const uint8_t> m, size_t at) {
    return uint16_t((m[at] << 8) | m[at + 1]);
}

// RFC 1982: is `a` behind `b`?
bool serialBehind(uint32_t a, uint32_t b) {
    return a != b && int32_t(b - a) > 0;
}

// The request, taken apart.
struct Request {
    uint16_t qtype = 0;
    size_t questionEnd = 0;
    std::optional<zones::Name> qname;
    std::optional<uint32_t> clientSerial;  // IXFR: the SOA in the authority section
};

bool parseRequest(std::span<const uint8_t> q, Request& r) {
    if (q.size() < 12 || get16(q, 4) != 1) return false;
    size_t pos = 12;
    r.qname = zones::readMessageName(q, pos);
    if (!r.qname || pos + 4 > q.size()) return false;
    r.qtype = get16(q, pos);
    if (get16(q, pos + 2) != zones::rrclass::IN) return false;
    r.questionEnd = pos + 4;
    if (r.qtype != rrtype::IXFR) return true;
    // RFC 1995 §3: the authority section holds the client's SOA for the zone.
    pos = r.questionEnd;
    for (uint16_t i = 0; i < get16(q, 6); ++i) {  // answer records: skip (none expected)
        if (!zones::readMessageName(q, pos) || pos + 10 > q.size()) return false;
        pos += 10 + get16(q, pos + 8);
    }
    if (get16(q, 8) == 0) return false;
    auto owner = zones::readMessageName(q, pos);
    if (!owner || pos + 10 > q.size() || get16(q, pos) != rrtype::SOA) return false;
    size_t rdlen = get16(q, pos + 8), rd = pos + 10;
    if (rd + rdlen > q.size() || !(*owner == *r.qname)) return false;
    size_t p = rd;
    if (!zones::readMessageName(q, p) || !zones::readMessageName(q, p) || p + 20 > rd + rdlen)
        return false;
    r.clientSerial = uint32_t(get16(q, p)) << 16 | get16(q, p + 2);
    return true;
}

// A response with no records but the question (and the SOA when `soa` is given).
size_t singleResponse(std::span<const uint8_t> query, size_t questionEnd, uint8_t rcode,
                      std::span<uint8_t> out, const zones::ZoneSnapshot* soaOf) {
    zones::WireWriter w(out, std::min<size_t>(out.size(), 65535));
    w.bytes(query.data(), 12);
    uint16_t qd = 0;
    if (questionEnd > 12 && w.bytes(query.data() + 12, questionEnd - 12)) qd = 1;
    SectionCounts counts;
    if (soaOf) {
        RRsetWriter soa(w, counts, Section::Answer, Owner{12, nullptr}, rrtype::SOA);
        const zones::RRset& s = soaOf->soa();
        soa.add(soaOf->rdatas(s)[0].ttl, soaOf->bytes(soaOf->rdatas(s)[0]));
        soa.commit();
    }
    uint8_t* o = out.data();
    o[2] = uint8_t(0x80 | (query[2] & 0x79) | (rcode == kNoError ? 0x04 : 0));  // QR, AA
    o[3] = rcode;
    uint16_t v[4] = {qd, counts[Section::Answer], 0, 0};
    for (int i = 0; i < 4; ++i) {
        o[4 + 2 * i] = uint8_t(v[i] >> 8);
        o[5 + 2 * i] = uint8_t(v[i]);
    }
    return w.size();
}

}  // namespace

const char* xfrOutcomeName(XfrOutcome o) {
    switch (o) {
        case XfrOutcome::Axfr:
            return "axfr";
        case XfrOutcome::Ixfr:
            return "ixfr";
        case XfrOutcome::IxfrFull:
            return "ixfr-full";
        case XfrOutcome::IxfrCurrent:
            return "ixfr-current";
        case XfrOutcome::Refused:
            return "refused";
        case XfrOutcome::NotAuth:
            return "notauth";
        case XfrOutcome::FormErr:
            return "formerr";
    }
    return "?";
}

ZoneTransfer::Start ZoneTransfer::begin(std::shared_ptr<const ServedState> state,
                                        std::span<const uint8_t> query, std::span<uint8_t> out,
                                        const Client& client, uint64_t now) {
    Start s;
    Request req;
    const bool parsed = parseRequest(query, req);
    if (req.qname) {
        s.zone = req.qname->toText();
        s.zoneKey = std::string(req.qname->key());
    }
    static const XfrAcl kNoAcl;
    const XfrAcl& acl = state->xfr ? *state->xfr : kNoAcl;
    // TSIG first (RFC 8945 §5.2): a bad signature is answered as such whatever else is wrong.
    zones::TsigRequest tsig = zones::verifyTsigRequest(query, acl.keys, now);
    auto finish = [&](XfrOutcome outcome, uint8_t rcode, const zones::ZoneSnapshot* soa,
                      std::string detail) {
        s.outcome = outcome;
        s.detail = std::move(detail);
        s.size = singleResponse(query, req.questionEnd, rcode, out, soa);
        size_t limit = std::min<size_t>(out.size(), 65535);
        if (tsig.status == zones::TsigStatus::Valid) {
            zones::TsigSigner signer(*tsig.key, tsig.record.mac, now);
            s.size = signer.sign(out.data(), s.size, limit);
        } else if (tsig.status == zones::TsigStatus::Failed) {
            // BADKEY and BADSIG are answered unsigned; BADTIME and BADTRUNC signed (the MAC
            // was good), BADTIME with our clock (RFC 8945 §5.2.3).
            if (tsig.error == zones::TsigError::BadTime ||
                tsig.error == zones::TsigError::BadTrunc) {
                zones::TsigSigner signer(*tsig.key, tsig.record.mac, now);
                s.size = signer.sign(out.data(), s.size, limit, tsig.error);
            } else {
                s.size =
                    zones::appendUnsignedTsig(tsig.record, tsig.error, out.data(), s.size, limit);
            }
        }
        return std::move(s);
    };
    if (!parsed || tsig.status == zones::TsigStatus::Malformed)
        return finish(XfrOutcome::FormErr, kFormErr, nullptr,
                      parsed ? "malformed TSIG" : "malformed request");
    if (tsig.status == zones::TsigStatus::Failed) {
        const char* what = tsig.error == zones::TsigError::BadKey    ? "BADKEY"
                           : tsig.error == zones::TsigError::BadSig  ? "BADSIG"
                           : tsig.error == zones::TsigError::BadTime ? "BADTIME"
                                                                     : "BADTRUNC";
        return finish(XfrOutcome::NotAuth, kNotAuth, nullptr,
                      std::string("TSIG ") + what + " (key " + tsig.record.keyName.toText() + ")");
    }
    std::string_view key = req.qname->key();
    const zones::ZoneSnapshot* zone = state->zones->findZone(key);
    if (!zone || zone->apex().key() != key)
        return finish(XfrOutcome::NotAuth, kNotAuth, nullptr, "not a zone served here");
    const XfrAcl::Zone* aclZone = acl.find(key);
    bool listed = false;
    const zones::TsigKey* signedWith = tsig.status == zones::TsigStatus::Valid ? tsig.key : nullptr;
    if (!aclZone || !acl.allowed(*aclZone, client.family, client.addr, signedWith, listed))
        return finish(XfrOutcome::Refused, kRefused, nullptr,
                      !listed      ? std::string("address not allowed")
                      : signedWith ? "signed with key " + signedWith->name.toText() +
                                         ", not the one this secondary must use"
                                   : std::string("unsigned; this secondary must sign"));

    const uint32_t serial = zone->serial();
    if (req.qtype == rrtype::IXFR && !serialBehind(*req.clientSerial, serial))
        return finish(XfrOutcome::IxfrCurrent, kNoError, zone, "");

    s.outcome = req.qtype == rrtype::IXFR ? XfrOutcome::IxfrFull : XfrOutcome::Axfr;
    auto t = std::unique_ptr<ZoneTransfer>(new ZoneTransfer());
    // RFC 1995 §4: the differences when the journal reaches back to the client's serial as
    // one unbroken chain to ours; otherwise the full zone.
    // The journal holds the unsigned differences: a signed zone's secondaries get it whole.
    if (req.qtype == rrtype::IXFR && state->journals && !zone->isSigned()) {
        auto j = state->journals->find(std::string(key));
        if (j != state->journals->end()) {
            const auto& entries = j->second;
            size_t i = 0;
            while (i < entries.size() && entries[i].from != *req.clientSerial) ++i;
            bool chain = i < entries.size();
            for (size_t k = i; chain && k + 1 < entries.size(); ++k)
                chain = entries[k].to == entries[k + 1].from;
            if (chain && entries.back().to == serial) {
                for (size_t k = i; k < entries.size(); ++k) {
                    t->ixfr_.push_back(&entries[k].oldSoa);
                    for (const auto& r : entries[k].removed) t->ixfr_.push_back(&r);
                    t->ixfr_.push_back(&entries[k].newSoa);
                    for (const auto& r : entries[k].added) t->ixfr_.push_back(&r);
                }
                t->incremental_ = true;
                s.outcome = XfrOutcome::Ixfr;
            }
        }
    }
    t->state_ = std::move(state);
    t->zone_ = zone;
    t->question_.assign(query.begin(), query.begin() + ptrdiff_t(req.questionEnd));
    t->outcome_ = s.outcome;
    t->zoneKey_ = std::string(key);
    if (tsig.status == zones::TsigStatus::Valid) {
        t->key_ = *tsig.key;
        t->signer_.emplace(t->key_, tsig.record.mac, now);
    }
    s.transfer = std::move(t);
    return s;
}

size_t ZoneTransfer::next(std::span<uint8_t> out) {
    if (phase_ == 3) return 0;
    const zones::ZoneSnapshot& z = *zone_;
    const size_t reserve = signer_ ? signer_->recordSize() : 0;
    const size_t room = std::min<size_t>(out.size(), 65535) - reserve;
    zones::WireWriter w(out, std::min(room, kMessageTarget));
    const bool first = messages_ == 0;
    w.bytes(question_.data(), first ? question_.size() : 12);
    if (first) w.remember(12);
    SectionCounts counts;
    const Owner apex{-1, z.apex().wire().data()};
    // One record; false when it did not fit. A record that does not fit an empty message is
    // given the whole buffer (a 64 KB TXT), so the walk always moves on.
    auto put = [&](Owner owner, uint16_t type, uint32_t ttl, std::span<const uint8_t> rd) {
        {
            // Scoped: a failed writer rolls back when it goes, and must go before `again`
            // writes, or its rollback would take `again`'s bytes with it.
            RRsetWriter one(w, counts, Section::Answer, owner, type);
            one.add(ttl, rd);
            if (one.commit()) return true;
        }
        if (counts[Section::Answer] != 0) return false;
        w.setLimit(room);
        RRsetWriter again(w, counts, Section::Answer, owner, type);
        again.add(ttl, rd);
        again.commit();  // if even that fails the record is skipped: never a stuck stream
        return true;
    };
    const zones::RData& soa = z.rdatas(z.soa())[0];
    bool full = false;
    if (phase_ == 0) {
        put(apex, rrtype::SOA, soa.ttl, z.bytes(soa));
        phase_ = 1;
    }
    while (phase_ == 1 && !full && incremental_) {
        if (rdata_ >= ixfr_.size()) {
            phase_ = 2;
            break;
        }
        const zones::Record& r = *ixfr_[rdata_];
        if (!put(Owner{-1, r.owner.wire().data()}, r.type, r.ttl, r.rdata)) {
            full = true;
            break;
        }
        ++rdata_;
        ++records_;
    }
    while (phase_ == 1 && !full) {
        if (node_ >= z.nodeCount()) {
            phase_ = 2;
            break;
        }
        const zones::Node& n = z.node(int32_t(node_));
        auto sets = z.rrsets(n);
        auto pools = z.pools(n);
        if (n.removed || set_ >= sets.size() + pools.size()) {
            ++node_;
            set_ = rdata_ = 0;
            continue;
        }
        const Owner owner{-1, z.name(n)};
        if (set_ < sets.size()) {
            const zones::RRset& rs = sets[set_];
            // The apex SOA opens and closes the stream; a pool's type (or its CNAME) is
            // transferred as the pool serves it.
            bool replaced = rs.type == rrtype::SOA && node_ == 0;
            // An empty pool's owner carries the NSEC made for the empty answer instead.
            bool emptyPool = false;
            for (const zones::PoolBinding& b : pools) {
                replaced |= b.type == rs.type || b.type == rrtype::CNAME;
                const PoolAnswer* pa = state_->pools->find(b.poolId);
                emptyPool |= pa && pa->rdatas.empty() && !pa->emptyNsec.empty();
            }
            replaced |= emptyPool && rs.type == rrtype::NSEC;
            auto rds = z.rdatas(rs);
            if (replaced || rdata_ >= rds.size()) {
                ++set_;
                rdata_ = 0;
                continue;
            }
            if (emptyPool && rs.type == rrtype::RRSIG && z.bytes(rds[rdata_]).size() >= 2 &&
                (z.bytes(rds[rdata_])[0] << 8 | z.bytes(rds[rdata_])[1]) == rrtype::NSEC) {
                ++rdata_;
                continue;
            }
            if (!put(owner, rs.type, rds[rdata_].ttl, z.bytes(rds[rdata_]))) {
                full = true;
                break;
            }
            ++rdata_;
            ++records_;
            continue;
        }
        const zones::PoolBinding& b = pools[set_ - sets.size()];
        const PoolAnswer* pa = state_->pools->find(b.poolId);
        size_t count = !pa                       ? 0
                       : b.type == rrtype::CNAME ? std::min<size_t>(1, pa->rdatas.size())
                                                 : pa->rdatas.size();
        // Then, in a signed zone, the signatures of what the pool serves (the whole set), or
        // the empty answer's NSEC and its signatures.
        const auto* sigs = !pa                      ? nullptr
                           : count == 0             ? &pa->emptyNsecSigs
                           : pa->axfrRrsigs.empty() ? nullptr
                                                    : &pa->axfrRrsigs;
        const bool emptyNsec = pa && count == 0 && !pa->emptyNsec.empty();
        const size_t total = count + size_t(emptyNsec) + (sigs ? sigs->size() : 0);
        if (rdata_ >= total) {
            ++set_;
            rdata_ = 0;
            continue;
        }
        bool ok;
        if (rdata_ < count)
            ok = put(owner, b.type, pa->ttl, pa->rdatas[rdata_].bytes);
        else if (emptyNsec && rdata_ == count)
            ok = put(owner, rrtype::NSEC, z.negativeTtl(), pa->emptyNsec);
        else
            ok = put(owner, rrtype::RRSIG, count ? pa->ttl : z.negativeTtl(),
                     (*sigs)[rdata_ - count - size_t(emptyNsec)]);
        if (!ok) {
            full = true;
            break;
        }
        ++rdata_;
        ++records_;
    }
    if (phase_ == 2 && put(apex, rrtype::SOA, soa.ttl, z.bytes(soa))) phase_ = 3;

    uint8_t* o = out.data();
    o[2] = uint8_t(0x80 | (question_[2] & 0x79) | 0x04);  // QR, AA, RD as asked
    o[3] = 0;
    uint16_t v[4] = {uint16_t(first ? 1 : 0), counts[Section::Answer], 0, 0};
    for (int i = 0; i < 4; ++i) {
        o[4 + 2 * i] = uint8_t(v[i] >> 8);
        o[5 + 2 * i] = uint8_t(v[i]);
    }
    ++messages_;
    size_t size = w.size();
    if (signer_) size = signer_->sign(o, size, room + reserve);
    bytes_ += size;
    return size;
}

}  // namespace dnsd
