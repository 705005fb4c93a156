#include "tests/support/tcp_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "tests/support/socket_address.hpp"

namespace testsupport {

TcpConnection TcpConnection::open(const std::string& address, uint16_t port,
                                  const std::string& source) {
    SocketAddress sa(address, port);
    UniqueFd fd(::socket(sa.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    if (!source.empty()) {
        SocketAddress from(source, 0);
        if (::bind(fd.get(), from.addr(), from.len) != 0)
            throw std::runtime_error("bind " + source + ": " + std::strerror(errno));
    }
    // Loopback connect completes (or is refused) at once, so a blocking connect cannot hang.
    if (::connect(fd.get(), sa.addr(), sa.len) != 0) {
        throw std::runtime_error("connect " + address + ":" + std::to_string(port) + ": " +
                                 std::strerror(errno));
    }
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return TcpConnection(std::move(fd));
}

bool TcpConnection::sendRaw(std::span<const uint8_t> bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        sent += static_cast<size_t>(n);
    }
    return true;
}

bool TcpConnection::sendFramed(std::span<const uint8_t> message) {
    if (message.size() > 0xFFFF) return false;
    std::vector<uint8_t> framed;
    framed.reserve(message.size() + 2);
    framed.push_back(static_cast<uint8_t>(message.size() >> 8));
    framed.push_back(static_cast<uint8_t>(message.size() & 0xFF));
    framed.insert(framed.end(), message.begin(), message.end());
    return sendRaw(framed);
}

bool TcpConnection::fill(std::chrono::steady_clock::time_point deadline) {
    if (closed_) return false;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    pollfd p{fd_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(ms) + 1);
    if (r < 0 && errno == EINTR) return true;  // caller loops and re-checks the deadline
    if (r <= 0) return false;
    uint8_t buf[65536];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) {
        closed_ = true;
        return false;
    }
    buffer_.insert(buffer_.end(), buf, buf + n);
    return true;
}

std::optional<DnsMessage> TcpConnection::receive(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (buffer_.size() >= 2) {
            size_t len = static_cast<size_t>(buffer_[0] << 8 | buffer_[1]);
            if (buffer_.size() >= len + 2) {
                std::vector<uint8_t> msg(buffer_.begin() + 2, buffer_.begin() + 2 + len);
                buffer_.erase(buffer_.begin(), buffer_.begin() + 2 + len);
                return DnsMessage(std::move(msg));
            }
        }
        if (!fill(deadline)) {
            if (closed_ || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        }
    }
}

bool TcpConnection::waitClosed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_) {
        if (!fill(deadline) && !closed_ && std::chrono::steady_clock::now() >= deadline) break;
        buffer_.clear();
    }
    return closed_;
}

}  // namespace testsupport
