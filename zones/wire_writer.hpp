// zones::WireWriter — writes a DNS message into a caller-owned buffer, with name compression.
//
// Contract: never writes past `limit`; every write returns false once the message would
// overflow and leaves the writer as it was before that write, so callers can `rollback` to
// a mark and set TC (pdns DNSPacketWriter::rollback). It allocates nothing: the compression
// table is a fixed array, and names beyond its capacity are simply written uncompressed.
// Names are compared case-insensitively for compression, and written with the case given.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include "zones/name.hpp"

namespace zones {

class WireWriter {
  public:
    struct Mark {
        size_t size;
        size_t entries;
    };

    WireWriter(std::span<uint8_t> buf, size_t limit)
        : buf_(buf), limit_(limit < buf.size() ? limit : buf.size()) {}

    size_t size() const { return size_; }
    size_t limit() const { return limit_; }
    void setLimit(size_t limit) { limit_ = limit < buf_.size() ? limit : buf_.size(); }
    uint8_t* data() { return buf_.data(); }
    Mark mark() const { return {size_, entries_}; }
    void rollback(Mark m) {
        size_ = m.size;
        entries_ = m.entries;
    }

    bool u8(uint8_t v) {
        if (size_ + 1 > limit_) return false;
        buf_[size_++] = v;
        return true;
    }
    bool u16(uint16_t v) {
        if (size_ + 2 > limit_) return false;
        buf_[size_] = uint8_t(v >> 8);
        buf_[size_ + 1] = uint8_t(v);
        size_ += 2;
        return true;
    }
    bool u32(uint32_t v) {
        if (size_ + 4 > limit_) return false;
        buf_[size_] = uint8_t(v >> 24);
        buf_[size_ + 1] = uint8_t(v >> 16);
        buf_[size_ + 2] = uint8_t(v >> 8);
        buf_[size_ + 3] = uint8_t(v);
        size_ += 4;
        return true;
    }
    bool bytes(const uint8_t* p, size_t n) {
        if (size_ + n > limit_) return false;
        std::memcpy(buf_.data() + size_, p, n);
        size_ += n;
        return true;
    }
    void patch16(size_t at, uint16_t v) {
        buf_[at] = uint8_t(v >> 8);
        buf_[at + 1] = uint8_t(v);
    }

    // Registers a name already in the buffer (the question) as a compression target.
    void remember(size_t offset) {
        for (size_t pos = offset; pos < size_ && buf_[pos] != 0 && buf_[pos] < 64;
             pos += 1 + buf_[pos])
            addEntry(pos);
    }

    // Writes an uncompressed wire name (validated by the caller), compressing against names
    // written before when `compress` is set.
    bool name(const uint8_t* wire, bool compress = true) {
        Mark m = mark();
        for (size_t pos = 0;; pos += 1 + wire[pos]) {
            if (wire[pos] == 0) {
                if (!u8(0)) return rollback(m), false;
                return true;
            }
            if (compress) {
                int at = findSuffix(wire + pos);
                if (at >= 0) {
                    if (!u16(uint16_t(0xC000 | at))) return rollback(m), false;
                    return true;
                }
                addEntry(size_);
            }
            if (!bytes(wire + pos, 1 + size_t(wire[pos]))) return rollback(m), false;
        }
    }
    bool pointer(size_t offset) { return u16(uint16_t(0xC000 | offset)); }

  private:
    static constexpr size_t kEntries = 64;

    void addEntry(size_t offset) {
        if (entries_ < kEntries && offset < 0x4000) offsets_[entries_++] = uint16_t(offset);
    }

    // Offset of an earlier-written name equal to `wire` (case-insensitive), or -1.
    int findSuffix(const uint8_t* wire) const {
        for (size_t e = 0; e < entries_; ++e)
            if (equalsAt(offsets_[e], wire)) return offsets_[e];
        return -1;
    }

    // Compares the name in the buffer at `at` (following pointers) with `wire`.
    bool equalsAt(size_t at, const uint8_t* wire) const {
        size_t w = 0;
        for (int hops = 0; hops < 64;) {
            if (at >= size_) return false;
            uint8_t len = buf_[at];
            if (len >= 0xC0) {
                if (at + 1 >= size_) return false;
                at = (size_t(len & 0x3F) << 8) | buf_[at + 1];
                ++hops;
                continue;
            }
            if (len != wire[w]) return false;
            if (len == 0) return true;
            if (at + 1 + len > size_) return false;
            for (size_t i = 1; i <= len; ++i)
                if (foldCase(buf_[at + i]) != foldCase(wire[w + i])) return false;
            at += 1 + len;
            w += 1 + len;
        }
        return false;
    }

    std::span<uint8_t> buf_;
    size_t limit_;
    size_t size_ = 0;
    size_t entries_ = 0;
    uint16_t offsets_[kEntries];
};

}  // namespace zones
