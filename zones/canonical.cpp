#include "zones/canonical.hpp"

#include <algorithm>
#include <cstring>

#include "zones/name.hpp"
#include "zones/record.hpp"

namespace zones {

namespace {

// Offsets of the labels of a wire name, the root excluded; returns the count.
size_t labelOffsets(std::string_view key, uint8_t (&at)[128]) noexcept {
    size_t n = 0;
    for (size_t pos = 0; pos < key.size() && key[pos] != 0 && n < 128; pos += 1 + uint8_t(key[pos]))
        at[n++] = uint8_t(pos);
    return n;
}

}  // namespace

int canonicalCompare(std::string_view a, std::string_view b) noexcept {
    uint8_t la[128], lb[128];
    size_t na = labelOffsets(a, la), nb = labelOffsets(b, lb);
    for (size_t i = 0; i < na && i < nb; ++i) {
        std::string_view x = a.substr(la[na - 1 - i] + 1, uint8_t(a[la[na - 1 - i]]));
        std::string_view y = b.substr(lb[nb - 1 - i] + 1, uint8_t(b[lb[nb - 1 - i]]));
        if (int c = x.compare(y); c != 0) return c < 0 ? -1 : 1;
    }
    return na == nb ? 0 : (na < nb ? -1 : 1);
}

std::string canonicalSortKey(std::string_view key) {
    uint8_t at[128];
    size_t n = labelOffsets(key, at);
    std::string out;
    out.reserve(key.size() + 4);
    for (size_t i = n; i-- > 0;) {
        uint8_t len = uint8_t(key[at[i]]);
        for (size_t j = 1; j <= len; ++j) {
            uint8_t c = uint8_t(key[at[i] + j]);
            // 0x00 ends a label, so it and the escape byte itself are escaped: order is kept.
            if (c <= 1) {
                out.push_back(char(1));
                out.push_back(char(c + 1));
            } else {
                out.push_back(char(c));
            }
        }
        out.push_back(char(0));
    }
    return out;
}

uint8_t rrsigLabels(std::string_view key) noexcept {
    uint8_t at[128];
    size_t n = labelOffsets(key, at);
    if (n > 0 && key[0] == 1 && key[1] == '*') --n;
    return uint8_t(n);
}

namespace {

// Appends the name at `p` lower-cased; returns its length or 0 when malformed.
size_t lowerName(std::span<const uint8_t> rd, size_t p, std::vector<uint8_t>& out) {
    size_t len = wireNameLength(rd.subspan(std::min(p, rd.size())));
    for (size_t i = 0; i < len; ++i) out.push_back(foldCase(rd[p + i]));
    return len;
}

}  // namespace

void canonicalRdata(uint16_t type, std::span<const uint8_t> rd, std::vector<uint8_t>& out) {
    out.clear();
    // Fixed octets before the first name, then how many names follow.
    size_t skip = 0, names = 0;
    switch (type) {
        case rrtype::NS:
        case rrtype::CNAME:
        case rrtype::PTR:
        case rrtype::DNAME:
        case 3:  // MD
        case 4:  // MF
        case 7:  // MB
        case 8:  // MG
        case 9:  // MR
            names = 1;
            break;
        case rrtype::SOA:
        case 14:  // MINFO
        case 17:  // RP
            names = 2;
            break;
        case rrtype::MX:
        case 18:  // AFSDB
        case 21:  // RT
        case 36:  // KX
            skip = 2, names = 1;
            break;
        case 26:  // PX
            skip = 2, names = 2;
            break;
        case rrtype::SRV:
            skip = 6, names = 1;
            break;
        case rrtype::NAPTR: {
            // order, preference, flags, services, regexp (character strings), replacement.
            size_t p = 4;
            for (int i = 0; i < 3 && p < rd.size(); ++i) p += 1 + rd[p];
            skip = p, names = 1;
            break;
        }
        default:
            break;
    }
    if (names == 0 || skip > rd.size()) {
        out.assign(rd.begin(), rd.end());
        return;
    }
    out.insert(out.end(), rd.begin(), rd.begin() + long(skip));
    size_t p = skip;
    for (size_t i = 0; i < names; ++i) {
        size_t len = lowerName(rd, p, out);
        if (len == 0) {  // not the shape we expect: sign what is there
            out.assign(rd.begin(), rd.end());
            return;
        }
        p += len;
    }
    out.insert(out.end(), rd.begin() + long(p), rd.end());
}

void typeBitmap(std::vector<uint16_t> types, std::vector<uint8_t>& out) {
    out.clear();
    std::sort(types.begin(), types.end());
    types.erase(std::unique(types.begin(), types.end()), types.end());
    for (size_t i = 0; i < types.size();) {
        uint8_t window = uint8_t(types[i] >> 8);
        uint8_t bits[32] = {};
        size_t used = 0;
        for (; i < types.size() && (types[i] >> 8) == window; ++i) {
            uint8_t low = uint8_t(types[i] & 0xFF);
            bits[low / 8] |= uint8_t(0x80 >> (low % 8));
            used = std::max<size_t>(used, low / 8 + 1);
        }
        out.push_back(window);
        out.push_back(uint8_t(used));
        out.insert(out.end(), bits, bits + used);
    }
}

std::vector<uint16_t> bitmapTypes(std::span<const uint8_t> bm) {
    std::vector<uint16_t> types;
    for (size_t p = 0; p + 2 <= bm.size();) {
        uint8_t window = bm[p], len = bm[p + 1];
        for (size_t i = 0; i < len && p + 2 + i < bm.size(); ++i)
            for (int bit = 0; bit < 8; ++bit)
                if (bm[p + 2 + i] & (0x80 >> bit))
                    types.push_back(uint16_t(window << 8 | (i * 8 + size_t(bit))));
        p += 2 + len;
    }
    return types;
}

bool bitmapHas(std::span<const uint8_t> bm, uint16_t type) noexcept {
    for (size_t p = 0; p + 2 <= bm.size();) {
        uint8_t window = bm[p], len = bm[p + 1];
        if (p + 2 + len > bm.size()) return false;
        if (window == (type >> 8)) {
            uint8_t low = uint8_t(type & 0xFF);
            return low / 8 < len && (bm[p + 2 + low / 8] & (0x80 >> (low % 8))) != 0;
        }
        p += 2 + len;
    }
    return false;
}

}  // namespace zones
