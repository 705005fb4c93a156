#include "dnsd/xfr/xfr_acl.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <map>

#include "zones/xfr_store.hpp"

namespace dnsd {

const XfrAcl::Secondary* XfrAcl::allowed(const Zone& zone, uint8_t family, const uint8_t* addr,
                                         const zones::TsigKey* signedWith, bool& listed) const {
    size_t len = family == 6 ? 16 : 4;
    listed = false;
    for (const Secondary& s : zone.secondaries) {
        if (s.family != family || std::memcmp(s.addr, addr, len) != 0) continue;
        listed = true;
        if (s.key < 0 || &keys[size_t(s.key)] == signedWith) return &s;
    }
    return nullptr;
}

bool XfrAcl::operator==(const XfrAcl& o) const {
    if (zones != o.zones || keys.size() != o.keys.size()) return false;
    for (size_t i = 0; i < keys.size(); ++i)
        if (!(keys[i].name == o.keys[i].name) || keys[i].algorithm != o.keys[i].algorithm ||
            keys[i].secret != o.keys[i].secret)
            return false;
    return true;
}

std::shared_ptr<const XfrAcl> XfrAcl::load(SQLite::Database& db) {
    auto acl = std::make_shared<XfrAcl>();
    if (!db.tableExists("secondaries")) return acl;
    zones::XfrStore store(db);
    std::map<std::string, int> keyIndex;
    for (const auto& k : store.keys()) {
        keyIndex[k.name] = int(acl->keys.size());
        acl->keys.push_back(k.key());
    }
    for (const auto& s : store.secondaries()) {
        auto apex = zones::Name::fromText(s.zone);
        if (!apex) continue;
        std::string key(apex->key());
        Zone* zone = nullptr;
        for (Zone& z : acl->zones)
            if (z.apexKey == key) zone = &z;
        if (!zone) {
            acl->zones.push_back(Zone{key, s.zone, {}});
            zone = &acl->zones.back();
        }
        Secondary sec;
        if (inet_pton(AF_INET, s.address.c_str(), sec.addr) == 1)
            sec.family = 4;
        else if (inet_pton(AF_INET6, s.address.c_str(), sec.addr) == 1)
            sec.family = 6;
        else
            continue;
        sec.port = uint16_t(s.port);
        sec.key = s.keyName.empty() ? -1 : keyIndex.at(s.keyName);
        sec.notify = s.notify;
        sec.endpoint = s.endpoint();
        zone->secondaries.push_back(std::move(sec));
    }
    return acl;
}

}  // namespace dnsd
