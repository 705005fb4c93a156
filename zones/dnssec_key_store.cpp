#include "zones/dnssec_key_store.hpp"

#include <filesystem>

namespace zones {

std::string keyDirectory(const std::string& databasePath) {
    return std::filesystem::absolute(databasePath + ".keys").lexically_normal().string();
}

// Stub until the schema migration lands: no table yet, so no zone is signed.
std::map<int64_t, ZoneDnssec> loadZoneDnssec(SQLite::Database& /*db*/,
                                             const std::string& /*databasePath*/) {
    return {};
}

}  // namespace zones
