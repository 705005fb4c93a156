#include "probes/icmp_pinger.hpp"

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/asio/post.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace probes {

namespace asio = boost::asio;

struct IcmpPinger::Pending {
    Pending(asio::io_context& io) : timer(io) {}
    asio::ip::address to;
    asio::steady_timer timer;
    CheckDone done;
    std::chrono::steady_clock::time_point start;
};

namespace {
uint16_t checksum(const uint8_t* p, size_t n) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
    if (n & 1) sum += uint32_t(p[n - 1] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}
}  // namespace

IcmpPinger::IcmpPinger(asio::io_context& io, bool v6)
    : io_(io), v6_(v6), socket_(io), ident_(uint16_t(::getpid())) {
    int family = v6 ? AF_INET6 : AF_INET;
    int proto = v6 ? int(IPPROTO_ICMPV6) : int(IPPROTO_ICMP);
    const char* fam = v6 ? "icmp6" : "icmp";
    int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    int dgramErr = errno;
    if (fd >= 0) {
        status_ = std::string(fam) + ": using an unprivileged ping socket";
    } else {
        fd = ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
        if (fd >= 0) {
            raw_ = true;
            status_ = std::string(fam) + ": using a raw socket";
        } else {
            status_ = std::string(fam) +
                      ": NOT AVAILABLE, icmp probes will report errors (ping socket: " +
                      std::strerror(dgramErr) + "; raw socket: " + std::strerror(errno) +
                      "; allow with sysctl net.ipv4.ping_group_range or CAP_NET_RAW)";
            return;
        }
    }
    socket_.assign(fd);
    readLoop();
}

void IcmpPinger::readLoop() {
    socket_.async_wait(asio::posix::stream_descriptor::wait_read,
                       [this](const boost::system::error_code& ec) {
                           if (ec) return;
                           onReadable();
                           readLoop();
                       });
}

void IcmpPinger::onReadable() {
    uint8_t buf[2048];
    while (true) {
        sockaddr_storage from{};
        socklen_t fromLen = sizeof from;
        ssize_t n = ::recvfrom(socket_.native_handle(), buf, sizeof buf, 0,
                               reinterpret_cast<sockaddr*>(&from), &fromLen);
        if (n < 0) return;
        const uint8_t* p = buf;
        size_t len = size_t(n);
        if (raw_ && !v6_) {  // raw IPv4 sockets deliver the IP header too
            if (len < 20) continue;
            size_t ihl = size_t(p[0] & 0x0f) * 4;
            if (len < ihl + 8) continue;
            p += ihl;
            len -= ihl;
        }
        if (len < 8) continue;
        uint8_t replyType = v6_ ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY;
        if (p[0] != replyType) continue;
        uint16_t ident = uint16_t(p[4] << 8 | p[5]);
        uint16_t seq = uint16_t(p[6] << 8 | p[7]);
        if (raw_ && ident != ident_) continue;
        auto it = pending_.find(seq);
        if (it == pending_.end()) continue;
        asio::ip::address src;
        if (from.ss_family == AF_INET) {
            auto* s = reinterpret_cast<sockaddr_in*>(&from);
            src = asio::ip::address_v4(ntohl(s->sin_addr.s_addr));
        } else if (from.ss_family == AF_INET6) {
            auto* s = reinterpret_cast<sockaddr_in6*>(&from);
            asio::ip::address_v6::bytes_type b;
            std::memcpy(b.data(), &s->sin6_addr, 16);
            src = asio::ip::address_v6(b);
        }
        if (src != it->second->to) continue;
        complete(seq, true, "echo reply");
    }
}

void IcmpPinger::complete(uint16_t seq, bool ok, const std::string& message) {
    auto it = pending_.find(seq);
    if (it == pending_.end()) return;
    auto pending = it->second;
    pending_.erase(it);
    pending->timer.cancel();
    CheckResult r;
    r.ok = ok;
    r.message = message;
    r.latencyUs = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - pending->start)
                      .count();
    pending->done(r);
}

void IcmpPinger::ping(const asio::ip::address& to, int timeoutMs, CheckDone done) {
    if (!available()) {
        CheckResult r;
        r.message = "error: " + status_;
        asio::post(io_, [done, r] { done(r); });
        return;
    }
    uint16_t seq = nextSeq_++;
    while (pending_.count(seq)) seq = nextSeq_++;
    auto p = std::make_shared<Pending>(io_);
    p->to = to;
    p->done = std::move(done);
    p->start = std::chrono::steady_clock::now();
    pending_[seq] = p;

    uint8_t pkt[16] = {};
    pkt[0] = v6_ ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
    pkt[4] = uint8_t(ident_ >> 8);
    pkt[5] = uint8_t(ident_);
    pkt[6] = uint8_t(seq >> 8);
    pkt[7] = uint8_t(seq);
    std::memcpy(pkt + 8, "dnsdprob", 8);
    if (!v6_) {  // the kernel fills the ICMPv6 checksum; ICMPv4 on raw sockets is ours
        uint16_t c = checksum(pkt, sizeof pkt);
        pkt[2] = uint8_t(c >> 8);
        pkt[3] = uint8_t(c);
    }
    sockaddr_storage dst{};
    socklen_t dstLen = 0;
    if (to.is_v4()) {
        auto* s = reinterpret_cast<sockaddr_in*>(&dst);
        s->sin_family = AF_INET;
        s->sin_addr.s_addr = htonl(to.to_v4().to_uint());
        dstLen = sizeof(sockaddr_in);
    } else {
        auto* s = reinterpret_cast<sockaddr_in6*>(&dst);
        s->sin6_family = AF_INET6;
        auto b = to.to_v6().to_bytes();
        std::memcpy(&s->sin6_addr, b.data(), 16);
        dstLen = sizeof(sockaddr_in6);
    }
    if (::sendto(socket_.native_handle(), pkt, sizeof pkt, 0, reinterpret_cast<sockaddr*>(&dst),
                 dstLen) < 0) {
        std::string why = std::strerror(errno);
        asio::post(io_, [this, seq, why] { complete(seq, false, "send: " + why); });
        return;
    }
    p->timer.expires_after(std::chrono::milliseconds(timeoutMs));
    p->timer.async_wait([this, seq, timeoutMs](const boost::system::error_code& ec) {
        if (!ec) complete(seq, false, "timeout after " + std::to_string(timeoutMs) + "ms");
    });
}

}  // namespace probes
