// libFuzzer target: any byte stream into the real dnsd::TcpServer, over a real TCP
// connection on 127.0.0.1 (RFC 7766 length framing, pipelining, partial messages).
//
// Input: [mode][chunk][stream...]. The stream is sent as is, `chunk` bytes at a time
// (0 = all at once); after each chunk the target waits for the answers to every message
// completed so far, so a message split across chunks really reaches the server in pieces.
// mode bit 0: half-close (shutdown SHUT_WR) after the last byte.
//
// Oracle: the server's output must be byte for byte the expected answers, which are
// computed here by cutting the stream into frames and calling dnsd::answer() on each (no pools
// are bound, so answers are deterministic). A zero-length message makes the server close: the
// output must then be every answer to the messages before it, followed by EOF. Without a
// zero-length message and without half-close the connection must stay open.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "common/fd.hpp"
#include "dnsd/tcp_server.hpp"
#include "dnsd/update/update_queue.hpp"
#include "tests/fuzz/fuzz_world.hpp"

namespace {

// A hang is a finding too, but only after far longer than any answer takes.
constexpr int kDeadlineMs = 10000;

[[noreturn]] void fail(const char* why) {
    std::fprintf(stderr, "tcp_framing_fuzz: %s\n", why);
    std::abort();
}

struct Server {
    dnsd::StateHolder state;
    dnsd::ThreadStats stats;
    std::atomic<bool> stop{false};
    sockaddr_in addr{};
    fuzzsupport::FuzzWorld* world = fuzzsupport::makeFuzzWorld(false);

    Server() {
        common::Fd l(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (!l.valid() || ::bind(l.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(l.get(), 128) != 0 ||
            ::getsockname(l.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            fail("cannot listen on 127.0.0.1");
        auto st = std::make_shared<dnsd::ServedState>();
        st->zones = world->snapshot;
        st->pools = world->pools;
        state.publish(st);
        std::vector<common::Fd> listeners;
        listeners.push_back(std::move(l));
        // Detached and never stopped: it lives as long as the fuzzing process.
        std::thread([this, ls = std::move(listeners)]() mutable {
            dnsd::TcpServer server(std::move(ls), state, world->config, dnsd::TcpConfig{}, stats,
                                   stop, "fuzz-tcp");
            server.run();
        }).detach();
    }
};

int64_t nowMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

struct Expected {
    std::vector<uint8_t> bytes;        // every answer, length-framed
    std::vector<size_t> afterMessage;  // bytes.size() once message i is answered
    std::vector<size_t> messageEnd;    // stream offset just past message i
    bool closes = false;               // a zero-length message ends the connection
};

Expected expectedAnswers(const fuzzsupport::FuzzWorld& w, const uint8_t* s, size_t n) {
    Expected e;
    dnsd::Scratch scratch;
    std::vector<uint8_t> out(65535);
    size_t pos = 0;
    while (n - pos >= 2) {
        size_t len = (size_t(s[pos]) << 8) | s[pos + 1];
        if (len == 0) {
            e.closes = true;
            break;
        }
        if (n - pos - 2 < len) break;
        auto r = dnsd::answer(*w.snapshot, *w.pools, w.config, {s + pos + 2, len}, out,
                              dnsd::Transport::Tcp, scratch);
        if (r.action == dnsd::Action::Update)  // this server has no update thread: SERVFAIL
            r.size = dnsd::updateServFail({s + pos + 2, len}, out);
        if (r.action == dnsd::Action::Send || (r.action == dnsd::Action::Update && r.size)) {
            e.bytes.push_back(uint8_t(r.size >> 8));
            e.bytes.push_back(uint8_t(r.size));
            e.bytes.insert(e.bytes.end(), out.begin(), out.begin() + long(r.size));
        }
        pos += 2 + len;
        e.afterMessage.push_back(e.bytes.size());
        e.messageEnd.push_back(pos);
    }
    return e;
}

// Reads until `want` bytes are in, EOF, or the deadline. Returns false on EOF/error.
bool readUntil(int fd, std::vector<uint8_t>& got, size_t want, int64_t deadline) {
    uint8_t buf[65536];
    while (got.size() < want) {
        pollfd p{fd, POLLIN, 0};
        int left = int(deadline - nowMs());
        if (left <= 0) fail("timed out waiting for answers");
        if (::poll(&p, 1, left) <= 0) continue;
        ssize_t k = ::recv(fd, buf, sizeof buf, 0);
        if (k > 0) {
            got.insert(got.end(), buf, buf + k);
        } else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Server* server = new Server();
    if (size < 2) return 0;
    const bool halfClose = data[0] & 1;
    const size_t chunk = data[1];
    const uint8_t* stream = data + 2;
    const size_t n = size - 2;
    Expected e = expectedAnswers(*server->world, stream, n);

    common::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    // Close with RST, so a million connections leave no TIME_WAIT behind.
    linger lg{1, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    // Small chunks go out at once instead of waiting for delayed ACKs (Nagle).
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&server->addr),
                  sizeof server->addr) != 0)
        fail("cannot connect");

    const int64_t deadline = nowMs() + kDeadlineMs;
    std::vector<uint8_t> got;
    bool open = true;
    size_t sent = 0, answered = 0;
    while (sent < n && open) {
        size_t k = chunk == 0 ? n - sent : std::min(chunk, n - sent);
        // The server may have closed already (zero-length message): stop sending then.
        ssize_t w = ::send(fd.get(), stream + sent, k, MSG_NOSIGNAL);
        if (w <= 0) break;
        sent += size_t(w);
        while (answered < e.messageEnd.size() && e.messageEnd[answered] <= sent) ++answered;
        if (chunk != 0 && answered > 0)
            open = readUntil(fd.get(), got, e.afterMessage[answered - 1], deadline);
    }
    if (halfClose) ::shutdown(fd.get(), SHUT_WR);
    if (open) open = readUntil(fd.get(), got, e.bytes.size(), deadline);

    if (e.closes) {
        // Whatever came must be a prefix of the answers, then EOF.
        if (open) readUntil(fd.get(), got, SIZE_MAX, deadline);
        // Every answer before the zero-length message is required, then EOF.
        bool bad = got != e.bytes;
        if (bad) fail("answers before a zero-length message differ from dnsd::answer()");
        return 0;
    }
    if (got != e.bytes) {
        std::fprintf(stderr, "tcp_framing_fuzz: got %zu bytes, expected %zu\n", got.size(),
                     e.bytes.size());
        fail("answers differ from dnsd::answer() (lost, extra or reordered)");
    }
    if (!open) fail("server closed a connection that was still usable");
    if (halfClose) {
        // After the answers, the server must close its side too.
        std::vector<uint8_t> more;
        if (readUntil(fd.get(), more, SIZE_MAX, deadline) || !more.empty())
            fail("extra bytes after the answers, or no close after half-close");
    } else {
        // Nothing beyond the answers: poll without waiting.
        uint8_t b;
        ssize_t k = ::recv(fd.get(), &b, 1, MSG_DONTWAIT);
        if (k > 0) fail("extra bytes after the answers");
        if (k == 0) fail("server closed a connection that was still usable");
    }
    return 0;
}
