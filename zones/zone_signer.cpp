#include "zones/zone_signer.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>

#include "zones/canonical.hpp"

namespace zones {

namespace {

bool isDnssecType(uint16_t t) {
    return t == rrtype::RRSIG || t == rrtype::NSEC || t == rrtype::NSEC3 || t == 51 /*NSEC3PARAM*/;
}
bool isApexKeyType(uint16_t t) {
    return t == rrtype::DNSKEY || t == 59 /*CDS*/ || t == 60 /*CDNSKEY*/;
}

void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(uint8_t(x >> 8));
    v.push_back(uint8_t(x));
}
void put32(std::vector<uint8_t>& v, uint32_t x) {
    put16(v, uint16_t(x >> 16));
    put16(v, uint16_t(x));
}
uint32_t get32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

bool sameRdatas(const std::vector<std::span<const uint8_t>>& a,
                const std::vector<std::span<const uint8_t>>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (!std::equal(a[i].begin(), a[i].end(), b[i].begin(), b[i].end())) return false;
    return true;
}

}  // namespace

ZoneSigner::ZoneSigner(Name apex, SigningPolicy policy, std::vector<ZoneKey> keys)
    : apex_(std::move(apex)), policy_(policy), keys_(std::move(keys)) {
    for (const ZoneKey& k : keys_) {
        if (!k.sign) continue;
        (k.key->ksk() ? ksks_ : zsks_).push_back(k.key.get());
    }
    // A zone whose only signing key is a KSK (or a ZSK) still gets every RRset signed.
    if (zsks_.empty()) zsks_ = ksks_;
    if (ksks_.empty()) ksks_ = zsks_;
    fingerprint_ = std::to_string(policy_.epoch) + "/" + std::to_string(policy_.validity) + "/" +
                   std::to_string(policy_.dnskeyTtl) + "/" + (policy_.unsigning ? "u" : "s");
    for (const ZoneKey& k : keys_) {
        fingerprint_ += ";" + std::to_string(k.key->tag()) + "/" + std::to_string(k.key->flags()) +
                        "/" + (k.publish ? "p" : "") + (k.sign ? "s" : "") + (k.cds ? "c" : "") +
                        "/";
        for (uint8_t b : k.key->dnskey())
            fingerprint_ += char('a' + (b & 15)), fingerprint_ += char('a' + (b >> 4));
    }
}

ZoneSigner::Times ZoneSigner::times(std::string_view owner, uint16_t type) const {
    uint64_t h = nameHash(owner) ^ (uint64_t(type) * 0x9E3779B97F4A7C15ull);
    uint32_t spread = policy_.validity / 16;
    uint32_t jitter = spread ? uint32_t(h % spread) : 0;
    return {uint32_t(policy_.epoch - 3600), uint32_t(policy_.epoch + policy_.validity + jitter)};
}

void ZoneSigner::rrsigHeader(std::string_view owner, uint16_t type, uint32_t ttl,
                             const SigningKey& key, std::vector<uint8_t>& out) const {
    Times t = times(owner, type);
    out.clear();
    put16(out, type);
    out.push_back(key.algorithm());
    out.push_back(rrsigLabels(owner));
    put32(out, ttl);
    put32(out, t.expiration);
    put32(out, t.inception);
    put16(out, key.tag());
    std::string_view signer = apex_.key();
    out.insert(out.end(), signer.begin(), signer.end());
}

bool ZoneSigner::reuseSignature(const ZoneSnapshot& previous, std::string_view owner, uint16_t type,
                                uint32_t ttl, const std::vector<std::span<const uint8_t>>& rdatas,
                                const std::vector<uint8_t>& header,
                                std::vector<std::span<const uint8_t>>& scratch,
                                RecordBatch& out) const {
    int32_t pi = previous.find(owner);
    if (pi < 0) return false;
    const Node& pn = previous.node(pi);
    const RRset* ps = previous.rrset(pn, type);
    const RRset* psig = previous.rrset(pn, rrtype::RRSIG);
    if (!ps || !psig || previous.rdatas(*ps)[0].ttl != ttl) return false;
    scratch.clear();
    for (const RData& rd : previous.rdatas(*ps)) scratch.push_back(previous.bytes(rd));
    if (!sameRdatas(scratch, rdatas)) return false;
    for (const RData& rd : previous.rdatas(*psig)) {
        auto bytes = previous.bytes(rd);
        if (bytes.size() > header.size() &&
            std::equal(header.begin(), header.end(), bytes.begin())) {
            out.add(owner, rrtype::RRSIG, rrclass::IN, ttl, bytes);
            return true;
        }
    }
    return false;
}

void ZoneSigner::addApexRecords(RecordBatch& input) const {
    const std::string_view apexKey = apex_.key();
    for (const ZoneKey& k : keys_)
        if (k.publish)
            input.add(apexKey, rrtype::DNSKEY, rrclass::IN, policy_.dnskeyTtl, k.key->dnskey());
    if (policy_.unsigning) {
        const uint8_t cdsDelete[] = {0, 0, 0, 0, 0}, cdnskeyDelete[] = {0, 0, 3, 0, 0};
        input.add(apexKey, 59, rrclass::IN, policy_.dnskeyTtl, cdsDelete);
        input.add(apexKey, 60, rrclass::IN, policy_.dnskeyTtl, cdnskeyDelete);
        return;
    }
    for (const ZoneKey& k : keys_) {
        if (!k.cds) continue;
        input.add(apexKey, 59, rrclass::IN, policy_.dnskeyTtl, dsRdata(apexKey, k.key->dnskey()));
        input.add(apexKey, 60, rrclass::IN, policy_.dnskeyTtl, k.key->dnskey());
    }
}

const std::vector<const SigningKey*>& ZoneSigner::signersFor(uint16_t type, bool atApex) const {
    return atApex && isApexKeyType(type) ? ksks_ : zsks_;
}

namespace {

// What one thread needs to make RRSIGs: reusable buffers.
struct SignBuffers {
    std::vector<uint8_t> data, canon;
    std::vector<std::vector<uint8_t>> rdatas;
};

}  // namespace

// Signs one RRset with one key into `out` (the RRSIG RDATA); false if OpenSSL failed.
static bool signWith(const std::vector<uint8_t>& header, std::string_view owner, uint16_t type,
                     uint32_t ttl, const std::vector<std::span<const uint8_t>>& rdatas,
                     const SigningKey& key, SignBuffers& b, std::vector<uint8_t>& out) {
    b.rdatas.resize(rdatas.size());
    for (size_t i = 0; i < rdatas.size(); ++i) canonicalRdata(type, rdatas[i], b.rdatas[i]);
    std::sort(b.rdatas.begin(), b.rdatas.end(), [](const auto& x, const auto& y) {
        return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end());
    });
    b.rdatas.erase(std::unique(b.rdatas.begin(), b.rdatas.end()), b.rdatas.end());
    b.data = header;
    for (const auto& rd : b.rdatas) {
        b.data.insert(b.data.end(), owner.begin(), owner.end());
        put16(b.data, type);
        put16(b.data, rrclass::IN);
        put32(b.data, ttl);
        put16(b.data, uint16_t(rd.size()));
        b.data.insert(b.data.end(), rd.begin(), rd.end());
    }
    out = header;
    return key.sign(b.data, out);
}

std::vector<std::vector<uint8_t>> ZoneSigner::signRRset(
    std::string_view owner, uint16_t type, uint32_t ttl,
    const std::vector<std::span<const uint8_t>>& rdatas) const {
    std::vector<std::vector<uint8_t>> out;
    SignBuffers b;
    std::vector<uint8_t> header;
    for (const SigningKey* key : signersFor(type, owner == apex_.key())) {
        rrsigHeader(owner, type, ttl, *key, header);
        std::vector<uint8_t> sig;
        if (!signWith(header, owner, type, ttl, rdatas, *key, b, sig))
            throw std::runtime_error("zone " + apex_.toText() + ": signing failed (OpenSSL)");
        out.push_back(std::move(sig));
    }
    return out;
}

std::shared_ptr<const ZoneSnapshot> ZoneSigner::build(const RecordBatch& records,
                                                      std::vector<PoolBinding> pools,
                                                      uint64_t generation,
                                                      const ZoneSnapshot* previous) const {
    const std::string_view apexKey = apex_.key();
    RecordBatch input;
    input.reserve(records.size() * 3 + 16, records.memoryBytes());
    for (size_t i = 0; i < records.size(); ++i) {
        const RecordBatch::Entry& e = records.entry(i);
        std::string_view owner = records.owner(e);
        if (isDnssecType(e.type) || (isApexKeyType(e.type) && owner == apexKey)) continue;
        input.add(owner, e.type, e.rclass, e.ttl, records.rdata(e));
    }
    addApexRecords(input);
    auto plain = ZoneSnapshot::build(apex_, input, pools, generation);
    const ZoneSnapshot& u = *plain;

    // Authoritative names, in canonical order: everything with data or a pool, except what
    // lies below a zone cut (glue); empty non-terminals have no NSEC (RFC 4035 §2.3).
    std::vector<std::pair<std::string, int32_t>> order;
    order.reserve(u.nodeCount());
    for (size_t i = 0; i < u.nodeCount(); ++i) {
        const Node& n = u.node(int32_t(i));
        if (n.removed || (n.cut >= 0 && n.cut != int32_t(i))) continue;
        if (n.rrsetCount == 0 && n.poolCount == 0) continue;
        order.emplace_back(canonicalSortKey(u.key(n)), int32_t(i));
    }
    std::sort(order.begin(), order.end());
    const uint32_t nsecTtl = u.negativeTtl();

    std::vector<std::vector<uint8_t>> nsecs(order.size());
    std::vector<uint16_t> types;
    std::vector<uint8_t> bitmap;
    for (size_t j = 0; j < order.size(); ++j) {
        const Node& n = u.node(order[j].second);
        const bool cut = n.cut >= 0 && order[j].second != 0;
        types.clear();
        for (const RRset& s : u.rrsets(n))
            if (!cut || s.type == rrtype::NS || s.type == rrtype::DS) types.push_back(s.type);
        for (const PoolBinding& b : u.pools(n)) types.push_back(b.type);
        types.push_back(rrtype::NSEC);
        types.push_back(rrtype::RRSIG);
        typeBitmap(types, bitmap);
        std::string_view next = u.key(u.node(order[(j + 1) % order.size()].second));
        nsecs[j].assign(next.begin(), next.end());
        nsecs[j].insert(nsecs[j].end(), bitmap.begin(), bitmap.end());
        input.add(u.key(n), rrtype::NSEC, rrclass::IN, nsecTtl, nsecs[j]);
    }

    struct Job {
        int32_t node;
        uint32_t nsec;  // index into nsecs when type is NSEC
        uint16_t type;
        const SigningKey* key;
    };
    std::vector<Job> jobs;
    jobs.reserve(order.size() * 2);
    for (size_t j = 0; j < order.size(); ++j) {
        const int32_t idx = order[j].second;
        const Node& n = u.node(idx);
        const bool cut = n.cut >= 0 && idx != 0;
        for (const RRset& s : u.rrsets(n)) {
            if (cut && s.type != rrtype::DS) continue;
            for (const SigningKey* k : signersFor(s.type, idx == 0))
                jobs.push_back({idx, 0, s.type, k});
        }
        for (const SigningKey* k : zsks_) jobs.push_back({idx, uint32_t(j), rrtype::NSEC, k});
    }

    const bool reuse = previous && previous->signedWith() == fingerprint_;
    std::atomic<size_t> nextJob{0};
    std::atomic<bool> failed{false};
    unsigned threads = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(),
                                                       unsigned(jobs.size() / 512 + 1)));
    std::vector<RecordBatch> out(threads);
    auto work = [&](unsigned t) {
        SignBuffers b;
        std::vector<uint8_t> header, sig;
        std::vector<std::span<const uint8_t>> rdatas, old;
        constexpr size_t kChunk = 64;
        for (size_t start; (start = nextJob.fetch_add(kChunk)) < jobs.size() && !failed;) {
            for (size_t i = start; i < std::min(jobs.size(), start + kChunk); ++i) {
                const Job& job = jobs[i];
                const Node& n = u.node(job.node);
                std::string_view owner = u.key(n);
                uint32_t ttl = nsecTtl;
                rdatas.clear();
                if (job.type == rrtype::NSEC) {
                    rdatas.push_back(nsecs[job.nsec]);
                } else {
                    const RRset* s = u.rrset(n, job.type);
                    ttl = u.rdatas(*s)[0].ttl;
                    for (const RData& rd : u.rdatas(*s)) rdatas.push_back(u.bytes(rd));
                }
                rrsigHeader(owner, job.type, ttl, *job.key, header);
                if (reuse &&
                    reuseSignature(*previous, owner, job.type, ttl, rdatas, header, old, out[t]))
                    continue;
                if (!signWith(header, owner, job.type, ttl, rdatas, *job.key, b, sig)) {
                    failed = true;
                    return;
                }
                out[t].add(owner, rrtype::RRSIG, rrclass::IN, ttl, sig);
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (std::thread& th : pool) th.join();
    if (failed) throw std::runtime_error("zone " + apex_.toText() + ": signing failed (OpenSSL)");
    plain.reset();
    for (const RecordBatch& b : out)
        for (size_t i = 0; i < b.size(); ++i) {
            const auto& e = b.entry(i);
            input.add(b.owner(e), e.type, e.rclass, e.ttl, b.rdata(e));
        }
    return ZoneSnapshot::build(apex_, input, std::move(pools), generation, fingerprint_,
                               policy_.epoch + policy_.validity);
}

std::shared_ptr<const ZoneSnapshot> ZoneSigner::patch(const ZoneSnapshot& base,
                                                      const std::vector<std::string>& owners,
                                                      const RecordBatch& records,
                                                      uint64_t generation) const {
    if (base.signedWith() != fingerprint_) return nullptr;
    const std::string_view apexKey = apex_.key();
    RecordBatch input;
    bool apex = false;
    for (const std::string& o : owners) apex |= o == apexKey;
    for (size_t i = 0; i < records.size(); ++i) {
        const RecordBatch::Entry& e = records.entry(i);
        std::string_view owner = records.owner(e);
        if (isDnssecType(e.type) || (isApexKeyType(e.type) && owner == apexKey)) continue;
        input.add(owner, e.type, e.rclass, e.ttl, records.rdata(e));
    }
    if (apex) addApexRecords(input);
    // Each owner's records by type.
    std::map<std::string_view, std::map<uint16_t, std::vector<size_t>>> byOwner;
    for (size_t i = 0; i < input.size(); ++i)
        byOwner[input.owner(input.entry(i))][input.entry(i).type].push_back(i);

    RecordBatch out = input;
    SignBuffers b;
    std::vector<uint8_t> header, sig, bitmap;
    std::vector<std::span<const uint8_t>> rdatas, scratch;
    std::vector<uint16_t> types;
    for (const std::string& key : owners) {
        const int32_t idx = base.find(key);
        auto data = byOwner.find(key);
        if (idx < 0 || data == byOwner.end()) return nullptr;  // a name comes or goes
        const Node& n = base.node(idx);
        if (n.cut >= 0 && n.cut != idx) continue;  // glue: never signed
        const bool cut = n.cut == idx && idx != 0;
        const RRset* nsec = base.rrset(n, rrtype::NSEC);
        if (!nsec) return nullptr;  // an empty non-terminal gains data: a new NSEC owner
        types.clear();
        for (const auto& [type, rows] : data->second)
            if (!cut || type == rrtype::NS || type == rrtype::DS) types.push_back(type);
        for (const PoolBinding& pb : base.pools(n)) types.push_back(pb.type);
        types.push_back(rrtype::NSEC);
        types.push_back(rrtype::RRSIG);
        typeBitmap(types, bitmap);
        const RData& nsecRd = base.rdatas(*nsec)[0];
        auto nsecBytes = base.bytes(nsecRd);
        auto oldBitmap = nsecBytes.subspan(wireNameLength(nsecBytes));
        if (!std::equal(bitmap.begin(), bitmap.end(), oldBitmap.begin(), oldBitmap.end()))
            return nullptr;
        if (idx == 0) {
            // The SOA's TTL and MINIMUM decide every NSEC's TTL (RFC 9077).
            auto soaRows = data->second.find(rrtype::SOA);
            if (soaRows == data->second.end() || soaRows->second.size() != 1) return nullptr;
            const RecordBatch::Entry& se = input.entry(soaRows->second[0]);
            auto soa = input.rdata(se);
            if (soa.size() < 4) return nullptr;
            uint32_t minimum = get32(soa.data() + soa.size() - 4);
            if (std::min(se.ttl, minimum) != base.negativeTtl()) return nullptr;
        }
        out.add(key, rrtype::NSEC, rrclass::IN, nsecRd.ttl, nsecBytes);
        if (const RRset* sigs = base.rrset(n, rrtype::RRSIG))
            for (const RData& rd : base.rdatas(*sigs)) {
                auto bytes = base.bytes(rd);
                if (bytes.size() >= 2 && (bytes[0] << 8 | bytes[1]) == rrtype::NSEC)
                    out.add(key, rrtype::RRSIG, rrclass::IN, rd.ttl, bytes);
            }
        for (const auto& [type, rows] : data->second) {
            if (cut && type != rrtype::DS) continue;
            rdatas.clear();
            for (size_t row : rows) rdatas.push_back(input.rdata(input.entry(row)));
            // The order the snapshot keeps (by RDATA), so reuse compares like with like.
            auto less = [](auto x, auto y) {
                return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end());
            };
            auto same = [](auto x, auto y) {
                return std::equal(x.begin(), x.end(), y.begin(), y.end());
            };
            std::sort(rdatas.begin(), rdatas.end(), less);
            rdatas.erase(std::unique(rdatas.begin(), rdatas.end(), same), rdatas.end());
            const uint32_t ttl = input.entry(rows[0]).ttl;
            for (const SigningKey* k : signersFor(type, idx == 0)) {
                rrsigHeader(key, type, ttl, *k, header);
                if (reuseSignature(base, key, type, ttl, rdatas, header, scratch, out)) continue;
                if (!signWith(header, key, type, ttl, rdatas, *k, b, sig))
                    throw std::runtime_error("zone " + apex_.toText() +
                                             ": signing failed (OpenSSL)");
                out.add(key, rrtype::RRSIG, rrclass::IN, ttl, sig);
            }
        }
    }
    return ZoneSnapshot::patch(base, owners, out, generation, true);
}

}  // namespace zones
