#include "tests/support/dns_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <cerrno>

#include "tests/support/socket_address.hpp"
#include "tests/support/unique_fd.hpp"

namespace testsupport {

DnsClient::DnsClient(std::string address, uint16_t port)
    : address_(std::move(address)), port_(port) {
    SocketAddress check(address_, port_);  // throws early on a non-loopback address
    (void)check;
}

std::optional<DnsMessage> DnsClient::udp(std::span<const uint8_t> query,
                                         std::chrono::milliseconds timeout) const {
    SocketAddress sa(address_, port_);
    UniqueFd fd(::socket(sa.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return std::nullopt;
    // connect() so only datagrams from the server are delivered to this socket.
    if (::connect(fd.get(), sa.addr(), sa.len) != 0) return std::nullopt;
    if (::send(fd.get(), query.data(), query.size(), 0) != static_cast<ssize_t>(query.size())) {
        return std::nullopt;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        if (left < 0) return std::nullopt;
        pollfd p{fd.get(), POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return std::nullopt;
        std::vector<uint8_t> buf(65536);
        ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;  // e.g. ECONNREFUSED: nobody listens
        buf.resize(static_cast<size_t>(n));
        return DnsMessage(std::move(buf));
    }
}

std::optional<DnsMessage> DnsClient::tcp(std::span<const uint8_t> query,
                                         std::chrono::milliseconds timeout) const {
    try {
        TcpConnection conn = connectTcp();
        if (!conn.sendFramed(query)) return std::nullopt;
        return conn.receive(timeout);
    } catch (const std::exception&) {
        return std::nullopt;  // connection refused: not listening (yet)
    }
}

std::optional<DnsMessage> DnsClient::query(std::span<const uint8_t> query, Transport transport,
                                           std::chrono::milliseconds timeout) const {
    return transport == Transport::Udp ? udp(query, timeout) : tcp(query, timeout);
}

std::vector<DnsMessage> DnsClient::tcpPipelined(const std::vector<std::vector<uint8_t>>& queries,
                                                std::chrono::milliseconds timeout) const {
    std::vector<DnsMessage> out;
    TcpConnection conn = connectTcp();
    std::vector<uint8_t> all;
    for (const auto& q : queries) {
        all.push_back(static_cast<uint8_t>(q.size() >> 8));
        all.push_back(static_cast<uint8_t>(q.size() & 0xFF));
        all.insert(all.end(), q.begin(), q.end());
    }
    if (!conn.sendRaw(all)) return out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < queries.size()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        auto msg = conn.receive(left);
        if (!msg) break;
        out.push_back(std::move(*msg));
    }
    return out;
}

TcpConnection DnsClient::connectTcp() const {
    return TcpConnection::open(address_, port_);
}

std::string transportName(Transport t) {
    return t == Transport::Udp ? "udp" : "tcp";
}

}  // namespace testsupport
