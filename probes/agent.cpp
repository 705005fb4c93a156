#include "probes/agent.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>

#include "zones/schema.hpp"

namespace probes {

namespace asio = boost::asio;

namespace {

// A report waits at least this long after the previous one: under a burst of results (a
// mass outage) reports carry many results each instead of one each.
constexpr int64_t kMinGapMs = 20;
// Retries at most a second apart: a restarted controller hears from every agent within about
// a second of its start (its start-up grace is longer), and one failed connect a second costs
// nothing.
constexpr int kMaxBackoffMs = 1000;
constexpr int64_t kRepeatLogMs = 60000;

int64_t steadyMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Agent::Agent(asio::io_context& io, AgentOptions options, LogSink log)
    : io_(io),
      options_(std::move(options)),
      log_(std::move(log)),
      runner_(io),
      retry_(io),
      heartbeat_(io),
      gap_(io) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    host_ = host;
}

Agent::~Agent() = default;

void Agent::start() {
    AgentClientOptions c;
    c.url = options_.controllerUrl;
    c.vantage = options_.vantage;
    c.key = options_.key;
    client_ = std::make_unique<AgentClient>(io_, c);
    scheduler_ = std::make_unique<CheckScheduler>(
        io_, runner_,
        [this](const CheckSpec& spec, const CheckResult& r) {
            if (stopped_) return;
            std::lock_guard lock(statsMutex_);
            buffer_.push_back(
                {nextSeq_++,
                 {spec.memberId, spec.probeId, zones::nowMs(), r.ok, r.latencyUs, r.message}});
            ++stats_.results;
            if (buffer_.size() > options_.bufferLimit) {
                buffer_.pop_front();  // the oldest result is worth least
                ++stats_.dropped;
            }
            stats_.buffered = buffer_.size();
            asio::post(io_, [this] { pump(); });
        },
        log_);
    log_(Level::Info, "agent " + options_.vantage + ": controller " + options_.controllerUrl +
                          (runner_.icmpAvailable() ? "" : "; " + runner_.icmpStatus()));
    pump();
    armHeartbeat();
}

void Agent::stop() {
    stopped_ = true;
    retry_.cancel();
    heartbeat_.cancel();
    gap_.cancel();
    if (scheduler_) scheduler_->stop();
    if (client_) client_->close();
}

AgentStats Agent::stats() const {
    std::lock_guard lock(statsMutex_);
    return stats_;
}

void Agent::armHeartbeat() {
    heartbeat_.expires_after(std::chrono::milliseconds(std::max(25, reportMs_ / 4)));
    heartbeat_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        pump();
        armHeartbeat();
    });
}

void Agent::pump() {
    if (stopped_ || inFlight_ || waiting_ || !client_) return;
    if (needConfig_) {
        fetchConfig();
        return;
    }
    int64_t t = steadyMs();
    bool empty;
    {
        std::lock_guard lock(statsMutex_);
        empty = buffer_.empty();
    }
    // Nothing to say: only a heartbeat once a report period.
    if (empty && t - lastSentAt_ < reportMs_) return;
    if (t - lastSentAt_ < kMinGapMs) {
        if (!gapArmed_) {
            gapArmed_ = true;
            gap_.expires_after(std::chrono::milliseconds(kMinGapMs - (t - lastSentAt_)));
            gap_.async_wait([this](const boost::system::error_code& ec) {
                gapArmed_ = false;
                if (!ec) pump();
            });
        }
        return;
    }
    sendReport();
}

void Agent::fetchConfig() {
    inFlight_ = true;
    client_->request("GET", kAgentConfigPath, "", [this](AgentResponse r) {
        inFlight_ = false;
        if (stopped_) return;
        updateTraffic(r);
        if (r.status != 200) return onFailure(r);
        try {
            applyConfig(decodeConfig(r.body));
        } catch (const std::exception& e) {
            r.status = 0;
            r.error = std::string("the controller's configuration is malformed: ") + e.what();
            return onFailure(r);
        }
        needConfig_ = false;
        succeeded();
        pump();
    });
}

void Agent::applyConfig(const AgentConfig& config) {
    std::vector<CheckSpec> specs;
    size_t skipped = 0;
    for (const auto& c : config.checks) {
        // An exec probe runs a shell command the controller chose, here: only if this host
        // allows it. Without it the vantage has no view of those members (not a failure).
        if (c.probe.type == "exec" && !options_.allowExec) {
            ++skipped;
            continue;
        }
        specs.push_back({c.memberId, c.probeId, c.member, c.probe});
    }
    scheduler_->sync(specs);
    bool first = configVersion_.empty();
    configVersion_ = config.version;
    reportMs_ = std::clamp(config.reportMs, 50, 60000);
    {
        std::lock_guard lock(statsMutex_);
        stats_.checks = specs.size();
    }
    log_(Level::Info, "agent " + options_.vantage + ": " + (first ? "config " : "new config ") +
                          std::to_string(specs.size()) + " checks (version " + config.version +
                          ", report every " + std::to_string(reportMs_) + " ms)" +
                          (skipped ? "; " + std::to_string(skipped) +
                                         " exec checks not run here (no --allow-exec)"
                                   : ""));
}

void Agent::sendReport() {
    AgentReport report;
    report.configVersion = configVersion_;
    report.version = DNSD_VERSION;
    report.host = host_;
    uint64_t lastSeq = 0;
    {
        std::lock_guard lock(statsMutex_);
        report.dropped = stats_.dropped;
        size_t n = std::min(buffer_.size(), size_t(options_.maxBatch));
        report.results.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            report.results.push_back(buffer_[i].second);
            lastSeq = buffer_[i].first;
        }
    }
    size_t count = report.results.size();
    inFlight_ = true;
    lastSentAt_ = steadyMs();
    client_->request(
        "POST", kAgentReportPath, encodeReport(report), [this, lastSeq, count](AgentResponse r) {
            inFlight_ = false;
            if (stopped_) return;
            updateTraffic(r);
            if (r.status != 200) return onFailure(r);
            AgentReply reply;
            try {
                reply = decodeReply(r.body);
            } catch (const std::exception& e) {
                r.status = 0;
                r.error = std::string("the controller's reply is malformed: ") + e.what();
                return onFailure(r);
            }
            {
                // Sent results leave the buffer; results dropped meanwhile are gone already.
                std::lock_guard lock(statsMutex_);
                while (count && !buffer_.empty() && buffer_.front().first <= lastSeq)
                    buffer_.pop_front();
                stats_.sent += count;
                ++stats_.reports;
                stats_.buffered = buffer_.size();
            }
            if (reply.configVersion != configVersion_) needConfig_ = true;
            succeeded();
            pump();
        });
}

void Agent::updateTraffic(const AgentResponse& r) {
    std::lock_guard lock(statsMutex_);
    stats_.bytesSent += r.bytesSent;
    stats_.bytesReceived += r.bytesReceived;
}

void Agent::succeeded() {
    if (!lastFailure_.empty())
        log_(Level::Info, "agent " + options_.vantage + ": controller reachable again after " +
                              std::to_string(failures_) + " failed requests");
    lastFailure_.clear();
    failures_ = 0;
    backoffMs_ = 0;
    std::lock_guard lock(statsMutex_);
    stats_.connected = true;
}

void Agent::onFailure(const AgentResponse& r) {
    std::string what = r.status ? "controller refused the request (HTTP " +
                                      std::to_string(r.status) + "): " + r.body
                                : r.error;
    while (!what.empty() && (what.back() == '\n' || what.back() == '\r')) what.pop_back();
    ++failures_;
    {
        std::lock_guard lock(statsMutex_);
        ++stats_.failures;
        stats_.connected = false;
    }
    int64_t t = steadyMs();
    if (what != lastFailure_ || t - lastFailureLog_ >= kRepeatLogMs) {
        // Refusals are our configuration's fault (key, clock): error. Transport failures are
        // the controller being away, which the agent rides out: warn.
        log_(r.status == 401 || r.status == 403 || r.status == 409 ? Level::Error : Level::Warn,
             "agent " + options_.vantage + ": " + what + "; checks go on, results are buffered");
        lastFailure_ = what;
        lastFailureLog_ = t;
    }
    backoffMs_ = backoffMs_ ? std::min(backoffMs_ * 2, kMaxBackoffMs) : 250;
    waiting_ = true;
    retry_.expires_after(std::chrono::milliseconds(backoffMs_));
    retry_.async_wait([this](const boost::system::error_code& ec) {
        waiting_ = false;
        if (!ec) pump();
    });
}

}  // namespace probes
