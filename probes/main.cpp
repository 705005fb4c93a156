// dnsd-probe — health monitor and failover controller (see probes/README.md).
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>
#include <chrono>
#include <ctime>
#include <iostream>
#include <thread>

#include "probes/controller.hpp"
#include "zones/schema.hpp"

namespace po = boost::program_options;

namespace {
void logLine(const std::string& line) {
    auto now = std::chrono::system_clock::now();
    std::time_t secs = std::chrono::system_clock::to_time_t(now);
    int ms =
        int(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
            1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    char full[48];
    std::snprintf(full, sizeof full, "%s.%03dZ", stamp, ms);
    std::cerr << full << " dnsd-probe: " << line << std::endl;
}
}  // namespace

int main(int argc, char** argv) {
    po::options_description options("Options");
    std::string db, onChange;
    int pollMs = 100;
    int64_t keepObservations = 3600;
    options.add_options()("help,h", "show this help")("db", po::value(&db),
                                                      "database file (default: $DNSD_DB)")(
        "on-change", po::value(&onChange),
        "run this shell command on every failover, failback, all-down and recovery; the event is "
        "in "
        "$DNSD_EVENT, $DNSD_POOL, $DNSD_MESSAGE, $DNSD_EVENT_JSON and as JSON on stdin")(
        "poll-ms", po::value(&pollMs)->default_value(100),
        "how often to look for dnsctl changes (ms)")(
        "keep-observations", po::value(&keepObservations)->default_value(3600),
        "seconds of probe observations to keep in the database");
    po::variables_map vm;
    try {
        auto style = po::command_line_style::unix_style ^ po::command_line_style::allow_guessing;
        po::store(po::command_line_parser(argc, argv).options(options).style(style).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "dnsd-probe: " << e.what() << " (see dnsd-probe --help)\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << "usage: dnsd-probe [--db PATH] [--on-change COMMAND]\n\n"
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
    ::signal(SIGPIPE, SIG_IGN);
    boost::asio::io_context io;
    probes::ControllerOptions opts;
    opts.onChange = onChange;
    opts.pollMs = pollMs;
    opts.keepObservationsMs = keepObservations * 1000;
    std::unique_ptr<probes::Controller> controller;
    while (true) {
        try {
            opts.dbPath = zones::resolveDatabasePath(db);
            controller = std::make_unique<probes::Controller>(io, opts, logLine);
            controller->start();
            break;
        } catch (const std::exception& e) {
            // Another writer holding the lock at start-up is transient: wait for it.
            std::string what = e.what();
            if (what.find("locked") == std::string::npos &&
                what.find("busy") == std::string::npos) {
                std::cerr << "dnsd-probe: " << what << "\n";
                return 1;
            }
            logLine("database is locked at start-up (" + what + "); retrying in 1s");
            controller.reset();
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
    }
    logLine("started on " + opts.dbPath +
            (onChange.empty() ? "" : ", on-change hook: " + onChange));
    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        logLine(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
        controller->stop();
        io.stop();
    });
    while (true) {
        try {
            io.run();
            break;
        } catch (const std::exception& e) {
            // A handler let something escape: log it and keep the loop alive.
            logLine(std::string("error in event loop (continuing): ") + e.what());
        }
    }
    return 0;
}
