// Tiny real backends on loopback for probe and failover tests: a TCP/HTTP/HTTPS listener and
// a stub DNS server, each on its own thread, stoppable and restartable on the same address.
//
// Contract: the constructor binds (port 0 = pick one) and serves until stop() or destruction;
// stop() closes the listening socket so new connections are refused at once (a "killed"
// backend); start() binds the same ip:port again. Behaviour knobs (status, body, delay,
// rcode) are atomics/locked and can change while serving. Only 127.0.0.0/8 is used.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace fakes {

inline sockaddr_in loopback(const std::string& ip, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1 || ip.rfind("127.", 0) != 0)
        throw std::runtime_error("fake backends only use 127.0.0.0/8, not " + ip);
    return a;
}

class Backend {
  public:
    enum class Kind { Tcp, Http, Https };

    Backend(std::string ip, Kind kind, uint16_t port = 0, std::string certFile = {},
            std::string keyFile = {})
        : ip_(std::move(ip)), kind_(kind), port_(port) {
        if (kind_ == Kind::Https) {
            ctx_ = SSL_CTX_new(TLS_server_method());
            if (SSL_CTX_use_certificate_file(ctx_, certFile.c_str(), SSL_FILETYPE_PEM) != 1 ||
                SSL_CTX_use_PrivateKey_file(ctx_, keyFile.c_str(), SSL_FILETYPE_PEM) != 1)
                throw std::runtime_error("cannot load test certificate " + certFile);
        }
        start();
    }
    ~Backend() {
        stop();
        if (ctx_) SSL_CTX_free(ctx_);
    }

    void start() {
        if (running_) return;
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        auto a = loopback(ip_, port_);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(fd_, 1024) != 0) {
            ::close(fd_);
            throw std::runtime_error("fake backend cannot bind " + ip_ + ":" +
                                     std::to_string(port_) + ": " + std::strerror(errno));
        }
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        stopping_ = false;
        running_ = true;
        thread_ = std::thread([this] { serve(); });
    }
    void stop() {
        if (!running_) return;
        stopping_ = true;
        thread_.join();
        ::close(fd_);
        fd_ = -1;
        running_ = false;
    }

    uint16_t port() const { return port_; }
    const std::string& ip() const { return ip_; }
    int accepted() const { return accepted_; }
    std::string lastRequest() {
        std::lock_guard<std::mutex> lock(mutex_);
        return lastRequest_;
    }
    void setBody(std::string body) {
        std::lock_guard<std::mutex> lock(mutex_);
        body_ = std::move(body);
    }
    std::atomic<int> status{200};
    std::atomic<int> delayMs{0};
    // Flaps: every other request answers 503 instead of `status`.
    std::atomic<bool> alternate{false};
    std::atomic<int> requests{0};

  private:
    void serve() {
        while (!stopping_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            // Drain the whole backlog on each wake-up, so bursts of connects never overflow it.
            for (int c; (c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
                ++accepted_;
                if (kind_ != Kind::Tcp) handle(c);
                ::close(c);
            }
        }
    }
    void handle(int c) {
        timeval tv{2, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        SSL* ssl = nullptr;
        if (kind_ == Kind::Https) {
            ssl = SSL_new(ctx_);
            SSL_set_fd(ssl, c);
            if (SSL_accept(ssl) != 1) {
                SSL_free(ssl);
                return;
            }
        }
        std::string req;
        char buf[4096];
        while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
            int n = ssl ? SSL_read(ssl, buf, sizeof buf) : int(::recv(c, buf, sizeof buf, 0));
            if (n <= 0) break;
            req.append(buf, size_t(n));
        }
        std::string body;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            lastRequest_ = req;
            body = body_;
        }
        for (int waited = 0; waited < delayMs && !stopping_; waited += 10)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        int n = ++requests;
        int code = alternate && n % 2 == 0 ? 503 : status.load();
        std::string resp = "HTTP/1.1 " + std::to_string(code) +
                           " X\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\nConnection: close\r\n\r\n" + body;
        if (ssl) {
            SSL_write(ssl, resp.data(), int(resp.size()));
            SSL_shutdown(ssl);
            SSL_free(ssl);
        } else {
            ssize_t ignored = ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
            (void)ignored;
        }
    }

    std::string ip_;
    Kind kind_;
    uint16_t port_;
    int fd_ = -1;
    SSL_CTX* ctx_ = nullptr;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    bool running_ = false;
    std::atomic<int> accepted_{0};
    std::mutex mutex_;
    std::string lastRequest_;
    std::string body_ = "ok";
};

// Answers every query with the configured RCODE and, if `answer`, one A record 127.0.0.1.
class DnsStub {
  public:
    explicit DnsStub(std::string ip, uint16_t port = 0) : ip_(std::move(ip)) {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        auto a = loopback(ip_, port);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("dns stub cannot bind");
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~DnsStub() {
        stopping_ = true;
        thread_.join();
        ::close(fd_);
    }
    uint16_t port() const { return port_; }
    std::atomic<int> rcode{0};
    std::atomic<bool> answer{true};
    std::atomic<bool> silent{false};
    std::atomic<int> queries{0};

  private:
    void serve() {
        while (!stopping_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            uint8_t q[512];
            sockaddr_in from{};
            socklen_t fl = sizeof from;
            ssize_t n = ::recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &fl);
            if (n < 12) continue;
            ++queries;
            if (silent) continue;
            std::string r(reinterpret_cast<char*>(q), size_t(n));
            r[2] = char(0x84);  // QR AA
            r[3] = char(rcode & 0x0f);
            bool withAnswer = answer && rcode == 0;
            r[6] = 0;
            r[7] = withAnswer ? 1 : 0;
            if (withAnswer)
                r += std::string("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01",
                                 16);
            ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
        }
    }
    std::string ip_;
    uint16_t port_;
    int fd_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
};

}  // namespace fakes
