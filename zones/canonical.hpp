// zones/canonical — the DNSSEC canonical forms (RFC 4034 §6): name order, RDATA with
// lower-cased embedded names, NSEC type bitmaps. Used by the signer at build time and by
// the snapshot's NSEC lookups; no allocation in the comparisons.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zones {

// RFC 4034 §6.1 order of two canonical (lower-case) wire names: <0, 0, >0.
int canonicalCompare(std::string_view a, std::string_view b) noexcept;

// A byte string whose memcmp order is the canonical order of `key` (labels from the root,
// each escaped and ended by 0x00): for sorting many names without re-parsing them.
std::string canonicalSortKey(std::string_view key);

// Labels of an owner name for RRSIG (RFC 4034 §3.1.3): the root not counted, nor a leading "*".
uint8_t rrsigLabels(std::string_view key) noexcept;

// RDATA with the names RFC 4034 §6.2 (as corrected by RFC 6840 §5.1) lists lower-cased.
void canonicalRdata(uint16_t type, std::span<const uint8_t> rdata, std::vector<uint8_t>& out);

// The NSEC type bitmap field (RFC 4034 §4.1.2) of `types` (any order, duplicates allowed).
void typeBitmap(std::vector<uint16_t> types, std::vector<uint8_t>& out);
// The types a bitmap field lists, ascending.
std::vector<uint16_t> bitmapTypes(std::span<const uint8_t> bitmap);
// Whether the bitmap field `bitmap` has `type`.
bool bitmapHas(std::span<const uint8_t> bitmap, uint16_t type) noexcept;

}  // namespace zones
