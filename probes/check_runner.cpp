#include "probes/check_runner.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <stdexcept>

#include "probes/check_op.hpp"
#include "probes/child_process.hpp"
#include "probes/http_check.hpp"
#include "probes/icmp_pinger.hpp"

namespace probes {

namespace asio = boost::asio;

struct CheckRunner::Tls {
    asio::ssl::context context{asio::ssl::context::tls_client};
};

namespace {

// "host", "host:port", "[v6]:port", "v6" -> host and port (port 0 if absent).
void splitHostPort(const std::string& text, std::string& host, int& port) {
    port = 0;
    if (!text.empty() && text[0] == '[') {
        size_t close = text.find(']');
        if (close == std::string::npos) throw std::runtime_error("bad target '" + text + "'");
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') throw std::runtime_error("bad target '" + text + "'");
            port = std::stoi(text.substr(close + 2));
        }
        return;
    }
    size_t colon = text.find(':');
    if (colon != std::string::npos && text.find(':', colon + 1) == std::string::npos) {
        host = text.substr(0, colon);
        port = std::stoi(text.substr(colon + 1));
    } else {
        host = text;  // a bare name, IPv4 or IPv6 literal
    }
}

std::string stripDot(std::string host) {
    if (host.size() > 1 && host.back() == '.') host.pop_back();
    return host;
}

}  // namespace

CheckTarget resolveTarget(const zones::ProbeDef& probe, const std::string& member) {
    CheckTarget t;
    t.tls = probe.type == "https";
    t.path = probe.path;
    t.port = probe.effectivePort();
    if (probe.target.empty()) {
        t.host = stripDot(member);
        return t;
    }
    std::string rest = probe.target;
    size_t scheme = rest.find("://");
    if (scheme != std::string::npos) {
        std::string s = rest.substr(0, scheme);
        if (s != "http" && s != "https")
            throw std::runtime_error("target URL scheme must be http or https");
        t.tls = s == "https";
        rest = rest.substr(scheme + 3);
        size_t slash = rest.find('/');
        t.path = slash == std::string::npos ? "/" : rest.substr(slash);
        rest = rest.substr(0, slash);
        int port = 0;
        splitHostPort(rest, t.host, port);
        t.port = port ? port : (t.tls ? 443 : 80);
    } else {
        int port = 0;
        splitHostPort(rest, t.host, port);
        if (port) t.port = port;
    }
    t.host = stripDot(t.host);
    if (t.host.empty()) throw std::runtime_error("target '" + probe.target + "' has no host");
    if (t.port < 0 || t.port > 65535)
        throw std::runtime_error("target '" + probe.target + "' has a bad port");
    return t;
}

CheckRunner::CheckRunner(asio::io_context& io) : io_(io), tls_(std::make_unique<Tls>()) {
    tls_->context.set_default_verify_paths();
    icmp4_ = std::make_unique<IcmpPinger>(io, false);
    icmp6_ = std::make_unique<IcmpPinger>(io, true);
}

CheckRunner::~CheckRunner() = default;

std::string CheckRunner::icmpStatus() const {
    return icmp4_->status() + "; " + icmp6_->status();
}

bool CheckRunner::icmpAvailable() const {
    return icmp4_->available() && icmp6_->available();
}

void runExecCheck(asio::io_context& io, const zones::ProbeDef& probe, const std::string& member,
                  const CheckTarget& target, CheckDone done) {
    std::vector<std::string> env = {"DNSD_MEMBER=" + member, "DNSD_TARGET_HOST=" + target.host,
                                    "DNSD_TARGET_PORT=" + std::to_string(target.port),
                                    "DNSD_PROBE=" + probe.name};
    auto start = std::chrono::steady_clock::now();
    startChild(io, probe.command, env, "", probe.timeoutMs, false, [done, start](ChildExit e) {
        CheckResult r;
        r.ok = e.success();
        r.message = e.describe();
        r.latencyUs = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
        done(r);
    });
}

void CheckRunner::run(const zones::ProbeDef& probe, const std::string& member, CheckDone done,
                      bool trace) {
    CheckTarget target;
    try {
        target = resolveTarget(probe, member);
        target.trace = trace;
    } catch (const std::exception& e) {
        CheckResult r;
        r.message = std::string("error: ") + e.what();
        asio::post(io_, [done, r] { done(r); });
        return;
    }
    if (probe.type == "tcp") return runTcpCheck(io_, probe, target, std::move(done));
    if (probe.type == "http" || probe.type == "https")
        return runHttpCheck(io_, tls_->context, probe, target, std::move(done));
    if (probe.type == "dns") return runDnsCheck(io_, probe, target, std::move(done));
    if (probe.type == "exec") return runExecCheck(io_, probe, member, target, std::move(done));
    if (probe.type == "icmp") {
        boost::system::error_code ec;
        auto addr = asio::ip::make_address(target.host, ec);
        if (ec) {
            // A name: resolve first, then ping the first address.
            int timeoutMs = probe.timeoutMs;
            resolveHost(
                io_, target.host,
                [this, done, timeoutMs](const boost::system::error_code& ec,
                                        std::vector<asio::ip::address> addrs) {
                    if (ec || addrs.empty()) {
                        CheckResult r;
                        r.message = "resolve: " + (ec ? ec.message() : std::string("no address"));
                        return done(r);
                    }
                    (addrs.front().is_v4() ? icmp4_ : icmp6_)->ping(addrs.front(), timeoutMs, done);
                });
            return;
        }
        return (addr.is_v4() ? icmp4_ : icmp6_)->ping(addr, probe.timeoutMs, std::move(done));
    }
    CheckResult r;
    r.message = "error: unknown probe type " + probe.type;
    asio::post(io_, [done, r] { done(r); });
}

}  // namespace probes
