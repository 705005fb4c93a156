#include "dnsd/xfr/notifier.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "dnsd/log.hpp"
#include "dnsd/xfr/refusal_log.hpp"
#include "zones/event_writer.hpp"
#include "zones/schema.hpp"
#include "zones/xfr_store.hpp"

#include <SQLiteCpp/Transaction.h>

namespace dnsd {
namespace {

constexpr uint16_t kOpNotify = 4;
constexpr int64_t kFirstRetryMs = 500, kMaxRetryMs = 30000;
constexpr int64_t kConfirmForMs = 60000;
constexpr int64_t kCoalesceMs = 20;

uint16_t get16(const uint8_t* p) {
    return uint16_t((p[0] << 8) | p[1]);
}
void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(uint8_t(x >> 8));
    v.push_back(uint8_t(x));
}

sockaddr_storage socketAddress(const XfrAcl::Secondary& s, socklen_t& len) {
    sockaddr_storage ss{};
    if (s.family == 6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(s.port);
        std::memcpy(&a->sin6_addr, s.addr, 16);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(s.port);
        std::memcpy(&a->sin_addr, s.addr, 4);
        len = sizeof *a;
    }
    return ss;
}

bool sameEndpoint(const sockaddr_storage& from, const XfrAcl::Secondary& s) {
    if (from.ss_family == AF_INET && s.family == 4) {
        auto* a = reinterpret_cast<const sockaddr_in*>(&from);
        return ntohs(a->sin_port) == s.port && std::memcmp(&a->sin_addr, s.addr, 4) == 0;
    }
    if (from.ss_family == AF_INET6 && s.family == 6) {
        auto* a = reinterpret_cast<const sockaddr_in6*>(&from);
        return ntohs(a->sin6_port) == s.port && std::memcmp(&a->sin6_addr, s.addr, 16) == 0;
    }
    return false;
}

common::Fd udpSocket(int family) {
    common::Fd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    return fd;
}

}  // namespace

Notifier::Notifier(const StateHolder& state, const std::atomic<bool>& stop, std::string dbPath)
    : state_(state),
      stop_(stop),
      sock4_(udpSocket(AF_INET)),
      sock6_(udpSocket(AF_INET6)),
      dbPath_(std::move(dbPath)) {
    nextId_ = uint16_t(::time(nullptr) ^ ::getpid());
}

std::vector<SecondaryView> Notifier::secondaries() const {
    std::lock_guard lock(mutex_);
    std::vector<SecondaryView> out;
    for (const auto& [k, t] : targets_) out.push_back(t.view);
    return out;
}

void Notifier::transferDone(const TransferReport& r) {
    std::lock_guard lock(mutex_);
    const size_t len = r.family == 6 ? 16 : 4;
    for (auto& [id, t] : targets_) {
        if (t.zoneKey != r.zoneKey || t.sec.family != r.family ||
            std::memcmp(t.sec.addr, r.addr, len) != 0)
            continue;  // secondaries transfer from their address, on any port
        t.view.lastTransferKind = xfrOutcomeName(r.outcome);
        t.view.lastTransferBytes = r.bytes;
        t.view.lastTransferMs = r.durationMs;
        t.view.lastTransferAtMs = r.atMs;
    }
}

void Notifier::run() {
    pthread_setname_np(pthread_self(), "dnsd/notify");
    StateHolder::Reader reader(state_);
    while (!stop_.load(std::memory_order_relaxed)) {
        auto state = reader.shared();
        if (state && state != current_) onState(state);
        int64_t now = zones::nowMs();
        sendDue(now);
        pollfd fds[2] = {{sock4_.get(), POLLIN, 0}, {sock6_.get(), POLLIN, 0}};
        if (::poll(fds, 2, 10) > 0) receive(zones::nowMs());
        now = zones::nowMs();
        if (!dbPath_.empty() && now - lastPersistMs_ >= 1000) {
            lastPersistMs_ = now;
            persist(now);
        }
    }
}

void Notifier::persist(int64_t now) {
    std::vector<zones::SecondaryStateRow> rows;
    std::vector<zones::EventWrite> events;
    {
        std::lock_guard lock(mutex_);
        if (targets_.empty() && !db_) return;
        for (auto& [id, t] : targets_) {
            const SecondaryView& v = t.view;
            zones::SecondaryStateRow r;
            r.zone = v.zone;
            r.endpoint = v.endpoint;
            r.serial = v.serial;
            if (v.notifiedSerial) r.notifiedSerial = v.notifiedSerial;
            if (v.acked) r.ackedSerial = v.ackedSerial;
            if (v.confirmedKnown) r.confirmedSerial = v.confirmedSerial;
            if (v.lastNotifyAtMs) r.lastNotifyAt = v.lastNotifyAtMs;
            if (v.ackedAtMs) r.ackedAt = v.ackedAtMs;
            if (v.confirmedAtMs) r.confirmedAt = v.confirmedAtMs;
            if (v.behindSinceMs) r.behindSince = v.behindSinceMs;
            r.notifies = int64_t(v.sent);
            r.retries = int64_t(v.retries);
            r.errors = int64_t(v.errors);
            r.lastError = v.lastError;
            r.lastTransferKind = v.lastTransferKind;
            if (v.lastTransferAtMs) {
                r.lastTransferAt = v.lastTransferAtMs;
                r.lastTransferBytes = int64_t(v.lastTransferBytes);
                r.lastTransferMs = v.lastTransferMs;
            }
            rows.push_back(std::move(r));
            // A secondary that stays behind is news like a failover (events feed dnsd-probe's
            // webhooks); so is its catching up.
            const bool behind = v.behindSinceMs && now - v.behindSinceMs >= kBehindEventMs;
            if (behind && !t.reportedBehind) {
                t.reportedBehind = true;
                std::string has = v.confirmedKnown ? "serial " + std::to_string(v.confirmedSerial)
                                                   : std::string("no answer");
                events.push_back({now, "", v.endpoint, "secondary-behind",
                                  "secondary " + v.endpoint + " of " + v.zone + " has " + has +
                                      ", not " + std::to_string(v.serial) + ", for " +
                                      std::to_string((now - v.behindSinceMs) / 1000) + " s" +
                                      (v.lastError.empty() ? "" : " (" + v.lastError + ")"),
                                  "{}"});
                logWarn(events.back().message);
            } else if (!v.behindSinceMs && t.reportedBehind) {
                t.reportedBehind = false;
                events.push_back({now, "", v.endpoint, "secondary-caught-up",
                                  "secondary " + v.endpoint + " of " + v.zone + " serves serial " +
                                      std::to_string(v.serial) + " again",
                                  "{}"});
                logInfo(events.back().message);
            }
        }
    }
    std::string fingerprint;
    for (const auto& r : rows)
        fingerprint += r.zone + r.endpoint + std::to_string(r.serial) + "|" +
                       std::to_string(r.notifies) + "|" + std::to_string(r.errors) + "|" +
                       std::to_string(r.ackedAt.value_or(0)) + "|" +
                       std::to_string(r.confirmedAt.value_or(0)) + "|" +
                       std::to_string(r.behindSince.value_or(0)) + "|" +
                       std::to_string(r.lastTransferAt.value_or(0)) + r.lastError + "\n";
    if (events.empty() && fingerprint == lastWritten_) return;
    try {
        if (!db_) db_ = zones::openDatabase(dbPath_, zones::OpenMode::ReadWrite, 200);
        SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
        zones::XfrStore(*db_).saveStates(rows, now);
        zones::EventWriter writer(*db_);
        for (const auto& e : events) writer.write(e);
        tx.commit();
        lastPersistError_.clear();
        lastWritten_ = std::move(fingerprint);
    } catch (const std::exception& e) {
        // Status is best effort: a busy database is tried again in a second; say so once.
        if (lastPersistError_ != e.what())
            logWarn(std::string("cannot record the secondaries' state: ") + e.what());
        lastPersistError_ = e.what();
    }
}

void Notifier::onState(const std::shared_ptr<const ServedState>& state) {
    current_ = state;
    if (!state->xfr) return;
    const int64_t now = zones::nowMs();
    std::lock_guard lock(mutex_);
    std::map<std::string, Target> next;
    for (const XfrAcl::Zone& z : state->xfr->zones) {
        const zones::ZoneSnapshot* snap = state->zones->findZone(z.apexKey);
        if (!snap || snap->apex().key() != z.apexKey) continue;
        const uint32_t serial = snap->serial();
        auto seen = serials_.find(z.apexKey);
        const bool moved = seen == serials_.end() || seen->second != serial;
        serials_[z.apexKey] = serial;
        for (const XfrAcl::Secondary& s : z.secondaries) {
            if (!s.notify) continue;
            std::string id = z.apexKey + "|" + s.endpoint;
            Target t;
            if (auto old = targets_.find(id); old != targets_.end()) t = std::move(old->second);
            t.zoneKey = z.apexKey;
            t.sec = s;
            t.key = s.key >= 0 ? &state->xfr->keys[size_t(s.key)] : nullptr;
            t.view.zone = z.name;
            t.view.endpoint = s.endpoint;
            t.view.serial = serial;
            // New secondaries, and every one when the serial moved: NOTIFY now, with a fresh
            // backoff (a secondary that was down at start must not wait out a long retry
            // interval for news). Changes faster than kCoalesceMs share one NOTIFY: the one
            // due carries the newest serial.
            if (moved || t.view.notifiedSerial == 0) {
                t.pending = true;
                t.attempts = 0;
                t.dueMs = std::max(now, t.view.lastNotifyAtMs + kCoalesceMs);
                if (t.view.confirmedSerial != serial && t.view.behindSinceMs == 0)
                    t.view.behindSinceMs = now;
            }
            next.emplace(id, std::move(t));
        }
    }
    targets_ = std::move(next);
}

std::vector<uint8_t> Notifier::notifyMessage(Target& t, uint64_t nowSeconds) {
    const zones::ZoneSnapshot* z = current_->zones->findZone(t.zoneKey);
    std::vector<uint8_t> m;
    t.notifyId = nextId_++;
    put16(m, t.notifyId);
    put16(m, uint16_t(kOpNotify << 11 | 0x0400));  // NOTIFY, AA (RFC 1996 §3.7)
    put16(m, 1);
    put16(m, 1);  // the SOA in the answer section: a hint of the new serial
    put16(m, 0);
    put16(m, 0);
    m.insert(m.end(), z->apex().wire().begin(), z->apex().wire().end());
    put16(m, zones::rrtype::SOA);
    put16(m, zones::rrclass::IN);
    put16(m, 0xC00C);
    put16(m, zones::rrtype::SOA);
    put16(m, zones::rrclass::IN);
    const zones::RData& soa = z->rdatas(z->soa())[0];
    put16(m, uint16_t(soa.ttl >> 16));
    put16(m, uint16_t(soa.ttl));
    auto rd = z->bytes(soa);
    put16(m, uint16_t(rd.size()));
    m.insert(m.end(), rd.begin(), rd.end());
    t.requestMac.clear();
    if (t.key) {
        size_t size = m.size();
        m.resize(size + 512);
        zones::TsigSigner signer(*t.key, {}, nowSeconds);
        m.resize(signer.sign(m.data(), size, m.size()));
        t.requestMac = signer.lastMac();
    }
    return m;
}

std::vector<uint8_t> Notifier::soaQuery(Target& t) const {
    const zones::ZoneSnapshot* z = current_->zones->findZone(t.zoneKey);
    std::vector<uint8_t> m;
    put16(m, t.soaId);
    put16(m, 0);
    put16(m, 1);
    put16(m, 0);
    put16(m, 0);
    put16(m, 0);
    m.insert(m.end(), z->apex().wire().begin(), z->apex().wire().end());
    put16(m, zones::rrtype::SOA);
    put16(m, zones::rrclass::IN);
    return m;
}

bool Notifier::sendTo(const Target& t, const std::vector<uint8_t>& message) {
    socklen_t len = 0;
    sockaddr_storage to = socketAddress(t.sec, len);
    int fd = t.sec.family == 6 ? sock6_.get() : sock4_.get();
    return ::sendto(fd, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&to), len) ==
           ssize_t(message.size());
}

void Notifier::sendDue(int64_t now) {
    if (!current_) return;
    std::lock_guard lock(mutex_);
    for (auto& [id, t] : targets_) {
        if (t.pending && t.dueMs <= now) {
            if (t.attempts > 0) {
                ++t.view.retries;
                if (t.attempts == 3)  // about 3.5 s unanswered: say so, once per round
                    logWarn("NOTIFY of " + t.view.zone + " serial " +
                            std::to_string(t.view.serial) + " to " + t.view.endpoint +
                            " not acknowledged after 3 tries; retrying with backoff");
            }
            t.view.notifiedSerial = t.view.serial;
            if (!sendTo(t, notifyMessage(t, uint64_t(now / 1000)))) {
                ++t.view.errors;
                t.view.lastError = std::string("send: ") + std::strerror(errno);
            }
            ++t.view.sent;
            t.view.lastNotifyAtMs = now;
            t.dueMs = now + std::min(kMaxRetryMs, kFirstRetryMs << std::min(t.attempts, 10));
            ++t.attempts;
        } else if (t.confirming && t.dueMs <= now) {
            if (now > t.confirmUntilMs) {
                t.confirming = false;
                logWarn("secondary " + t.view.endpoint + " of " + t.view.zone +
                        " acknowledged serial " + std::to_string(t.view.ackedSerial) +
                        " but still answers " +
                        (t.view.confirmedKnown ? std::to_string(t.view.confirmedSerial)
                                               : std::string("nothing")) +
                        " a minute later");
                continue;
            }
            t.soaId = nextId_++;
            sendTo(t, soaQuery(t));
            // Ask often at first (a transfer takes milliseconds), then every 2 s.
            t.dueMs = now + (now - t.view.ackedAtMs < 1000 ? 50 : 2000);
        }
    }
}

void Notifier::receive(int64_t now) {
    uint8_t buf[4096];
    for (int fd : {sock4_.get(), sock6_.get()}) {
        for (;;) {
            sockaddr_storage from{};
            socklen_t fromLen = sizeof from;
            ssize_t n =
                ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
            if (n < 0) break;
            if (n < 12 || !(buf[2] & 0x80)) continue;
            const uint16_t id = get16(buf), opcode = (buf[2] >> 3) & 0xF, rcode = buf[3] & 0xF;
            std::lock_guard lock(mutex_);
            for (auto& [key, t] : targets_) {
                if (!sameEndpoint(from, t.sec) || (id != t.notifyId && id != t.soaId)) continue;
                if (opcode == kOpNotify && t.pending && id == t.notifyId) {
                    if (t.key) {
                        zones::TsigVerifier check(*t.key, t.requestMac);
                        if (!check.verify({buf, size_t(n)}, uint64_t(now / 1000))) {
                            ++t.view.errors;
                            t.view.lastError = "NOTIFY answer not signed with our key";
                            break;
                        }
                    }
                    if (rcode != 0) {
                        ++t.view.errors;
                        t.view.lastError = "NOTIFY answered with rcode " + std::to_string(rcode);
                        break;
                    }
                    t.pending = false;
                    t.attempts = 0;
                    ++t.view.acked;
                    t.view.ackedSerial = t.view.notifiedSerial;
                    t.view.ackedAtMs = now;
                    t.view.lastError.clear();
                    t.confirming = true;
                    t.confirmUntilMs = now + kConfirmForMs;
                    t.dueMs = now + 20;
                } else if (opcode == 0 && t.confirming && id == t.soaId && rcode == 0) {
                    size_t pos = 12;
                    std::span<const uint8_t> m(buf, size_t(n));
                    if (!zones::readMessageName(m, pos) || pos + 4 > m.size()) break;
                    pos += 4;
                    if (get16(buf + 6) == 0 || !zones::readMessageName(m, pos) ||
                        pos + 10 > m.size() || get16(buf + pos) != zones::rrtype::SOA)
                        break;
                    size_t rd = pos + 10, p = rd;
                    if (!zones::readMessageName(m, p) || !zones::readMessageName(m, p) ||
                        p + 4 > m.size())
                        break;
                    t.view.confirmedSerial = uint32_t(get16(buf + p)) << 16 | get16(buf + p + 2);
                    t.view.confirmedKnown = true;
                    t.view.confirmedAtMs = now;
                    if (t.view.confirmedSerial == t.view.serial) {
                        t.confirming = false;
                        t.view.behindSinceMs = 0;
                    }
                }
                break;
            }
        }
    }
}

}  // namespace dnsd
