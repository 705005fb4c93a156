// dnsd-probe — health monitor and failover controller (see probes/README.md).
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>
#include <cctype>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "common/config_file.hpp"
#include "httpd/http_endpoint.hpp"
#include "probes/controller.hpp"
#include "probes/daemon_log.hpp"
#include "probes/db_follower.hpp"
#include "probes/probe_metrics.hpp"
#include "probes/webhook_sender.hpp"
#include "zones/schema.hpp"

namespace po = boost::program_options;

namespace {

void info(const std::string& line) {
    probes::logLine(probes::Level::Info, line);
}
void error(const std::string& line) {
    probes::logLine(probes::Level::Error, line);
}

}  // namespace

int main(int argc, char** argv) {
    po::options_description options("Options");
    std::string db, onChange, configFile, httpAddress = "127.0.0.1:8054";
    int pollMs = 100;
    int64_t keepObservations = 3600;
    int64_t keepEventsDays = 30;
    probes::WebhookOptions webhooks;
    options.add_options()("help,h", "show this help")("version", "print the version and exit")(
        "config", po::value(&configFile),
        "read options from FILE too (lines 'option-name = value'; command line and environment "
        "win)")("db", po::value(&db), "database file (default: $DNSD_DB)")(
        "on-change", po::value(&onChange),
        "run this shell command on every failover, failback, all-down and recovery; the event is "
        "in $DNSD_EVENT, $DNSD_POOL, $DNSD_MESSAGE, $DNSD_EVENT_JSON and as JSON on stdin")(
        "poll-ms", po::value(&pollMs)->default_value(100),
        "how often to look for dnsctl changes (ms)")(
        "keep-observations", po::value(&keepObservations)->default_value(3600),
        "seconds of probe observations to keep in the database")(
        "keep-events", po::value(&keepEventsDays)->default_value(30),
        "days of events (failovers, member up/down, admin changes) to keep; 0 keeps all")(
        "http", po::value(&httpAddress)->default_value(httpAddress),
        "ADDR:PORT or [V6ADDR]:PORT for /metrics (Prometheus); 'none' to turn off")(
        "webhook", po::value(&webhooks.urls)->composing(),
        "POST every failover, failback, all-down, recovery and pending failover as JSON (the "
        "--on-change JSON) to this http:// or https:// URL (repeatable)")(
        "webhook-attempts", po::value(&webhooks.maxAttempts)->default_value(10),
        "attempts per event and URL before giving up (backoff 0.5 s doubling to 30 s)")(
        "webhook-queue", po::value(&webhooks.queueLimit)->default_value(1000),
        "events waiting per URL at most; when full the oldest is dropped (logged, counted)");
    po::variables_map vm;
    try {
        // First source to set an option wins: command line, then DNSD_PROBE_* environment
        // (DNSD_PROBE_POLL_MS=200 is --poll-ms 200; the database also falls back to $DNSD_DB),
        // then the config file.
        auto style = po::command_line_style::unix_style ^ po::command_line_style::allow_guessing;
        po::store(po::command_line_parser(argc, argv).options(options).style(style).run(), vm);
        try {
            po::store(po::parse_environment(options,
                                            [&](const std::string& env) -> std::string {
                                                if (env.rfind("DNSD_PROBE_", 0) != 0) return "";
                                                std::string name = env.substr(11);
                                                for (char& c : name)
                                                    c = c == '_' ? '-' : char(std::tolower(c));
                                                if (name == "help" || name == "version") return "";
                                                return options.find_nothrow(name, false) ? name
                                                                                         : "";
                                            }),
                      vm);
        } catch (const po::error& e) {
            throw std::runtime_error(std::string("environment (DNSD_PROBE_*): ") + e.what());
        }
        if (vm.count("config"))
            common::storeConfigFile(vm["config"].as<std::string>(), options, vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "dnsd-probe: " << e.what() << " (see dnsd-probe --help)\n";
        return 2;
    }
    if (vm.count("version")) {
        std::cout << "dnsd-probe " << DNSD_VERSION << "\n";
        return 0;
    }
    if (vm.count("help")) {
        std::cout << "usage: dnsd-probe [--config FILE] [--db PATH] [--on-change COMMAND] "
                     "[--http ADDR:PORT]\n\n"
                     "Probes every pool member defined with dnsctl, applies rise/fall hysteresis "
                     "and each\n"
                     "pool's failover policy, and writes decisions, state and events to the "
                     "database that\n"
                     "dnsd serves from. Runs until SIGTERM/SIGINT.\n\n"
                  << options;
        return 0;
    }
    if (pollMs < 10 || pollMs > 10000) {
        std::cerr << "dnsd-probe: --poll-ms must be 10..10000\n";
        return 2;
    }
    if (keepObservations < 1 || keepEventsDays < 0 || keepEventsDays > 36500) {
        std::cerr << "dnsd-probe: --keep-observations must be at least 1 (seconds) and "
                     "--keep-events 0..36500 (days)\n";
        return 2;
    }
    if (webhooks.maxAttempts < 1 || webhooks.maxAttempts > 1000 || webhooks.queueLimit < 2 ||
        webhooks.queueLimit > 1000000) {
        std::cerr << "dnsd-probe: --webhook-attempts must be 1..1000 and --webhook-queue "
                     "2..1000000\n";
        return 2;
    }
    for (const auto& url : webhooks.urls) {
        try {
            probes::parseWebhookUrl(url);
        } catch (const std::exception& e) {
            std::cerr << "dnsd-probe: " << e.what() << "\n";
            return 2;
        }
    }
    ::signal(SIGPIPE, SIG_IGN);
    // Every check in flight holds a socket: lift the soft descriptor limit towards the hard
    // one (as nginx and Go programs do), so thousands of members started in one round do
    // not run into the usual 1024. Capped, since children (exec checks, hooks) inherit it.
    if (rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t want = std::min<rlim_t>(rl.rlim_max, 65536);
        if (rl.rlim_cur < want) {
            rl.rlim_cur = want;
            ::setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    probes::ProbeMetrics metrics;
    probes::LogSink logSink = probes::logLine;
    boost::asio::io_context io;
    probes::ControllerOptions opts;
    opts.onChange = onChange;
    opts.pollMs = pollMs;
    opts.keepObservationsMs = keepObservations * 1000;
    opts.keepEventsMs = keepEventsDays * 86400 * 1000;
    opts.writeFailed = [&metrics] { metrics.dbWriteError(); };
    std::unique_ptr<probes::Controller> controller;
    while (true) {
        try {
            opts.dbPath = zones::resolveDatabasePath(db);
            controller = std::make_unique<probes::Controller>(io, opts, logSink);
            controller->start();
            break;
        } catch (const std::exception& e) {
            // Another writer holding the lock at start-up is transient: wait for it.
            std::string what = e.what();
            if (what.find("locked") == std::string::npos &&
                what.find("busy") == std::string::npos) {
                error(what);
                return 1;
            }
            probes::logLine(probes::Level::Warn,
                            "database is locked at start-up (" + what + "); retrying in 1s");
            controller.reset();
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
    }

    std::atomic<bool> httpStop{false};
    std::unique_ptr<httpd::HttpEndpoint> http;
    std::unique_ptr<probes::DbFollower> follower;
    std::unique_ptr<probes::WebhookSender> sender;
    try {
        probes::DbFollower::Notify notify;
        if (!webhooks.urls.empty()) {
            sender = std::make_unique<probes::WebhookSender>(io, webhooks, metrics, logSink);
            notify = [&sender](const std::string& kind, const std::string& json) {
                sender->post(kind, json);
            };
        }
        follower = std::make_unique<probes::DbFollower>(io, opts.dbPath, metrics, notify, logSink);
        follower->start();
        if (httpAddress != "none") {
            std::map<std::string, httpd::HttpRoute> routes;
            routes["/metrics"] = {"text/plain; version=0.0.4", [&metrics] {
                                      return metrics.render(zones::nowMs(), DNSD_VERSION);
                                  }};
            try {
                http = std::make_unique<httpd::HttpEndpoint>(httpAddress, routes, httpStop,
                                                             "dnsd-probe/http");
            } catch (const std::exception& e) {
                // The default address may be taken (a second instance, a test): probing matters
                // more than metrics. An address the operator chose must work.
                if (!vm["http"].defaulted()) throw;
                probes::logLine(probes::Level::Warn,
                                std::string("metrics endpoint disabled: ") + e.what());
            }
        }
    } catch (const std::exception& e) {
        error(e.what());
        return 1;
    }
    std::thread httpThread;
    if (http) httpThread = std::thread([&] { http->run(); });

    info(
        "started on " + opts.dbPath + (onChange.empty() ? "" : ", on-change hook: " + onChange) +
        (http ? ", metrics on http://" + httpAddress + "/metrics" : "") +
        (webhooks.urls.empty() ? "" : ", " + std::to_string(webhooks.urls.size()) + " webhook(s)"));
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        info(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
        follower->stop();
        if (sender) sender->stop();
        controller->stop();
        io.stop();
    });
    while (true) {
        try {
            io.run();
            break;
        } catch (const std::exception& e) {
            // A handler let something escape: log it and keep the loop alive.
            error(std::string("error in event loop (continuing): ") + e.what());
        }
    }
    httpStop.store(true);
    if (httpThread.joinable()) httpThread.join();
    return 0;
}
