#include "dnsd/tcp_server.hpp"

#include <arpa/inet.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <string>

#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include "dnsd/client_address.hpp"
#include "dnsd/log.hpp"
#include "dnsd/xfr/refusal_log.hpp"
#include "dnsd/xfr/tsig_answer.hpp"
#include "dnsd/xfr/zone_transfer.hpp"
#include "zones/schema.hpp"

namespace dnsd {
namespace {

constexpr size_t kMaxPendingOutput = 1 << 20;
constexpr size_t kMaxPendingInput = 4 * 65537;
constexpr size_t kEventBatch = 256;
// Connections over a limit waiting for a second look (at least kParkMs); beyond this many,
// refused at once.
constexpr size_t kMaxParked = 1024;
constexpr int64_t kParkMs = 50;

int64_t monotonicMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

struct Connection {
    Fd fd;
    std::vector<uint8_t> in;   // bytes received, not yet a complete message
    std::vector<uint8_t> out;  // length-framed responses not yet written
    size_t outSent = 0;
    int64_t lastActive = 0;
    uint32_t interest = EPOLLIN | EPOLLRDHUP;  // what epoll watches for now
    bool peerClosed = false;                   // the client shut down its sending side
    bool inputDone = false;                    // a zero-length message: no more queries
    Client client;
    std::string clientKey;  // address bytes, for the per-client connection count
    // A zone transfer being sent: its messages go out before the next query is answered.
    std::unique_ptr<ZoneTransfer> transfer;
    int64_t transferStartMs = 0;
    uint64_t id = 0;             // never reused, unlike the fd: how an UPDATE answer finds it
    bool updatePending = false;  // an UPDATE is with the update thread: later messages wait
};

// UPDATE answers the update thread hands back, and the eventfd that wakes the TCP thread.
struct UpdateInbox {
    std::mutex mutex;
    std::vector<std::pair<uint64_t, std::vector<uint8_t>>> answers;
    Fd wake{::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
};

}  // namespace

TcpServer::TcpServer(std::vector<Fd> listeners, const StateHolder& state,
                     const EngineConfig& config, TcpConfig tcp, ThreadStats& stats,
                     const std::atomic<bool>& stop, std::string name)
    : listeners_(std::move(listeners)),
      state_(state),
      config_(config),
      tcp_(tcp),
      stats_(stats),
      stop_(stop),
      name_(std::move(name)) {}

void TcpServer::run() {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    Fd ep(::epoll_create1(EPOLL_CLOEXEC));
    if (!ep.valid()) return;
    for (const Fd& l : listeners_) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = l.get();
        ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, l.get(), &ev);
    }
    auto isListener = [&](int fd) {
        for (const Fd& l : listeners_)
            if (l.get() == fd) return true;
        return false;
    };
    std::unordered_map<int, std::unique_ptr<Connection>> conns;
    std::unordered_map<uint64_t, int> byId;  // Connection::id -> fd
    uint64_t nextId = 0;
    // Shared with the update thread's reply functions, which may outlive a connection.
    auto inbox = std::make_shared<UpdateInbox>();
    if (inbox->wake.valid()) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = inbox->wake.get();
        ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, inbox->wake.get(), &ev);
    }
    auto scratch = std::make_unique<Scratch>();
    std::vector<uint8_t> response(65535);
    StateHolder::Reader reader(state_);

    std::unordered_map<std::string, size_t> perClient;
    // Closing the descriptor (never dup'ed) also takes it out of the epoll set.
    auto close = [&](int fd) {
        auto it = conns.find(fd);
        if (it == conns.end()) return;
        byId.erase(it->second->id);
        auto pc = perClient.find(it->second->clientKey);
        if (pc != perClient.end() && --pc->second == 0) perClient.erase(pc);
        conns.erase(it);
    };
    auto pending = [](const Connection& c) { return c.out.size() - c.outSent; };
    auto hasCompleteMessage = [](const Connection& c) {
        return c.in.size() >= 2 && c.in.size() >= 2 + ((size_t(c.in[0]) << 8) | c.in[1]);
    };
    // Writes what it can; false if the connection failed.
    auto flush = [&](Connection& c) {
        while (c.outSent < c.out.size()) {
            ssize_t k = ::send(c.fd.get(), c.out.data() + c.outSent, c.out.size() - c.outSent,
                               MSG_NOSIGNAL);
            if (k < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                if (errno == EINTR) continue;
                return false;
            }
            c.outSent += size_t(k);
            c.lastActive = monotonicMs();  // a client that reads is not idle
        }
        if (c.outSent == c.out.size()) {
            c.out.clear();
            c.outSent = 0;
        }
        return true;
    };
    RefusalLog refusals;
    // Frames one message into the connection's output.
    auto frame = [](Connection& c, const uint8_t* data, size_t size) {
        c.out.push_back(uint8_t(size >> 8));
        c.out.push_back(uint8_t(size));
        c.out.insert(c.out.end(), data, data + size);
    };
    // Sends transfer messages until the output is full or the transfer is done.
    auto report = [&](const Connection& c, const std::string& zoneKey, XfrOutcome outcome,
                      uint64_t bytes, int64_t startMs) {
        if (!onTransfer_ || zoneKey.empty()) return;
        TransferReport r;
        r.zoneKey = zoneKey;
        r.family = c.client.family;
        std::memcpy(r.addr, c.client.addr, sizeof r.addr);
        r.outcome = outcome;
        r.bytes = bytes;
        r.atMs = zones::nowMs();
        r.durationMs = monotonicMs() - startMs;
        onTransfer_(r);
    };
    auto pump = [&](Connection& c) {
        while (c.transfer && pending(c) < kMaxPendingOutput) {
            size_t n = c.transfer->next(response);
            if (n == 0) {
                report(c, c.transfer->zoneKey(), c.transfer->outcome(), c.transfer->bytes(),
                       c.transferStartMs);
                c.transfer.reset();
                break;
            }
            stats_.xfrMessages.fetch_add(1, std::memory_order_relaxed);
            stats_.xfrBytes.fetch_add(n, std::memory_order_relaxed);
            frame(c, response.data(), n);
        }
    };
    // Judges a transfer request; refusals are counted always and logged once a minute.
    auto startTransfer = [&](Connection& c, std::span<const uint8_t> query) {
        ZoneTransfer::Start s =
            ZoneTransfer::begin(reader.shared(), query, response, c.client, c.client.now);
        stats_.xfr[size_t(s.outcome) & 7].fetch_add(1, std::memory_order_relaxed);
        if (s.outcome == XfrOutcome::Refused || s.outcome == XfrOutcome::NotAuth ||
            s.outcome == XfrOutcome::FormErr) {
            if (refusals.due(c.clientKey, monotonicMs()))
                logWarn("transfer of " + (s.zone.empty() ? std::string("?") : s.zone) + " to " +
                        clientText(c.client) + " refused (" + xfrOutcomeName(s.outcome) +
                        "): " + s.detail + " (logged once a minute per client)");
        } else {
            logInfo("transfer of " + s.zone + " to " + clientText(c.client) + ": " +
                    xfrOutcomeName(s.outcome));
        }
        if (s.size) frame(c, response.data(), s.size);
        c.transfer = std::move(s.transfer);
        c.transferStartMs = monotonicMs();
        if (!c.transfer) report(c, s.zoneKey, s.outcome, s.size, c.transferStartMs);
    };
    // Answers complete messages in order until the input runs out or too much output waits:
    // a client that pipelines faster than it reads is slowed down (we stop reading from it),
    // never cut off and never buffered without bound.
    auto process = [&](Connection& c) {
        size_t pos = 0;
        pump(c);
        while (!c.transfer && !c.updatePending && !c.inputDone && pending(c) < kMaxPendingOutput &&
               c.in.size() - pos >= 2) {
            size_t len = (size_t(c.in[pos]) << 8) | c.in[pos + 1];
            if (len ==
                0) {  // a zero-length message ends the conversation, after the answers so far
                c.inputDone = true;
                break;
            }
            if (c.in.size() - pos - 2 < len) break;
            const ServedState& st = reader.get();
            c.client.now = uint32_t(::time(nullptr));
            AnswerResult r = answer(*st.zones, *st.pools, config_, {c.in.data() + pos + 2, len},
                                    response, c.client, *scratch);
            stats_.count(r, Transport::Tcp);
            pos += 2 + len;
            c.lastActive = monotonicMs();
            if (r.action == Action::Transfer) {
                startTransfer(c, {c.in.data() + pos - len, len});
                pump(c);
                continue;
            }
            if (r.action == Action::Update) {
                std::span<const uint8_t> message(c.in.data() + pos - len, len);
                if (updates_ && inbox->wake.valid()) {
                    UpdateQueue::Job job;
                    job.message.assign(message.begin(), message.end());
                    job.client = clientText(c.client);
                    job.reply = [inbox, id = c.id](std::span<const uint8_t> answer) {
                        {
                            std::lock_guard lock(inbox->mutex);
                            inbox->answers.emplace_back(
                                id, std::vector<uint8_t>(answer.begin(), answer.end()));
                        }
                        uint64_t one = 1;
                        [[maybe_unused]] auto k = ::write(inbox->wake.get(), &one, sizeof one);
                    };
                    if (updates_->submit(std::move(job))) {
                        c.updatePending = true;
                        continue;
                    }
                }
                size_t n = updateServFail(message, response);  // queue full
                if (n) frame(c, response.data(), n);
                continue;
            }
            if (r.action != Action::Send) continue;
            if (r.tsig)
                r.size = signAnswer(st.xfr.get(), {c.in.data() + pos - len, len}, response, r.size,
                                    r.questionSize, c.client.now);
            frame(c, response.data(), r.size);
        }
        c.in.erase(c.in.begin(), c.in.begin() + long(pos));
    };
    // After any event: answer, write, then decide what to wait for. False: close it now.
    auto settle = [&](Connection& c) {
        // Answer and write in turns: writing may make room for answers held back. A transfer
        // gets a few rounds per event, so one fast reader of a big zone cannot hold the
        // thread while other clients wait.
        int rounds = 0;
        do {
            process(c);
            if (!flush(c)) return false;
        } while (!c.inputDone && !c.updatePending && pending(c) < kMaxPendingOutput &&
                 (c.transfer ? ++rounds < 4 : hasCompleteMessage(c)));
        bool finished = c.inputDone || c.peerClosed;
        // Done once everything answerable is answered and written (a half-closed client may
        // still have complete queries waiting for room in the output).
        if (finished && !c.transfer && !c.updatePending && pending(c) == 0 &&
            (c.inputDone || !hasCompleteMessage(c)))
            return false;
        // While an UPDATE is out, a client that has closed must not wake us again and again.
        uint32_t want = c.updatePending && finished ? 0u : uint32_t(EPOLLRDHUP);
        if (!finished && !c.transfer && !c.updatePending && pending(c) < kMaxPendingOutput)
            want |= EPOLLIN;
        if (pending(c) > 0 || c.transfer) want |= EPOLLOUT;
        if (want != c.interest) {
            c.interest = want;
            epoll_event ev{};
            ev.events = want;
            ev.data.fd = c.fd.get();
            ::epoll_ctl(ep.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
        }
        return true;
    };

    auto overLimit = [&](const Connection& c) {
        auto pc = perClient.find(c.clientKey);
        return conns.size() >= tcp_.maxConnections ||
               (pc != perClient.end() && pc->second >= tcp_.maxPerClient);
    };
    auto admit = [&](std::unique_ptr<Connection> c) {
        ++perClient[c->clientKey];
        stats_.tcpConnections.fetch_add(1, std::memory_order_relaxed);
        c->lastActive = monotonicMs();
        int cfd = c->fd.get();
        c->id = ++nextId;
        byId[c->id] = cfd;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = cfd;
        ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, cfd, &ev);
        conns.emplace(cfd, std::move(c));
    };
    // A connection over a limit waits (accepted, not read) until every descriptor that was
    // ready when it came has been handled once (enough epoll rounds) and kParkMs have passed
    // (a close still in the kernel's queues), and is refused only if still over then; while
    // any waits, new ones queue behind it, so a freed slot goes to the longest waiting.
    // Otherwise a client that closes one connection and opens the next is refused while it
    // holds fewer than the limit: the new connection is accepted before the close of the old
    // one is read (tools/BENCH.md, TCP: 2.5% of churned connections refused at 990 of 1,000).
    struct Parked {
        std::unique_ptr<Connection> c;
        size_t rounds;
        int64_t sinceMs;
    };
    std::vector<Parked> parked;
    auto park = [&](std::unique_ptr<Connection> c) {
        if (parked.size() >= kMaxParked) {
            stats_.tcpRefused.fetch_add(1, std::memory_order_relaxed);  // closed by Fd
            return;
        }
        parked.push_back({std::move(c), conns.size() / kEventBatch + 2, monotonicMs()});
    };
    auto settleParked = [&] {
        size_t kept = 0;
        int64_t now = monotonicMs();
        for (Parked& p : parked) {
            if (p.rounds > 0) --p.rounds;
            if (!overLimit(*p.c))
                admit(std::move(p.c));
            else if (p.rounds == 0 && now - p.sinceMs >= kParkMs)
                stats_.tcpRefused.fetch_add(1, std::memory_order_relaxed);  // closed by Fd
            else
                parked[kept++] = std::move(p);
        }
        parked.resize(kept);
    };

    epoll_event events[kEventBatch];
    int64_t lastSweep = monotonicMs();
    while (!stop_.load(std::memory_order_relaxed)) {
        int n = ::epoll_wait(ep.get(), events, int(kEventBatch), parked.empty() ? 100 : 1);
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == inbox->wake.get()) {
                uint64_t count;
                [[maybe_unused]] auto k = ::read(fd, &count, sizeof count);
                std::vector<std::pair<uint64_t, std::vector<uint8_t>>> answers;
                {
                    std::lock_guard lock(inbox->mutex);
                    answers.swap(inbox->answers);
                }
                for (auto& [id, answer] : answers) {
                    auto at = byId.find(id);
                    if (at == byId.end()) continue;  // closed meanwhile
                    Connection& c = *conns.at(at->second);
                    frame(c, answer.data(), answer.size());
                    c.updatePending = false;
                    c.lastActive = monotonicMs();
                    if (!settle(c)) close(at->second);
                }
                continue;
            }
            if (isListener(fd)) {
                for (;;) {
                    sockaddr_storage peer{};
                    socklen_t peerLen = sizeof peer;
                    int cfd = ::accept4(fd, reinterpret_cast<sockaddr*>(&peer), &peerLen,
                                        SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (cfd < 0) break;
                    auto c = std::make_unique<Connection>();
                    c->fd = Fd(cfd);
                    c->client.transport = Transport::Tcp;
                    clientFrom(peer, c->client);
                    c->clientKey.assign(reinterpret_cast<const char*>(c->client.addr),
                                        c->client.family == 6 ? 16 : 4);
                    // Behind any parked one: a slot that frees goes to the longest waiting.
                    if (!parked.empty() || overLimit(*c))
                        park(std::move(c));
                    else
                        admit(std::move(c));
                }
                continue;
            }
            auto it = conns.find(fd);
            if (it == conns.end()) continue;
            Connection& c = *it->second;
            uint32_t ev = events[i].events;
            if (ev & EPOLLERR) {
                close(fd);
                continue;
            }
            if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
                uint8_t buf[16384];
                bool failed = false;
                while (!c.peerClosed) {
                    ssize_t k = ::recv(fd, buf, sizeof buf, 0);
                    if (k > 0) {
                        c.in.insert(c.in.end(), buf, buf + k);
                        if (c.in.size() > kMaxPendingInput) break;  // answer some first
                        // A short read took all there was: the recv that would say EAGAIN
                        // is a system call per event for nothing (level-triggered epoll
                        // reports what comes later). Read on only to see a close coming.
                        if (size_t(k) < sizeof buf && !(ev & (EPOLLRDHUP | EPOLLHUP))) break;
                        continue;
                    }
                    if (k == 0)
                        c.peerClosed = true;  // half-close: answer and write what we have
                    else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                        failed = true;
                    break;
                }
                if (failed) {
                    close(fd);
                    continue;
                }
            }
            if (!settle(c)) close(fd);
        }
        if (!parked.empty()) settleParked();
        int64_t now = monotonicMs();
        if (now - lastSweep >= 50) {
            lastSweep = now;
            std::vector<int> idle;
            for (auto& [fd, c] : conns)
                if (now - c->lastActive > tcp_.idleTimeoutMs) idle.push_back(fd);
            for (int fd : idle) close(fd);
        }
    }
}

}  // namespace dnsd
