#include "dnsd/control_thread.hpp"

#include <pthread.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "dnsd/log.hpp"
#include "zones/dnssec_maintenance.hpp"
#include "zones/schema.hpp"

namespace dnsd {

ControlThread::ControlThread(std::unique_ptr<StateLoader> loader, StateHolder& state, int pollMs,
                             const std::atomic<bool>& stop)
    : loader_(std::move(loader)), state_(state), pollMs_(pollMs), stop_(stop) {}

void ControlThread::reloadOnce(bool force) {
    try {
        if (!loader_->changed() && !force) return;
        int64_t start = zones::nowMs();
        auto current = state_.current();
        auto next = loader_->load(force ? nullptr : current.get());
        if (next) {
            size_t records = 0;
            for (const auto& z : next->zones->zones()) records += z->recordCount();
            state_.publish(next);
            auto made = loader_->lastLoad();
            logInfo("published state " + std::to_string(next->generation) + ": " +
                    std::to_string(next->zones->zones().size()) + " zones (" +
                    std::to_string(made.patched) + " patched, " + std::to_string(made.built) +
                    " built), " + std::to_string(records) + " records, " +
                    std::to_string(next->pools->size()) + " pool slots, built in " +
                    std::to_string(zones::nowMs() - start) + " ms");
        }
        lastError_.clear();
        logSigningProblems();
    } catch (const std::exception& e) {
        failures_.fetch_add(1);
        // Log each distinct failure once, not every poll.
        if (lastError_ != e.what())
            logError(std::string("reload failed, still serving the previous state: ") + e.what());
        lastError_ = e.what();
    }
}

void ControlThread::logSigningProblems() {
    const auto& now = loader_->signingProblems();
    for (const auto& [zone, why] : now) {
        auto it = loggedProblems_.find(zone);
        if (it == loggedProblems_.end() || it->second != why)
            logError("zone " + zone +
                     " cannot be signed, still serving its last signed state: " + why);
    }
    for (const auto& [zone, why] : loggedProblems_)
        if (!now.count(zone)) logInfo("zone " + zone + " is signed again");
    std::lock_guard lock(problemsMutex_);
    loggedProblems_ = now;
}

void ControlThread::checkController() {
    int64_t now = zones::nowMs();
    if (now - lastControllerCheck_ < 1000) return;
    lastControllerCheck_ = now;
    switch (loader_->checkFile()) {
        case StateLoader::FileState::Same:
            if (fileProblem_) logInfo("database file is back");
            fileProblem_ = false;
            break;
        case StateLoader::FileState::Missing:
            if (!fileProblem_)
                logError(
                    "database file was deleted: still serving the last state; changes are "
                    "not seen until the file is restored (then dnsd reopens it)");
            fileProblem_ = true;
            break;
        case StateLoader::FileState::Replaced:
            try {
                loader_->reopen();
                dnssecDb_.reset();  // DNSSEC maintenance follows to the new file too
                logInfo("database file was replaced: reopened it");
                fileProblem_ = false;
                requestReload();
            } catch (const std::exception& e) {
                if (!fileProblem_)
                    logError(std::string("database file was replaced and cannot be opened: ") +
                             e.what());
                fileProblem_ = true;
            }
            break;
    }
    auto read = loader_->controllerHeartbeat();
    if (!read) return;  // try again next second
    int64_t beat = *read;
    heartbeat_.store(beat);
    Controller state = beat < 0                          ? Controller::NeverRan
                       : now - beat > kControllerStaleMs ? Controller::Stale
                                                         : Controller::Fresh;
    if (state == controllerState_) return;
    if (state == Controller::NeverRan)
        // Not an error (dnsd may simply start first), but nothing fails over until it runs.
        logWarn(
            "controller never ran: no dnsd-probe has reported on this database, so no pool has "
            "a decision; each pool answers by its all-down rule (serve-all: every member not "
            "drained or forced down) and nothing fails over until dnsd-probe runs");
    else if (state == Controller::Stale)
        logError("controller stale: dnsd-probe last reported " +
                 std::to_string((now - beat) / 1000) + " s ago; serving its last decisions");
    else if (controllerState_ == Controller::Stale)
        logInfo("controller back: dnsd-probe is reporting again");
    else if (controllerState_ == Controller::NeverRan)
        logInfo("controller started: dnsd-probe is reporting; pools follow its decisions");
    controllerState_ = state;
}

void ControlThread::enableDnssecMaintenance(std::string databasePath, int intervalMs) {
    dnssecPath_ = std::move(databasePath);
    dnssecIntervalMs_ = intervalMs;
}

void ControlThread::maintainDnssec() {
    int64_t now = zones::nowMs();
    if (dnssecIntervalMs_ <= 0 || now - lastDnssecRun_ < dnssecIntervalMs_) return;
    lastDnssecRun_ = now;
    try {
        if (!dnssecDb_) dnssecDb_ = zones::openDatabase(dnssecPath_, zones::OpenMode::ReadWrite);
        auto result = zones::DnssecMaintenance::run(*dnssecDb_, dnssecPath_, now);
        for (const auto& done : result.steps)
            logInfo("dnssec " + done.zone + ": " + done.step.what);
        for (const auto& warning : result.warnings) logWarn("dnssec: " + warning);
        if (!dnssecError_.empty()) logInfo("dnssec maintenance works again");
        dnssecError_.clear();
    } catch (const std::exception& e) {
        // A new connection next time: the file may have been replaced or the error sticky.
        dnssecDb_.reset();
        if (dnssecError_ != e.what())
            logError(std::string("dnssec maintenance failed (keys and signature dates stay as "
                                 "they are; retrying every interval): ") +
                     e.what());
        dnssecError_ = e.what();
    }
}

void ControlThread::run() {
    pthread_setname_np(pthread_self(), "dnsd/control");
    while (!stop_.load()) {
        bool force = reload_.exchange(false);
        reloadOnce(force);
        checkController();
        maintainDnssec();
        state_.reap();
        std::this_thread::sleep_for(std::chrono::milliseconds(pollMs_));
    }
}

}  // namespace dnsd
