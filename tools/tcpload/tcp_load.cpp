#include "tools/tcpload/tcp_load.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "common/fd.hpp"

namespace tcpload {
namespace {

int64_t nowUs() {
    using namespace std::chrono;
    return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

enum class State : uint8_t { Closed, Connecting, Open };

struct Conn {
    common::Fd fd;
    State state = State::Closed;
    bool starved = false;  // waiting for the rate cap, listed in Runner::starved_
    bool wantOut = false;  // EPOLLOUT registered
    uint32_t outstanding = 0;
    uint64_t sentHere = 0, answeredHere = 0;
    int64_t lastProgressUs = 0;
    std::vector<uint8_t> in;  // an incomplete response carried over between reads
    std::vector<uint8_t> out;
    size_t outOff = 0;
};

// One run's state: the connections, the epoll set and the counters.
class Runner {
  public:
    explicit Runner(const TcpLoadConfig& c) : c_(c), conns_(c.connections), buf_(1 << 16) {}

    TcpLoadResult run() {
        ep_ = common::Fd(::epoll_create1(EPOLL_CLOEXEC));
        if (!ep_.valid()) throw std::runtime_error(std::string("epoll: ") + std::strerror(errno));
        start_ = nowUs();
        end_ = start_ + int64_t(c_.seconds * 1e6);
        for (uint32_t i = 0; i < conns_.size(); ++i) open(i);
        std::vector<epoll_event> events(512);
        int64_t lastSweep = start_;
        for (;;) {
            int64_t now = nowUs();
            if (now >= end_) break;
            bool busy = !reopen_.empty() || !starved_.empty();
            int waitMs = busy ? 1 : int(std::min<int64_t>(50, (end_ - now) / 1000 + 1));
            int n = ::epoll_wait(ep_.get(), events.data(), int(events.size()), waitMs);
            for (int i = 0; i < n; ++i) onEvent(events[i].data.u32, events[i].events);
            now = nowUs();
            if (!starved_.empty()) feedStarved();
            if (!reopen_.empty()) {
                std::vector<uint32_t> todo;
                todo.swap(reopen_);
                for (uint32_t slot : todo) open(slot);
            }
            if (now - lastSweep >= 100000) {
                lastSweep = now;
                sweep(now);
            }
        }
        r_.seconds = double(nowUs() - start_) / 1e6;
        for (Conn& k : conns_) r_.unansweredAtEnd += k.outstanding;
        return r_;
    }

  private:
    void open(uint32_t slot) {
        Conn& k = conns_[slot];
        k = Conn{};
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            ++r_.connectFailed;
            reopen_.push_back(slot);
            return;
        }
        k.fd = common::Fd(fd);
        int one = 1;
        // The port is picked at connect(), per (source, server) pair: churn over many sources
        // does not run out of ephemeral ports as bind-time allocation would.
        ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in src{};
        src.sin_family = AF_INET;
        // A slot keeps its address: no address ever holds more than its share of connections
        // (a server's per-client limit must see exactly that, however the churn goes).
        src.sin_addr.s_addr = htonl(ntohl(c_.firstSource.s_addr) + slot % c_.sourceCount);
        ++r_.connectsTried;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
            (::connect(fd, reinterpret_cast<const sockaddr*>(&c_.server), sizeof c_.server) != 0 &&
             errno != EINPROGRESS)) {
            countConnectError(errno);
            k.fd.reset();
            reopen_.push_back(slot);
            return;
        }
        k.state = State::Connecting;
        k.lastProgressUs = nowUs();
        epoll_event ev{};
        ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
        ev.data.u32 = slot;
        k.wantOut = true;
        ::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev);
    }

    void countConnectError(int err) {
        if (err == ECONNREFUSED)
            ++r_.refused;
        else
            ++r_.connectFailed;
    }

    // Closes the slot's connection; `again` puts a new one in its place.
    void drop(uint32_t slot, bool again = true) {
        Conn& k = conns_[slot];
        if (k.state == State::Open) --open_;
        k.state = State::Closed;
        k.outstanding = 0;
        k.fd.reset();  // also leaves the epoll set
        if (again) reopen_.push_back(slot);
    }

    void onEvent(uint32_t slot, uint32_t ev) {
        Conn& k = conns_[slot];
        if (k.state == State::Connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(k.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0 || (ev & EPOLLERR)) {
                countConnectError(err ? err : ECONNREFUSED);
                drop(slot);
                return;
            }
            if (!(ev & EPOLLOUT)) return;
            k.state = State::Open;
            ++r_.connected;
            if (++open_ > r_.peakOpen) r_.peakOpen = open_;
            fill(slot);
            if (k.state == State::Open) setWantOut(slot, k.outOff < k.out.size());
            return;
        }
        if (k.state != State::Open) return;
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            if (!receive(slot)) return;
        }
        if (ev & EPOLLOUT) {
            if (!flush(slot)) return;
        }
        if (k.state == State::Open) setWantOut(slot, k.outOff < k.out.size());
    }

    void setWantOut(uint32_t slot, bool want) {
        Conn& k = conns_[slot];
        if (k.wantOut == want) return;
        k.wantOut = want;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | (want ? uint32_t(EPOLLOUT) : 0u);
        ev.data.u32 = slot;
        ::epoll_ctl(ep_.get(), EPOLL_CTL_MOD, k.fd.get(), &ev);
    }

    // Server closed or failed: a fault unless we had nothing more to ask on it.
    void lost(uint32_t slot, bool reset) {
        Conn& k = conns_[slot];
        bool quotaLeft = c_.queriesPerConnection == 0 || k.answeredHere < c_.queriesPerConnection;
        if (reset)
            ++r_.reset;
        else if (k.outstanding > 0 || quotaLeft)
            ++r_.closedEarly;
        drop(slot);
    }

    // Reads and counts answers; false if the connection is gone.
    bool receive(uint32_t slot) {
        Conn& k = conns_[slot];
        for (;;) {
            ssize_t n = ::recv(k.fd.get(), buf_.data(), buf_.size(), 0);
            if (n == 0) {
                lost(slot, false);
                return false;
            }
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                lost(slot, true);
                return false;
            }
            k.lastProgressUs = nowUs();
            const uint8_t* p = buf_.data();
            size_t len = size_t(n);
            // Join a carried-over partial message first; the common case needs no copy.
            if (!k.in.empty()) {
                k.in.insert(k.in.end(), p, p + len);
                size_t used = consume(k, k.in.data(), k.in.size());
                k.in.erase(k.in.begin(), k.in.begin() + long(used));
            } else {
                size_t used = consume(k, p, len);
                k.in.assign(p + used, p + len);
            }
            if (size_t(n) < buf_.size()) break;
        }
        if (c_.queriesPerConnection && k.answeredHere >= c_.queriesPerConnection) {
            ++r_.completed;
            drop(slot);
            return false;
        }
        fill(slot);
        return k.state == State::Open;
    }

    // Counts the complete messages at p; returns the bytes used.
    size_t consume(Conn& k, const uint8_t* p, size_t len) {
        size_t pos = 0;
        while (len - pos >= 2) {
            size_t m = (size_t(p[pos]) << 8) | p[pos + 1];
            if (len - pos - 2 < m) break;
            const uint8_t* msg = p + pos + 2;
            pos += 2 + m;
            if (m < 12 || !(msg[2] & 0x80)) {
                ++r_.malformed;
                continue;
            }
            ++r_.answered;
            ++r_.rcodes[msg[3] & 0x0f];
            ++k.answeredHere;
            if (k.outstanding) --k.outstanding;
        }
        return pos;
    }

    bool rateAllows() const {
        if (!c_.rate) return true;
        return double(r_.sent) < double(c_.rate) * double(nowUs() - start_) / 1e6;
    }

    // Tops the connection up to `pipeline` queries in flight, then writes.
    void fill(uint32_t slot) {
        Conn& k = conns_[slot];
        bool capped = false;
        while (k.outstanding < c_.pipeline &&
               (c_.queriesPerConnection == 0 || k.sentHere < c_.queriesPerConnection)) {
            if (!rateAllows()) {
                capped = true;
                break;
            }
            const std::vector<uint8_t>& q = c_.queries[nextQuery_++ % c_.queries.size()];
            size_t at = k.out.size();
            k.out.insert(k.out.end(), q.begin(), q.end());
            k.out[at + 2] = uint8_t(r_.sent >> 8);
            k.out[at + 3] = uint8_t(r_.sent);
            ++r_.sent;
            ++k.sentHere;
            ++k.outstanding;
        }
        if (capped && !k.starved) {
            k.starved = true;
            starved_.push_back(slot);
        }
        flush(slot);
    }

    void feedStarved() {
        std::vector<uint32_t> todo;
        todo.swap(starved_);
        size_t i = 0;
        for (; i < todo.size() && rateAllows(); ++i) {
            Conn& k = conns_[todo[i]];
            k.starved = false;
            if (k.state != State::Open) continue;
            fill(todo[i]);
            if (k.state == State::Open) setWantOut(todo[i], k.outOff < k.out.size());
        }
        starved_.insert(starved_.end(), todo.begin() + long(i), todo.end());
    }

    // Writes what it can; false if the connection is gone.
    bool flush(uint32_t slot) {
        Conn& k = conns_[slot];
        while (k.outOff < k.out.size()) {
            ssize_t n =
                ::send(k.fd.get(), k.out.data() + k.outOff, k.out.size() - k.outOff, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
                lost(slot, true);
                return false;
            }
            k.outOff += size_t(n);
        }
        k.out.clear();
        k.outOff = 0;
        return true;
    }

    void sweep(int64_t now) {
        int64_t limit = int64_t(c_.timeoutMs) * 1000;
        for (uint32_t i = 0; i < conns_.size(); ++i) {
            Conn& k = conns_[i];
            if (k.state == State::Connecting && now - k.lastProgressUs > limit) {
                ++r_.connectFailed;
                drop(i);
            } else if (k.state == State::Open && k.outstanding && now - k.lastProgressUs > limit) {
                r_.timeouts += k.outstanding;
                drop(i);
            }
        }
    }

    const TcpLoadConfig& c_;
    std::vector<Conn> conns_;
    std::vector<uint8_t> buf_;
    common::Fd ep_;
    std::vector<uint32_t> reopen_, starved_;
    TcpLoadResult r_;
    int64_t start_ = 0, end_ = 0;
    uint64_t nextQuery_ = 0;
    size_t open_ = 0;
};

}  // namespace

TcpLoadResult TcpLoad::run() {
    if (config_.queries.empty()) throw std::runtime_error("no queries to send");
    if (config_.connections == 0 || config_.pipeline == 0 || config_.sourceCount == 0)
        throw std::runtime_error("connections, pipeline and sources must be at least 1");
    Runner runner(config_);
    return runner.run();
}

}  // namespace tcpload
