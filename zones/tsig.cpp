#include "zones/tsig.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

#include "zones/record.hpp"

namespace zones {
namespace {

constexpr uint16_t kTypeTsig = 250;
constexpr uint16_t kClassAny = 255;

uint16_t get16(std::span<const uint8_t> m, size_t at) {
    return uint16_t((m[at] << 8) | m[at + 1]);
}
void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(uint8_t(x >> 8));
    v.push_back(uint8_t(x));
}
void put48(std::vector<uint8_t>& v, uint64_t x) {
    for (int s = 40; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
}

bool readName(std::span<const uint8_t> m, size_t& pos, Name& out) {
    auto n = readMessageName(m, pos);
    if (n) out = *n;
    return n.has_value();
}

bool skipName(std::span<const uint8_t> m, size_t& pos) {
    Name ignored;
    return readName(m, pos, ignored);
}

const EVP_MD* digest(TsigAlgorithm a) {
    switch (a) {
        case TsigAlgorithm::HmacSha1:
            return EVP_sha1();
        case TsigAlgorithm::HmacSha256:
            return EVP_sha256();
        case TsigAlgorithm::HmacSha384:
            return EVP_sha384();
        case TsigAlgorithm::HmacSha512:
            return EVP_sha512();
    }
    return EVP_sha256();
}

Name algorithmName(TsigAlgorithm a) {
    return *Name::fromText(tsigAlgorithmText(a) + ".");
}

std::vector<uint8_t> hmac(const TsigKey& key, const std::vector<uint8_t>& data) {
    unsigned int len = EVP_MAX_MD_SIZE;
    std::vector<uint8_t> mac(EVP_MAX_MD_SIZE);
    if (!HMAC(digest(key.algorithm), key.secret.data(), int(key.secret.size()), data.data(),
              data.size(), mac.data(), &len))
        return {};
    mac.resize(len);
    return mac;
}

// The TSIG variables (RFC 8945 §4.3.3) or, for later messages of a stream, the timers only.
void appendVariables(std::vector<uint8_t>& d, const Name& keyName, const Name& algorithm,
                     uint64_t time, uint16_t fudge, uint16_t error, std::span<const uint8_t> other,
                     bool timersOnly) {
    if (!timersOnly) {
        d.insert(d.end(), keyName.wire().begin(), keyName.wire().end());
        put16(d, kClassAny);
        put16(d, 0);  // TTL
        put16(d, 0);
        d.insert(d.end(), algorithm.wire().begin(), algorithm.wire().end());
    }
    put48(d, time);
    put16(d, fudge);
    if (!timersOnly) {
        put16(d, error);
        put16(d, uint16_t(other.size()));
        d.insert(d.end(), other.begin(), other.end());
    }
}

// The message as covered by a MAC: up to the TSIG RR, ARCOUNT less one, the original ID.
void appendStripped(std::vector<uint8_t>& d, std::span<const uint8_t> m, const TsigRecord& t) {
    size_t start = d.size();
    d.insert(d.end(), m.begin(), m.begin() + ptrdiff_t(t.offset));
    d[start] = uint8_t(t.originalId >> 8);
    d[start + 1] = uint8_t(t.originalId);
    uint16_t ar = uint16_t(get16(m, 10) - 1);
    d[start + 10] = uint8_t(ar >> 8);
    d[start + 11] = uint8_t(ar);
}

void appendPriorMac(std::vector<uint8_t>& d, std::span<const uint8_t> mac) {
    if (mac.empty()) return;
    put16(d, uint16_t(mac.size()));
    d.insert(d.end(), mac.begin(), mac.end());
}

bool equalConstantTime(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool timeOk(uint64_t signedAt, uint16_t fudge, uint64_t now) {
    uint64_t diff = signedAt > now ? signedAt - now : now - signedAt;
    return diff <= fudge;
}

// Appends a TSIG RR to the message in buf (size bytes) and raises ARCOUNT; 0 if it won't fit.
size_t appendRecord(uint8_t* buf, size_t size, size_t limit, const Name& keyName,
                    const Name& algorithm, uint64_t time, uint16_t fudge,
                    std::span<const uint8_t> mac, uint16_t error, std::span<const uint8_t> other) {
    std::vector<uint8_t> rr(keyName.wire().begin(), keyName.wire().end());
    put16(rr, kTypeTsig);
    put16(rr, kClassAny);
    put16(rr, 0);
    put16(rr, 0);
    size_t rdlenAt = rr.size();
    put16(rr, 0);
    rr.insert(rr.end(), algorithm.wire().begin(), algorithm.wire().end());
    put48(rr, time);
    put16(rr, fudge);
    put16(rr, uint16_t(mac.size()));
    rr.insert(rr.end(), mac.begin(), mac.end());
    put16(rr, uint16_t((buf[0] << 8) | buf[1]));  // original ID: the message's own
    put16(rr, error);
    put16(rr, uint16_t(other.size()));
    rr.insert(rr.end(), other.begin(), other.end());
    uint16_t rdlen = uint16_t(rr.size() - rdlenAt - 2);
    rr[rdlenAt] = uint8_t(rdlen >> 8);
    rr[rdlenAt + 1] = uint8_t(rdlen);
    if (size + rr.size() > limit) return 0;
    std::copy(rr.begin(), rr.end(), buf + size);
    uint16_t ar = uint16_t(((buf[10] << 8) | buf[11]) + 1);
    buf[10] = uint8_t(ar >> 8);
    buf[11] = uint8_t(ar);
    return size + rr.size();
}

}  // namespace

std::optional<TsigAlgorithm> tsigAlgorithmFromText(std::string_view text) {
    std::string t(text);
    if (!t.empty() && t.back() == '.') t.pop_back();
    for (char& c : t) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (t == "hmac-sha1") return TsigAlgorithm::HmacSha1;
    if (t == "hmac-sha256") return TsigAlgorithm::HmacSha256;
    if (t == "hmac-sha384") return TsigAlgorithm::HmacSha384;
    if (t == "hmac-sha512") return TsigAlgorithm::HmacSha512;
    return std::nullopt;
}

std::string tsigAlgorithmText(TsigAlgorithm a) {
    switch (a) {
        case TsigAlgorithm::HmacSha1:
            return "hmac-sha1";
        case TsigAlgorithm::HmacSha256:
            return "hmac-sha256";
        case TsigAlgorithm::HmacSha384:
            return "hmac-sha384";
        case TsigAlgorithm::HmacSha512:
            return "hmac-sha512";
    }
    return "hmac-sha256";
}

size_t tsigMacSize(TsigAlgorithm a) {
    return size_t(EVP_MD_get_size(digest(a)));
}

TsigFind findTsig(std::span<const uint8_t> m, TsigRecord& out) {
    if (m.size() < 12) return TsigFind::None;
    size_t pos = 12;
    const uint32_t qd = get16(m, 4);
    const uint32_t rrs = uint32_t(get16(m, 6)) + get16(m, 8) + get16(m, 10);
    for (uint32_t i = 0; i < qd; ++i) {
        if (!skipName(m, pos) || pos + 4 > m.size()) return TsigFind::None;
        pos += 4;
    }
    for (uint32_t i = 0; i < rrs; ++i) {
        size_t start = pos;
        Name owner;
        if (!readName(m, pos, owner) || pos + 10 > m.size()) return TsigFind::None;
        uint16_t type = get16(m, pos), cls = get16(m, pos + 2);
        uint32_t ttl = uint32_t(get16(m, pos + 4)) << 16 | get16(m, pos + 6);
        uint16_t rdlen = get16(m, pos + 8);
        pos += 10;
        size_t end = pos + rdlen;
        if (end > m.size()) return TsigFind::None;
        if (type == kTypeTsig) {
            // RFC 8945 §5.1: the last record, in the additional section, class ANY, TTL 0.
            if (i + 1 != rrs || get16(m, 10) == 0 || cls != kClassAny || ttl != 0 ||
                end != m.size())
                return TsigFind::Malformed;
            out.offset = start;
            out.keyName = owner;
            size_t r = pos;
            std::span<const uint8_t> rd = m.first(end);
            if (!readName(rd, r, out.algorithm) || r + 10 > end) return TsigFind::Malformed;
            out.timeSigned =
                uint64_t(get16(m, r)) << 32 | uint64_t(get16(m, r + 2)) << 16 | get16(m, r + 4);
            out.fudge = get16(m, r + 6);
            uint16_t macSize = get16(m, r + 8);
            r += 10;
            if (r + macSize + 6 > end) return TsigFind::Malformed;
            out.mac.assign(m.begin() + ptrdiff_t(r), m.begin() + ptrdiff_t(r + macSize));
            r += macSize;
            out.originalId = get16(m, r);
            out.error = get16(m, r + 2);
            uint16_t otherLen = get16(m, r + 4);
            r += 6;
            if (r + otherLen != end) return TsigFind::Malformed;
            out.other.assign(m.begin() + ptrdiff_t(r), m.begin() + ptrdiff_t(end));
            return TsigFind::Found;
        }
        pos = end;
    }
    return TsigFind::None;
}

TsigRequest verifyTsigRequest(std::span<const uint8_t> m, std::span<const TsigKey> keys,
                              uint64_t now) {
    TsigRequest r;
    switch (findTsig(m, r.record)) {
        case TsigFind::None:
            return r;
        case TsigFind::Malformed:
            r.status = TsigStatus::Malformed;
            return r;
        case TsigFind::Found:
            break;
    }
    const TsigRecord& t = r.record;
    r.status = TsigStatus::Failed;
    auto alg = tsigAlgorithmFromText(t.algorithm.toText());
    for (const TsigKey& k : keys)
        if (k.name == t.keyName && alg && k.algorithm == *alg) r.key = &k;
    if (!r.key) {
        r.error = TsigError::BadKey;
        return r;
    }
    // RFC 8945 §5.2.2.1: a MAC longer than the hash, or shorter than half of it (and than 10
    // octets), is malformed; a shorter one that is not malformed is a truncation we refuse.
    const size_t full = tsigMacSize(*alg);
    if (t.mac.size() > full || t.mac.size() < std::max<size_t>(10, full / 2)) {
        r.status = TsigStatus::Malformed;
        return r;
    }
    std::vector<uint8_t> d;
    d.reserve(t.offset + 128);
    appendStripped(d, m, t);
    appendVariables(d, t.keyName, t.algorithm, t.timeSigned, t.fudge, t.error, t.other, false);
    std::vector<uint8_t> mac = hmac(*r.key, d);
    mac.resize(std::min(mac.size(), t.mac.size()));
    if (!equalConstantTime(mac, t.mac)) {
        r.error = TsigError::BadSig;
        return r;
    }
    if (t.mac.size() != full) {
        r.error = TsigError::BadTrunc;
        return r;
    }
    if (!timeOk(t.timeSigned, t.fudge, now)) {
        r.error = TsigError::BadTime;
        return r;
    }
    r.status = TsigStatus::Valid;
    return r;
}

TsigSigner::TsigSigner(const TsigKey& key, std::span<const uint8_t> requestMac, uint64_t now,
                       uint16_t fudge)
    : key_(key), prior_(requestMac.begin(), requestMac.end()), now_(now), fudge_(fudge) {}

size_t TsigSigner::recordSize() const {
    return key_.name.wire().size() + 10 + algorithmName(key_.algorithm).wire().size() + 16 +
           tsigMacSize(key_.algorithm) + 6;  // + other data of BADTIME
}

size_t TsigSigner::sign(uint8_t* buf, size_t size, size_t limit, TsigError error) {
    const Name alg = algorithmName(key_.algorithm);
    // BADTIME tells the client our clock (RFC 8945 §5.2.3).
    std::vector<uint8_t> other;
    if (error == TsigError::BadTime) put48(other, now_);
    std::vector<uint8_t> d;
    d.reserve(size + 128);
    appendPriorMac(d, prior_);
    d.insert(d.end(), buf, buf + size);
    appendVariables(d, key_.name, alg, now_, fudge_, uint16_t(error), other, !first_);
    std::vector<uint8_t> mac = hmac(key_, d);
    size_t n =
        appendRecord(buf, size, limit, key_.name, alg, now_, fudge_, mac, uint16_t(error), other);
    if (n == 0) return 0;
    prior_ = std::move(mac);
    first_ = false;
    return n;
}

size_t appendUnsignedTsig(const TsigRecord& request, TsigError error, uint8_t* buf, size_t size,
                          size_t limit) {
    return appendRecord(buf, size, limit, request.keyName, request.algorithm, request.timeSigned,
                        request.fudge, {}, uint16_t(error), {});
}

bool TsigVerifier::verify(std::span<const uint8_t> m, uint64_t now) {
    TsigRecord t;
    if (findTsig(m, t) != TsigFind::Found) return false;
    auto alg = tsigAlgorithmFromText(t.algorithm.toText());
    if (!(t.keyName == key_.name) || !alg || *alg != key_.algorithm || t.error != 0) return false;
    std::vector<uint8_t> d;
    appendPriorMac(d, prior_);
    appendStripped(d, m, t);
    appendVariables(d, t.keyName, t.algorithm, t.timeSigned, t.fudge, t.error, t.other, !first_);
    std::vector<uint8_t> mac = hmac(key_, d);
    if (!equalConstantTime(mac, t.mac) || !timeOk(t.timeSigned, t.fudge, now)) return false;
    prior_ = t.mac;
    first_ = false;
    return true;
}

std::optional<std::vector<uint8_t>> base64Decode(std::string_view text) {
    std::string t;
    for (char c : text)
        if (!std::isspace(static_cast<unsigned char>(c))) t += c;
    if (t.empty() || t.size() % 4 != 0) return std::nullopt;
    std::vector<uint8_t> out(t.size() / 4 * 3);
    int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(t.data()),
                            int(t.size()));
    if (n < 0) return std::nullopt;
    size_t pad = t.back() == '=' ? (t[t.size() - 2] == '=' ? 2 : 1) : 0;
    out.resize(size_t(n) - pad);
    return out;
}

std::string base64Encode(std::span<const uint8_t> bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                            int(bytes.size()));
    out.resize(size_t(n));
    return out;
}

}  // namespace zones
