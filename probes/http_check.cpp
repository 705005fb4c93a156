// HTTP and HTTPS checks with Boost.Beast: one request (method, path, Host, User-Agent, extra
// headers, Connection: close), healthy when the status is in the expected ranges and, if
// asked, the body contains the substring. HTTPS sends SNI and verifies the certificate
// chain and host name unless verification is off.
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "probes/check_op.hpp"
#include "probes/http_check.hpp"

namespace probes {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

bool isIpLiteral(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

template <typename Stream>
class HttpCheck : public CheckOp {
  public:
    template <typename... Args>
    HttpCheck(asio::io_context& io, int timeoutMs, CheckDone done, Args&&... args)
        : CheckOp(io, timeoutMs, std::move(done)), stream_(std::forward<Args>(args)...) {}

    void start(const zones::ProbeDef& probe, const CheckTarget& target) {
        trace_ = target.trace;
        armDeadline();
        probe_ = probe;
        target_ = target;
        auto self = std::static_pointer_cast<HttpCheck>(shared_from_this());
        resolveAndConnect(lowest(), target.host, target.port, [self] { self->afterConnect(); });
    }

  protected:
    void onTimeout() override {
        boost::system::error_code ignored;
        lowest().close(ignored);
    }

  private:
    tcp::socket& lowest() {
        if constexpr (std::is_same_v<Stream, tcp::socket>)
            return stream_;
        else
            return stream_.next_layer();
    }

    std::string hostHeader() const {
        if (!probe_.hostHeader.empty()) return probe_.hostHeader;
        std::string h =
            target_.host.find(':') != std::string::npos ? "[" + target_.host + "]" : target_.host;
        int def = target_.tls ? 443 : 80;
        return target_.port == def ? h : h + ":" + std::to_string(target_.port);
    }

    void afterConnect() {
        auto self = std::static_pointer_cast<HttpCheck>(shared_from_this());
        if constexpr (std::is_same_v<Stream, tcp::socket>) {
            sendRequest();
        } else {
            // SNI: explicit, else the Host header's or the target's name (never an IP literal).
            std::string sni = probe_.sni;
            if (sni.empty() && !probe_.hostHeader.empty())
                sni = probe_.hostHeader.substr(0, probe_.hostHeader.rfind(':') == std::string::npos
                                                      ? std::string::npos
                                                      : probe_.hostHeader.rfind(':'));
            if (sni.empty() && !isIpLiteral(target_.host)) sni = target_.host;
            if (!sni.empty()) SSL_set_tlsext_host_name(stream_.native_handle(), sni.c_str());
            if (probe_.verify) {
                stream_.set_verify_mode(asio::ssl::verify_peer);
                asio::ssl::host_name_verification byName(sni.empty() ? target_.host : sni);
                // The stream is this op's member, so the callback cannot outlive `this`.
                stream_.set_verify_callback(
                    [this, byName](bool preverified, asio::ssl::verify_context& ctx) mutable {
                        bool ok = byName(preverified, ctx);
                        if (trace_) noteVerify(preverified, ok, ctx.native_handle());
                        return ok;
                    });
            } else {
                stream_.set_verify_mode(asio::ssl::verify_none);
            }
            stage_ = "tls handshake";
            saw([&] { return "TLS handshake, SNI " + (sni.empty() ? "none" : sni); });
            stream_.async_handshake(asio::ssl::stream_base::client,
                                    [self](const boost::system::error_code& ec) {
                                        if (self->finished()) return;
                                        self->saw([&] { return self->tlsText(!ec); });
                                        if (ec) return self->finish(false, "tls: " + ec.message());
                                        self->sendRequest();
                                    });
        }
    }

    void sendRequest() {
        auto self = std::static_pointer_cast<HttpCheck>(shared_from_this());
        request_.version(11);
        request_.method_string(probe_.method);
        request_.target(target_.path);
        request_.set(http::field::host, hostHeader());
        request_.set(http::field::user_agent,
                     probe_.userAgent.empty() ? "dnsd-probe/0.1" : probe_.userAgent);
        request_.set(http::field::connection, "close");
        size_t start = 0;
        while (start < probe_.headers.size()) {
            size_t end = probe_.headers.find('\n', start);
            std::string line = probe_.headers.substr(
                start, end == std::string::npos ? std::string::npos : end - start);
            size_t colon = line.find(':');
            if (colon != std::string::npos) {
                std::string value = line.substr(colon + 1);
                value.erase(0, value.find_first_not_of(' '));
                request_.set(line.substr(0, colon), value);
            }
            if (end == std::string::npos) break;
            start = end + 1;
        }
        stage_ = "request";
        saw([&] {
            return "sent " + std::string(request_.method_string()) + " " +
                   std::string(request_.target()) + ", Host " + hostHeader();
        });
        http::async_write(stream_, request_, [self](const boost::system::error_code& ec, size_t) {
            if (self->finished()) return;
            if (ec) return self->finish(false, "write: " + ec.message());
            self->stage_ = "response";
            self->parser_.body_limit(1 << 20);
            http::async_read(self->stream_, self->buffer_, self->parser_,
                             [self](const boost::system::error_code& ec, size_t) {
                                 if (self->finished()) return;
                                 if (ec && ec != http::error::end_of_stream)
                                     return self->finish(false, "read: " + ec.message());
                                 self->judge();
                             });
        });
    }

    // The negotiated TLS and the server's certificate, for a traced run.
    static std::string certificateText(X509* cert) {
        auto name = [](X509_NAME* n) {
            char buf[256];
            X509_NAME_oneline(n, buf, sizeof buf);
            return std::string(buf);
        };
        std::string out = "certificate subject " + name(X509_get_subject_name(cert)) + ", issuer " +
                          name(X509_get_issuer_name(cert));
        if (BIO* bio = BIO_new(BIO_s_mem())) {
            ASN1_TIME_print(bio, X509_get0_notAfter(cert));
            char* data = nullptr;
            long n = BIO_get_mem_data(bio, &data);
            out += ", valid until " + std::string(data, size_t(n));
            BIO_free(bio);
        }
        return out;
    }

    // Called for each certificate of the chain while verifying (traced runs only): keeps the
    // server's own certificate and the first reason it was refused, because a failed
    // handshake leaves no peer certificate to look at afterwards.
    void noteVerify(bool preverified, bool ok, X509_STORE_CTX* ctx) {
        X509* cert = X509_STORE_CTX_get_current_cert(ctx);
        if (cert && X509_STORE_CTX_get_error_depth(ctx) == 0 && serverCert_.empty())
            serverCert_ = certificateText(cert);
        if (!ok && verifyError_.empty())
            verifyError_ = preverified
                               ? std::string("the name does not match the certificate")
                               : X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    }

    // The negotiated TLS and the server's certificate, for a traced run.
    std::string tlsText(bool ok) {
        if constexpr (std::is_same_v<Stream, tcp::socket>) {
            return "";
        } else {
            SSL* ssl = stream_.native_handle();
            std::string out =
                ok ? std::string("TLS ") + SSL_get_version(ssl) + " " + SSL_get_cipher_name(ssl)
                   : std::string("TLS handshake failed");
            if (X509* cert = SSL_get1_peer_certificate(ssl)) {
                out += "; " + certificateText(cert);
                X509_free(cert);
            } else if (!serverCert_.empty()) {
                out += "; " + serverCert_;
            } else {
                out += "; no certificate seen";
            }
            if (!probe_.verify) return out + ", not verified (verify off)";
            if (!verifyError_.empty()) return out + ", verification failed: " + verifyError_;
            return out + (ok ? ", verified" : "");
        }
    }

    void judge() {
        const auto& res = parser_.get();
        int status = int(res.result_int());
        saw([&] {
            return "HTTP " + std::to_string(status) + " " + std::string(res.reason()) + ", " +
                   std::to_string(res.body().size()) + " body bytes";
        });
        if (!probe_.body.empty())
            saw([&] {
                return std::string("body ") +
                       (res.body().find(probe_.body) == std::string::npos ? "lacks" : "contains") +
                       " '" + probe_.body + "'";
            });
        std::string s = "HTTP " + std::to_string(status);
        if (!zones::statusMatches(probe_.expect, status))
            return finish(false, s + " not in " + probe_.expect);
        if (!probe_.body.empty() && res.body().find(probe_.body) == std::string::npos)
            return finish(false, s + ", body lacks '" + probe_.body + "'");
        finish(true, s);
    }

    Stream stream_;
    std::string serverCert_, verifyError_;  // seen while verifying, for a traced run
    zones::ProbeDef probe_;
    CheckTarget target_;
    http::request<http::empty_body> request_;
    boost::beast::flat_buffer buffer_;
    http::response_parser<http::string_body> parser_;
};

}  // namespace

void runHttpCheck(asio::io_context& io, asio::ssl::context& tls, const zones::ProbeDef& probe,
                  const CheckTarget& target, CheckDone done) {
    if (target.tls) {
        using S = asio::ssl::stream<tcp::socket>;
        auto op = std::make_shared<HttpCheck<S>>(io, probe.timeoutMs, std::move(done), io, tls);
        op->start(probe, target);
    } else {
        auto op =
            std::make_shared<HttpCheck<tcp::socket>>(io, probe.timeoutMs, std::move(done), io);
        op->start(probe, target);
    }
}

}  // namespace probes
