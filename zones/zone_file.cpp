#include "zones/zone_file.hpp"

#include <arpa/inet.h>
#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "zones/ldns/rr_codec.hpp"

namespace zones {
namespace {

// One logical entry of a master file: a directive or a record, parentheses already joined.
struct Entry {
    int line = 0;                     // where its first token is
    bool ownerOmitted = false;        // the physical line started with blank space
    bool bad = false;                 // its syntax failed: reported once, then skipped
    std::vector<std::string> tokens;  // raw text: quotes and backslash escapes kept
};

class Failure : public std::runtime_error {
  public:
    Failure(int line, const std::string& message) : std::runtime_error(message), line_(line) {}
    int line() const { return line_; }

  private:
    int line_;
};

// A character with no meaning to the tokenizer below: part of a token as it is.
bool isPlain(char c) {
    static const auto table = [] {
        std::array<bool, 256> t{};
        t.fill(true);
        for (unsigned char s : {'\0', '\n', ' ', '\t', '\r', ';', '(', ')', '"', '\\'})
            t[s] = false;
        return t;
    }();
    return table[uint8_t(c)];
}

// Splits master-file text into entries (RFC 1035 §5.1): `;` comments, "quoted strings",
// \escapes, and ( ) that let an entry continue over line ends. A syntax error is appended to
// `failures` (one per entry) and the scan goes on at the next entry, so that one run names
// every bad line; the bad entry is dropped. Each finished entry goes to `onEntry` as soon as
// it ends, so a million-record file is never held as a million token lists at once.
template <typename OnEntry>
void splitEntries(std::string_view text, std::vector<Failure>& failures, OnEntry&& onEntry) {
    Entry current;
    std::string token;
    bool inToken = false, quoted = false;
    int line = 1, parenDepth = 0, parenLine = 0, quoteLine = 0;
    bool atLineStart = true;

    auto endToken = [&] {
        if (inToken) current.tokens.push_back(std::move(token));
        token.clear();
        inToken = false;
    };
    auto startToken = [&] {
        if (!inToken && current.tokens.empty()) current.line = line;
        inToken = true;
    };
    auto endEntry = [&] {
        endToken();
        if (!current.tokens.empty() && !current.bad) onEntry(std::as_const(current));
        // Cleared, not replaced: the token list keeps its capacity for the next entry.
        current.tokens.clear();
        current.line = 0;
        current.ownerOmitted = false;
        current.bad = false;
    };
    auto fail = [&](int at, const std::string& message) {
        if (!current.bad) failures.emplace_back(at, message);
        current.bad = true;
    };

    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        bool lineStart = atLineStart;
        atLineStart = false;
        if (c == '\0') {
            fail(line, "NUL byte in the file");
            continue;
        }
        if (quoted) {
            if (c == '\n') {
                // Resume after the line end, as if the quote had been closed there.
                fail(quoteLine, "quoted string not closed on its line");
                quoted = false;
                --i;
                continue;
            }
            token.push_back(c);
            if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') {
                token.push_back(text[++i]);
            } else if (c == '"') {
                quoted = false;
            }
            continue;
        }
        switch (c) {
            case '\n':
                if (parenDepth == 0) {
                    endEntry();
                } else {
                    endToken();
                }
                ++line;
                atLineStart = true;
                break;
            case ' ':
            case '\t':
            case '\r':
                if (lineStart && parenDepth == 0 && current.tokens.empty() && !inToken)
                    current.ownerOmitted = true;
                endToken();
                break;
            case ';':
                endToken();
                while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
                break;
            case '(':
                endToken();
                if (parenDepth++ == 0) parenLine = line;
                if (current.tokens.empty()) current.line = line;
                break;
            case ')':
                endToken();
                if (parenDepth == 0) {
                    fail(line, "')' without a matching '('");
                } else {
                    --parenDepth;
                }
                break;
            case '"':
                startToken();
                token.push_back(c);
                quoted = true;
                quoteLine = line;
                break;
            case '\\':
                startToken();
                token.push_back(c);
                if (i + 1 < text.size() && text[i + 1] != '\n') token.push_back(text[++i]);
                break;
            default: {
                // The rest of a run of plain characters in one append: a character at a time
                // was a tenth of reading a big zone.
                startToken();
                size_t end = i + 1;
                while (end < text.size() && isPlain(text[end])) ++end;
                token.append(text.data() + i, end - i);
                i = end - 1;
            }
        }
    }
    if (quoted) fail(quoteLine, "quoted string not closed");
    if (parenDepth > 0) fail(parenLine, "'(' is never closed");
    endEntry();
}

bool isAbsoluteText(const std::string& name) {
    if (name.empty() || name.back() != '.') return false;
    // "a\." ends in an escaped dot: count the backslashes in front of it.
    size_t slashes = 0;
    for (size_t i = name.size() - 1; i > 0 && name[i - 1] == '\\'; --i) ++slashes;
    return slashes % 2 == 0;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(uint8_t(x)) == std::tolower(uint8_t(y));
           });
}

// TTL in seconds or BIND units ("1h30m"), at most 2^31-1 (RFC 2181 §8).
std::optional<uint32_t> parseTtl(std::string_view text) {
    if (text.empty()) return std::nullopt;
    uint64_t total = 0, value = 0;
    bool digits = false, units = false;
    for (char c : text) {
        if (c >= '0' && c <= '9') {
            value = value * 10 + uint64_t(c - '0');
            digits = true;
            if (value > 0x7fffffffULL) return std::nullopt;
            continue;
        }
        if (!digits) return std::nullopt;
        uint64_t scale = 0;
        switch (std::tolower(uint8_t(c))) {
            case 's':
                scale = 1;
                break;
            case 'm':
                scale = 60;
                break;
            case 'h':
                scale = 3600;
                break;
            case 'd':
                scale = 86400;
                break;
            case 'w':
                scale = 604800;
                break;
            default:
                return std::nullopt;
        }
        total += value * scale;
        value = 0;
        digits = false;
        units = true;
        if (total > 0x7fffffffULL) return std::nullopt;
    }
    if (digits) {
        if (units) return std::nullopt;  // "1h30" is ambiguous: refuse it
        total += value;
    }
    if (total > 0x7fffffffULL) return std::nullopt;
    return uint32_t(total);
}

bool isClassToken(std::string_view t) {
    static const char* classes[] = {"IN", "CH", "CS", "HS", "NONE", "ANY"};
    for (const char* c : classes)
        if (iequals(t, c)) return true;
    return t.size() > 5 && iequals(t.substr(0, 5), "CLASS") &&
           std::all_of(t.begin() + 5, t.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool isInClass(std::string_view t) {
    return iequals(t, "IN") || iequals(t, "CLASS1");
}

bool isMetaType(uint16_t type) {
    return type == rrtype::OPT || (type >= 128 && type <= 255) || type == 0;
}

std::string join(const std::vector<std::string>& tokens, size_t from) {
    std::string out;
    for (size_t i = from; i < tokens.size(); ++i) {
        if (i > from) out.push_back(' ');
        out += tokens[i];
    }
    return out;
}

// "\# <length> <hex>..." (RFC 3597 §5): the hex may be split into several words.
std::vector<uint8_t> parseGenericRdata(const std::vector<std::string>& tokens, size_t pos,
                                       int line) {
    if (pos >= tokens.size()) throw Failure(line, "\\# needs an RDATA length");
    const std::string& lengthText = tokens[pos];
    if (lengthText.empty() || lengthText.size() > 5 ||
        !std::all_of(lengthText.begin(), lengthText.end(),
                     [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoul(lengthText) > 65535)
        throw Failure(line, "bad RFC 3597 RDATA length '" + lengthText + "'");
    size_t length = std::stoul(lengthText);
    std::string hex;
    for (size_t i = pos + 1; i < tokens.size(); ++i) hex += tokens[i];
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        c = char(std::tolower(uint8_t(c)));
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::vector<uint8_t> out;
    for (size_t i = 0; i < hex.size(); i += 2) {
        int hi = nibble(hex[i]), lo = i + 1 < hex.size() ? nibble(hex[i + 1]) : -1;
        if (hi < 0 || lo < 0) throw Failure(line, "bad hex in RFC 3597 RDATA '" + hex + "'");
        out.push_back(uint8_t(hi << 4 | lo));
    }
    if (out.size() != length) {
        throw Failure(line, "RFC 3597 RDATA says " + std::to_string(length) + " octets but has " +
                                std::to_string(out.size()));
    }
    return out;
}

// The state a master file carries from one entry to the next.
struct ParseState {
    std::optional<Name> origin;
    std::string originText;              // the origin as written (case kept), absolute
    std::optional<uint32_t> defaultTtl;  // $TTL
    std::optional<uint32_t> lastTtl;     // last explicit TTL (RFC 1035 fallback)
    std::optional<Name> previousOwner;
};

const char* kNeedOrigin = "but no origin is known (pass --zone NAME or put $ORIGIN first)";

std::optional<Name> resolveName(const std::string& token, const ParseState& state, int line,
                                const char* what) {
    if (!isAbsoluteText(token) && !state.origin) {
        throw Failure(line, std::string(what) + " '" + token + "' is relative " + kNeedOrigin);
    }
    auto name = Name::fromText(token, state.origin ? &*state.origin : nullptr);
    if (!name) throw Failure(line, std::string("bad ") + what + " '" + token + "'");
    return name;
}

void applyDirective(const Entry& entry, ParseState& state) {
    const std::string& d = entry.tokens[0];
    if (iequals(d, "$ORIGIN")) {
        if (entry.tokens.size() != 2) throw Failure(entry.line, "$ORIGIN takes exactly one name");
        const std::string& token = entry.tokens[1];
        state.origin = resolveName(token, state, entry.line, "$ORIGIN name");
        if (isAbsoluteText(token)) {
            state.originText = token;
        } else if (token == "@") {
            // "$ORIGIN @" keeps the origin.
        } else {
            state.originText = token + (state.originText == "." ? "" : ".") + state.originText;
        }
    } else if (iequals(d, "$TTL")) {
        if (entry.tokens.size() != 2) throw Failure(entry.line, "$TTL takes exactly one value");
        auto ttl = parseTtl(entry.tokens[1]);
        if (!ttl) throw Failure(entry.line, "bad $TTL value '" + entry.tokens[1] + "'");
        state.defaultTtl = ttl;
    } else if (iequals(d, "$INCLUDE")) {
        throw Failure(entry.line, "$INCLUDE is not supported (put the records in this file)");
    } else {
        throw Failure(entry.line, "unknown directive " + d);
    }
}

// Parses one record entry. `ttlGiven` reports whether the entry had an explicit TTL.
Record parseRecordEntry(const Entry& entry, ParseState& state, bool& ttlGiven) {
    const auto& tokens = entry.tokens;
    size_t pos = 0;
    Name owner;
    if (entry.ownerOmitted) {
        if (!state.previousOwner)
            throw Failure(entry.line,
                          "record has no owner name and no previous record to take it from");
        owner = *state.previousOwner;
    } else {
        owner = *resolveName(tokens[pos++], state, entry.line, "owner name");
    }
    // Set now, not on success only: after a bad record, the lines that omit the owner still
    // mean this one, so their own problems are reported against the right name.
    state.previousOwner = owner;
    std::optional<uint32_t> ttl;
    bool classSeen = false;
    for (int k = 0; k < 2 && pos < tokens.size(); ++k) {
        const std::string& t = tokens[pos];
        if (!ttl && !t.empty() && t[0] >= '0' && t[0] <= '9') {
            ttl = parseTtl(t);
            if (!ttl) throw Failure(entry.line, "bad TTL '" + t + "'");
            ++pos;
        } else if (!classSeen && isClassToken(t)) {
            if (!isInClass(t))
                throw Failure(entry.line, "class " + t + " is not supported (only IN)");
            classSeen = true;
            ++pos;
        } else {
            break;
        }
    }
    if (pos >= tokens.size())
        throw Failure(entry.line, "record for " + owner.toText() + " has no type");
    const std::string& typeToken = tokens[pos++];
    auto type = ldnsw::typeFromText(typeToken);
    if (!type) {
        throw Failure(entry.line,
                      "unknown RR type '" + typeToken +
                          "' (write unknown types as TYPEnnn with \\# RDATA, RFC 3597)");
    }
    if (isMetaType(*type))
        throw Failure(entry.line, "type " + typeToken + " cannot appear in a zone");
    ttlGiven = ttl.has_value();
    if (ttl) {
        state.lastTtl = ttl;
    } else {
        ttl = state.defaultTtl ? state.defaultTtl : state.lastTtl;
    }
    // A and AAAA, nearly every record of a big zone, are read here: ldns reads them with the
    // same inet_pton, but only after a text RR is built and a malloc per field. Anything
    // inet_pton refuses goes to ldns, which words the error.
    if ((*type == rrtype::A || *type == rrtype::AAAA) && pos + 1 == tokens.size()) {
        uint8_t address[16];
        bool v4 = *type == rrtype::A;
        if (inet_pton(v4 ? AF_INET : AF_INET6, tokens[pos].c_str(), address) == 1) {
            return Record{owner,
                          *type,
                          rrclass::IN,
                          ttl.value_or(0),
                          std::vector<uint8_t>(address, address + (v4 ? 4 : 16)),
                          entry.line};
        }
    }
    std::string rdata = join(tokens, pos);
    if (pos < tokens.size() && tokens[pos] == "\\#") {
        // RFC 3597 generic RDATA, read here: ldns takes a bad length as 0 and ignores extra bytes.
        Record record{owner,
                      *type,
                      rrclass::IN,
                      ttl.value_or(0),
                      parseGenericRdata(tokens, pos + 1, entry.line),
                      entry.line};
        if (!ldnsw::rdataMatchesType(record)) {
            throw Failure(entry.line, "RFC 3597 RDATA is not a valid " + ldnsw::typeToText(*type) +
                                          " record (RDATA: '" + rdata + "')");
        }
        return record;
    }
    std::string text =
        owner.toText() + " " + std::to_string(ttl.value_or(0)) + " IN " + typeToken + " " + rdata;
    auto parsed = ldnsw::parseRr(text, state.origin ? &state.originText : nullptr);
    if (!parsed.record) {
        if (parsed.usedMissingOrigin)
            throw Failure(entry.line,
                          "a name in the " + typeToken + " RDATA is relative " + kNeedOrigin);
        throw Failure(entry.line, "bad " + ldnsw::typeToText(*type) + " record for " +
                                      owner.toText() + ": " + parsed.error + " (RDATA: '" + rdata +
                                      "')");
    }
    Record record = std::move(*parsed.record);
    record.owner = owner;
    record.line = entry.line;
    if (!ldnsw::rdataMatchesType(record)) {
        throw Failure(entry.line, "bad " + ldnsw::typeToText(*type) + " record for " +
                                      owner.toText() + ": incomplete RDATA (RDATA: '" + rdata +
                                      "')");
    }
    return record;
}

// RDATA as RRs compare (RFC 4034 §6.2: names in it lower-cased). A and AAAA, nearly every record
// of a big zone, have no names, so their RDATA is already canonical and ldns is not needed.
// The record's own RDATA is returned without a copy; anything else is computed into `buffer`.
std::span<const uint8_t> canonicalOf(const Record& r, std::vector<uint8_t>& buffer) {
    if (r.type == rrtype::A || r.type == rrtype::AAAA) return r.rdata;
    buffer = ldnsw::canonicalRdata(r);
    return buffer;
}

// Drops exact duplicates (RFC 2181 §5: owner, type, TTL and canonical RDATA), keeping the
// first of each in place and the order of the rest. Open addressing over indexes into the
// record list, 8 bytes a slot, rather than a set of key strings: that set was a heap string and
// a node per record, over 100 MB for a million-record file. One pass after parsing rather than
// one record at a time as each is read: the table is larger than the caches, and knowing the
// records ahead lets each one's slot be fetched while earlier ones are looked up (waiting for
// the slot was a quarter of reading a big zone).
class DuplicateFilter {
  public:
    static void apply(std::vector<Record>& records) {
        if (records.size() < 2) return;
        DuplicateFilter filter(records);
        constexpr size_t kAhead = kRing - 1;  // the ring's slot of record i - 1 is free again
        for (size_t i = 0; i < std::min(kAhead, records.size()); ++i) filter.prepare(i);
        size_t kept = 0;
        for (size_t i = 0; i < records.size(); ++i) {
            if (i + kAhead < records.size()) filter.prepare(i + kAhead);
            if (!filter.keep(i, kept)) continue;
            if (kept != i) records[kept] = std::move(records[i]);
            ++kept;
        }
        records.erase(records.begin() + std::ptrdiff_t(kept), records.end());
    }

  private:
    struct Slot {
        uint32_t hash = 0;
        uint32_t indexPlusOne = 0;  // 0: empty
    };
    static constexpr size_t kRing = 16;

    explicit DuplicateFilter(std::vector<Record>& records)
        : records_(records), slots_(std::bit_ceil(records.size() * 2)) {}

    void prepare(size_t i) {
        uint32_t hash = hashOf(records_[i]);
        ring_[i % kRing] = hash;
        __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
    }
    // True if records[i] equals no record kept so far; it is then remembered as
    // records[position], where the caller moves it. records[i] must have been prepared.
    bool keep(size_t i, size_t position) {
        const Record& r = records_[i];
        uint32_t hash = ring_[i % kRing];
        size_t mask = slots_.size() - 1;
        for (size_t s = hash & mask;; s = (s + 1) & mask) {
            Slot& slot = slots_[s];
            if (slot.indexPlusOne == 0) {
                slot = {hash, uint32_t(position + 1)};
                return true;
            }
            if (slot.hash != hash) continue;
            const Record& kept = records_[slot.indexPlusOne - 1];
            if (kept.owner == r.owner && kept.type == r.type && kept.ttl == r.ttl &&
                std::ranges::equal(canonicalOf(kept, keptBuffer_), canonicalOf(r, buffer_)))
                return false;
        }
    }
    uint32_t hashOf(const Record& r) {
        std::span<const uint8_t> canonical = canonicalOf(r, buffer_);
        size_t h = std::hash<std::string_view>{}(r.owner.key());
        h = h * 0x9E3779B97F4A7C15ULL + (size_t(r.type) << 32 | r.ttl);
        h ^= std::hash<std::string_view>{}(
            {reinterpret_cast<const char*>(canonical.data()), canonical.size()});
        return uint32_t(h ^ (h >> 32));
    }

    std::vector<Record>& records_;
    std::vector<Slot> slots_;
    uint32_t ring_[kRing] = {};
    std::vector<uint8_t> buffer_, keptBuffer_;  // canonical RDATA that is not the record's own
};

}  // namespace

ZoneFileError::ZoneFileError(std::vector<std::string> problems)
    : std::runtime_error([&] {
          std::string joined;
          for (const auto& p : problems) joined += (joined.empty() ? "" : "\n") + p;
          return joined;
      }()),
      problems_(std::move(problems)) {}

ZoneFile parseZoneText(std::string_view text, const std::string& fileName,
                       const std::optional<Name>& zone) {
    ZoneFile result{fileName, Name(), {}};
    ParseState state;
    state.origin = zone;
    if (zone) state.originText = zone->toText();
    // At most one record a line: reserving that much up front saves the copy (and the double
    // peak) of growing a million-record vector by doubling.
    result.records.reserve(size_t(std::count(text.begin(), text.end(), '\n')) + 1);
    // Split failures first, then the entries', as one list sorted by line below.
    std::vector<Failure> failures, entryFailures;
    splitEntries(text, failures, [&](const Entry& entry) {
        // A bad entry is reported and skipped; the state it would have set stays as it was.
        try {
            if (!entry.ownerOmitted && entry.tokens[0][0] == '$') {
                applyDirective(entry, state);
                return;
            }
            bool ttlGiven = false;
            Record record = parseRecordEntry(entry, state, ttlGiven);
            if (!ttlGiven && !state.defaultTtl && !state.lastTtl)
                throw Failure(entry.line, "record has no TTL and there is no $TTL before it");
            result.records.push_back(std::move(record));
        } catch (const Failure& f) {
            entryFailures.push_back(f);
        }
    });
    failures.insert(failures.end(), entryFailures.begin(), entryFailures.end());
    if (!failures.empty()) {
        std::stable_sort(failures.begin(), failures.end(),
                         [](const Failure& a, const Failure& b) { return a.line() < b.line(); });
        std::vector<std::string> problems;
        for (const auto& f : failures)
            problems.push_back(fileName + ":" + std::to_string(f.line()) + ": " + f.what());
        throw ZoneFileError(std::move(problems));
    }
    // Duplicates are one RR (RFC 2181 §5); keep the first. A duplicate with another TTL is
    // kept so that the validator names the conflict.
    DuplicateFilter::apply(result.records);
    if (zone) {
        result.origin = *zone;
    } else {
        auto soa = std::find_if(result.records.begin(), result.records.end(),
                                [](const Record& r) { return r.type == rrtype::SOA; });
        if (soa == result.records.end())
            throw ZoneFileError(
                {fileName + ": no SOA record, so the zone name is unknown (pass --zone NAME)"});
        result.origin = soa->owner;
    }
    return result;
}

ZoneFile loadZoneFile(const std::string& path, const std::optional<Name>& zone) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
    // Read straight into one string of the file's size: a stringstream and its str() held the
    // file twice.
    std::string text;
    in.seekg(0, std::ios::end);
    std::streamoff size = in.tellg();
    in.seekg(0, std::ios::beg);
    if (size < 0) in.clear();  // not seekable: no size known, read it in chunks below
    if (size > 0) {
        text.resize(size_t(size));
        in.read(text.data(), size);
        text.resize(size_t(in.gcount()));
    }
    // A file that is not seekable (a pipe) or grew meanwhile: read the rest as it comes.
    char chunk[65536];
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) text.append(chunk, size_t(in.gcount()));
    if (in.bad()) throw std::runtime_error(path + ": read error: " + std::strerror(errno));
    return parseZoneText(text, path, zone);
}

RecordText parseRecordText(std::string_view text, const Name& origin) {
    ParseState state;
    state.origin = origin;
    state.originText = origin.toText();
    try {
        std::vector<Failure> failures;
        std::vector<Entry> entries;
        splitEntries(text, failures, [&](const Entry& entry) { entries.push_back(entry); });
        if (!failures.empty()) throw failures.front();
        if (entries.size() != 1)
            throw Failure(1, entries.empty() ? "empty record" : "more than one record given");
        if (entries[0].ownerOmitted) throw Failure(1, "the record needs an owner name first");
        if (entries[0].tokens[0][0] == '$') throw Failure(1, "directives are not records");
        RecordText result;
        // A placeholder TTL lets ldns parse; the caller decides the real one if none was given.
        state.defaultTtl = 0;
        result.record = parseRecordEntry(entries[0], state, result.ttlGiven);
        result.record.line = 0;
        return result;
    } catch (const Failure& f) {
        throw std::runtime_error(f.what());
    }
}

std::vector<uint8_t> parseRdataText(uint16_t type, std::string_view rdata, const Name& origin) {
    // The mnemonic, not TYPEnnn: ldns reads typed presentation only after a type it knows.
    std::string line =
        origin.toText() + " 0 IN " + ldnsw::typeToText(type) + " " + std::string(rdata);
    return parseRecordText(line, origin).record.rdata;
}

std::optional<uint16_t> rrTypeFromText(std::string_view text) {
    return ldnsw::typeFromText(text);
}
std::string rrTypeToText(uint16_t type) {
    return ldnsw::typeToText(type);
}
std::string formatRecord(const Record& record, bool portable) {
    return ldnsw::formatRr(record, portable);
}
std::string formatRdata(const Record& record, bool portable) {
    return ldnsw::formatRdata(record, portable);
}

namespace {

// Name::canonicalCompare (RFC 4034 §6.1: labels compared from the right, as octets; owners are
// already lower case) without its two label lists on the heap: sorting a million-record zone
// for export calls this some twenty million times.
int canonicalNameCompare(std::string_view a, std::string_view b) {
    auto labelStarts = [](std::string_view w, std::array<uint8_t, 128>& at) {
        size_t n = 0;
        for (size_t pos = 0; pos < w.size() && w[pos] != 0; pos += 1 + uint8_t(w[pos]))
            at[n++] = uint8_t(pos);
        return n;
    };
    std::array<uint8_t, 128> as, bs;
    size_t i = labelStarts(a, as), j = labelStarts(b, bs);
    while (i > 0 && j > 0) {
        --i;
        --j;
        int c =
            a.substr(as[i] + 1, uint8_t(a[as[i]])).compare(b.substr(bs[j] + 1, uint8_t(b[bs[j]])));
        if (c != 0) return c < 0 ? -1 : 1;
    }
    if (i == 0 && j == 0) return 0;
    return i == 0 ? -1 : 1;
}

}  // namespace

bool canonicalRecordLess(const Record& a, const Record& b) {
    int c = canonicalNameCompare(a.owner.key(), b.owner.key());
    if (c != 0) return c < 0;
    if (a.type != b.type) return a.type < b.type;
    return a.rdata < b.rdata;
}

namespace {

// A and AAAA, nearly every record of a big zone, written with inet_ntop as ldns writes them
// (the same tab-separated line as formatRecord), without ldns decoding each record first.
// `line` is the caller's buffer, reused from line to line.
bool writeAddressRecord(std::ostream& out, const Record& r, std::string& line) {
    bool v4 = r.type == rrtype::A && r.rdata.size() == 4;
    if (!v4 && !(r.type == rrtype::AAAA && r.rdata.size() == 16)) return false;
    char text[INET6_ADDRSTRLEN];
    if (!inet_ntop(v4 ? AF_INET : AF_INET6, r.rdata.data(), text, sizeof text)) return false;
    line.clear();
    r.owner.appendText(line);
    line += '\t';
    line += std::to_string(r.ttl);
    line += v4 ? "\tIN\tA\t" : "\tIN\tAAAA\t";
    line += text;
    line += '\n';
    out.write(line.data(), std::streamsize(line.size()));
    return true;
}

}  // namespace

void writeZoneFile(std::ostream& out, const Name& origin, const std::vector<Record>& records) {
    std::vector<const Record*> sorted;
    sorted.reserve(records.size());
    for (const auto& r : records) sorted.push_back(&r);
    // SOA first (NSD and BIND expect it there), then canonical order.
    std::sort(sorted.begin(), sorted.end(), [&](const Record* a, const Record* b) {
        bool aSoa = a->type == rrtype::SOA && a->owner == origin;
        bool bSoa = b->type == rrtype::SOA && b->owner == origin;
        if (aSoa != bSoa) return aSoa;
        return canonicalRecordLess(*a, *b);
    });
    out << "; zone " << origin.toText() << ", " << records.size()
        << " records, written by dnsctl\n$ORIGIN " << origin.toText() << "\n";
    std::string line;
    for (const Record* r : sorted)
        if (!writeAddressRecord(out, *r, line)) out << formatRecord(*r) << '\n';
}

std::string formatZoneFile(const Name& origin, const std::vector<Record>& records) {
    std::ostringstream out;
    writeZoneFile(out, origin, records);
    return std::move(out).str();
}

}  // namespace zones
