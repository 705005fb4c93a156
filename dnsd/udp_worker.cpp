#include "dnsd/udp_worker.hpp"

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <ctime>

#include <cstring>
#include <memory>
#include <vector>
#include "dnsd/client_address.hpp"
#include "dnsd/datagram_path.hpp"

namespace dnsd {
UdpWorker::UdpWorker(Fd socket, const StateHolder& state, const EngineConfig& config,
                     RateLimiter& rrl, ThreadStats& stats, const std::atomic<bool>& stop,
                     std::string name)
    : socket_(std::move(socket)),
      state_(state),
      config_(config),
      rrl_(rrl),
      stats_(stats),
      stop_(stop),
      name_(std::move(name)) {}

namespace {

// RFC 9715 §3.1: set DF on UDP responses rather than let them be fragmented, but ignore path
// MTU updates (IP_PMTUDISC_PROBE), so a forged ICMP "fragmentation needed" cannot shrink what
// we send. Only when every response fits the IPv6 minimum MTU (1280 - 28 bytes of IPv4+UDP
// header), so no link a server sits on can make the kernel refuse a response. It also
// spares the kernel the IP ID generator (a shared hashed counter) for every packet.
void setDontFragment(int fd, size_t maxPayload) {
    sockaddr_storage self{};
    socklen_t len = sizeof self;
    if (maxPayload > 1280 - 28 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len) != 0 ||
        self.ss_family != AF_INET)
        return;
    int probe = IP_PMTUDISC_PROBE;
    ::setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof probe);
}

}  // namespace

bool UdpWorker::submitUpdate(std::span<const uint8_t> message, const sockaddr_storage& peer,
                             socklen_t peerLen, const Client& client) {
    if (!updates_) return false;
    UpdateQueue::Job job;
    job.message.assign(message.begin(), message.end());
    job.client = clientText(client);
    // The socket outlives the update thread (main joins every thread before the workers go).
    job.reply = [fd = socket_.get(), peer, peerLen](std::span<const uint8_t> answer) {
        ::sendto(fd, answer.data(), answer.size(), 0, reinterpret_cast<const sockaddr*>(&peer),
                 peerLen);
    };
    return updates_->submit(std::move(job));
}

void UdpWorker::run() {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    constexpr size_t kBatch = 32;
    constexpr size_t kInSize =
        4096;  // larger UDP queries are not legitimate; they get truncated and dropped
    const size_t outSize = std::max<size_t>(config_.maxUdpPayload, 512);
    std::vector<uint8_t> in(kBatch * kInSize), out(kBatch * outSize);
    sockaddr_storage peers[kBatch];
    iovec inIov[kBatch], outIov[kBatch];
    mmsghdr inMsgs[kBatch], outMsgs[kBatch];
    DatagramPath path(state_, config_, rrl_, stats_);

    timeval tv{0, 200 * 1000};  // wake up to notice `stop`
    ::setsockopt(socket_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setDontFragment(socket_.get(), outSize);

    // The receive and send headers point at fixed buffers; only what the kernel or the
    // previous batch changed is reset, and only for the slots that batch used.
    for (size_t i = 0; i < kBatch; ++i) {
        inIov[i] = {in.data() + i * kInSize, kInSize};
        inMsgs[i] = {};
        inMsgs[i].msg_hdr.msg_name = &peers[i];
        inMsgs[i].msg_hdr.msg_namelen = sizeof peers[i];
        inMsgs[i].msg_hdr.msg_iov = &inIov[i];
        inMsgs[i].msg_hdr.msg_iovlen = 1;
        outMsgs[i] = {};
        outMsgs[i].msg_hdr.msg_iov = &outIov[i];
        outMsgs[i].msg_hdr.msg_iovlen = 1;
    }
    size_t used = 0;
    while (!stop_.load(std::memory_order_relaxed)) {
        for (size_t i = 0; i < used; ++i) {
            inMsgs[i].msg_hdr.msg_namelen = sizeof peers[i];
            inMsgs[i].msg_hdr.msg_flags = 0;
        }
        int n = ::recvmmsg(socket_.get(), inMsgs, kBatch, MSG_WAITFORONE, nullptr);
        if (n <= 0) {  // timeout (EAGAIN) or EINTR: check `stop` and go on
            used = 0;
            continue;
        }
        used = size_t(n);
        const ServedState& st = path.state();
        Client client;
        client.transport = Transport::Udp;
        client.now = uint32_t(::time(nullptr));  // once per batch (vDSO, no system call)
        size_t toSend = 0;
        for (int i = 0; i < n; ++i) {
            if (inMsgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                ThreadStats::bump(stats_.outcomes[size_t(Outcome::DropShort)]);
                continue;
            }
            std::span<const uint8_t> q(in.data() + size_t(i) * kInSize, inMsgs[i].msg_len);
            std::span<uint8_t> o(out.data() + toSend * outSize, outSize);
            clientFrom(peers[i], client);
            AnswerResult r = path.answer(st, q, o, client);
            if (r.action == Action::Update) {
                if (submitUpdate(q, peers[i], inMsgs[i].msg_hdr.msg_namelen, client)) continue;
                r.action = Action::Send;  // queue full: SERVFAIL now
                r.size = updateServFail(q, o);
                if (r.size == 0) continue;
            }
            if (!path.finish(st, r, q, o, client)) continue;
            outIov[toSend] = {o.data(), r.size};
            outMsgs[toSend].msg_hdr.msg_name = &peers[i];
            outMsgs[toSend].msg_hdr.msg_namelen = inMsgs[i].msg_hdr.msg_namelen;
            ++toSend;
        }
        for (size_t sent = 0; sent < toSend;) {
            int k = ::sendmmsg(socket_.get(), outMsgs + sent, unsigned(toSend - sent), 0);
            if (k <= 0) {
                if (k < 0 && errno == EINTR) continue;
                // A send error for one peer (e.g. unreachable) must not stall the rest.
                ++sent;
                continue;
            }
            sent += size_t(k);
        }
    }
}

}  // namespace dnsd
