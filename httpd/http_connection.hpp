// httpd::HttpConnection — one non-blocking HTTP/1.1 server connection: read one request, write
// one response, close.
//
// Contract: owns its socket (non-blocking). The endpoint's loop polls `events()` and calls
// `onReadable` / `onWritable` when the socket is ready; neither ever blocks. A connection goes
// Reading -> Writing -> Draining -> Done, or straight to Done when the client vanishes.
// `onReadable` in Reading feeds the bytes to Beast's request parser and reports when the request
// is complete (then `request()` is valid) or malformed (`Input::Malformed` and an HTTP status:
// 400, 413 for a body, 431 for headers beyond the header limit); the owner then hands the whole
// response to `respond`. Input is bounded by the header and body limits, so a client cannot make
// it grow. After the response is written the write side is shut down and whatever the client
// still sends is read and discarded until it closes (a lingering close: closing with unread
// input would reset the connection and could destroy the response before the client read it).
// The deadline is fixed at accept time and covers the whole exchange; enforcing it is the
// owner's job (`deadlineMs`).
#pragma once

#include <cstdint>
#include <string>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/fd.hpp"

namespace httpd {

class HttpConnection {
  public:
    using Request = boost::beast::http::request<boost::beast::http::string_body>;
    enum class Phase { Reading, Writing, Draining, Done };
    enum class Input { NeedMore, Complete, Malformed };

    HttpConnection(common::Fd fd, std::string clientKey, int64_t deadlineMs, size_t headerLimit,
                   size_t bodyLimit);
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    // Reading: consumes what the socket has. Draining: discards it. Returns NeedMore unless the
    // request just became complete or malformed (Reading only).
    Input onReadable();
    // Writing: sends what the socket takes; Draining once everything is sent.
    void onWritable();
    // Reading -> Writing with the complete response (status line, headers, body); tries to
    // send at once, since a small response usually fits the socket buffer.
    void respond(std::string bytes);

    // poll(2) events to wait for in the current phase (0 when Done).
    short events() const;
    Phase phase() const { return phase_; }
    int fd() const { return fd_.get(); }
    const std::string& clientKey() const { return clientKey_; }
    int64_t deadlineMs() const { return deadlineMs_; }
    // Valid after onReadable returned Complete.
    const Request& request() const { return parser_.get(); }
    // After Malformed: the status to answer with (400, 413 or 431).
    unsigned errorStatus() const { return errorStatus_; }

  private:
    Input parse();

    common::Fd fd_;
    std::string clientKey_;
    int64_t deadlineMs_;
    Phase phase_ = Phase::Reading;
    boost::beast::http::request_parser<boost::beast::http::string_body> parser_;
    std::string in_;  // received, not yet consumed by the parser
    size_t inLimit_;
    std::string out_;
    size_t outSent_ = 0;
    unsigned errorStatus_ = 0;
};

}  // namespace httpd
