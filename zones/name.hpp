// zones::Name — a domain name in uncompressed wire form, lower-cased.
//
// Contract: a Name is always valid (labels 1..63 octets, total <= 255 octets, ends with the
// root label) and always canonical (ASCII letters folded to lower case), so two Names are
// equal exactly when DNS says they are, and `wire()` can be used directly as a hash key or
// compared with memcmp. Case as the client wrote it is never stored here: the answer path
// keeps the query bytes for that.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace zones {

class Name {
  public:
    static constexpr size_t kMaxWire = 255;
    static constexpr size_t kMaxLabel = 63;

    // The root name ".".
    Name();

    // Parses presentation format ("www.Example.com.", "a\.b.c.", "\065.x."). A name without
    // the trailing dot is relative and gets `origin` appended; without an origin it is
    // treated as absolute. "@" means the origin. Returns nullopt on any syntax or length error.
    static std::optional<Name> fromText(std::string_view text, const Name* origin = nullptr);
    // The same parse without building a Name: writes the canonical wire form to `out`
    // (kMaxWire + 1 bytes) and returns its length, or 0 on error. For bulk loads.
    static size_t parseText(std::string_view text, const Name* origin, uint8_t* out);

    // Takes uncompressed wire bytes (must be exactly one name). Returns nullopt if malformed.
    static std::optional<Name> fromWire(std::span<const uint8_t> wire);

    std::span<const uint8_t> wire() const {
        return {reinterpret_cast<const uint8_t*>(wire_.data()), wire_.size()};
    }
    std::string_view key() const { return wire_; }
    size_t wireSize() const { return wire_.size(); }
    size_t labelCount() const;
    bool isRoot() const { return wire_.size() == 1; }

    // Presentation form, absolute, with trailing dot; special bytes escaped as \DDD or \X.
    std::string toText() const;
    // The same text appended to `out`: a bulk writer reuses one buffer instead of allocating.
    void appendText(std::string& out) const;

    // True if this name equals `ancestor` or lies below it.
    bool isSubdomainOf(const Name& ancestor) const;
    // The name with the leftmost label removed; the root's parent is the root.
    Name parent() const;
    // Leftmost label removed `n` times.
    Name stripLeft(size_t n) const;
    // "*." + this.
    std::optional<Name> wildcardChild() const;
    bool isWildcard() const { return wire_.size() >= 2 && wire_[0] == 1 && wire_[1] == '*'; }
    // Prepends one label; nullopt if the result would be too long.
    std::optional<Name> prepend(std::string_view label) const;

    // Canonical DNS order (RFC 4034 §6.1): by labels from the right, each compared as bytes.
    int canonicalCompare(const Name& other) const;

    friend bool operator==(const Name& a, const Name& b) { return a.wire_ == b.wire_; }
    friend bool operator!=(const Name& a, const Name& b) { return !(a == b); }

  private:
    explicit Name(std::string wire) : wire_(std::move(wire)) {}
    std::string wire_;
};

// Lower-cases ASCII letters only: DNS case folding never touches other octets.
inline uint8_t foldCase(uint8_t c) {
    return (c >= 'A' && c <= 'Z') ? uint8_t(c + 32) : c;
}

// Validates an uncompressed wire name at the start of `bytes`; returns its length or 0.
size_t wireNameLength(std::span<const uint8_t> bytes);

// Reads a possibly compressed name at `pos` of a DNS message (lower-cased), advancing `pos`
// past it; nullopt if it is malformed (out of bounds, a pointer loop, too long). For control
// paths (transfers, TSIG, NOTIFY): it builds a Name.
std::optional<Name> readMessageName(std::span<const uint8_t> message, size_t& pos);

}  // namespace zones

template <>
struct std::hash<zones::Name> {
    size_t operator()(const zones::Name& n) const noexcept {
        return std::hash<std::string_view>()(n.key());
    }
};
