// ops::WebhookReceiver — a tiny HTTP server on 127.0.0.1 that records every request body, for
// the webhook tests. Answers `status` (200 by default). start()/stop() can be repeated on the
// same port, so a test can have the receiver down, then up.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ops {

struct ReceivedRequest {
    std::string head, body;
};

class WebhookReceiver {
  public:
    explicit WebhookReceiver(uint16_t port) : port_(port) {}
    ~WebhookReceiver() { stop(); }

    void start() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port_);
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 64) != 0)
            throw std::runtime_error(std::string("receiver cannot bind: ") + std::strerror(errno));
        stopping_ = false;
        thread_ = std::thread([this] { serve(); });
    }
    void stop() {
        if (!thread_.joinable()) return;
        stopping_ = true;
        thread_.join();
        ::close(fd_);
        fd_ = -1;
    }
    std::vector<ReceivedRequest> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    std::atomic<int> status{200};

  private:
    void serve() {
        while (!stopping_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            timeval tv{2, 0};
            ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            std::string data;
            char buf[4096];
            size_t headEnd = std::string::npos, want = 0;
            for (ssize_t n; (n = ::recv(c, buf, sizeof buf, 0)) > 0;) {
                data.append(buf, size_t(n));
                if (headEnd == std::string::npos &&
                    (headEnd = data.find("\r\n\r\n")) != std::string::npos) {
                    std::string lower = data.substr(0, headEnd);
                    for (char& ch : lower) ch = char(std::tolower(ch));
                    auto cl = lower.find("content-length:");
                    want = cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 15));
                }
                if (headEnd != std::string::npos && data.size() >= headEnd + 4 + want) break;
            }
            int code = status.load();
            if (headEnd != std::string::npos && code == 200) {
                std::lock_guard lock(mutex_);
                requests_.push_back({data.substr(0, headEnd), data.substr(headEnd + 4)});
            }
            std::string resp = "HTTP/1.1 " + std::to_string(code) +
                               " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
            ::close(c);
        }
    }

    uint16_t port_;
    int fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    std::mutex mutex_;
    std::vector<ReceivedRequest> requests_;
};

}  // namespace ops
