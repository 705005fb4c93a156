// dnsd::Notifier — tells secondaries that a zone changed (RFC 1996 NOTIFY) and watches them
// catch up.
//
// Contract: one thread ("dnsd/notify") that notices each newly published ServedState within
// about 10 ms (one atomic load per tick), and for every zone whose SOA serial moved (and for
// every zone once at start, since secondaries may have missed changes while dnsd was down)
// sends a NOTIFY to each of the zone's secondaries that wants one, TSIG-signed when the
// secondary has a key. Unacknowledged NOTIFYs are retried with a doubling interval (0.5 s up
// to 30 s) until acknowledged; a newer serial replaces a pending one and restarts the
// backoff, and changes less than 20 ms apart share one NOTIFY (the newest serial).
// After an acknowledgement it asks the secondary's SOA until the secondary serves the serial
// (or a minute passes), so `secondaries()` tells how far behind each one is. Never blocks
// on a slow or dead secondary: one non-blocking UDP socket per family, poll with a timeout.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/fd.hpp"
#include "dnsd/served_state.hpp"
#include "dnsd/xfr/zone_transfer.hpp"

#include <SQLiteCpp/Database.h>

#include <memory>

namespace dnsd {

// What dnsd knows of one secondary of one zone, for metrics and the status page.
struct SecondaryView {
    std::string zone;
    std::string endpoint;
    uint32_t serial = 0;           // the zone's serial now
    uint32_t notifiedSerial = 0;   // last serial sent in a NOTIFY
    uint32_t ackedSerial = 0;      // last serial a NOTIFY was acknowledged for
    uint32_t confirmedSerial = 0;  // the serial the secondary last answered for its SOA
    bool confirmedKnown = false;
    int64_t lastNotifyAtMs = 0;
    int64_t ackedAtMs = 0;
    int64_t confirmedAtMs = 0;
    int64_t behindSinceMs = 0;  // when it first lacked the current serial (0: it has it)
    uint64_t sent = 0, acked = 0, retries = 0, errors = 0;
    std::string lastError;
    // The last transfer request from the secondary's address (secondaries send from their
    // address on any port, so several secondaries on one address share this): kind (axfr,
    // ixfr, ixfr-full, ixfr-current, refused, ...), bytes sent, how long it took, when.
    std::string lastTransferKind;
    uint64_t lastTransferBytes = 0;
    int64_t lastTransferMs = 0, lastTransferAtMs = 0;
};

class Notifier {
  public:
    // `dbPath`: where it records what it knows of each secondary (table secondary_state, read
    // by dnsctl status), at most once a second, and the events of a secondary falling behind
    // for longer than kBehindEventMs and catching up again ("" = nowhere: tests).
    Notifier(const StateHolder& state, const std::atomic<bool>& stop, std::string dbPath = {});
    static constexpr int64_t kBehindEventMs = 10000;
    void run();
    std::vector<SecondaryView> secondaries() const;
    // From the TCP thread: a transfer to one of the zone's secondaries ended.
    void transferDone(const TransferReport& r);

  private:
    struct Target {
        SecondaryView view;
        std::string zoneKey;
        XfrAcl::Secondary sec;
        const zones::TsigKey* key = nullptr;  // into `acl_` of the state in force
        bool pending = false;                 // a NOTIFY awaits its acknowledgement
        bool confirming = false;              // asking the SOA until it shows `serial`
        int attempts = 0;
        int64_t dueMs = 0;
        int64_t confirmUntilMs = 0;
        uint16_t notifyId = 0, soaId = 0;
        std::vector<uint8_t> requestMac;
        bool reportedBehind = false;  // a secondary-behind event was written
    };

    void onState(const std::shared_ptr<const ServedState>& state);
    void sendDue(int64_t now);
    void receive(int64_t now);
    bool sendTo(const Target& t, const std::vector<uint8_t>& message);
    std::vector<uint8_t> notifyMessage(Target& t, uint64_t nowSeconds);
    std::vector<uint8_t> soaQuery(Target& t) const;
    void persist(int64_t now);

    const StateHolder& state_;
    const std::atomic<bool>& stop_;
    std::shared_ptr<const ServedState> current_;
    std::map<std::string, uint32_t> serials_;  // zone key -> serial last seen
    common::Fd sock4_, sock6_;
    mutable std::mutex mutex_;               // guards targets_ against secondaries()
    std::map<std::string, Target> targets_;  // by zone key + endpoint
    uint16_t nextId_ = 1;
    std::string dbPath_;
    std::unique_ptr<SQLite::Database> db_;
    int64_t lastPersistMs_ = 0;
    std::string lastPersistError_;
    // What the last successful write held: an unchanged state is not written again, so dnsd
    // does not wake every reader of the database (itself included) once a second for nothing.
    std::string lastWritten_;
};

}  // namespace dnsd
