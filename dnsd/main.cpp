// dnsd — the authoritative server. Wires options, sockets and threads together; all the DNS
// work is in answer/ and all the database work in StateLoader.
#include <grp.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "common/listen_address.hpp"
#include "common/option_table.hpp"
#include "dnsd/control_thread.hpp"
#include "dnsd/log.hpp"
#include "dnsd/metrics.hpp"
#include "dnsd/rate_limiter.hpp"
#include "dnsd/status_page.hpp"
#include "dnsd/tcp_server.hpp"
#include "dnsd/udp_worker.hpp"
#include "dnsd/update/update_queue.hpp"
#include "dnsd/xfr/notifier.hpp"
#ifdef DNSD_HAVE_XDP
#include "dnsd/xdp/xdp_server.hpp"
#endif
#include "httpd/http_endpoint.hpp"
#include "zones/schema.hpp"
#include "zones/status_report.hpp"

using namespace dnsd;
using common::Fd;
using common::ListenAddress;

namespace {

bool parseHex16(const std::string& hex, uint8_t out[16]) {
    if (hex.size() != 32) return false;
    for (size_t i = 0; i < 16; ++i) {
        unsigned v;
        if (std::sscanf(hex.c_str() + 2 * i, "%2x", &v) != 1 ||
            !std::isxdigit(uint8_t(hex[2 * i])) || !std::isxdigit(uint8_t(hex[2 * i + 1])))
            return false;
        out[i] = uint8_t(v);
    }
    return true;
}

// Called after every privileged port is bound and the database is open.
void dropPrivileges(const std::string& user) {
    struct passwd* pw = ::getpwnam(user.c_str());
    if (!pw) throw std::runtime_error("--user: no such user '" + user + "'");
    if (::initgroups(pw->pw_name, pw->pw_gid) != 0 || ::setgid(pw->pw_gid) != 0 ||
        ::setuid(pw->pw_uid) != 0)
        throw std::runtime_error("--user " + user +
                                 ": cannot drop privileges: " + std::strerror(errno));
    if (::setuid(0) == 0)
        throw std::runtime_error("--user " + user + ": privileges could be regained");
    logInfo("running as user " + user);
}

// Every TCP connection is a descriptor, and so is one waiting over a limit (tcp_server.cpp):
// the soft limit a shell or container hands down (often 1,024) is below what the default
// --tcp-max-connections needs, and accept() would fail while clients are below the limit.
// The hard limit is ours to take; a warning says when even that is short.
void raiseDescriptorLimit(size_t tcpConnections) {
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return;
    if (files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
        ::getrlimit(RLIMIT_NOFILE, &files);
    }
    const rlim_t want = 2 * tcpConnections + 256;  // connections, waiting ones, the rest
    if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < want)
        logWarn("open file limit " + std::to_string(files.rlim_cur) + " is below the " +
                std::to_string(want) + " that --tcp-max-connections " +
                std::to_string(tcpConnections) + " may need (raise LimitNOFILE or ulimit -n)");
}

}  // namespace

int main(int argc, char** argv) {
    // Snapshot arrays are large and replaced whole. A fixed mmap threshold keeps glibc from
    // raising it after the first free, so a replaced snapshot goes back to the system at once
    // instead of staying in the heap as resident memory.
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    std::string db;
    std::vector<std::string> listen, xdpInterfaces;
    unsigned udpThreads = 0;
    int pollMs = 20;
    int dnssecIntervalS = 60;
    TcpConfig tcp;
    EngineConfig engine;
    unsigned maxUdp = engine.maxUdpPayload;
    RrlConfig rrl;
    unsigned rrlV4 = rrl.ipv4Prefix, rrlV6 = rrl.ipv6Prefix;
    std::string nsid, cookieSecret, user;
    std::string httpAddress = "127.0.0.1:8053";
    bool noCookies = false, limitLoopback = false;

    // Every option with the values it takes, checked as it is read (common/option_table.hpp):
    // a bad value from any source exits 2, which the unit does not restart.
    common::OptionTable options(
        "dnsd", "dnsd: authoritative DNS server for health-checked failover\n", "DNSD_");
    options.text("db", db, "SQLite database (default: $DNSD_DB)");
    options.texts("listen,l", listen,
                  "ADDR:PORT or [V6ADDR]:PORT to serve UDP and TCP on (repeatable; default "
                  "127.0.0.1:5353)",
                  [](const std::string& text) { ListenAddress::parse(text); });
    options.integer("udp-threads", udpThreads, 0u, 1024u,
                    "UDP worker threads per address (0 = one per core)");
    options.texts("xdp", xdpInterfaces,
                  "INTERFACE whose UDP queries to the --listen addresses are answered through "
                  "AF_XDP, bypassing the kernel's UDP/IP stack (repeatable; needs root; "
                  "docs/xdp.md)");
    options.integer("tcp-idle-timeout", tcp.idleTimeoutMs, 100, 3600000,
                    "close TCP connections idle this many milliseconds");
    options.integer<size_t>("tcp-max-connections", tcp.maxConnections, 1, 65536,
                            "concurrent TCP connections at most");
    options.integer<size_t>("tcp-max-per-client", tcp.maxPerClient, 1, 65536,
                            "concurrent TCP connections from one address at most");
    options.integer("max-udp-payload", maxUdp, 512u, 4096u,
                    "largest UDP response in bytes, whatever the client offers");
    options.integer("poll-interval", pollMs, 1, 10000,
                    "milliseconds between database change checks");
    options.integer("dnssec-maintenance-interval", dnssecIntervalS, 1, 86400,
                    "seconds between DNSSEC key life cycle runs (ZSK rolls, signature refresh)");
    options.integer<uint32_t>(
        "rrl-rate", rrl.ratePerSecond, 0, 1000000,
        "UDP responses per second per client prefix and response class (0 = no rate limiting)");
    options.integer<uint32_t>(
        "rrl-slip", rrl.slip, 0, 10,
        "over the limit, send every Nth response truncated instead of dropping it (0 = never)");
    options.flag("rrl-limit-loopback", limitLoopback,
                 "rate-limit loopback clients too (they are exempt by default: they cannot be "
                 "spoofed)");
    options.integer("rrl-ipv4-prefix", rrlV4, 0u, 32u,
                    "IPv4 prefix length that counts as one client");
    options.integer("rrl-ipv6-prefix", rrlV6, 0u, 128u,
                    "IPv6 prefix length that counts as one client");
    options.text("nsid", nsid, "NSID (RFC 5001) to return to clients that ask, as text",
                 [&engine](const std::string& text) {
                     if (text.size() > sizeof engine.nsid)
                         throw std::runtime_error("longer than " +
                                                  std::to_string(sizeof engine.nsid) + " bytes");
                 });
    options.text("cookie-secret", cookieSecret,
                 "32 hex digits: the DNS Cookie secret (share it between anycast/redundant "
                 "servers; default random)",
                 [](const std::string& text) {
                     uint8_t secret[16];
                     if (!parseHex16(text, secret))
                         throw std::runtime_error("want exactly 32 hex digits");
                 });
    options.flag("no-cookies", noCookies, "do not answer DNS Cookies");
    options.text("user", user, "drop privileges to this user after binding the sockets",
                 [](const std::string& name) {
                     if (!::getpwnam(name.c_str())) throw std::runtime_error("no such user");
                 });
    options.text("http", httpAddress,
                 "ADDR:PORT for /metrics (Prometheus), /status and /status.json; 'none' to turn "
                 "off",
                 common::checkListenAddressOrNone);
    if (auto exit = options.parse(argc, argv, DNSD_VERSION)) return *exit;
    engine.maxUdpPayload = uint16_t(maxUdp);
    rrl.ipv4Prefix = uint8_t(rrlV4);
    rrl.ipv6Prefix = uint8_t(rrlV6);
    rrl.exemptLoopback = !limitLoopback;
    std::memcpy(engine.nsid, nsid.data(), nsid.size());
    engine.nsidSize = uint8_t(nsid.size());
    engine.cookies = !noCookies;
    if (!cookieSecret.empty()) {
        parseHex16(cookieSecret, engine.cookieSecret);
    } else if (::getrandom(engine.cookieSecret, sizeof engine.cookieSecret, 0) !=
               sizeof engine.cookieSecret) {
        std::cerr << "dnsd: cannot read random bytes for the cookie secret\n";
        return 1;
    }
    std::string path;
    try {
        path = zones::resolveDatabasePath(db);
    } catch (const std::exception& e) {
        std::cerr << "dnsd: " << e.what() << "\n";
        return 2;
    }
    if (listen.empty()) listen.push_back("127.0.0.1:5353");
    if (udpThreads == 0) udpThreads = std::max(1u, std::thread::hardware_concurrency());
    raiseDescriptorLimit(tcp.maxConnections);

    // Signals go to the main thread only (sigwait below); workers never see them.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    StateHolder state;
    PoolCounters poolCounters;
    std::unique_ptr<httpd::HttpEndpoint> http;
    std::vector<std::unique_ptr<ThreadStats>> stats;
    const int64_t startedAt = zones::nowMs();
    std::unique_ptr<ControlThread> control;
    std::unique_ptr<Notifier> notifier;
    std::vector<ListenAddress> addresses;
    std::vector<Fd> udpSockets, tcpSockets;
    std::atomic<bool> stop{false};
    // UPDATEs wait here for the update thread; 1,024 is seconds of work at the slowest and
    // bounds the memory a flood of UPDATEs can take (each job holds one message).
    UpdateQueue updateQueue(path, 1024, stop);
#ifdef DNSD_HAVE_XDP
    std::unique_ptr<XdpServer> xdp;
#else
    if (!xdpInterfaces.empty()) {
        logError("--xdp: this dnsd was built without XDP (clang and libbpf-dev were missing)");
        return 1;
    }
#endif
    try {
        auto loader = std::make_unique<StateLoader>(path, &poolCounters);
        loader->changed();
        auto first = loader->load(nullptr);
        state.publish(first);
        size_t records = 0;
        for (const auto& z : first->zones->zones()) records += z->recordCount();
        logInfo("loaded " + std::to_string(first->zones->zones().size()) + " zones, " +
                std::to_string(records) + " records from " + path);
        control = std::make_unique<ControlThread>(std::move(loader), state, pollMs, stop);
        control->enableDnssecMaintenance(path, dnssecIntervalS * 1000);
        notifier = std::make_unique<Notifier>(state, stop, path);
        for (const std::string& l : listen) addresses.push_back(ListenAddress::parse(l));
        for (const ListenAddress& a : addresses) {
            for (unsigned i = 0; i < udpThreads; ++i) {
                udpSockets.push_back(a.bindSocket(SOCK_DGRAM, true));
                // The default 208 KB receive buffer holds ~2,000 queries: a worker descheduled
                // for a few ms under a flood overflows it and the kernel drops queries
                // (RcvbufErrors). 4 MB rides out such stalls; FORCE passes net.core.rmem_max
                // while we are still root, else the kernel caps the plain request.
                int bytes = 4 << 20;
                int fd = udpSockets.back().get();
                if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
                    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
            }
            tcpSockets.push_back(a.bindSocket(SOCK_STREAM, false));
        }
#ifdef DNSD_HAVE_XDP
        if (!xdpInterfaces.empty()) xdp = std::make_unique<XdpServer>(xdpInterfaces, addresses);
#endif
        if (httpAddress != "none") {
            MetricsSources sources{&stats,    &state,         control.get(), &poolCounters,
                                   startedAt, notifier.get(), &updateQueue};
            std::map<std::string, httpd::HttpRoute> routes;
            // Runs on the endpoint's own thread, so `http` is set by then.
            routes["/metrics"] = {"text/plain; version=0.0.4", [sources, &http] {
                                      return renderMetrics(sources) +
                                             http->metricsText("dnsd_http");
                                  }};
            // The status reads the database on the HTTP thread's own connection, never the
            // control thread's: a slow page cannot delay a reload.
            auto statusDb = std::make_shared<std::unique_ptr<SQLite::Database>>();
            routes["/status.json"] = {
                "application/json", [statusDb, path, &state] {
                    if (!*statusDb)
                        *statusDb = zones::openDatabase(path, zones::OpenMode::ReadWrite);
                    auto st = state.current();
                    return "{\"served_generation\":" + std::to_string(st ? st->generation : 0) +
                           ",\"status\":" + zones::statusJson(**statusDb, zones::nowMs()) +
                           ",\"events\":" + zones::eventsJson(**statusDb, 50) + "}\n";
                }};
            routes["/status"] = {"text/html; charset=utf-8",
                                 [] { return std::string(kStatusPage); }};
            routes["/"] = routes["/status"];
            try {
                http = std::make_unique<httpd::HttpEndpoint>(httpAddress, routes, stop);
            } catch (const std::exception& e) {
                // The default address may be taken by another dnsd on this host: serving DNS
                // matters more than metrics. An address the operator chose must work.
                if (options.given("http")) throw;
                logError(std::string("metrics endpoint disabled: ") + e.what());
            }
        }
    } catch (const std::exception& e) {
        logError(e.what());
        return 1;
    }
    if (!user.empty()) {
        try {
            dropPrivileges(user);
        } catch (const std::exception& e) {
            // Not being allowed to change user is the configuration's fault, not a passing
            // condition: exit 2, so the unit does not restart it for ever.
            logError(e.what());
            return 2;
        }
    }

    RateLimiter limiter(rrl);
    std::vector<std::thread> threads;
    std::vector<std::unique_ptr<UdpWorker>> udpWorkers;
    for (size_t i = 0; i < udpSockets.size(); ++i) {
        stats.push_back(std::make_unique<ThreadStats>());
        udpWorkers.push_back(std::make_unique<UdpWorker>(std::move(udpSockets[i]), state, engine,
                                                         limiter, *stats.back(), stop,
                                                         "dnsd/udp" + std::to_string(i)));
    }
    stats.push_back(std::make_unique<ThreadStats>());
    TcpServer tcpServer(std::move(tcpSockets), state, engine, tcp, *stats.back(), stop, "dnsd/tcp");
    tcpServer.onTransfer([n = notifier.get()](const TransferReport& r) { n->transferDone(r); });
    tcpServer.updates(&updateQueue);
    for (auto& w : udpWorkers) w->updates(&updateQueue);
    for (auto& w : udpWorkers) threads.emplace_back([&w] { w->run(); });
#ifdef DNSD_HAVE_XDP
    std::vector<std::unique_ptr<XdpWorker>> xdpWorkers;
    if (xdp) xdpWorkers = xdp->workers(state, engine, limiter, stats, stop);
    for (auto& w : xdpWorkers) threads.emplace_back([&w] { w->run(); });
    if (xdp) logInfo("answering UDP through AF_XDP on " + xdp->describe());
#endif
    threads.emplace_back([&] { tcpServer.run(); });
    threads.emplace_back([&] { control->run(); });
    threads.emplace_back([&] { notifier->run(); });
    threads.emplace_back([&] { updateQueue.run(); });
    if (http) threads.emplace_back([&] { http->run(); });
    std::string where;
    for (const auto& a : addresses) where += " " + a.text;
    logInfo("serving on" + where + " (udp threads per address: " + std::to_string(udpThreads) +
            ")");

    for (;;) {
        int sig = 0;
        sigwait(&sigs, &sig);
        if (sig == SIGHUP) {
            logInfo("SIGHUP: reloading");
            control->requestReload();
            continue;
        }
        break;
    }
    logInfo("stopping");
    stop.store(true);
    for (auto& t : threads) t.join();
    uint64_t udp = 0, tcpq = 0, dropped = 0, slipped = 0;
    for (auto& s : stats) {
        udp += s->udpQueries.load();
        tcpq += s->tcpQueries.load();
        dropped += s->rrlDropped.load();
        slipped += s->rrlSlipped.load();
    }
    logInfo("stopped after " + std::to_string(udp) + " UDP and " + std::to_string(tcpq) +
            " TCP queries; rate limiting dropped " + std::to_string(dropped) + " and slipped " +
            std::to_string(slipped));
    return 0;
}
