// libFuzzer target: any bytes as an RFC 2136 UPDATE, down the path dnsd's update thread takes.
//
// The first byte picks how the rest arrives, so the fuzzer reaches the database without
// having to forge an HMAC: 0 as is (unsigned, or whatever TSIG it carries), 1 signed with
// ops. (a policy for every name and type of upd.test.), 2 signed with acme. (TXT at
// _acme-challenge.* only), 3 signed with a key dnsd does not know. The rest is the message.
//
// (a) dnsd::parseUpdate alone, and (b) dnsd::UpdateProcessor on a real database file (made
// once per process: upd.test. with a pool at app., both keys and their policies), at a fixed
// time so signed inputs stay valid.
//
// Oracles, beyond "no crash, no sanitizer report":
// - parseUpdate: a message that parses names every owner at most 255 octets, and its answer
//   (writeUpdateAnswer) is a strict message (testsupport::strictMessageProblem) echoing the ID;
// - the processor answers every message parseUpdate does not Drop, with QR, opcode UPDATE, the
//   same ID, at most one zone RR, RCODE among those RFC 2136 and RFC 8945 allow, as a strict
//   message; an unsigned, unknown-key or unparsable message never changes the database;
// - whatever was applied, the zone in the database still passes zones::ZoneValidator, and its
//   SOA serial moved exactly when the processor said it changed something.
#include <unistd.h>

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dnsd/update/update_message.hpp"
#include "dnsd/update/update_processor.hpp"
#include "tests/support/strict_message.hpp"
#include "zones/schema.hpp"
#include "zones/tsig.hpp"
#include "zones/update_policy_store.hpp"
#include "zones/xfr_store.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_store.hpp"
#include "zones/zone_validator.hpp"

namespace {

constexpr uint64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
const char* kZoneText = R"(
$ORIGIN upd.test.
$TTL 300
@       IN SOA ns1 hostmaster 1 3600 600 86400 60
@       IN NS  ns1
ns1     IN A   127.0.0.1
www     IN A   192.0.2.1
alias   IN CNAME www
sub     IN NS  ns.sub
ns.sub  IN A   192.0.2.53
)";

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "update_fuzz: %s\n", why.c_str());
    std::abort();
}

struct World {
    std::string path;
    std::unique_ptr<SQLite::Database> db;
    std::unique_ptr<dnsd::UpdateProcessor> processor;
    std::vector<zones::TsigKey> keys;  // ops, acme, stranger
    zones::Name apex;
};

zones::TsigKey makeKey(const char* name, const char* secret) {
    std::string s(secret);
    return {*zones::Name::fromText(name), zones::TsigAlgorithm::HmacSha256,
            std::vector<uint8_t>(s.begin(), s.end())};
}

World& world() {
    static World* w = [] {
        auto* w = new World;
        char tmpl[] = "/tmp/update-fuzz-XXXXXX";
        int fd = ::mkstemp(tmpl);
        if (fd < 0) fail("mkstemp");
        ::close(fd);
        ::unlink(tmpl);
        w->path = tmpl;
        w->db = zones::openDatabase(w->path, zones::OpenMode::CreateReadWrite);
        auto zone = zones::parseZoneText(kZoneText, "upd.test.zone");
        w->apex = zone.origin;
        zones::ZoneStore(*w->db).importZone(zone.origin, zone.records, false, "upd.test.zone");
        w->keys = {makeKey("ops.", "update-fuzz-ops-secret-32-bytes!"),
                   makeKey("acme.", "update-fuzz-acme-secret-32-byte!"),
                   makeKey("stranger.", "update-fuzz-unknown-key-32-byte!")};
        zones::XfrStore xfr(*w->db);
        for (size_t i = 0; i < 2; ++i) {
            const auto& k = w->keys[i];
            xfr.addKey(k.name.toText(), "hmac-sha256", zones::base64Encode(k.secret));
        }
        zones::UpdatePolicyStore policies(*w->db);
        policies.add("upd.test.", "ops.", "", {});
        policies.add("upd.test.", "acme.", "_acme-challenge.*", {"TXT"});
        w->db->exec(
            "INSERT INTO pools (name, zone_id, owner, rtype, created_at, updated_at) SELECT "
            "'web', id, 'app.upd.test.', 1, 0, 0 FROM zones");
        w->processor = std::make_unique<dnsd::UpdateProcessor>(*w->db);
        // The file goes when the process does; nothing else needs it.
        std::atexit([] {
            ::unlink(world().path.c_str());
            ::unlink((world().path + "-wal").c_str());
            ::unlink((world().path + "-shm").c_str());
        });
        return w;
    }();
    return *w;
}

std::optional<uint32_t> serial(World& w) {
    auto info = zones::ZoneStore(*w.db).findZone(w.apex);
    return info ? info->serial : std::nullopt;
}

bool allowedRcode(uint8_t rcode) {
    // NOERROR, FORMERR, SERVFAIL, NXDOMAIN, REFUSED, YXDOMAIN, YXRRSET, NXRRSET, NOTAUTH,
    // NOTZONE (never NOTIMP: opcode UPDATE is implemented).
    return rcode <= 10 && rcode != 4;
}

void checkAnswer(std::span<const uint8_t> query, std::span<const uint8_t> answer) {
    std::string problem = testsupport::strictMessageProblem(answer);
    if (!problem.empty()) fail("answer: " + problem);
    if (answer.size() < 12 || answer[0] != query[0] || answer[1] != query[1])
        fail("answer does not echo the ID");
    if (!(answer[2] & 0x80) || ((answer[2] >> 3) & 0x0F) != dnsd::kOpcodeUpdate)
        fail("answer is not an UPDATE response");
    if (((answer[4] << 8) | answer[5]) > 1) fail("more than one zone RR in the answer");
    if (!allowedRcode(answer[3] & 0x0F)) fail("RCODE " + std::to_string(answer[3] & 0x0F));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const uint8_t mode = data[0] & 3;
    std::vector<uint8_t> message(data + 1, data + size);

    // (a) The parser alone.
    dnsd::UpdateMessage parsed;
    dnsd::UpdateParse p = dnsd::parseUpdate(message, parsed);
    if (p == dnsd::UpdateParse::Ok) {
        for (const auto& rr : parsed.prerequisites)
            if (rr.owner.wireSize() > zones::Name::kMaxWire) fail("owner too long");
        std::vector<uint8_t> out(512);
        size_t n = dnsd::writeUpdateAnswer(message, parsed, 0, out);
        if (n == 0) fail("no answer written for a parsed message");
        checkAnswer(message, {out.data(), n});
    }

    // (b) The processor, on the database.
    World& w = world();
    if (mode != 0 && p != dnsd::UpdateParse::Drop) {
        // Signed as a client signs a request (no request MAC), within 64 KB.
        zones::TsigSigner signer(w.keys[mode - 1], {}, kNow);
        message.resize(message.size() + 512);
        size_t n = signer.sign(message.data(), message.size() - 512, 65535);
        message.resize(n ? n : message.size() - 512);
    }
    auto before = serial(w);
    std::vector<uint8_t> answer(65535);
    dnsd::UpdateResult r = w.processor->process(message, "127.0.0.1", kNow, answer);
    if (p == dnsd::UpdateParse::Drop && r.size) fail("answered a message that is no request");
    if (r.size) checkAnswer(message, {answer.data(), r.size});
    // UPDATE_FUZZ_TRACE=1: what each input came to (to see that the seeds reach their paths).
    static const bool trace = std::getenv("UPDATE_FUZZ_TRACE") != nullptr;
    if (trace)
        std::fprintf(stderr, "mode %u rcode %u%s: %s\n", mode, unsigned(r.rcode),
                     r.changed ? " changed" : "", r.detail.c_str());
    auto after = serial(w);
    if (r.changed != (before != after)) fail("serial moved without a change, or not with one");
    if (r.changed && (mode == 0 || mode == 3)) fail("changed by an unsigned or unknown key");
    if (r.changed) {
        auto records = zones::ZoneStore(*w.db).zoneRecords(w.apex);
        auto problems = zones::ZoneValidator::findProblems(w.apex, records, "fuzzed zone");
        if (!problems.empty()) fail("the zone broke: " + problems.front());
        // Keep the zone small for a long run: back to the start every so often.
        if (records.size() > 200) {
            auto zone = zones::parseZoneText(kZoneText, "upd.test.zone");
            zones::ZoneStore(*w.db).importZone(zone.origin, zone.records, true, "upd.test.zone");
        }
    }
    return 0;
}
