// dnsd-probe — health monitor and failover controller (see probes/README.md).
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cctype>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "common/listen_address.hpp"
#include "common/option_table.hpp"
#include "httpd/http_endpoint.hpp"
#include "probes/agent.hpp"
#include "probes/agent_client.hpp"
#include "probes/controller.hpp"
#include "probes/daemon_log.hpp"
#include "probes/db_follower.hpp"
#include "probes/probe_metrics.hpp"
#include "probes/webhook_sender.hpp"
#include "zones/schema.hpp"
#include "zones/vantage_store.hpp"

namespace {

void info(const std::string& line) {
    probes::logLine(probes::Level::Info, line);
}
void error(const std::string& line) {
    probes::logLine(probes::Level::Error, line);
}

// Every check in flight holds a socket: lift the soft descriptor limit towards the hard one
// (as nginx and Go programs do), so thousands of members started in one round do not run
// into the usual 1024. Capped, since children (exec checks, hooks) inherit it.
void raiseDescriptorLimit() {
    if (rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t want = std::min<rlim_t>(rl.rlim_max, 65536);
        if (rl.rlim_cur < want) {
            rl.rlim_cur = want;
            ::setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
}

// Agent mode: probe what the controller says, report there; no database, no decisions.
int runAgent(probes::AgentOptions options, const std::string& httpAddress) {
    ::signal(SIGPIPE, SIG_IGN);
    raiseDescriptorLimit();
    boost::asio::io_context io;
    probes::Agent agent(io, std::move(options), probes::logLine);
    std::atomic<bool> httpStop{false};
    std::unique_ptr<httpd::HttpEndpoint> http;
    if (httpAddress != "none") {
        std::map<std::string, httpd::HttpRoute> routes;
        routes["/metrics"] = {"text/plain; version=0.0.4",
                              [&agent] { return probes::agentMetricsText(agent.stats()); }};
        try {
            http = std::make_unique<httpd::HttpEndpoint>(httpAddress, routes, httpStop,
                                                         "dnsd-probe/http");
        } catch (const std::exception& e) {
            error(e.what());
            return 1;
        }
    }
    std::thread httpThread;
    if (http) httpThread = std::thread([&] { http->run(); });
    agent.start();
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        info(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
        agent.stop();
        io.stop();
    });
    while (true) {
        try {
            io.run();
            break;
        } catch (const std::exception& e) {
            error(std::string("error in event loop (continuing): ") + e.what());
        }
    }
    httpStop.store(true);
    if (httpThread.joinable()) httpThread.join();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string db, onChange, httpAddress = "127.0.0.1:8054";
    int pollMs = 100;
    int64_t keepObservations = 3600;
    int64_t keepEventsDays = 30;
    probes::WebhookOptions webhooks;
    std::string vantage, controllerUrl, keyFile, agentsListen;
    bool noLocalVantage = false, allowExec = false;
    int64_t agentMaxSkew = 30;
    size_t agentBuffer = 100000;
    // Every option with the values it takes, checked as it is read (common/option_table.hpp):
    // a bad value from any source exits 2, which the unit does not restart.
    common::OptionTable options(
        "dnsd-probe",
        "usage: dnsd-probe [--config FILE] [--db PATH] [--on-change COMMAND] [--http ADDR:PORT]\n\n"
        "Probes every pool member defined with dnsctl, applies rise/fall hysteresis and each\n"
        "pool's failover policy, and writes decisions, state and events to the database that\n"
        "dnsd serves from. Runs until SIGTERM/SIGINT.\n",
        "DNSD_PROBE_");
    options.text("db", db, "database file (default: $DNSD_DB)");
    options.text("on-change", onChange,
                 "run this shell command (/bin/sh -c, 30 s at most) on every failover, failback, "
                 "all-down, recovered and failover-pending event; it gets $DNSD_EVENT (the kind), "
                 "$DNSD_POOL, $DNSD_MESSAGE, $DNSD_EVENT_AT (ms since 1970), $DNSD_EVENT_JSON, and "
                 "the same JSON on stdin");
    options.integer("poll-ms", pollMs, 10, 10000, "how often to look for dnsctl changes (ms)");
    options.integer<int64_t>("keep-observations", keepObservations, 1, 31536000,
                             "seconds of probe observations to keep in the database");
    options.integer<int64_t>(
        "keep-events", keepEventsDays, 0, 36500,
        "days of events (failovers, member up/down, admin changes) to keep; 0 keeps all");
    options.text("http", httpAddress,
                 "ADDR:PORT or [V6ADDR]:PORT for /metrics (Prometheus); 'none' to turn off",
                 common::checkListenAddressOrNone);
    options.texts("webhook", webhooks.urls,
                  "POST every failover, failback, all-down, recovered and failover-pending event "
                  "as JSON (the --on-change JSON) to this http:// or https:// URL (repeatable)",
                  [](const std::string& url) { probes::parseWebhookUrl(url); });
    options.integer("webhook-attempts", webhooks.maxAttempts, 1, 1000,
                    "attempts per event and URL before giving up (backoff 0.5 s doubling to 30 s)");
    options.integer<size_t>(
        "webhook-queue", webhooks.queueLimit, 2, 1000000,
        "events waiting per URL at most; when full the oldest is dropped (logged, counted)");
    options.text("agents-listen", agentsListen,
                 "ADDR:PORT or [V6ADDR]:PORT where remote probe agents report (off by default; "
                 "dnsctl vantage add makes their keys)",
                 [](const std::string& a) { common::ListenAddress::parse(a); });
    options.flag("no-local-vantage", noLocalVantage,
                 "with --agents-listen: our own checks do not count, only the agents' do");
    options.integer<int64_t>("agent-max-skew", agentMaxSkew, 1, 3600,
                             "seconds an agent's clock may differ from ours before its reports "
                             "are refused (the replay window)");
    options.text("vantage", vantage,
                 "run as a remote probe agent with this vantage name (needs --controller and "
                 "--key-file; no database)");
    options.text("controller", controllerUrl,
                 "agent mode: the controller's http://HOST:PORT (its --agents-listen)");
    options.text("key-file", keyFile,
                 "agent mode: file holding this vantage's key (printed by dnsctl vantage add)");
    options.integer<size_t>("buffer", agentBuffer, 10, 10000000,
                            "agent mode: results kept while the controller is unreachable; the "
                            "oldest are dropped (and counted) beyond this");
    options.flag("allow-exec", allowExec,
                 "agent mode: run exec probes the controller sends (shell commands on this "
                 "host); without it they are skipped");
    if (auto exit = options.parse(argc, argv, DNSD_VERSION)) return *exit;
    if (!vantage.empty()) {
        if (controllerUrl.empty() || keyFile.empty()) {
            std::cerr << "dnsd-probe: --vantage needs --controller URL and --key-file FILE\n";
            return 2;
        }
        if (options.given("db") || !agentsListen.empty()) {
            std::cerr << "dnsd-probe: --vantage runs an agent, which has no database: drop "
                      << (agentsListen.empty() ? "--db" : "--agents-listen") << "\n";
            return 2;
        }
        probes::AgentOptions agent;
        agent.vantage = vantage;
        agent.controllerUrl = controllerUrl;
        agent.bufferLimit = agentBuffer;
        agent.allowExec = allowExec;
        try {
            zones::checkVantageName(vantage);
            agent.key = probes::readKeyFile(keyFile);
            boost::asio::io_context unused;
            probes::AgentClient check(unused,
                                      {controllerUrl, vantage, agent.key, 1000});  // the URL
        } catch (const std::exception& e) {
            std::cerr << "dnsd-probe: " << e.what() << "\n";
            return 2;
        }
        return runAgent(std::move(agent), options.given("http") ? httpAddress : "none");
    }
    if (!controllerUrl.empty() || !keyFile.empty()) {
        std::cerr << "dnsd-probe: --controller and --key-file are for agent mode (--vantage)\n";
        return 2;
    }
    if (noLocalVantage && agentsListen.empty()) {
        std::cerr << "dnsd-probe: --no-local-vantage needs --agents-listen (else nothing "
                     "probes)\n";
        return 2;
    }
    try {
        // Without a database there is nothing to do, and waiting will not give one: exit 2.
        zones::resolveDatabasePath(db);
    } catch (const std::exception& e) {
        std::cerr << "dnsd-probe: " << e.what() << "\n";
        return 2;
    }
    ::signal(SIGPIPE, SIG_IGN);
    raiseDescriptorLimit();
    probes::ProbeMetrics metrics;
    probes::LogSink logSink = probes::logLine;
    boost::asio::io_context io;
    probes::ControllerOptions opts;
    opts.onChange = onChange;
    opts.pollMs = pollMs;
    opts.keepObservationsMs = keepObservations * 1000;
    opts.keepEventsMs = keepEventsDays * 86400 * 1000;
    opts.writeFailed = [&metrics] { metrics.dbWriteError(); };
    opts.localVantage = !noLocalVantage;
    opts.agentsListen = agentsListen;
    opts.agentMaxSkewMs = agentMaxSkew * 1000;
    opts.agentRefused = [&metrics](const std::string& kind) { metrics.agentRefused(kind); };
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
            // Runs on the endpoint's own thread, so `http` is set by then.
            routes["/metrics"] = {"text/plain; version=0.0.4", [&metrics, &http] {
                                      return metrics.render(zones::nowMs(), DNSD_VERSION) +
                                             http->metricsText("dnsd_probe_http");
                                  }};
            try {
                http = std::make_unique<httpd::HttpEndpoint>(httpAddress, routes, httpStop,
                                                             "dnsd-probe/http");
            } catch (const std::exception& e) {
                // The default address may be taken (a second instance, a test): probing matters
                // more than metrics. An address the operator chose must work.
                if (options.given("http")) throw;
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
