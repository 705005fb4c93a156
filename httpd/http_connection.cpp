#include "httpd/http_connection.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <boost/beast/http/error.hpp>
#include <cerrno>
#include <utility>

namespace httpd {
namespace {

namespace http = boost::beast::http;

constexpr size_t kReadChunk = 4096;
// Reads per readiness event: a client streaming garbage at full speed must not keep the
// endpoint's one thread in a recv loop while other connections wait.
constexpr int kReadsPerEvent = 16;

}  // namespace

HttpConnection::HttpConnection(common::Fd fd, std::string clientKey, int64_t deadlineMs,
                               size_t headerLimit, size_t bodyLimit)
    : fd_(std::move(fd)),
      clientKey_(std::move(clientKey)),
      deadlineMs_(deadlineMs),
      // The parser refuses more than the two limits; this only guards the bytes it has not
      // consumed yet (an incomplete header is kept whole until its end arrives).
      inLimit_(headerLimit + bodyLimit + kReadChunk) {
    parser_.header_limit(std::uint32_t(headerLimit));
    parser_.body_limit(bodyLimit);
    parser_.eager(true);
}

HttpConnection::Input HttpConnection::parse() {
    while (!parser_.is_done()) {
        if (in_.empty()) return Input::NeedMore;
        boost::system::error_code ec;
        size_t used = parser_.put(boost::asio::const_buffer(in_.data(), in_.size()), ec);
        in_.erase(0, used);
        if (ec == http::error::need_more) return Input::NeedMore;
        if (ec) {
            errorStatus_ = ec == http::error::header_limit ? 431
                           : ec == http::error::body_limit ? 413
                                                           : 400;
            return Input::Malformed;
        }
        if (used == 0) return Input::NeedMore;
    }
    return Input::Complete;
}

HttpConnection::Input HttpConnection::onReadable() {
    if (phase_ != Phase::Reading && phase_ != Phase::Draining) return Input::NeedMore;
    char buf[kReadChunk];
    for (int i = 0; i < kReadsPerEvent; ++i) {
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
        if (n > 0) {
            if (phase_ == Phase::Draining) continue;
            in_.append(buf, size_t(n));
            Input r = parse();
            if (r != Input::NeedMore) return r;
            if (in_.size() > inLimit_) {
                errorStatus_ = 431;
                return Input::Malformed;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        // End of stream or an error: a client that leaves before a whole request, or the end
        // of a lingering close.
        phase_ = Phase::Done;
        break;
    }
    return Input::NeedMore;
}

void HttpConnection::respond(std::string bytes) {
    out_ = std::move(bytes);
    outSent_ = 0;
    in_.clear();
    phase_ = Phase::Writing;
    onWritable();
}

void HttpConnection::onWritable() {
    if (phase_ != Phase::Writing) return;
    while (outSent_ < out_.size()) {
        ssize_t n = ::send(fd_.get(), out_.data() + outSent_, out_.size() - outSent_, MSG_NOSIGNAL);
        if (n > 0) {
            outSent_ += size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        phase_ = Phase::Done;
        return;
    }
    out_.clear();
    ::shutdown(fd_.get(), SHUT_WR);
    phase_ = Phase::Draining;
}

short HttpConnection::events() const {
    switch (phase_) {
        case Phase::Reading:
        case Phase::Draining:
            return POLLIN;
        case Phase::Writing:
            return POLLOUT;
        case Phase::Done:
            break;
    }
    return 0;
}

}  // namespace httpd
