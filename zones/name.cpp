#include "zones/name.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <vector>

namespace zones {

Name::Name() : wire_(1, '\0') {}

size_t wireNameLength(std::span<const uint8_t> bytes) {
    size_t pos = 0;
    while (pos < bytes.size()) {
        uint8_t len = bytes[pos];
        if (len > Name::kMaxLabel) return 0;  // compression pointers or reserved label types
        pos += 1 + len;
        if (pos > Name::kMaxWire) return 0;
        if (len == 0) return pos;
    }
    return 0;
}

std::optional<Name> Name::fromWire(std::span<const uint8_t> wire) {
    size_t n = wireNameLength(wire);
    if (n == 0 || n != wire.size()) return std::nullopt;
    std::string w(reinterpret_cast<const char*>(wire.data()), n);
    // Fold case inside labels only, never the length octets.
    for (size_t pos = 0; w[pos] != 0; pos += 1 + uint8_t(w[pos])) {
        for (size_t i = 1; i <= uint8_t(w[pos]); ++i)
            w[pos + i] = char(foldCase(uint8_t(w[pos + i])));
    }
    return Name(std::move(w));
}

size_t Name::parseText(std::string_view text, const Name* origin, uint8_t* out) {
    if (text == "@") {
        const std::string& w = origin ? origin->wire_ : Name().wire_;
        std::memcpy(out, w.data(), w.size());
        return w.size();
    }
    if (text == ".") {
        out[0] = 0;
        return 1;
    }
    if (text.empty()) return 0;
    // Labels are written in place: `start` is the length octet of the label being read.
    size_t start = 0, pos = 1;
    bool absolute = false;
    auto closeLabel = [&]() -> bool {
        size_t len = pos - start - 1;
        if (len == 0 || len > kMaxLabel) return false;
        out[start] = uint8_t(len);
        start = pos++;
        return true;
    };
    auto put = [&](uint8_t c) -> bool {
        if (pos >= kMaxWire) return false;
        out[pos++] = foldCase(c);
        return true;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\\') {
            if (i + 1 >= text.size()) return 0;
            if (std::isdigit(uint8_t(text[i + 1]))) {
                if (i + 3 >= text.size()) return 0;
                int v = 0;
                for (int k = 1; k <= 3; ++k) {
                    char d = text[i + k];
                    if (!std::isdigit(uint8_t(d))) return 0;
                    v = v * 10 + (d - '0');
                }
                if (v > 255 || !put(uint8_t(v))) return 0;
                i += 3;
            } else {
                if (!put(uint8_t(text[i + 1]))) return 0;
                i += 1;
            }
        } else if (c == '.') {
            if (!closeLabel()) return 0;
            if (i + 1 == text.size()) absolute = true;
        } else if (!put(uint8_t(c))) {
            return 0;
        }
    }
    if (!absolute && pos - start > 1 && !closeLabel()) return 0;
    // `start` now sits where the terminating root label or the origin goes.
    if (!absolute && origin) {
        if (start + origin->wire_.size() > kMaxWire) return 0;
        std::memcpy(out + start, origin->wire_.data(), origin->wire_.size());
        return start + origin->wire_.size();
    }
    if (start + 1 > kMaxWire) return 0;
    out[start] = 0;
    return start + 1;
}

std::optional<Name> Name::fromText(std::string_view text, const Name* origin) {
    uint8_t buf[kMaxWire + 1];
    size_t n = parseText(text, origin, buf);
    if (n == 0) return std::nullopt;
    return Name(std::string(reinterpret_cast<const char*>(buf), n));
}

size_t Name::labelCount() const {
    size_t n = 0;
    for (size_t pos = 0; wire_[pos] != 0; pos += 1 + uint8_t(wire_[pos])) ++n;
    return n;
}

std::string Name::toText() const {
    std::string out;
    appendText(out);
    return out;
}

void Name::appendText(std::string& out) const {
    if (isRoot()) {
        out.push_back('.');
        return;
    }
    for (size_t pos = 0; wire_[pos] != 0; pos += 1 + uint8_t(wire_[pos])) {
        size_t len = uint8_t(wire_[pos]);
        for (size_t i = 1; i <= len; ++i) {
            uint8_t c = uint8_t(wire_[pos + i]);
            if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@' ||
                c == '$') {
                out.push_back('\\');
                out.push_back(char(c));
            } else if (c <= 0x20 || c >= 0x7f) {
                char buf[5];
                std::snprintf(buf, sizeof buf, "\\%03u", unsigned(c));
                out.append(buf);
            } else {
                out.push_back(char(c));
            }
        }
        out.push_back('.');
    }
}

bool Name::isSubdomainOf(const Name& ancestor) const {
    if (ancestor.wire_.size() > wire_.size()) return false;
    size_t offset = wire_.size() - ancestor.wire_.size();
    if (std::memcmp(wire_.data() + offset, ancestor.wire_.data(), ancestor.wire_.size()) != 0)
        return false;
    // The suffix must start on a label boundary.
    for (size_t pos = 0; pos <= offset; pos += 1 + uint8_t(wire_[pos])) {
        if (pos == offset) return true;
        if (wire_[pos] == 0) break;
    }
    return false;
}

Name Name::parent() const {
    if (isRoot()) return *this;
    return Name(wire_.substr(1 + uint8_t(wire_[0])));
}

Name Name::stripLeft(size_t n) const {
    size_t pos = 0;
    while (n-- > 0 && wire_[pos] != 0) pos += 1 + uint8_t(wire_[pos]);
    return Name(wire_.substr(pos));
}

std::optional<Name> Name::wildcardChild() const {
    return prepend("*");
}

std::optional<Name> Name::prepend(std::string_view label) const {
    if (label.empty() || label.size() > kMaxLabel) return std::nullopt;
    if (wire_.size() + 1 + label.size() > kMaxWire) return std::nullopt;
    std::string w;
    w.reserve(wire_.size() + 1 + label.size());
    w.push_back(char(label.size()));
    for (char c : label) w.push_back(char(foldCase(uint8_t(c))));
    w.append(wire_);
    return Name(std::move(w));
}

int Name::canonicalCompare(const Name& other) const {
    auto labels = [](const std::string& w) {
        std::vector<std::string_view> out;
        for (size_t pos = 0; w[pos] != 0; pos += 1 + uint8_t(w[pos]))
            out.emplace_back(w.data() + pos + 1, uint8_t(w[pos]));
        return out;
    };
    auto a = labels(wire_);
    auto b = labels(other.wire_);
    size_t i = a.size(), j = b.size();
    while (i > 0 && j > 0) {
        --i;
        --j;
        int c = a[i].compare(b[j]);
        if (c != 0) return c < 0 ? -1 : 1;
    }
    if (i == 0 && j == 0) return 0;
    return i == 0 ? -1 : 1;
}

std::optional<Name> readMessageName(std::span<const uint8_t> m, size_t& pos) {
    uint8_t wire[Name::kMaxWire];
    size_t len = 0, at = pos;
    bool jumped = false;
    for (int hops = 0; hops < 64;) {
        if (at >= m.size()) return std::nullopt;
        uint8_t l = m[at];
        if ((l & 0xC0) == 0xC0) {
            if (at + 1 >= m.size()) return std::nullopt;
            if (!jumped) pos = at + 2;
            jumped = true;
            at = size_t(l & 0x3F) << 8 | m[at + 1];
            ++hops;
            continue;
        }
        if (l > 63 || len + 1 + l > Name::kMaxWire || at + 1 + l > m.size()) return std::nullopt;
        wire[len++] = l;
        for (size_t i = 1; i <= l; ++i) wire[len++] = foldCase(m[at + i]);
        at += 1 + l;
        if (l == 0) {
            if (!jumped) pos = at;
            return Name::fromWire({wire, len});
        }
    }
    return std::nullopt;
}

}  // namespace zones
