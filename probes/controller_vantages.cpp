// The controller's vantage points: results from each vantage (our own checks and remote
// agents), each vantage's view of each member, the quorum, and the agents' endpoint.
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>

#include "probes/agent_server.hpp"
#include "probes/controller.hpp"
#include "probes/controller_state.hpp"
#include "probes/quorum.hpp"
#include "zones/vantage_store.hpp"

namespace probes {

namespace {

// A view counts while every check of the member has a result from that vantage this recent:
// three intervals, plus the timeout of a check that started at the end of the last one.
int64_t freshFor(const zones::ProbeDef& def) {
    return 3 * int64_t(def.intervalMs) + def.timeoutMs;
}

std::string upper(const char* s) {
    std::string out(s);
    for (auto& c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

uint16_t Controller::agentsPort() const {
    return agents_ ? agents_->port() : 0;
}

int64_t Controller::startupGraceMs() const {
    return 3 * int64_t(reportMs_) + 2000;
}

int Controller::configuredVantages() const {
    int n = 0;
    for (const auto& v : vantages_) n += !v->deleted;
    return n;
}

int Controller::liveVantages() const {
    int n = 0;
    for (const auto& v : vantages_)
        if (!v->deleted && (v->local || (v->lastReportAt != 0 && !v->silent))) ++n;
    return n;
}

bool Controller::multiVantage() const {
    return configuredVantages() > 1 || vantages_[0]->deleted;
}

bool Controller::poolQuorumLost(const PoolRt& pool) const {
    bool probed = false;
    for (const MemberRt* m : pool.members) probed |= !m->probeIds.empty();
    if (!probed) return false;  // nothing to measure: members without probes are always up
    return liveVantages() < zones::quorumNeeded(pool.def.quorum, configuredVantages());
}

void Controller::reloadVantages() {
    zones::VantageStore store(*db_);
    std::map<std::string, AgentKey> keys;
    for (auto& [name, key] : store.keys()) keys[name] = std::move(key);
    std::map<std::string, int64_t> lastTimes;
    for (const auto& info : store.list())
        if (!info.local && info.lastAgentTime) lastTimes[info.name] = *info.lastAgentTime;
    for (auto& v : vantages_) {
        if (v->local || v->deleted) continue;
        auto it = keys.find(v->name);
        if (it == keys.end()) {
            v->deleted = true;  // dnsctl vantage delete: out of the count from now on
            vantageIndex_.erase(v->name);
            log_(Level::Info, "vantage " + v->name + " deleted");
            continue;
        }
        v->key = it->second;  // a re-created vantage has a new key
        keys.erase(it);
    }
    for (auto& [name, key] : keys) {
        auto v = std::make_unique<VantageRt>();
        v->name = name;
        v->key = std::move(key);
        vantageIndex_[name] = int(vantages_.size());
        if (agents_ && lastTimes.count(name)) agents_->setLastTime(name, lastTimes[name]);
        log_(Level::Info, "vantage " + name + " known; waiting for its reports");
        vantages_.push_back(std::move(v));
    }
}

void Controller::setChecks(std::vector<CheckSpec> specs) {
    auto same = [](const CheckSpec& a, const CheckSpec& b) {
        return a.memberId == b.memberId && a.probeId == b.probeId && a.member == b.member &&
               a.probe.updatedAt == b.probe.updatedAt;
    };
    bool changed = specs.size() != specs_.size() ||
                   !std::equal(specs.begin(), specs.end(), specs_.begin(), same);
    if (!changed && !configVersion_.empty()) return;
    specs_ = std::move(specs);
    configVersion_ = std::to_string(startedAt_) + "-" + std::to_string(++configSerial_);
    int shortest = 1000;
    for (const auto& s : specs_) shortest = std::min(shortest, s.probe.intervalMs);
    reportMs_ = std::clamp(shortest, 100, 1000);
    if (options_.localVantage) scheduler_->sync(specs_);
}

AgentConfig Controller::agentConfig() const {
    AgentConfig config;
    config.version = configVersion_;
    config.reportMs = reportMs_;
    config.checks.reserve(specs_.size());
    for (const auto& s : specs_)
        config.checks.push_back({s.memberId, s.probeId, s.member, s.probe});
    return config;
}

void Controller::startAgents() {
    if (options_.agentsListen.empty()) return;
    AgentServerOptions o;
    o.listen = options_.agentsListen;
    o.maxSkewMs = options_.agentMaxSkewMs;
    o.clock = options_.clock;
    agents_ = std::make_unique<AgentServer>(
        io_, o,
        [this](const std::string& name) -> const AgentKey* {
            auto it = vantageIndex_.find(name);
            if (it == vantageIndex_.end()) return nullptr;
            const auto& v = *vantages_[it->second];
            return v.local || v.deleted ? nullptr : &v.key;
        },
        [this](const AgentRequest&) { return agentConfig(); },
        [this](const AgentRequest& request, AgentReport&& report) {
            return onReport(request, std::move(report));
        },
        [this](const std::string& vantage, const std::string& kind, const std::string& message) {
            onRefused(vantage, kind, message);
        },
        log_);
    for (const auto& info : zones::VantageStore(*db_).list())
        if (!info.local && info.lastAgentTime) agents_->setLastTime(info.name, *info.lastAgentTime);
    agents_->start();
    log_(Level::Info, "agents: listening on " +
                          options_.agentsListen.substr(0, options_.agentsListen.rfind(':')) + ":" +
                          std::to_string(agents_->port()) +
                          (options_.localVantage ? " (our own checks count as vantage local)"
                                                 : " (our own checks are off)"));
}

void Controller::stopAgents() {
    if (agents_) agents_->stop();
}

AgentReply Controller::onReport(const AgentRequest& request, AgentReport&& report) {
    auto it = vantageIndex_.find(request.vantage);
    if (it == vantageIndex_.end()) throw std::runtime_error("unknown vantage");
    int index = it->second;
    VantageRt& v = *vantages_[index];
    // The agent's clock minus ours, smoothed: the request's own time is read just before it
    // was sent, so one sample is off by the one-way delay (well under the skew limit).
    double sample = double(request.agentTime - request.receivedAt);
    v.offsetMs = v.offsetKnown ? 0.8 * v.offsetMs + 0.2 * sample : sample;
    v.offsetKnown = true;
    bool wasSilent = v.silent || v.lastReportAt == 0;
    v.lastReportAt = request.receivedAt;
    v.row.lastReportAt = request.receivedAt;
    v.row.lastAddress = request.peer;
    v.row.lastAgentTime = request.agentTime;
    v.row.offsetMs = std::llround(v.offsetMs);
    v.row.reports++;
    v.row.dropped = int64_t(report.dropped);
    v.row.version = report.version;
    v.row.host = report.host;
    if (v.silent) {
        v.silent = false;
        v.silentSince.reset();
        v.row.silentSince.reset();
        emit("", "", "vantage-back",
             "vantage " + v.name + " reports again (from " + request.peer + ")");
    } else if (wasSilent) {
        log_(Level::Info, "vantage " + v.name + " connected from " + request.peer +
                              " (clock offset " + std::to_string(v.row.offsetMs) + " ms)");
    }
    int64_t offset = std::llround(v.offsetMs);
    int64_t lastAt = 0;
    for (const auto& r : report.results) {
        // On our clock, and never in the future: a result cannot be newer than its report.
        int64_t at = std::min(r.at - offset, request.receivedAt);
        CheckResult result;
        result.ok = r.ok;
        result.latencyUs = r.latencyUs;
        result.message = r.message;
        onVantageResult(index, r.memberId, r.probeId, result, at);
        lastAt = at;
    }
    v.row.results += int64_t(report.results.size());
    if (lastAt) v.row.lagMs = request.receivedAt - lastAt;
    // A vantage coming back may complete a quorum that was lost: decide at once.
    if (wasSilent)
        for (auto& [id, pool] : pools_)
            if (pool->quorumLost || !pool->firstDone) decidePool(*pool);
    flushSoon();
    return {configVersion_};
}

void Controller::onRefused(const std::string& vantage, const std::string& kind,
                           const std::string& message) {
    if (options_.agentRefused) options_.agentRefused(kind);
    auto it = vantageIndex_.find(vantage);
    if (it == vantageIndex_.end()) return;
    auto& v = *vantages_[it->second];
    v.row.refused++;
    v.row.lastRefusal = message;
}

void Controller::writeVantages() {
    int64_t t = now();
    for (auto& v : vantages_) {
        if (v->deleted) continue;
        if (v->local) {
            v->row.lastReportAt = t;  // our own checks report continuously
            v->row.version = DNSD_VERSION;
        }
        if (v->tickAt) {
            double seconds = double(t - v->tickAt) / 1000.0;
            if (seconds > 0)
                v->row.checksPerS = double(v->row.results - v->resultsAtTick) / seconds;
        }
        v->tickAt = t;
        v->resultsAtTick = v->row.results;
        writer_->vantage(v->name, v->row);
    }
}

void Controller::sweep() {
    try {
        int64_t t = now();
        bool vantagesChanged = false;
        // Silent: nothing for three report periods (agents report at least every reportMs_).
        for (auto& v : vantages_) {
            if (v->local || v->deleted || v->silent) continue;
            // After our own start the agents need a moment to notice and reconnect (their
            // retry backoff is at most 1 s): not silent before the start-up grace.
            int64_t since = v->lastReportAt ? v->lastReportAt : startedAt_;
            int64_t allowed = v->lastReportAt ? 3 * int64_t(reportMs_) : startupGraceMs();
            if (t - since <= allowed) continue;
            v->silent = true;
            v->silentSince = since;
            v->row.silentSince = since;
            vantagesChanged = true;
            emit("", "", "vantage-silent",
                 "vantage " + v->name +
                     (v->lastReportAt ? " silent for " + std::to_string(t - since) + " ms"
                                      : " has not reported since dnsd-probe started") +
                     "; out of the count (" + std::to_string(liveVantages()) + " of " +
                     std::to_string(configuredVantages()) + " vantages reporting)");
        }
        std::set<PoolRt*> dirty;
        if (multiVantage()) {
            for (auto& [id, m] : members_) {
                bool changed = false;
                for (size_t i = 0; i < vantages_.size(); ++i)
                    if (!vantages_[i]->local && !vantages_[i]->deleted)
                        changed |= refreshView(*m, int(i), t, "no recent result");
                if ((changed || vantagesChanged) && evaluateMember(*m, "vantages changed")) {
                    auto pit = pools_.find(m->poolId);
                    if (pit != pools_.end()) dirty.insert(pit->second.get());
                }
            }
        }
        for (auto& [id, pool] : pools_) {
            bool lost = pool->firstDone ? poolQuorumLost(*pool) : false;
            // Before the first decision: give the vantages the start-up grace to show up, then
            // say the quorum is lost instead of waiting silently.
            if (!pool->firstDone && t - startedAt_ > startupGraceMs()) lost = poolQuorumLost(*pool);
            if (lost != pool->quorumLost) {
                if (lost)
                    holdForQuorum(*pool, t);
                else
                    dirty.insert(pool.get());
            }
        }
        for (PoolRt* pool : dirty) decidePool(*pool);
        if (!dirty.empty() || vantagesChanged) flushSoon();
    } catch (const std::exception& e) {
        log_(Level::Error, std::string("vantage sweep failed: ") + e.what());
    }
    sweepTimer_.expires_after(std::chrono::milliseconds(100));
    sweepTimer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) sweep();
    });
}

void Controller::holdForQuorum(PoolRt& pool, int64_t t) {
    if (pool.quorumLost) return;
    pool.quorumLost = true;
    pool.quorumLostSince = t;
    std::string reporting;
    for (const auto& v : vantages_)
        if (!v->deleted && (v->local || (v->lastReportAt && !v->silent)))
            reporting += (reporting.empty() ? "" : ", ") + v->name;
    int needed = zones::quorumNeeded(pool.def.quorum, configuredVantages());
    std::string kept = pool.haveWritten
                           ? (pool.written.served.empty() ? "NODATA" : pool.written.served) +
                                 " ttl " + std::to_string(pool.written.ttl)
                           : "no decision yet (dnsd serves the all-down answer)";
    emit(pool.def.name, "", "quorum-lost",
         "pool " + pool.def.name + ": quorum lost: " + std::to_string(liveVantages()) + " of " +
             std::to_string(configuredVantages()) + " vantages reporting" +
             (reporting.empty() ? "" : " (" + reporting + ")") + ", quorum " +
             zones::toText(pool.def.quorum) + " needs " + std::to_string(needed) +
             "; keeping the last decision: " + kept,
         jsonText({{"pool", pool.def.name},
                   {"reporting", liveVantages()},
                   {"vantages", configuredVantages()},
                   {"needed", needed},
                   {"served", pool.haveWritten ? pool.written.served : ""}}));
    if (pool.haveWritten) {
        zones::DecisionRow row = pool.written;
        row.quorumLost = true;
        row.quorumLostSince = t;
        writer_->decision(pool.def.id, row);
        pool.written = row;
    }
    flushSoon();
}

void Controller::onVantageResult(int vantage, int64_t memberId, int64_t probeId,
                                 const CheckResult& r, int64_t t) {
    auto cit = checks_.find({memberId, probeId});
    if (cit == checks_.end()) return;  // deleted, or an agent on an older configuration
    CheckRt& check = *cit->second;
    MemberRt& member = *check.member;
    VantageRt& v = *vantages_[vantage];
    if (v.deleted) return;
    ObservationRow obs{t, memberId, probeId, r.ok, r.latencyUs, r.message};
    if (!v.local) obs.vantage = &v.name;
    writer_->observation(std::move(obs));
    if (v.local) v.row.results++;
    auto& pv = check.at(vantage);
    bool first = !pv.reported;
    pv.reported = true;
    pv.lastAt = std::max(pv.lastAt, t);
    bool flipped = pv.hysteresis.observe(r.ok, check.def.rise, check.def.fall);
    // The last-result columns (`dnsctl status`) follow our own checks, or any vantage when
    // ours are off; rewritten when the result says something new, else every
    // kLastResultRefreshMs: every single check is in `observations` anyway.
    if (v.local || vantages_[0]->deleted) {
        scratch_.assign(check.def.name).append(": ").append(r.message);
        bool news = member.last.checkedAt == 0 || member.last.lastOk != r.ok ||
                    member.last.lastMessage != scratch_ ||
                    member.last.health != healthName(member.health) ||
                    member.last.healthSince != member.healthSince;
        member.last.lastOk = r.ok;
        if (member.last.lastMessage != scratch_) member.last.lastMessage.swap(scratch_);
        member.last.latencyUs = r.latencyUs;
        member.last.checkedAt = t;
        member.last.health = healthName(member.health);
        member.last.healthSince = member.healthSince;
        if (news || t - member.lastWrittenAt >= kLastResultRefreshMs) {
            writer_->memberState(memberId, member.last);
            member.lastWrittenAt = t;
        }
    }
    auto& view = member.view(vantage);
    view.row.lastOk = r.ok;
    view.row.lastMessage = check.def.name + ": " + r.message;
    view.row.checkedAt = t;
    std::string cause;
    if (flipped)
        cause =
            check.def.name + " " + (r.ok ? "passed " : "failed ") +
            (first ? std::string("its first check")
                   : std::to_string(r.ok ? check.def.rise : check.def.fall) + " times in a row") +
            " (" + r.message + ")";
    bool failingBefore = view.failing, reportingBefore = view.reporting;
    bool viewChanged = refreshView(member, vantage, t, cause);
    if (multiVantage() && (viewChanged || t - view.writtenAt >= kLastResultRefreshMs)) {
        writer_->memberView(memberId, v.name, view.row);
        view.writtenAt = t;
    }
    if (!viewChanged && view.failing == failingBefore && view.reporting == reportingBefore) return;
    auto pit = pools_.find(member.poolId);
    if (pit == pools_.end()) return;
    PoolRt& pool = *pit->second;
    bool decide = evaluateMember(member, cause.empty() ? "vantage " + v.name : cause);
    if (decide || (!pool.firstDone && poolReady(pool))) {
        decidePool(pool);
        flushSoon();  // state transitions and decisions go out now, not with the batch
    }
}

bool Controller::refreshView(MemberRt& member, int vantage, int64_t t, const std::string& cause) {
    const VantageRt& v = *vantages_[vantage];
    auto& view = member.view(vantage);
    bool allReported = !member.checks.empty(), fresh = true, anyDown = false, allUp = true;
    bool failing = false;
    for (const CheckRt* c : member.checks) {
        if (c->by.size() <= size_t(vantage) || !c->by[vantage].reported) {
            allReported = false;
            continue;
        }
        const auto& pv = c->by[vantage];
        if (!v.local && t - pv.lastAt > freshFor(c->def)) fresh = false;
        Health s = pv.hysteresis.state();
        anyDown |= s == Health::Down;
        allUp &= s == Health::Up;
        failing |=
            s == Health::Up && pv.hysteresis.checksToFlip(c->def.rise, c->def.fall) < c->def.fall;
    }
    // One full round of this vantage before it has a view (never a view from half the probes).
    Health h = !allReported ? Health::Unknown
               : anyDown    ? Health::Down
               : allUp      ? Health::Up
                            : Health::Unknown;
    view.reporting = allReported && fresh && (v.local || !v.silent);
    view.failing = h == Health::Up && failing;
    if (h == view.health) return false;
    Health before = view.health;
    view.health = h;
    view.since = t;
    view.row.health = healthName(h);
    view.row.healthSince = t;
    if (multiVantage() && h != Health::Unknown && before != Health::Unknown) {
        emit(member.poolName, member.def.value, "vantage-view",
             "member " + member.def.value + " of pool " + member.poolName + ": " + v.name +
                 " sees it " + healthName(h) + (cause.empty() ? "" : " (" + cause + ")") + "; " +
                 viewsText(member),
             jsonText({{"pool", member.poolName},
                       {"member", member.def.value},
                       {"vantage", v.name},
                       {"from", healthName(before)},
                       {"to", healthName(h)},
                       {"cause", cause}}));
    }
    return true;
}

QuorumOutcome Controller::memberQuorum(const MemberRt& member) const {
    std::vector<VantageOpinion> opinions;
    for (size_t i = 0; i < vantages_.size(); ++i) {
        if (vantages_[i]->deleted) continue;
        MemberRt::View none;  // no result from this vantage yet: no view, not reporting
        const auto& view = i < member.views.size() ? member.views[i] : none;
        opinions.push_back({view.health, view.failing, view.reporting});
    }
    auto pit = pools_.find(member.poolId);
    zones::Quorum quorum = pit != pools_.end() ? pit->second->def.quorum : zones::Quorum{};
    return quorumOf(opinions, quorum, configuredVantages());
}

std::string Controller::viewsText(const MemberRt& member) const {
    std::string list;
    for (size_t i = 0; i < vantages_.size(); ++i) {
        const auto& v = *vantages_[i];
        if (v.deleted) continue;
        MemberRt::View none;
        const auto& view = i < member.views.size() ? member.views[i] : none;
        std::string state = !view.reporting && view.health != Health::Unknown
                                ? std::string("silent")
                            : view.health == Health::Down ? upper(healthName(view.health))
                                                          : std::string(healthName(view.health));
        list += (list.empty() ? "" : ", ") + v.name + " " + state;
    }
    auto q = memberQuorum(member);
    return "up " + std::to_string(q.up) + "/" + std::to_string(q.reporting) + ": " + list;
}

bool Controller::evaluateMember(MemberRt& member, const std::string& cause) {
    if (member.probeIds.empty()) {
        bool changed = member.health != Health::Up;
        setMemberHealth(member, Health::Up, cause);
        return changed;
    }
    auto q = memberQuorum(member);
    if (!q.enough) return false;  // not enough views: keep what we had (no move on missing data)
    Health before = member.health;
    bool failingBefore = member.failing;
    member.failing = q.failing;
    setMemberHealth(member, q.health, cause);
    return before != member.health || failingBefore != member.failing;
}

void Controller::setMemberHealth(MemberRt& member, Health h, const std::string& cause) {
    if (h == member.health) return;
    Health before = member.health;
    int64_t t = now();
    member.health = h;
    bool resumed = before == Health::Unknown && h == member.dbHealth && member.dbSince > 0;
    member.healthSince = resumed ? member.dbSince : t;
    member.last.health = healthName(h);
    member.last.healthSince = member.healthSince;
    if (member.last.checkedAt == 0) member.last.checkedAt = t;
    writer_->memberState(member.def.id, member.last);
    member.lastWrittenAt = t;
    if (resumed) return;  // same state as before a restart: not a transition
    if (before == Health::Unknown)
        before = member.dbHealth;  // what the database said before we started
    std::string forced =
        member.def.admin != zones::AdminState::Auto
            ? " (remains administratively forced " + zones::toText(member.def.admin) + ")"
            : "";
    std::string views = multiVantage() ? "; " + viewsText(member) : "";
    std::string details = jsonText({{"pool", member.poolName},
                                    {"member", member.def.value},
                                    {"from", healthName(before)},
                                    {"to", healthName(h)},
                                    {"cause", cause}});
    emit(member.poolName, member.def.value, h == Health::Up ? "member-up" : "member-down",
         "member " + member.def.value + " of pool " + member.poolName + " is " + healthName(h) +
             " (was " + healthName(before) + "): " + cause + views + forced,
         details);
}

}  // namespace probes
