// Fault scenarios (issue 5): the real dnsd, dnsd-probe and dnsctl while their parts fail.
// Builds on the failover fixture (real database, HTTP backends on 127.0.0.11/.12, dnsd-probe,
// dnsd) and adds what breaking things needs:
//   AnswerWatcher  queries dnsd continuously on its own thread and keeps every unexpected answer;
//   UdpLoad        a steady stream of UDP queries with distinct ids, and which ones were answered;
//   PatternBackend an HTTP backend answering 200/503 from a fixed per-request pattern;
//   SilentBackend  accepts TCP connections and never says a word;
//   PrivateMounts  a private mount namespace for this test process (tmpfs, read-only overlays),
//                  so nothing mounted here is visible outside the test or outlives it.
//
// Contract: every wait is a deadline; mounts are undone on destruction (lazily, so processes
// that still hold files there do not block it); only loopback addresses are used.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "tests/failover/failover_fixture.hpp"
#include "tests/support/socket_address.hpp"
#include "tests/support/unique_fd.hpp"
#include "zones/schema.hpp"

namespace faults {

using namespace failover;
using namespace testsupport;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Runs `ask` every few milliseconds until destroyed or stop(); every result different from
// the expected one (changeable with expect()) is kept with its time.
class AnswerWatcher {
  public:
    AnswerWatcher(std::function<std::string()> ask, std::string expected)
        : ask_(std::move(ask)), expected_(std::move(expected)) {
        thread_ = std::thread([this] {
            while (!stop_) {
                std::string got = ask_();
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    ++total_;
                    if (got != expected_) wrong_.push_back(got);
                }
                std::this_thread::sleep_for(5ms);
            }
        });
    }
    ~AnswerWatcher() { stop(); }
    void stop() {
        if (thread_.joinable()) {
            stop_ = true;
            thread_.join();
        }
    }
    void expect(std::string v) {
        std::lock_guard<std::mutex> lock(mutex_);
        expected_ = std::move(v);
    }
    int total() {
        std::lock_guard<std::mutex> lock(mutex_);
        return total_;
    }
    std::vector<std::string> wrong() {
        std::lock_guard<std::mutex> lock(mutex_);
        return wrong_;
    }
    std::string wrongText() {
        std::string out;
        for (const auto& w : wrong()) out += "[" + w + "] ";
        return out;
    }

  private:
    std::function<std::string()> ask_;
    std::string expected_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    int total_ = 0;
    std::vector<std::string> wrong_;
};

// `count` copies of `query` (ids 0..count-1) sent to 127.0.0.1:port from one unconnected UDP
// socket, one every `spacing`; a response counts when its id matches, QR is set, the RCODE is
// NOERROR and it has an answer. One socket means one dnsd worker (SO_REUSEPORT hashes on the
// 4-tuple), so queries are handled in the order sent.
class UdpLoad {
  public:
    UdpLoad(uint16_t port, std::vector<uint8_t> query, int count, std::chrono::microseconds spacing)
        : query_(std::move(query)), answered_(size_t(count)), sentAt_(size_t(count)) {
        fd_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!fd_.valid()) throw std::runtime_error("socket failed");
        SocketAddress to("127.0.0.1", port);
        to_ = to.storage;
        toLen_ = to.len;
        start_ = Clock::now();
        receiver_ = std::thread([this] { receive(); });
        sender_ = std::thread([this, count, spacing] {
            for (int i = 0; i < count; ++i) {
                std::this_thread::sleep_until(start_ + spacing * i);
                std::vector<uint8_t> q = query_;
                patchU16(q, 0, uint16_t(i));
                sentAt_[size_t(i)] = Clock::now();
                ::sendto(fd_.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to_),
                         toLen_);
            }
            sent_ = true;
        });
    }
    ~UdpLoad() { finish(0ms); }
    bool sent() const { return sent_; }
    std::chrono::milliseconds elapsed() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_);
    }
    // Waits for the sender, then up to `grace` for the last answers.
    void finish(std::chrono::milliseconds grace) {
        if (sender_.joinable()) sender_.join();
        waitUntil([&] { return unanswered().empty(); }, grace);
        stop_ = true;
        if (receiver_.joinable()) receiver_.join();
    }
    std::vector<int> unanswered() const {
        std::vector<int> out;
        for (size_t i = 0; i < answered_.size(); ++i)
            if (!answered_[i]) out.push_back(int(i));
        return out;
    }
    Clock::time_point sentAt(int i) const { return sentAt_[size_t(i)]; }
    int bad() const { return bad_; }

  private:
    void receive() {
        while (!stop_) {
            pollfd p{fd_.get(), POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            uint8_t buf[4096];
            ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
            if (n < 12) continue;
            uint16_t id = uint16_t(buf[0] << 8 | buf[1]);
            bool good = (buf[2] & 0x80) && (buf[3] & 0x0f) == 0 && (buf[6] << 8 | buf[7]) > 0;
            if (!good) ++bad_;
            if (good && id < answered_.size()) answered_[id] = true;
        }
    }
    std::vector<uint8_t> query_;
    UniqueFd fd_;
    sockaddr_storage to_{};
    socklen_t toLen_ = 0;
    std::vector<std::atomic<bool>> answered_;
    std::vector<Clock::time_point> sentAt_;
    Clock::time_point start_;
    std::thread sender_, receiver_;
    std::atomic<bool> sent_{false}, stop_{false};
    std::atomic<int> bad_{0};
};

// A plain TCP listener on ip:port (0 = any) served by one thread; `onAccept` gets each
// connection and owns it from then on.
class Listener {
  public:
    Listener(const std::string& ip, uint16_t port, std::function<void(UniqueFd)> onAccept)
        : onAccept_(std::move(onAccept)) {
        fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        int one = 1;
        ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        auto a = fakes::loopback(ip, port);
        if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(fd_.get(), 128) != 0)
            throw std::runtime_error("cannot listen on " + ip + ": " + std::strerror(errno));
        socklen_t len = sizeof a;
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] {
            while (!stop_) {
                pollfd p{fd_.get(), POLLIN, 0};
                if (::poll(&p, 1, 20) <= 0) continue;
                int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0) continue;
                ++accepted_;
                onAccept_(UniqueFd(c));
            }
        });
    }
    ~Listener() {
        stop_ = true;
        thread_.join();
    }
    uint16_t port() const { return port_; }
    int accepted() const { return accepted_; }

  private:
    std::function<void(UniqueFd)> onAccept_;
    UniqueFd fd_;
    uint16_t port_ = 0;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
};

// Accepts and holds every connection open without reading or writing: a hung backend.
class SilentBackend {
  public:
    explicit SilentBackend(const std::string& ip)
        : listener_(ip, 0, [this](UniqueFd c) {
              std::lock_guard<std::mutex> lock(mutex_);
              held_.push_back(std::move(c));
          }) {}
    uint16_t port() const { return listener_.port(); }
    int accepted() const { return listener_.accepted(); }

  private:
    std::mutex mutex_;
    std::vector<UniqueFd> held_;  // declared before the listener: destroyed after its thread
    Listener listener_;
};

// Answers HTTP request n with 200 if pattern[n % size] is 'o', else 503 ("oox" = ok, ok, fail).
class PatternBackend {
  public:
    PatternBackend(const std::string& ip, std::string pattern)
        : pattern_(std::move(pattern)), listener_(ip, 0, [this](UniqueFd c) { answer(c.get()); }) {}
    uint16_t port() const { return listener_.port(); }
    int requests() const { return requests_; }

  private:
    void answer(int c) {
        timeval tv{1, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string req;
        char buf[2048];
        while (req.find("\r\n\r\n") == std::string::npos) {
            ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) return;
            req.append(buf, size_t(n));
        }
        int n = requests_++;
        bool ok = pattern_[size_t(n) % pattern_.size()] == 'o';
        std::string resp = std::string("HTTP/1.1 ") + (ok ? "200" : "503") +
                           " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        ssize_t ignored = ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
        (void)ignored;
    }
    std::string pattern_;
    std::atomic<int> requests_{0};
    Listener listener_;  // last: its thread stops before the pattern goes away
};

// Mounts for one test, inside a private mount namespace of this test process (entered once;
// ctest runs every test in its own process). Child processes inherit the namespace.
class PrivateMounts {
  public:
    // "" when mounting works here, else why not (the test then skips, naming the reason).
    static std::string enter() {
        static std::string reason = [] {
            if (::unshare(CLONE_NEWNS) != 0)
                return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
            if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
                return std::string("making / private: ") + std::strerror(errno);
            return std::string();
        }();
        return reason;
    }
    ~PrivateMounts() {
        for (auto it = mounted_.rbegin(); it != mounted_.rend(); ++it)
            ::umount2(it->c_str(), MNT_DETACH);
    }
    void tmpfs(const std::string& dir, size_t bytes) {
        std::string opts = "size=" + std::to_string(bytes) + ",mode=0700";
        check(::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()), "mount tmpfs on " + dir);
        mounted_.push_back(dir);
    }
    // Lays a read-only view of `dir` over itself: new opens for writing fail with EROFS (what a
    // read-only remount or chmod 0444 does for non-root users), files already open keep working.
    void readOnlyOverlay(const std::string& dir) {
        check(::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr), "bind " + dir);
        mounted_.push_back(dir);
        check(::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr),
              "remount read-only " + dir);
    }
    void makeWritable(const std::string& dir) {
        check(::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND, nullptr),
              "remount read-write " + dir);
    }

  private:
    static void check(int rc, const std::string& what) {
        if (rc != 0) throw std::runtime_error(what + ": " + std::strerror(errno));
    }
    std::vector<std::string> mounted_;
};

class FaultScenario : public FailoverScenario {
  protected:
    // Stops the processes before the mounts below them go away.
    void TearDown() override {
        FailoverScenario::TearDown();
        probe_.reset();
        dnsd_.reset();
    }

    // Moves the database into dir_/data (created, or already a mount point) and points every
    // helper at it; the hook log stays outside, so it keeps working when data/ breaks.
    void moveDatabase(bool create = true) {
        std::string data = dir_->file("data");
        if (create) std::filesystem::create_directory(data);
        std::string to = data + "/dnsd.db";
        std::filesystem::copy_file(db_, to);
        std::filesystem::remove(db_);
        db_ = to;
    }
    std::string dataDir() const { return dir_->file("data"); }

    std::string probeLog() const { return probe_ ? probe_->stderrText() : ""; }
    bool probeLogged(const std::string& text, std::chrono::milliseconds timeout) const {
        return waitUntil([&] { return probeLog().find(text) != std::string::npos; }, timeout);
    }
    int64_t scalar(const std::string& sql) const {
        auto db = open();
        return db->execAndGet(sql).getInt64();
    }
    // Operator-visible definitions (not the columns dnsd-probe updates while running).
    std::string definitions() const {
        auto db = open();
        std::string out;
        for (const char* q :
             // The SOA serial and the zone generation are not definitions: every pool decision
             // that changes what is served moves them (for secondaries; zones/journal).
             {"SELECT id, name FROM zones ORDER BY id",
              "SELECT zone_id, owner, type, ttl, hex(rdata) FROM records WHERE type != 6 ORDER BY "
              "1,2,3,5",
              "SELECT * FROM pools ORDER BY id",
              "SELECT id, pool_id, value, priority, weight, admin, drained FROM members ORDER BY "
              "id",
              "SELECT * FROM probes ORDER BY id",
              "SELECT count(*) FROM events WHERE kind LIKE 'admin-%'"}) {
            SQLite::Statement s(*db, q);
            while (s.executeStep()) {
                for (int i = 0; i < s.getColumnCount(); ++i)
                    out += s.getColumn(i).getString() + "|";
                out += "\n";
            }
        }
        return out;
    }
    std::string staticAnswer() const { return dnsdAnswer("static.svc.test."); }

    PrivateMounts mounts_;  // undone after TearDown stopped the processes using them
};

inline int lines(const std::string& s) {
    return int(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace faults
