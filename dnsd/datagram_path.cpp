#include "dnsd/datagram_path.hpp"

#include <cstring>

#include "dnsd/xfr/tsig_answer.hpp"
#include "dnsd/xfr/zone_transfer.hpp"
#include "zones/name.hpp"

namespace dnsd {
namespace {

// RFC 1995 §2: IXFR over UDP gets the SOA alone when the client is current, and otherwise
// a TC response (header and question) that sends it to TCP, where the transfer happens.
// Errors (refused, TSIG) are answered as over TCP. Rare, so it may allocate.
AnswerResult ixfrOverUdp(StateHolder::Reader& reader, std::span<const uint8_t> q,
                         std::span<uint8_t> o, const Client& client) {
    AnswerResult r;
    r.qtype = zones::rrtype::IXFR;
    ZoneTransfer::Start s = ZoneTransfer::begin(reader.shared(), q, o, client, client.now);
    if (s.size == 0 && !s.transfer) return r;
    r.action = Action::Send;
    r.size = s.size;
    if (s.transfer) {
        size_t questionEnd = 12;
        size_t pos = 12;
        if (zones::readMessageName(q, pos) && pos + 4 <= q.size()) questionEnd = pos + 4;
        std::memcpy(o.data(), q.data(), questionEnd);
        o[2] = uint8_t(0x80 | (q[2] & 0x79) | 0x04 | 0x02);  // QR, AA, TC
        o[3] = 0;
        std::memset(o.data() + 4, 0, 8);
        o[5] = questionEnd > 12 ? 1 : 0;
        r.size = questionEnd;
        r.truncated = true;
    }
    return r;
}

}  // namespace

DatagramPath::DatagramPath(const StateHolder& state, const EngineConfig& config, RateLimiter& rrl,
                           ThreadStats& stats)
    : reader_(state),
      config_(config),
      rrl_(rrl),
      stats_(stats),
      scratch_(std::make_unique<Scratch>()),
      rrlOn_(rrl.enabled()) {}

AnswerResult DatagramPath::answer(const ServedState& st, std::span<const uint8_t> q,
                                  std::span<uint8_t> o, const Client& client) {
    AnswerResult r = dnsd::answer(*st.zones, *st.pools, config_, q, o, client, *scratch_);
    stats_.count(r, Transport::Udp);
    if (r.action == Action::Transfer) r = ixfrOverUdp(reader_, q, o, client);
    return r;
}

bool DatagramPath::finish(const ServedState& st, AnswerResult& r, std::span<const uint8_t> q,
                          std::span<uint8_t> o, const Client& client) {
    if (r.tsig && r.action == Action::Send)
        r.size = signAnswer(st.xfr.get(), q, o, r.size, r.questionSize, client.now);
    if (r.action != Action::Send) return false;
    if (!rrlOn_) return true;
    if (r.cookie == CookieState::Valid) {
        // A valid server cookie proves the address: it cannot be a spoofed victim.
        ThreadStats::bump(stats_.rrlCookieExempt);
        return true;
    }
    RateLimiter::Verdict v = rrl_.check(client, r.rrlKey, client.now);
    if (v == RateLimiter::Verdict::Drop) {
        ThreadStats::bump(stats_.rrlDropped);
        return false;
    }
    if (v == RateLimiter::Verdict::Slip && r.cookie != CookieState::None) {
        // It speaks cookies: BADCOOKIE with a fresh one lets it retry over UDP, exempt,
        // instead of falling back to TCP.
        ThreadStats::bump(stats_.rrlSlipped);
        ThreadStats::bump(stats_.rrlBadCookie);
        r = badCookie(config_, q, o, client, *scratch_);
        return r.action == Action::Send;
    }
    if (v == RateLimiter::Verdict::Slip) {
        // Header and question only, TC set: "ask again over TCP".
        ThreadStats::bump(stats_.rrlSlipped);
        r.size = r.questionSize;
        o[2] |= 0x02;
        std::memset(o.data() + 6, 0, 6);
    }
    return true;
}

}  // namespace dnsd
