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

std::optional<Name> Name::fromText(std::string_view text, const Name* origin) {
    if (text == "@") {
        if (origin) return *origin;
        return Name();
    }
    if (text == ".") return Name();
    if (text.empty()) return std::nullopt;
    std::string wire;
    std::string label;
    wire.reserve(text.size() + 2 + (origin ? origin->wire_.size() : 0));
    label.reserve(kMaxLabel);
    bool absolute = false;
    auto flush = [&]() -> bool {
        if (label.empty() || label.size() > kMaxLabel) return false;
        wire.push_back(char(label.size()));
        for (char c : label) wire.push_back(char(foldCase(uint8_t(c))));
        label.clear();
        return true;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\\') {
            if (i + 1 >= text.size()) return std::nullopt;
            if (std::isdigit(uint8_t(text[i + 1]))) {
                if (i + 3 >= text.size()) return std::nullopt;
                int v = 0;
                for (int k = 1; k <= 3; ++k) {
                    char d = text[i + k];
                    if (!std::isdigit(uint8_t(d))) return std::nullopt;
                    v = v * 10 + (d - '0');
                }
                if (v > 255) return std::nullopt;
                label.push_back(char(v));
                i += 3;
            } else {
                label.push_back(text[i + 1]);
                i += 1;
            }
        } else if (c == '.') {
            if (!flush()) return std::nullopt;
            if (i + 1 == text.size()) absolute = true;
        } else {
            label.push_back(c);
        }
    }
    if (!absolute && !label.empty()) {
        if (!flush()) return std::nullopt;
    }
    if (!absolute && origin) {
        wire.append(origin->wire_);
    } else {
        wire.push_back('\0');
    }
    if (wire.size() > kMaxWire) return std::nullopt;
    return Name(std::move(wire));
}

size_t Name::labelCount() const {
    size_t n = 0;
    for (size_t pos = 0; wire_[pos] != 0; pos += 1 + uint8_t(wire_[pos])) ++n;
    return n;
}

std::string Name::toText() const {
    if (isRoot()) return ".";
    std::string out;
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
    return out;
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

}  // namespace zones
