#include "dnsd/update/update_queue.hpp"

#include <pthread.h>

#include <chrono>
#include <ctime>
#include <memory>

#include "dnsd/log.hpp"
#include "dnsd/update/update_message.hpp"
#include "dnsd/update/update_processor.hpp"
#include "dnsd/xfr/refusal_log.hpp"
#include "zones/schema.hpp"

namespace dnsd {

UpdateQueue::UpdateQueue(std::string dbPath, size_t capacity, const std::atomic<bool>& stop)
    : dbPath_(std::move(dbPath)), capacity_(capacity), stop_(stop) {}

bool UpdateQueue::submit(Job job) {
    {
        std::lock_guard lock(mutex_);
        if (jobs_.size() >= capacity_) {
            stats_.queueFull.fetch_add(1, std::memory_order_relaxed);
            stats_.byRcode[2].fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        jobs_.push_back(std::move(job));
        stats_.queued.store(jobs_.size(), std::memory_order_relaxed);
    }
    wake_.notify_one();
    return true;
}

void UpdateQueue::run() {
    pthread_setname_np(pthread_self(), "dnsd/update");
    std::unique_ptr<SQLite::Database> db;
    std::unique_ptr<UpdateProcessor> processor;
    std::vector<uint8_t> answer(65535);
    RefusalLog refusals;
    while (!stop_.load(std::memory_order_relaxed)) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            if (!wake_.wait_for(lock, std::chrono::milliseconds(100), [&] {
                    return !jobs_.empty() || stop_.load(std::memory_order_relaxed);
                }))
                continue;
            if (jobs_.empty()) continue;
            job = std::move(jobs_.front());
            jobs_.pop_front();
            stats_.queued.store(jobs_.size(), std::memory_order_relaxed);
        }
        // Opened at the first UPDATE (and again after a failure), so a server that never gets
        // one holds no write handle.
        if (!db) {
            try {
                db = zones::openDatabase(dbPath_, zones::OpenMode::ReadWrite);
                zones::requireWritable(*db, dbPath_);
                processor = std::make_unique<UpdateProcessor>(*db);
            } catch (const std::exception& e) {
                db.reset();
                processor.reset();
                if (refusals.due("open", zones::nowMs()))
                    logError(std::string("UPDATE: cannot open the database to write: ") + e.what() +
                             " (answering SERVFAIL; logged once a minute)");
                size_t n = updateServFail(job.message, answer);
                if (n) {
                    stats_.byRcode[2].fetch_add(1, std::memory_order_relaxed);
                    job.reply({answer.data(), n});
                }
                continue;
            }
        }
        UpdateResult r =
            processor->process(job.message, job.client, uint64_t(::time(nullptr)), answer);
        if (r.size == 0) {
            stats_.dropped.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        stats_.byRcode[r.rcode & 15].fetch_add(1, std::memory_order_relaxed);
        if (r.changed) stats_.applied.fetch_add(1, std::memory_order_relaxed);
        if (r.rcode == 2) {
            logError("UPDATE from " + job.client + ": " + r.detail);
            processor.reset();  // a broken connection is opened afresh for the next one
            db.reset();
        } else if (r.rcode != 0 && refusals.due(job.client, zones::nowMs())) {
            logWarn("UPDATE from " + job.client + " refused (rcode " + std::to_string(r.rcode) +
                    "): " + r.detail + " (logged once a minute per client)");
        }
        job.reply({answer.data(), r.size});
    }
    std::lock_guard lock(mutex_);
    stats_.dropped.fetch_add(jobs_.size(), std::memory_order_relaxed);
    jobs_.clear();
}

size_t updateServFail(std::span<const uint8_t> message, std::span<uint8_t> out) noexcept {
    return writeUpdateAnswer(message, UpdateMessage{}, 2, out);
}

}  // namespace dnsd
