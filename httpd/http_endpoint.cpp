#include "httpd/http_endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace httpd {
namespace {

namespace http = boost::beast::http;

// A blocking stream over a connected fd with socket-level timeouts: all Beast needs for a
// synchronous read_some/write_some, without an io_context.
class FdStream {
  public:
    explicit FdStream(int fd) : fd_(fd) {}
    template <class Buffers>
    size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
        for (auto it = boost::asio::buffer_sequence_begin(buffers);
             it != boost::asio::buffer_sequence_end(buffers); ++it) {
            boost::asio::mutable_buffer b = *it;
            if (b.size() == 0) continue;
            ssize_t n = ::recv(fd_, b.data(), b.size(), 0);
            if (n > 0) return size_t(n);
            ec = n == 0 ? boost::system::error_code(boost::beast::http::error::end_of_stream)
                        : boost::system::error_code(errno, boost::system::generic_category());
            return 0;
        }
        return 0;
    }
    template <class Buffers>
    size_t read_some(const Buffers& buffers) {
        boost::system::error_code ec;
        size_t n = read_some(buffers, ec);
        if (ec) throw boost::system::system_error(ec);
        return n;
    }
    template <class Buffers>
    size_t write_some(const Buffers& buffers, boost::system::error_code& ec) {
        size_t total = 0;
        for (auto it = boost::asio::buffer_sequence_begin(buffers);
             it != boost::asio::buffer_sequence_end(buffers); ++it) {
            boost::asio::const_buffer b = *it;
            const char* p = static_cast<const char*>(b.data());
            for (size_t left = b.size(); left > 0;) {
                ssize_t n = ::send(fd_, p, left, MSG_NOSIGNAL);
                if (n <= 0) {
                    ec = boost::system::error_code(errno, boost::system::generic_category());
                    return total;
                }
                p += n;
                left -= size_t(n);
                total += size_t(n);
            }
        }
        return total;
    }
    template <class Buffers>
    size_t write_some(const Buffers& buffers) {
        boost::system::error_code ec;
        size_t n = write_some(buffers, ec);
        if (ec) throw boost::system::system_error(ec);
        return n;
    }

  private:
    int fd_;
};

// Owns one fd for the scope of a connection.
struct ScopedFd {
    int fd;
    ~ScopedFd() {
        if (fd >= 0) ::close(fd);
    }
};

// "ADDR:PORT" or "[V6]:PORT", numeric only: no name lookups at start-up.
int bindListener(const std::string& text) {
    std::string host, port;
    if (!text.empty() && text[0] == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            throw std::runtime_error("bad HTTP address '" + text + "' (want [v6addr]:port)");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon)
            throw std::runtime_error("bad HTTP address '" + text +
                                     "' (want ADDR:PORT or [v6addr]:PORT)");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p < 0 || p > 65535)
        throw std::runtime_error("bad port in HTTP address '" + text + "'");
    sockaddr_storage addr{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(uint16_t(p));
        len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(uint16_t(p));
        len = sizeof(sockaddr_in6);
    } else {
        throw std::runtime_error("bad address in HTTP address '" + text +
                                 "' (numeric IPv4 or IPv6 only)");
    }
    ScopedFd fd{::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    if (fd.fd < 0) throw std::runtime_error("socket for " + text + ": " + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (addr.ss_family == AF_INET6)
        ::setsockopt(fd.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd.fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0)
        throw std::runtime_error("cannot bind TCP " + text + ": " + std::strerror(errno));
    if (::listen(fd.fd, 128) != 0)
        throw std::runtime_error("cannot listen on " + text + ": " + std::strerror(errno));
    return std::exchange(fd.fd, -1);
}

}  // namespace

HttpEndpoint::HttpEndpoint(const std::string& address, std::map<std::string, HttpRoute> routes,
                           const std::atomic<bool>& stop, std::string threadName)
    : listener_(bindListener(address)),
      routes_(std::move(routes)),
      stop_(stop),
      threadName_(std::move(threadName)) {}

HttpEndpoint::~HttpEndpoint() {
    if (listener_ >= 0) ::close(listener_);
}

int HttpEndpoint::port() const {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

void HttpEndpoint::run() {
    pthread_setname_np(pthread_self(), threadName_.substr(0, 15).c_str());
    while (!stop_.load()) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        ScopedFd conn{::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC)};
        if (conn.fd < 0) continue;
        timeval tv{2, 0};
        ::setsockopt(conn.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(conn.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        try {
            FdStream stream(conn.fd);
            boost::beast::flat_buffer buffer(16 * 1024);
            http::request<http::string_body> req;
            http::request_parser<http::string_body> parser;
            parser.body_limit(16 * 1024);
            http::read(stream, buffer, parser);
            req = parser.release();
            http::response<http::string_body> res;
            res.version(req.version());
            res.set(http::field::server, threadName_.substr(0, threadName_.find('/')));
            res.set(http::field::cache_control, "no-store");
            std::string target(req.target());
            if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
            auto route = routes_.find(target);
            if (req.method() != http::verb::get && req.method() != http::verb::head) {
                res.result(http::status::method_not_allowed);
                res.set(http::field::content_type, "text/plain");
                res.body() = "only GET\n";
            } else if (route == routes_.end()) {
                res.result(http::status::not_found);
                res.set(http::field::content_type, "text/plain");
                res.body() = "not found; try";
                for (const auto& [path, r] : routes_) res.body() += " " + path;
                res.body() += "\n";
            } else {
                try {
                    res.body() = route->second.render();
                    res.result(http::status::ok);
                    res.set(http::field::content_type, route->second.contentType);
                } catch (const std::exception& e) {
                    res.result(http::status::internal_server_error);
                    res.set(http::field::content_type, "text/plain");
                    res.body() = std::string("error: ") + e.what() + "\n";
                }
            }
            res.keep_alive(false);
            res.prepare_payload();
            if (req.method() == http::verb::head) res.body().clear();
            http::write(stream, res);
        } catch (const std::exception& e) {
            // A client that sends garbage or vanishes only loses its own request.
        }
    }
}

}  // namespace httpd
