// libFuzzer target: any bytes as a zone file, down the `dnsctl zone import` path
// (zones::parseZoneText, then ZoneValidator), then into a served snapshot.
//
// Oracles, in order:
// - parsing either succeeds or throws std::runtime_error whose message names the file
//   ("fuzz.zone:LINE: ..." or "fuzz.zone: ..."); any other exception is a bug (uncaught here,
//   so libFuzzer reports it);
// - ZoneValidator::validate throws exactly when findProblems finds something;
// - a valid zone survives export: formatZoneFile, parsed again, gives the same records;
// - a valid zone builds (ZoneSnapshot::build must not refuse what the validator accepted),
//   and dnsd::answer() answers a question for every RRset in it (UDP and TCP) within limits.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/answer/answer.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_validator.hpp"

namespace {

const std::string kFile = "fuzz.zone";

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "zone_import_fuzz: %s\n", why.c_str());
    std::abort();
}

bool sameRecord(const zones::Record& a, const zones::Record& b) {
    return a.owner == b.owner && a.type == b.type && a.rclass == b.rclass && a.ttl == b.ttl &&
           a.rdata == b.rdata;
}

std::vector<uint8_t> query(const zones::Name& owner, uint16_t type, bool edns) {
    std::vector<uint8_t> q = {0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, uint8_t(edns ? 1 : 0)};
    q.insert(q.end(), owner.wire().begin(), owner.wire().end());
    q.insert(q.end(), {uint8_t(type >> 8), uint8_t(type), 0, 1});
    if (edns) q.insert(q.end(), {0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0, 0, 0});  // 4096, DO
    return q;
}

void answerEverything(const zones::Name& apex, const std::vector<zones::Record>& records) {
    auto zone = zones::ZoneSnapshot::build(apex, records, {}, 1);
    auto snap = zones::Snapshot::make({zone}, 1);
    static dnsd::PoolTable pools;
    static dnsd::EngineConfig config;
    static auto* scratch = new dnsd::Scratch();
    static std::vector<uint8_t> out(65535);
    size_t asked = 0;
    for (const auto& r : records) {
        if (++asked > 64) break;
        for (bool edns : {false, true}) {
            auto q = query(r.owner, r.type, edns);
            for (auto t : {dnsd::Transport::Udp, dnsd::Transport::Tcp}) {
                auto res = dnsd::answer(*snap, pools, config, q, out, t, *scratch);
                if (res.action != dnsd::Action::Send) fail("a plain question was not answered");
                size_t limit = t == dnsd::Transport::Tcp ? 65535
                               : edns                    ? config.maxUdpPayload
                                                         : 512;
                if (res.size < 12 || res.size > limit) fail("response size out of limits");
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    zones::ZoneFile zf;
    try {
        zf = zones::parseZoneText(text, kFile);
    } catch (const std::runtime_error& e) {
        if (std::string_view(e.what()).substr(0, kFile.size() + 1) != kFile + ":")
            fail(std::string("parse error does not name the file: ") + e.what());
        return 0;
    }
    auto problems = zones::ZoneValidator::findProblems(zf.origin, zf.records, kFile);
    bool threw = false;
    try {
        zones::ZoneValidator::validate(zf.origin, zf.records, kFile);
    } catch (const std::runtime_error&) {
        threw = true;
    }
    if (threw != !problems.empty()) fail("validate() and findProblems() disagree");
    if (!problems.empty()) return 0;

    // Export and import again: same records (the parser drops exact duplicates; so do we).
    std::string exported = zones::formatZoneFile(zf.origin, zf.records);
    zones::ZoneFile again;
    try {
        again = zones::parseZoneText(exported, "export.zone", zf.origin);
    } catch (const std::runtime_error& e) {
        fail(std::string("exported zone does not parse: ") + e.what() + "\n" + exported);
    }
    auto a = zf.records, b = again.records;
    std::sort(a.begin(), a.end(), zones::canonicalRecordLess);
    std::sort(b.begin(), b.end(), zones::canonicalRecordLess);
    if (a.size() != b.size() || !std::equal(a.begin(), a.end(), b.begin(), sameRecord))
        fail("export/import round trip changed the records:\n" + exported);

    try {
        answerEverything(zf.origin, zf.records);
    } catch (const std::runtime_error& e) {
        fail(std::string("ZoneSnapshot::build refused a validated zone: ") + e.what());
    }
    return 0;
}
