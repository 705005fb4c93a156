#include "dnsd/xfr/tsig_answer.hpp"

#include <algorithm>
#include <cstring>

namespace dnsd {

size_t signAnswer(const XfrAcl* acl, std::span<const uint8_t> query, std::span<uint8_t> out,
                  size_t size, size_t questionSize, uint64_t now) {
    static const std::vector<zones::TsigKey> kNoKeys;
    const auto& keys = acl ? acl->keys : kNoKeys;
    const size_t limit = std::min<size_t>(out.size(), 65535);
    zones::TsigRequest req = zones::verifyTsigRequest(query, keys, now);
    if (req.status == zones::TsigStatus::Valid) {
        zones::TsigSigner signer(*req.key, req.record.mac, now);
        size_t signedSize = signer.sign(out.data(), size, limit);
        if (signedSize) return signedSize;
    }
    // An error answer: header and question only.
    uint8_t* o = out.data();
    size = std::max<size_t>(12, std::min(size, questionSize));
    const bool formErr = req.status != zones::TsigStatus::Failed;
    o[2] &= 0xF9;                                       // no AA, no TC
    o[3] = uint8_t((o[3] & 0xF0) | (formErr ? 1 : 9));  // FORMERR or NOTAUTH
    std::memset(o + 6, 0, 6);
    if (formErr) return size;
    if (req.error == zones::TsigError::BadTime || req.error == zones::TsigError::BadTrunc) {
        zones::TsigSigner signer(*req.key, req.record.mac, now);
        size_t n = signer.sign(o, size, limit, req.error);
        return n ? n : size;
    }
    size_t n = zones::appendUnsignedTsig(req.record, req.error, o, size, limit);
    return n ? n : size;
}

}  // namespace dnsd
