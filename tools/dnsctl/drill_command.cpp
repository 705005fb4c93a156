// `dnsctl drill POOL [--member M] [--for 60s] [--server ADDR:PORT] [--force]`: a failover
// rehearsal that never touches a backend.
//
// Contract: refuses (exit 1, nothing changed) unless dnsd-probe is running (fresh heartbeat),
// dnsd answers at --server, the drilled members are served now and not already forced, and
// — unless --force — at least one other member of the pool is usable. Then it forces the
// members down exactly as `dnsctl member force down` does (same column, an event), asks dnsd
// every 50 ms until two answers in a row exclude them (reporting the time and the answer),
// holds for --for, puts the members' admin state back as it was, and waits for dnsd to serve
// them again (reporting the failback time; with `failback manual` it says so and stops).
// The admin state is put back on every exit path: normal end, error, Ctrl-C or SIGTERM
// (RAII guard + a signal flag checked between queries).
#include <SQLiteCpp/Transaction.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include "tools/dnsctl/failover_commands.hpp"
#include "tools/dnsctl/options.hpp"
#include "zones/pool_store.hpp"
#include "zones/schema.hpp"

namespace dnsctl {
namespace {

volatile std::sig_atomic_t interrupted = 0;
void onSignal(int) {
    interrupted = 1;
}

// Installs the Ctrl-C / SIGTERM flag for the drill's lifetime and puts the old handlers back.
class SignalFlag {
  public:
    SignalFlag() {
        interrupted = 0;
        struct sigaction sa {};
        sa.sa_handler = onSignal;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGINT, &sa, &oldInt_);
        ::sigaction(SIGTERM, &sa, &oldTerm_);
    }
    ~SignalFlag() {
        ::sigaction(SIGINT, &oldInt_, nullptr);
        ::sigaction(SIGTERM, &oldTerm_, nullptr);
    }

  private:
    struct sigaction oldInt_ {
    }, oldTerm_{};
};

struct Interrupted : std::runtime_error {
    Interrupted() : std::runtime_error("interrupted") {}
};

// Sleeps in small steps so a signal ends the drill within ~50 ms.
void pause(std::chrono::milliseconds d) {
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
        if (interrupted) throw Interrupted();
        std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds(20), std::chrono::duration_cast<std::chrono::milliseconds>(
                                               end - std::chrono::steady_clock::now()) +
                                               std::chrono::milliseconds(1)));
    }
}

// ---- a tiny DNS client: one question, the answer section's A/AAAA/CNAME values ----

struct Answer {
    bool ok = false;  // a response with RCODE NOERROR
    int rcode = -1;
    std::vector<std::string> values;  // sorted
    uint32_t ttl = 0;
    std::string text() const {
        if (!ok) return rcode < 0 ? "no answer" : "rcode " + std::to_string(rcode);
        if (values.empty()) return "NODATA";
        std::string s;
        for (const auto& v : values) s += (s.empty() ? "" : " ") + v;
        return s + " (TTL " + std::to_string(ttl) + ")";
    }
    bool has(const std::string& v) const {
        return std::find(values.begin(), values.end(), v) != values.end();
    }
};

// Reads a (possibly compressed) name at `pos`; returns the position after it in the record.
std::optional<size_t> readName(const uint8_t* p, size_t n, size_t pos, std::string& out) {
    size_t end = 0;
    bool jumped = false;
    for (int hops = 0; hops < 64; ++hops) {
        if (pos >= n) return std::nullopt;
        uint8_t len = p[pos];
        if ((len & 0xC0) == 0xC0) {
            if (pos + 1 >= n) return std::nullopt;
            if (!jumped) end = pos + 2;
            jumped = true;
            pos = size_t((len & 0x3F) << 8 | p[pos + 1]);
            continue;
        }
        if (len == 0) {
            if (out.empty()) out = ".";
            return jumped ? end : pos + 1;
        }
        if (pos + 1 + len > n) return std::nullopt;
        for (size_t i = 0; i < len; ++i) out.push_back(char(std::tolower(p[pos + 1 + i])));
        out.push_back('.');
        pos += 1 + len;
    }
    return std::nullopt;
}

class DnsProbe {
  public:
    DnsProbe(const std::string& server, const std::string& owner, int rtype) : rtype_(rtype) {
        std::string host = server, port = "53";
        if (!server.empty() && server[0] == '[') {
            auto close = server.find(']');
            if (close == std::string::npos) throw UsageError("--server: bad address " + server);
            host = server.substr(1, close - 1);
            if (close + 1 < server.size() && server[close + 1] == ':')
                port = server.substr(close + 2);
        } else if (auto c = server.rfind(':'); c != std::string::npos && server.find(':') == c) {
            host = server.substr(0, c);
            port = server.substr(c + 1);
        }
        sockaddr_storage ss{};
        socklen_t len = 0;
        auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
        char* end = nullptr;
        long p = std::strtol(port.c_str(), &end, 10);
        if (port.empty() || *end || p < 1 || p > 65535)
            throw UsageError("--server: bad port in " + server);
        if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
            v4->sin_family = AF_INET;
            v4->sin_port = htons(uint16_t(p));
            len = sizeof *v4;
        } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons(uint16_t(p));
            len = sizeof *v6;
        } else {
            throw UsageError("--server wants a numeric ADDR:PORT, got '" + server + "'");
        }
        fd_ = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0)
            throw std::runtime_error("cannot reach dnsd at " + server + ": " +
                                     std::strerror(errno));
        // Question: owner in wire form, type, class IN.
        std::string label;
        for (char c : owner) {
            if (c == '.') {
                if (label.empty()) continue;
                question_.push_back(uint8_t(label.size()));
                question_.insert(question_.end(), label.begin(), label.end());
                label.clear();
            } else {
                label.push_back(c);
            }
        }
        question_.push_back(0);
        question_.push_back(uint8_t(rtype >> 8));
        question_.push_back(uint8_t(rtype));
        question_.push_back(0);
        question_.push_back(1);
    }
    ~DnsProbe() {
        if (fd_ >= 0) ::close(fd_);
    }
    DnsProbe(const DnsProbe&) = delete;
    DnsProbe& operator=(const DnsProbe&) = delete;

    Answer ask(int timeoutMs = 300) {
        uint16_t id = 0;
        (void)::getrandom(&id, sizeof id, 0);
        std::vector<uint8_t> q = {uint8_t(id >> 8),
                                  uint8_t(id),
                                  0x00,
                                  0x00,
                                  0,
                                  1,
                                  0,
                                  0,
                                  0,
                                  0,
                                  0,
                                  0};  // RD off: an authoritative question
        q.insert(q.end(), question_.begin(), question_.end());
        Answer a;
        if (::send(fd_, q.data(), q.size(), 0) < 0) return a;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
        uint8_t buf[4096];
        for (;;) {
            int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(
                               deadline - std::chrono::steady_clock::now())
                               .count());
            if (left <= 0) return a;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, left) <= 0) return a;
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n < 12 || buf[0] != uint8_t(id >> 8) || buf[1] != uint8_t(id)) continue;
            return parse(buf, size_t(n));
        }
    }

  private:
    Answer parse(const uint8_t* p, size_t n) const {
        Answer a;
        a.rcode = p[3] & 0x0F;
        a.ok = a.rcode == 0;
        size_t qd = size_t(p[4] << 8 | p[5]), an = size_t(p[6] << 8 | p[7]);
        size_t pos = 12;
        for (size_t i = 0; i < qd; ++i) {
            std::string ignored;
            auto next = readName(p, n, pos, ignored);
            if (!next || *next + 4 > n) return a;
            pos = *next + 4;
        }
        bool first = true;
        for (size_t i = 0; i < an; ++i) {
            std::string owner;
            auto next = readName(p, n, pos, owner);
            if (!next || *next + 10 > n) break;
            pos = *next;
            int type = p[pos] << 8 | p[pos + 1];
            uint32_t ttl = uint32_t(p[pos + 4]) << 24 | uint32_t(p[pos + 5]) << 16 |
                           uint32_t(p[pos + 6]) << 8 | p[pos + 7];
            size_t rdlen = size_t(p[pos + 8] << 8 | p[pos + 9]);
            pos += 10;
            if (pos + rdlen > n) break;
            if (type == rtype_) {
                char text[INET6_ADDRSTRLEN] = {};
                if (type == 1 && rdlen == 4) {
                    inet_ntop(AF_INET, p + pos, text, sizeof text);
                    a.values.push_back(text);
                } else if (type == 28 && rdlen == 16) {
                    inet_ntop(AF_INET6, p + pos, text, sizeof text);
                    a.values.push_back(text);
                } else if (type == 5) {
                    std::string target;
                    if (readName(p, n, pos, target)) a.values.push_back(target);
                }
                if (first) a.ttl = ttl;
                first = false;
            }
            pos += rdlen;
        }
        std::sort(a.values.begin(), a.values.end());
        return a;
    }

    int rtype_;
    int fd_ = -1;
    std::vector<uint8_t> question_;
};

// ---- the drill ----

struct Drilled {
    std::string value;
    zones::AdminState admin;  // before the drill
};

void setAdmin(Context& context, const std::string& poolName, const std::vector<Drilled>& members,
              bool restore) {
    auto db = openDatabase(context);
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);
    zones::PoolStore store(*db);
    auto pool = store.getPool(poolName);
    for (const auto& d : members) {
        auto m = store.findMember(pool, d.value);
        if (!m) continue;  // removed meanwhile: nothing to put back
        std::string before = zones::toText(m->admin);
        m->admin = restore ? d.admin : zones::AdminState::ForceDown;
        std::string now = zones::toText(m->admin);
        store.updateMember(pool, *m, "admin-force-" + now,
                           "member " + m->value + " of pool " + pool.name + ": forced " + now +
                               " (was " + before + ", health " + m->health + ") by " +
                               (restore ? "the end of a drill" : "dnsctl drill"));
    }
    tx.commit();
}

// Puts the admin states back unless `done()` was called: every exit path restores.
class RestoreGuard {
  public:
    RestoreGuard(Context& context, std::string pool, std::vector<Drilled> members)
        : context_(context), pool_(std::move(pool)), members_(std::move(members)) {}
    ~RestoreGuard() {
        if (armed_) {
            try {
                restore();
            } catch (const std::exception& e) {
                std::cerr << "dnsctl drill: RESTORING FAILED (" << e.what()
                          << "); put the members back with: dnsctl member force auto " << pool_
                          << " MEMBER\n";
            }
        }
    }
    void restore() {
        armed_ = false;
        setAdmin(context_, pool_, members_, true);
        std::string list;
        for (const auto& d : members_) list += " " + d.value + " (" + zones::toText(d.admin) + ")";
        std::cout << "restored:" << list << std::endl;
    }
    bool armed() const { return armed_; }

  private:
    Context& context_;
    std::string pool_;
    std::vector<Drilled> members_;
    bool armed_ = true;
};

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

int drill(const std::vector<std::string>& args, Context& context) {
    po::options_description options("Options");
    po::positional_options_description pos;
    options.add_options()("pool", po::value<std::string>()->required(), "pool name")(
        "member", po::value<std::vector<std::string>>(),
        "member to fail (repeatable; default: every member of the tier served now)")(
        "for", po::value<std::string>()->default_value("60s"),
        "how long to hold the failure before restoring")(
        "server", po::value<std::string>()->default_value("127.0.0.1:5353"),
        "the dnsd to watch (ADDR:PORT)")(
        "timeout", po::value<std::string>()->default_value("30s"),
        "give up (and restore) if dnsd has not failed over within this")(
        "force", "drill even if no other member is healthy (the pool goes all-down)");
    pos.add("pool", 1);
    po::variables_map vm;
    if (!parseArgs(
            args,
            "dnsctl drill POOL [--member M]... [--for 60s] [--server ADDR:PORT] [--timeout 30s] "
            "[--force]",
            "Rehearses a failover without touching any backend: forces the members down (as\n"
            "`member force down`), measures how long dnsd takes to stop serving them and what it\n"
            "serves instead, holds for --for, then puts them back and measures the failback.\n"
            "Refuses when the rest of the pool is not healthy, unless --force. Ctrl-C restores.\n"
            "Example:  dnsctl drill web --for 2m --server 192.0.2.53:53",
            options, pos, vm))
        return 0;
    std::string poolName = vm["pool"].as<std::string>();
    int64_t holdMs = durationFlag(vm["for"].as<std::string>(), "--for");
    int64_t timeoutMs = durationFlag(vm["timeout"].as<std::string>(), "--timeout");
    bool force = vm.count("force") > 0;

    // --- checks, before anything changes ---
    zones::PoolDef pool;
    std::vector<zones::MemberDef> members;
    std::optional<zones::DecisionRow> decision;
    {
        auto db = openDatabase(context);
        zones::PoolStore store(*db);
        pool = store.getPool(poolName);
        members = store.members(pool.id);
        decision = store.decision(pool.id);
        auto beat = store.heartbeat();
        if (!beat || zones::nowMs() - *beat > 3000)
            throw std::runtime_error(
                "dnsd-probe is not running on this database (no heartbeat in the last 3 s): "
                "nothing would fail over");
    }
    if (!decision) throw std::runtime_error("pool " + poolName + " has no decision yet");
    std::set<std::string> served;
    {
        std::string s = decision->served;
        for (size_t at = 0; at <= s.size();) {
            size_t comma = s.find_first_of(", ", at);
            if (comma == std::string::npos) comma = s.size();
            if (comma > at) served.insert(s.substr(at, comma - at));
            at = comma + 1;
        }
    }
    std::vector<std::string> targets;
    if (vm.count("member")) {
        for (const auto& v : vm["member"].as<std::vector<std::string>>()) {
            std::string canonical = zones::PoolStore::canonicalValue(pool, v);
            auto it = std::find_if(members.begin(), members.end(),
                                   [&](const auto& m) { return m.value == canonical; });
            if (it == members.end())
                throw std::runtime_error(v + " is not a member of pool " + poolName);
            targets.push_back(canonical);
        }
    } else {
        if (!decision->activeTier || decision->allDown)
            throw std::runtime_error("pool " + poolName +
                                     " is all down now: there is no serving tier to drill");
        for (const auto& m : members)
            if (m.priority == *decision->activeTier && served.count(m.value))
                targets.push_back(m.value);
    }
    if (targets.empty()) throw std::runtime_error("nothing to drill in pool " + poolName);
    std::vector<Drilled> drilled;
    std::vector<std::string> rest;
    for (const auto& m : members) {
        bool target = std::count(targets.begin(), targets.end(), m.value) > 0;
        if (target) {
            if (!served.count(m.value))
                throw std::runtime_error(m.value + " is not served now (served: " +
                                         decision->served + "): a drill would show nothing");
            if (m.admin == zones::AdminState::ForceDown)
                throw std::runtime_error(m.value + " is already forced down");
            drilled.push_back({m.value, m.admin});
            continue;
        }
        bool usable = !m.drained && m.admin != zones::AdminState::ForceDown &&
                      (m.admin == zones::AdminState::ForceUp || m.health == "up");
        if (usable) rest.push_back(m.value + " (tier " + std::to_string(m.priority) + ")");
    }
    if (rest.empty() && !force)
        throw std::runtime_error("no other member of pool " + poolName + " is healthy: failing " +
                                 join(targets) +
                                 " would leave it all down (use --force to drill anyway)");
    DnsProbe dns(vm["server"].as<std::string>(), pool.owner, int(pool.rtype));
    Answer before = dns.ask(1000);
    if (!before.ok)
        throw std::runtime_error("dnsd at " + vm["server"].as<std::string>() + " gave " +
                                 before.text() + " for " + pool.owner + ": not drilling");

    SignalFlag signals;
    std::cout << "drill pool " << poolName << " (" << pool.owner << "): failing " << join(targets)
              << "; still usable: " << (rest.empty() ? "none (--force)" : join(rest)) << "\n"
              << "before: dnsd serves " << before.text() << std::endl;
    int status = 0;
    auto excludes = [&](const Answer& a) {
        if (!a.ok) return false;
        for (const auto& t : targets)
            if (a.has(t)) return false;
        return true;
    };
    auto includes = [&](const Answer& a) {
        for (const auto& t : targets)
            if (!a.has(t)) return false;
        return a.ok;
    };
    // Two answers in a row, so a rotation (max answers) that happens to leave a member out
    // is not taken for a failover.
    auto waitFor = [&](auto cond, int64_t limitMs, Answer& last) -> std::optional<int64_t> {
        auto start = std::chrono::steady_clock::now();
        int inRow = 0;
        for (;;) {
            last = dns.ask();
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
            inRow = cond(last) ? inRow + 1 : 0;
            if (inRow == 2) return ms;
            if (ms > limitMs) return std::nullopt;
            pause(std::chrono::milliseconds(50));
        }
    };
    try {
        RestoreGuard guard(context, poolName, drilled);
        setAdmin(context, poolName, drilled, false);
        Answer after;
        auto took = waitFor(excludes, timeoutMs, after);
        if (!took) {
            std::cout << "FAILED: dnsd still serves " << after.text() << " after "
                      << formatAge(timeoutMs) << std::endl;
            status = 1;
        } else {
            std::cout << "failover: dnsd stopped serving " << join(targets) << " after " << *took
                      << " ms; serves " << after.text() << std::endl;
            std::cout << "holding for " << formatAge(holdMs) << " (Ctrl-C restores now)"
                      << std::endl;
            pause(std::chrono::milliseconds(holdMs));
        }
        guard.restore();
        if (pool.failback == zones::FailbackMode::Manual && !vm.count("member")) {
            std::cout << "failback is manual for pool " << poolName
                      << ": dnsd keeps the backup until `dnsctl pool failback " << poolName << "`"
                      << std::endl;
            return status;
        }
        // A whole tier comes back after the pool's hold-down; a single member at once.
        int64_t limit = pool.holdDownMs + timeoutMs;
        auto back = waitFor(includes, limit, after);
        if (!back) {
            std::cout << "FAILED: dnsd does not serve " << join(targets) << " again after "
                      << formatAge(limit) << " (serves " << after.text() << ")" << std::endl;
            return 1;
        }
        std::cout << "failback: dnsd serves " << join(targets) << " again after " << *back
                  << " ms (hold-down " << formatAge(pool.holdDownMs) << "); serves " << after.text()
                  << std::endl;
    } catch (const Interrupted&) {
        std::cout << "interrupted: the drilled members were put back" << std::endl;
        return 130;
    }
    return status;
}

}  // namespace

void registerDrillCommand(Registry& registry) {
    registry.add({"drill", "rehearse a failover: force members down, measure, restore", drill});
}

}  // namespace dnsctl
