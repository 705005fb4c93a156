#include "dnsd/metrics.hpp"

#include "dnsd/xfr/zone_transfer.hpp"

#include "common/prometheus.hpp"
#include "zones/schema.hpp"

namespace dnsd {
namespace {

const char* outcomeName(size_t i) {
    static const char* names[] = {"answer",    "nodata",   "nxdomain", "referral", "refused",
                                  "formerr",   "notimp",   "badvers",  "short",    "response",
                                  "badcookie", "transfer", "update"};
    return i < sizeof names / sizeof names[0] ? names[i] : nullptr;
}

const char* rcodeName(size_t i) {
    static const char* names[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                  "NXDOMAIN", "NOTIMP",  "REFUSED"};
    return i < 6 ? names[i] : nullptr;
}

std::string typeName(size_t slot) {
    static const char* names[] = {"A",   "NS", "CNAME",  "SOA",  "PTR",   "MX",  "TXT", "AAAA",
                                  "SRV", "DS", "DNSKEY", "SVCB", "HTTPS", "ANY", "CAA"};
    return slot < sizeof names / sizeof names[0] ? names[slot] : "other";
}

void line(std::string& out, const std::string& name, uint64_t v) {
    out += name + " " + std::to_string(v) + "\n";
}

void gauge(std::string& out, const char* name, const char* help, double v) {
    common::promHeader(out, name, "gauge", help);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    out += std::string(name) + " " + buf + "\n";
}

}  // namespace

// Zone transfers and NOTIFY: what was asked and sent, and how each secondary is doing.
template <class SumArray, class Sum>
void renderTransfers(std::string& out, const MetricsSources& m, SumArray sumArray, Sum sum) {
    common::promHeader(out, "dnsd_xfr_requests_total", "counter",
                       "Zone transfer requests (AXFR, IXFR) by outcome.");
    for (XfrOutcome o :
         {XfrOutcome::Axfr, XfrOutcome::Ixfr, XfrOutcome::IxfrFull, XfrOutcome::IxfrCurrent,
          XfrOutcome::Refused, XfrOutcome::NotAuth, XfrOutcome::FormErr})
        line(out, std::string("dnsd_xfr_requests_total{outcome=\"") + xfrOutcomeName(o) + "\"}",
             sumArray(&ThreadStats::xfr, size_t(o)));
    common::promHeader(out, "dnsd_xfr_messages_total", "counter", "Zone transfer messages sent.");
    line(out, "dnsd_xfr_messages_total", sum(&ThreadStats::xfrMessages));
    common::promHeader(out, "dnsd_xfr_bytes_total", "counter", "Zone transfer bytes sent.");
    line(out, "dnsd_xfr_bytes_total", sum(&ThreadStats::xfrBytes));
    if (!m.notifier) return;
    const int64_t now = zones::nowMs();
    auto views = m.notifier->secondaries();
    auto labels = [](const SecondaryView& v) {
        return "{zone=\"" + v.zone + "\",secondary=\"" + v.endpoint + "\"}";
    };
    auto each = [&](const char* name, const char* type, const char* help, auto value) {
        common::promHeader(out, name, type, help);
        for (const auto& v : views) line(out, name + labels(v), uint64_t(value(v)));
    };
    each("dnsd_notify_sent_total", "counter", "NOTIFY messages sent (retries included).",
         [](const SecondaryView& v) { return v.sent; });
    each("dnsd_notify_acked_total", "counter", "NOTIFYs the secondary acknowledged.",
         [](const SecondaryView& v) { return v.acked; });
    each("dnsd_notify_retries_total", "counter", "NOTIFYs sent again for want of an answer.",
         [](const SecondaryView& v) { return v.retries; });
    each("dnsd_secondary_serial", "gauge",
         "The serial the secondary last answered for the zone's SOA (0: not yet known).",
         [](const SecondaryView& v) { return v.confirmedKnown ? v.confirmedSerial : 0; });
    each("dnsd_secondary_behind_serials", "gauge",
         "How many serials the secondary is behind (RFC 1982 difference; 0 when current).",
         [](const SecondaryView& v) {
             return v.confirmedKnown ? uint32_t(v.serial - v.confirmedSerial) : 0u;
         });
    common::promHeader(out, "dnsd_secondary_behind_seconds", "gauge",
                       "Seconds since the secondary first lacked the current serial (0: has it).");
    for (const auto& v : views) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f",
                      v.behindSinceMs ? double(now - v.behindSinceMs) / 1000.0 : 0.0);
        out += "dnsd_secondary_behind_seconds" + labels(v) + " " + buf + "\n";
    }
}

// RFC 2136 UPDATE: answers by RCODE, changes committed, the queue.
void renderUpdates(std::string& out, const UpdateQueue& q) {
    static const char* names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                  "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                  "NXRRSET", "NOTAUTH", "NOTZONE"};
    const UpdateStats& s = q.stats();
    common::promHeader(out, "dnsd_updates_total", "counter",
                       "UPDATE (RFC 2136) answers sent, by RCODE.");
    for (size_t i = 0; i < 16; ++i) {
        uint64_t v = s.byRcode[i].load(std::memory_order_relaxed);
        if (i < std::size(names) || v)
            line(out,
                 std::string("dnsd_updates_total{rcode=\"") +
                     (i < std::size(names) ? names[i] : std::to_string(i).c_str()) + "\"}",
                 v);
    }
    common::promHeader(out, "dnsd_updates_applied_total", "counter",
                       "UPDATEs that changed a zone (committed).");
    line(out, "dnsd_updates_applied_total", s.applied.load(std::memory_order_relaxed));
    common::promHeader(out, "dnsd_updates_queue_full_total", "counter",
                       "UPDATEs answered SERVFAIL at once because the update queue was full.");
    line(out, "dnsd_updates_queue_full_total", s.queueFull.load(std::memory_order_relaxed));
    common::promHeader(out, "dnsd_updates_dropped_total", "counter",
                       "UPDATE messages not answered (not a request, or dnsd stopping).");
    line(out, "dnsd_updates_dropped_total", s.dropped.load(std::memory_order_relaxed));
    common::promHeader(out, "dnsd_updates_queued", "gauge", "UPDATEs waiting right now.");
    line(out, "dnsd_updates_queued", s.queued.load(std::memory_order_relaxed));
}

std::string renderMetrics(const MetricsSources& m) {
    std::string out;
    out.reserve(8192);
    auto sum = [&](auto member) {
        uint64_t total = 0;
        for (const auto& s : *m.stats) total += ((*s).*member).load(std::memory_order_relaxed);
        return total;
    };
    auto sumArray = [&](auto member, size_t i) {
        uint64_t total = 0;
        for (const auto& s : *m.stats) total += ((*s).*member)[i].load(std::memory_order_relaxed);
        return total;
    };

    common::promHeader(out, "dnsd_queries_total", "counter", "Queries received, by transport.");
    line(out, "dnsd_queries_total{transport=\"udp\"}", sum(&ThreadStats::udpQueries));
    line(out, "dnsd_queries_total{transport=\"tcp\"}", sum(&ThreadStats::tcpQueries));
    common::promHeader(out, "dnsd_queries_by_type_total", "counter",
                       "Answered queries by query type.");
    for (size_t i = 0; i < kTypeSlots; ++i)
        line(out, "dnsd_queries_by_type_total{qtype=\"" + typeName(i) + "\"}",
             sumArray(&ThreadStats::qtypes, i));
    common::promHeader(out, "dnsd_responses_total", "counter", "Responses sent, by RCODE.");
    for (size_t i = 0; i < 16; ++i) {
        uint64_t v = sumArray(&ThreadStats::rcodes, i);
        if (rcodeName(i) || v)
            line(out,
                 "dnsd_responses_total{rcode=\"" +
                     (rcodeName(i) ? std::string(rcodeName(i)) : std::to_string(i)) + "\"}",
                 v);
    }
    common::promHeader(
        out, "dnsd_outcomes_total", "counter",
        "What each query came to: answers, negative answers, referrals, errors, drops.");
    for (size_t i = 0; outcomeName(i); ++i)
        line(out, std::string("dnsd_outcomes_total{outcome=\"") + outcomeName(i) + "\"}",
             sumArray(&ThreadStats::outcomes, i));
    common::promHeader(out, "dnsd_xdp_answers_total", "counter",
                       "UDP answers sent through AF_XDP (--xdp; counted in the UDP queries too).");
    line(out, "dnsd_xdp_answers_total", sum(&ThreadStats::xdpAnswers));
    common::promHeader(out, "dnsd_xdp_dropped_total", "counter",
                       "Frames the AF_XDP path dropped: unparsable, or no transmit frame free.");
    line(out, "dnsd_xdp_dropped_total", sum(&ThreadStats::xdpDropped));
    common::promHeader(out, "dnsd_xdp_kernel_dropped_total", "counter",
                       "Queries the kernel dropped before dnsd's AF_XDP workers saw them "
                       "(XDP_STATISTICS): ring-full = dnsd fell behind, no-frame = no free "
                       "receive frame, other = invalid descriptors or other reasons.");
    for (auto [reason, member] : {std::pair{"ring-full", &ThreadStats::xdpRingFull},
                                  std::pair{"no-frame", &ThreadStats::xdpNoFrame},
                                  std::pair{"other", &ThreadStats::xdpKernelDropped}})
        line(out, std::string("dnsd_xdp_kernel_dropped_total{reason=\"") + reason + "\"}",
             sum(member));
    common::promHeader(out, "dnsd_truncated_total", "counter", "Responses sent with TC set.");
    line(out, "dnsd_truncated_total", sum(&ThreadStats::truncated));
    common::promHeader(out, "dnsd_rrl_dropped_total", "counter",
                       "UDP responses dropped by rate limiting.");
    line(out, "dnsd_rrl_dropped_total", sum(&ThreadStats::rrlDropped));
    common::promHeader(out, "dnsd_rrl_slipped_total", "counter",
                       "UDP responses sent truncated by rate limiting.");
    line(out, "dnsd_rrl_slipped_total", sum(&ThreadStats::rrlSlipped));
    common::promHeader(out, "dnsd_rrl_badcookie_total", "counter",
                       "Rate-limited UDP responses sent as BADCOOKIE with a fresh cookie "
                       "(the client sent a cookie; counted in slipped too).");
    line(out, "dnsd_rrl_badcookie_total", sum(&ThreadStats::rrlBadCookie));
    common::promHeader(out, "dnsd_rrl_cookie_exempt_total", "counter",
                       "UDP responses not rate limited: the query had a valid server cookie.");
    line(out, "dnsd_rrl_cookie_exempt_total", sum(&ThreadStats::rrlCookieExempt));
    common::promHeader(out, "dnsd_cookies_total", "counter",
                       "Queries with a DNS COOKIE option, by what it said (RFC 7873 §5.2).");
    {
        static const char* states[] = {"", "client-only", "valid", "invalid"};
        for (size_t i = 1; i < 4; ++i)
            line(out, std::string("dnsd_cookies_total{state=\"") + states[i] + "\"}",
                 sumArray(&ThreadStats::cookies, i));
    }
    common::promHeader(out, "dnsd_tcp_connections_total", "counter", "TCP connections accepted.");
    line(out, "dnsd_tcp_connections_total", sum(&ThreadStats::tcpConnections));
    common::promHeader(out, "dnsd_tcp_refused_total", "counter",
                       "TCP connections closed at once: over a limit.");
    line(out, "dnsd_tcp_refused_total", sum(&ThreadStats::tcpRefused));

    int64_t now = zones::nowMs();
    if (auto st = m.state->current()) {
        size_t records = 0;
        for (const auto& z : st->zones->zones()) records += z->recordCount();
        gauge(out, "dnsd_snapshot_generation", "Generation of the state being served.",
              double(st->generation));
        gauge(out, "dnsd_snapshot_age_seconds", "Seconds since the served state was published.",
              double(now - st->publishedAtMs) / 1000.0);
        gauge(out, "dnsd_zones", "Zones served.", double(st->zones->zones().size()));
        gauge(out, "dnsd_records", "Records served.", double(records));
        bool header = false;
        for (const auto& z : st->zones->zones()) {
            if (!z->isSigned()) continue;
            if (!header)
                common::promHeader(out, "dnsd_dnssec_signatures_expire_seconds", "gauge",
                                   "Seconds until the first signature of a signed zone expires "
                                   "(renewed well before; negative: expired).");
            header = true;
            out += "dnsd_dnssec_signatures_expire_seconds{zone=\"" + z->apex().toText() + "\"} " +
                   std::to_string(z->signaturesExpire() - now / 1000) + "\n";
        }
    }
    common::promHeader(out, "dnsd_dnssec_signing_failed", "gauge",
                       "1 for a signed zone dnsd could not sign at the last reload (it serves "
                       "its last signed state; the log says why).");
    for (const auto& [zone, why] : m.control->signingProblems())
        out += "dnsd_dnssec_signing_failed{zone=\"" + zone + "\"} 1\n";
    common::promHeader(out, "dnsd_reload_failures_total", "counter",
                       "State rebuilds that failed (the previous state kept serving).");
    line(out, "dnsd_reload_failures_total", m.control->failures());
    int64_t beat = m.control->lastHeartbeat();
    gauge(out, "dnsd_controller_heartbeat_age_seconds",
          "Seconds since dnsd-probe last reported (-1: never).",
          beat < 0 ? -1.0 : double(now - beat) / 1000.0);
    gauge(out, "dnsd_uptime_seconds", "Seconds since dnsd started.",
          double(now - m.startedAtMs) / 1000.0);
    out += m.pools->render();
    renderTransfers(out, m, sumArray, sum);
    if (m.updates) renderUpdates(out, *m.updates);
    return out;
}

}  // namespace dnsd
