#include "httpd/http_endpoint.hpp"

#include "common/listen_address.hpp"

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

}  // namespace

HttpEndpoint::HttpEndpoint(const std::string& address, std::map<std::string, HttpRoute> routes,
                           const std::atomic<bool>& stop, std::string threadName)
    : listener_(common::ListenAddress::parse(address).bindSocket(SOCK_STREAM, false)),
      routes_(std::move(routes)),
      stop_(stop),
      threadName_(std::move(threadName)) {}

int HttpEndpoint::port() const {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

void HttpEndpoint::run() {
    pthread_setname_np(pthread_self(), threadName_.substr(0, 15).c_str());
    while (!stop_.load()) {
        pollfd p{listener_.get(), POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        common::Fd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn.valid()) continue;
        timeval tv{2, 0};
        ::setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        try {
            FdStream stream(conn.get());
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
