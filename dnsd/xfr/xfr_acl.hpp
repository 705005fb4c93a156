// dnsd::XfrAcl — who may transfer which zone, with which TSIG key, and whom to NOTIFY.
//
// Contract: immutable, loaded by the control thread from the tsig_keys and secondaries
// tables (zones::XfrStore writes them) inside the same read transaction as the rest of a
// ServedState, and published with it, so a transfer is always judged by the definitions of
// the state it transfers. Lookups are by canonical apex key and raw address bytes.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zones/tsig.hpp"

namespace dnsd {

struct XfrAcl {
    struct Secondary {
        uint8_t family = 4;  // 4 or 6
        uint8_t addr[16] = {};
        uint16_t port = 53;
        int key = -1;  // index into keys; -1 = unsigned requests allowed
        bool notify = true;
        std::string endpoint;  // "192.0.2.1:53", for logs and metrics
        friend bool operator==(const Secondary&, const Secondary&) = default;
    };
    struct Zone {
        std::string apexKey;  // zones::Name::key() form
        std::string name;     // presentation, for logs
        std::vector<Secondary> secondaries;
        friend bool operator==(const Zone&, const Zone&) = default;
    };

    std::vector<zones::TsigKey> keys;
    std::vector<Zone> zones;

    const Zone* find(std::string_view apexKey) const {
        for (const Zone& z : zones)
            if (z.apexKey == apexKey) return &z;
        return nullptr;
    }
    // The secondary of `zone` at this client address (any port) whose terms the request
    // meets: unsigned allowed, or signed with its key (`signedWith`, null if unsigned).
    // Several secondaries may share an address (each on its own port, with its own key).
    // nullptr if none; `listed` tells whether the address was listed at all.
    const Secondary* allowed(const Zone& zone, uint8_t family, const uint8_t* addr,
                             const zones::TsigKey* signedWith, bool& listed) const;

    bool operator==(const XfrAcl& o) const;

    // Reads both tables (an empty ACL when the schema predates them).
    static std::shared_ptr<const XfrAcl> load(SQLite::Database& db);
};

}  // namespace dnsd
