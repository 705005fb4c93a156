#include "dnsd/udp_worker.hpp"

#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <ctime>

#include <cstring>
#include <memory>
#include <vector>
#include "dnsd/client_address.hpp"

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
    auto scratch = std::make_unique<Scratch>();
    StateHolder::Reader reader(state_);

    timeval tv{0, 200 * 1000};  // wake up to notice `stop`
    ::setsockopt(socket_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    while (!stop_.load(std::memory_order_relaxed)) {
        for (size_t i = 0; i < kBatch; ++i) {
            inIov[i] = {in.data() + i * kInSize, kInSize};
            inMsgs[i] = {};
            inMsgs[i].msg_hdr.msg_name = &peers[i];
            inMsgs[i].msg_hdr.msg_namelen = sizeof peers[i];
            inMsgs[i].msg_hdr.msg_iov = &inIov[i];
            inMsgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = ::recvmmsg(socket_.get(), inMsgs, kBatch, MSG_WAITFORONE, nullptr);
        if (n <= 0) continue;  // timeout (EAGAIN) or EINTR: check `stop` and go on
        const ServedState& st = reader.get();
        Client client;
        client.transport = Transport::Udp;
        client.now = uint32_t(::time(nullptr));  // once per batch (vDSO, no system call)
        size_t toSend = 0;
        for (int i = 0; i < n; ++i) {
            if (inMsgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                stats_.outcomes[size_t(Outcome::DropShort)].fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            std::span<const uint8_t> q(in.data() + size_t(i) * kInSize, inMsgs[i].msg_len);
            std::span<uint8_t> o(out.data() + toSend * outSize, outSize);
            clientFrom(peers[i], client);
            AnswerResult r = answer(*st.zones, *st.pools, config_, q, o, client, *scratch);
            stats_.count(r, Transport::Udp);
            if (r.action != Action::Send) continue;
            if (rrl_.enabled()) {
                RateLimiter::Verdict v = rrl_.check(client, r.rrlKey, client.now);
                if (v == RateLimiter::Verdict::Drop) {
                    stats_.rrlDropped.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                if (v == RateLimiter::Verdict::Slip) {
                    // Header and question only, TC set: "ask again over TCP".
                    stats_.rrlSlipped.fetch_add(1, std::memory_order_relaxed);
                    r.size = r.questionSize;
                    o[2] |= 0x02;
                    std::memset(o.data() + 6, 0, 6);
                }
            }
            outIov[toSend] = {o.data(), r.size};
            outMsgs[toSend] = {};
            outMsgs[toSend].msg_hdr.msg_name = &peers[i];
            outMsgs[toSend].msg_hdr.msg_namelen = inMsgs[i].msg_hdr.msg_namelen;
            outMsgs[toSend].msg_hdr.msg_iov = &outIov[toSend];
            outMsgs[toSend].msg_hdr.msg_iovlen = 1;
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
