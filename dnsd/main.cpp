// dnsd — the authoritative server. Wires options, sockets and threads together; all the DNS
// work is in answer/ and all the database work in StateLoader.
#include <grp.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "common/config_file.hpp"
#include "common/listen_address.hpp"
#include "dnsd/control_thread.hpp"
#include "dnsd/log.hpp"
#include "dnsd/metrics.hpp"
#include "dnsd/rate_limiter.hpp"
#include "dnsd/status_page.hpp"
#include "dnsd/tcp_server.hpp"
#include "dnsd/udp_worker.hpp"
#include "dnsd/xfr/notifier.hpp"
#include "httpd/http_endpoint.hpp"
#include "zones/schema.hpp"
#include "zones/status_report.hpp"

namespace po = boost::program_options;
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

}  // namespace

int main(int argc, char** argv) {
    // Snapshot arrays are large and replaced whole. A fixed mmap threshold keeps glibc from
    // raising it after the first free, so a replaced snapshot goes back to the system at once
    // instead of staying in the heap as resident memory.
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    std::string db;
    std::vector<std::string> listen;
    unsigned udpThreads = 0;
    int pollMs = 20;
    TcpConfig tcp;
    EngineConfig engine;
    unsigned maxUdp = engine.maxUdpPayload;
    RrlConfig rrl;
    unsigned rrlV4 = rrl.ipv4Prefix, rrlV6 = rrl.ipv6Prefix;
    std::string nsid, cookieSecret, user;
    std::string httpAddress = "127.0.0.1:8053";
    bool noCookies = false;

    po::options_description opts(
        "dnsd: authoritative DNS server for health-checked failover\n\nOptions");
    std::string configFile;
    opts.add_options()("help,h", "show this help")("version", "print the version and exit")(
        "config", po::value(&configFile),
        "read options from FILE too (lines 'option-name = value'; command line and environment "
        "win)")("db", po::value(&db), "SQLite database (default: $DNSD_DB)")(
        "listen,l", po::value(&listen)->composing(),
        "ADDR:PORT or [V6ADDR]:PORT to serve UDP and TCP on (repeatable; default 127.0.0.1:5353)")(
        "udp-threads", po::value(&udpThreads),
        "UDP worker threads per address (default: one per core)")(
        "tcp-idle-timeout", po::value(&tcp.idleTimeoutMs)->default_value(10000),
        "close TCP connections idle this many milliseconds")(
        "tcp-max-connections", po::value(&tcp.maxConnections)->default_value(1000),
        "concurrent TCP connections at most")(
        "max-udp-payload", po::value(&maxUdp)->default_value(1232),
        "largest UDP response in bytes, whatever the client offers (512..4096)")(
        "poll-interval", po::value(&pollMs)->default_value(20),
        "milliseconds between database change checks")(
        "tcp-max-per-client", po::value(&tcp.maxPerClient)->default_value(20),
        "concurrent TCP connections from one address at most")(
        "rrl-rate", po::value(&rrl.ratePerSecond)->default_value(200),
        "UDP responses per second per client prefix and response class (0 = no rate limiting)")(
        "rrl-slip", po::value(&rrl.slip)->default_value(2),
        "over the limit, send every Nth response truncated instead of dropping it (0 = never)")(
        "rrl-limit-loopback", po::bool_switch(),
        "rate-limit loopback clients too (they are exempt by default: they cannot be spoofed)")(
        "rrl-ipv4-prefix", po::value(&rrlV4)->default_value(24),
        "IPv4 prefix length that counts as one client")(
        "rrl-ipv6-prefix", po::value(&rrlV6)->default_value(56),
        "IPv6 prefix length that counts as one client")(
        "nsid", po::value(&nsid), "NSID (RFC 5001) to return to clients that ask, as text")(
        "cookie-secret", po::value(&cookieSecret),
        "32 hex digits: the DNS Cookie secret (share it between anycast/redundant servers; default "
        "random)")("no-cookies", po::bool_switch(&noCookies), "do not answer DNS Cookies")(
        "user", po::value(&user), "drop privileges to this user after binding the sockets")(
        "http", po::value(&httpAddress)->default_value(httpAddress),
        "ADDR:PORT for /metrics (Prometheus), /status and /status.json; 'none' to turn off");
    po::variables_map vm;
    try {
        // First source to set an option wins: command line, then DNSD_* environment
        // (DNSD_UDP_THREADS=4 is --udp-threads 4), then the config file.
        po::store(po::parse_command_line(argc, argv, opts), vm);
        try {
            po::store(po::parse_environment(opts,
                                            [&](const std::string& env) -> std::string {
                                                if (env.rfind("DNSD_", 0) != 0) return "";
                                                std::string name = env.substr(5);
                                                for (char& c : name)
                                                    c = c == '_' ? '-' : char(std::tolower(c));
                                                return opts.find_nothrow(name, false) ? name : "";
                                            }),
                      vm);
        } catch (const po::error& e) {
            throw std::runtime_error(std::string("environment (DNSD_*): ") + e.what());
        }
        if (vm.count("config")) common::storeConfigFile(vm["config"].as<std::string>(), opts, vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "dnsd: " << e.what() << "\n(see dnsd --help)\n";
        return 2;
    }
    if (vm.count("version")) {
        std::cout << "dnsd " << DNSD_VERSION << "\n";
        return 0;
    }
    if (vm.count("help")) {
        std::cout << opts << "\n";
        return 0;
    }
    if (maxUdp < 512 || maxUdp > 4096) {
        std::cerr << "dnsd: --max-udp-payload must be between 512 and 4096\n";
        return 2;
    }
    if (pollMs < 1 || pollMs > 10000) {
        std::cerr << "dnsd: --poll-interval must be between 1 and 10000 ms\n";
        return 2;
    }
    engine.maxUdpPayload = uint16_t(maxUdp);
    if (rrlV4 > 32 || rrlV6 > 128) {
        std::cerr << "dnsd: --rrl-ipv4-prefix must be 0..32 and --rrl-ipv6-prefix 0..128\n";
        return 2;
    }
    rrl.ipv4Prefix = uint8_t(rrlV4);
    rrl.exemptLoopback = !vm["rrl-limit-loopback"].as<bool>();
    rrl.ipv6Prefix = uint8_t(rrlV6);
    if (nsid.size() > sizeof engine.nsid) {
        std::cerr << "dnsd: --nsid is longer than 128 bytes\n";
        return 2;
    }
    std::memcpy(engine.nsid, nsid.data(), nsid.size());
    engine.nsidSize = uint8_t(nsid.size());
    engine.cookies = !noCookies;
    if (!cookieSecret.empty()) {
        if (!parseHex16(cookieSecret, engine.cookieSecret)) {
            std::cerr << "dnsd: --cookie-secret must be exactly 32 hex digits\n";
            return 2;
        }
    } else if (::getrandom(engine.cookieSecret, sizeof engine.cookieSecret, 0) !=
               sizeof engine.cookieSecret) {
        std::cerr << "dnsd: cannot read random bytes for the cookie secret\n";
        return 1;
    }
    if (listen.empty()) listen.push_back("127.0.0.1:5353");
    if (udpThreads == 0) udpThreads = std::max(1u, std::thread::hardware_concurrency());

    // Signals go to the main thread only (sigwait below); workers never see them.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    StateHolder state;
    std::string path;
    PoolCounters poolCounters;
    std::unique_ptr<httpd::HttpEndpoint> http;
    std::vector<std::unique_ptr<ThreadStats>> stats;
    const int64_t startedAt = zones::nowMs();
    std::unique_ptr<ControlThread> control;
    std::unique_ptr<Notifier> notifier;
    std::vector<ListenAddress> addresses;
    std::vector<Fd> udpSockets, tcpSockets;
    std::atomic<bool> stop{false};
    try {
        path = zones::resolveDatabasePath(db);
        auto loader = std::make_unique<StateLoader>(path, &poolCounters);
        loader->changed();
        auto first = loader->load(nullptr);
        state.publish(first);
        size_t records = 0;
        for (const auto& z : first->zones->zones()) records += z->recordCount();
        logInfo("loaded " + std::to_string(first->zones->zones().size()) + " zones, " +
                std::to_string(records) + " records from " + path);
        control = std::make_unique<ControlThread>(std::move(loader), state, pollMs, stop);
        notifier = std::make_unique<Notifier>(state, stop);
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
        if (httpAddress != "none") {
            MetricsSources sources{&stats,        &state,    control.get(),
                                   &poolCounters, startedAt, notifier.get()};
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
                if (!vm["http"].defaulted()) throw;
                logError(std::string("metrics endpoint disabled: ") + e.what());
            }
        }
        if (!user.empty()) dropPrivileges(user);
    } catch (const std::exception& e) {
        logError(e.what());
        return 1;
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
    for (auto& w : udpWorkers) threads.emplace_back([&w] { w->run(); });
    threads.emplace_back([&] { tcpServer.run(); });
    threads.emplace_back([&] { control->run(); });
    threads.emplace_back([&] { notifier->run(); });
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
