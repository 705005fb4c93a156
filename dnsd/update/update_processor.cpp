#include "dnsd/update/update_processor.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "dnsd/update/update_message.hpp"
#include "dnsd/xfr/tsig_answer.hpp"
#include "dnsd/xfr/xfr_acl.hpp"
#include "zones/event_writer.hpp"
#include "zones/record.hpp"
#include "zones/schema.hpp"
#include "zones/tsig.hpp"
#include "zones/update_policy_store.hpp"
#include "zones/xfr_store.hpp"
#include "zones/zone_file.hpp"
#include "zones/zone_store.hpp"

namespace dnsd {
namespace {

// RFC 1035 §4.1.1 and RFC 2136 §2.2.
constexpr uint8_t kNoError = 0, kFormErr = 1, kServFail = 2, kNxDomain = 3, kRefused = 5,
                  kYxDomain = 6, kYxRrset = 7, kNxRrset = 8, kNotAuth = 9, kNotZone = 10;
constexpr uint16_t kClassNone = 254;

struct Verdict {
    uint8_t rcode = kNoError;
    std::string detail;
    bool changed = false;
};

std::string rrText(const zones::Name& owner, uint16_t type) {
    return owner.toText() + " " + zones::rrTypeToText(type);
}

std::optional<int64_t> zoneIdOf(SQLite::Database& db, const zones::Name& apex) {
    SQLite::Statement q(db, "SELECT id FROM zones WHERE name = ?");
    q.bind(1, apex.toText());
    if (!q.executeStep()) return std::nullopt;
    return q.getColumn(0).getInt64();
}

// §3.2: every prerequisite must hold, in order; the first that fails names the RCODE.
Verdict checkPrerequisites(zones::ZoneStore& store, int64_t zoneId, const UpdateMessage& m) {
    std::map<std::pair<std::string, uint16_t>, std::vector<std::vector<uint8_t>>> sets;
    std::map<std::pair<std::string, uint16_t>, zones::Name> owners;
    for (const UpdateRR& rr : m.prerequisites) {
        if (!rr.owner.isSubdomainOf(m.zone))
            return {kNotZone, "prerequisite " + rr.owner.toText() + " is outside the zone"};
        const bool anyType = rr.type == zones::rrtype::ANY;
        if (rr.rclass == zones::rrclass::ANY) {
            if (anyType && !store.nameInUse(zoneId, rr.owner))
                return {kNxDomain, "prerequisite: " + rr.owner.toText() + " is not in use"};
            if (!anyType && !store.rrsetExists(zoneId, rr.owner, rr.type))
                return {kNxRrset, "prerequisite: no " + rrText(rr.owner, rr.type) + " RRset"};
        } else if (rr.rclass == kClassNone) {
            if (anyType && store.nameInUse(zoneId, rr.owner))
                return {kYxDomain, "prerequisite: " + rr.owner.toText() + " is in use"};
            if (!anyType && store.rrsetExists(zoneId, rr.owner, rr.type))
                return {kYxRrset, "prerequisite: " + rrText(rr.owner, rr.type) + " exists"};
        } else {
            auto key = std::make_pair(std::string(rr.owner.key()), rr.type);
            sets[key].push_back(rr.rdata);
            owners.emplace(key, rr.owner);
        }
    }
    for (const auto& [key, rdatas] : sets) {
        const zones::Name& owner = owners.at(key);
        if (!store.rrsetEquals(zoneId, owner, key.second, rdatas))
            return {kNxRrset, "prerequisite: the " + rrText(owner, key.second) + " RRset differs"};
    }
    return {};
}

zones::RecordEdit editOf(const UpdateRR& rr) {
    zones::RecordEdit e;
    e.record = zones::Record{rr.owner, rr.type, zones::rrclass::IN, rr.ttl, rr.rdata, 0};
    if (rr.rclass == zones::rrclass::IN) {
        e.kind = zones::RecordEdit::Kind::Add;
    } else if (rr.rclass == kClassNone) {
        e.kind = zones::RecordEdit::Kind::DeleteRR;
        e.record.ttl = 0;
    } else {
        e.kind = rr.type == zones::rrtype::ANY ? zones::RecordEdit::Kind::DeleteName
                                               : zones::RecordEdit::Kind::DeleteRRset;
    }
    return e;
}

nlohmann::ordered_json recordsJson(const std::vector<zones::Record>& rrs) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& r : rrs) out.push_back(zones::formatRecord(r, false));
    return out;
}

Verdict apply(SQLite::Database& db, const UpdateMessage& m, const zones::TsigKey* key,
              const std::string& client) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    if (m.zoneClass != zones::rrclass::IN) return {kNotAuth, "class other than IN"};
    auto zoneId = zoneIdOf(db, m.zone);
    if (!zoneId) return {kNotAuth, "zone " + m.zone.toText() + " is not served here"};
    auto policies = zones::UpdatePolicyStore(db).forZone(*zoneId);
    if (policies.empty()) return {kRefused, "no update policy for " + m.zone.toText()};
    if (!key) return {kRefused, "unsigned (every update policy names a TSIG key)"};
    bool keyListed = false;
    for (const auto& p : policies) keyListed = keyListed || p.key == key->name;
    if (!keyListed)
        return {kRefused,
                "key " + key->name.toText() + " has no update policy for " + m.zone.toText()};
    zones::ZoneStore store(db);
    Verdict prereq = checkPrerequisites(store, *zoneId, m);
    if (prereq.rcode != kNoError) return prereq;
    std::vector<zones::RecordEdit> edits;
    for (const UpdateRR& rr : m.updates) {
        if (!rr.owner.isSubdomainOf(m.zone))
            return {kNotZone, "update of " + rr.owner.toText() + " is outside the zone"};
    }
    for (const UpdateRR& rr : m.updates) {
        auto poolType = store.poolTypeAt(*zoneId, rr.owner);
        bool allowed = false;
        for (const auto& p : policies)
            allowed = allowed || p.allows(key->name, m.zone, rr.owner, rr.type, poolType);
        if (!allowed)
            return {kRefused, "key " + key->name.toText() + " may not change " +
                                  rrText(rr.owner, rr.type) +
                                  (poolType ? " (a failover pool's name)" : "")};
        edits.push_back(editOf(rr));
    }
    zones::EditOutcome outcome;
    try {
        outcome = store.applyEdits(*zoneId, m.zone, edits);
    } catch (const zones::ZoneRuleError& e) {
        return {kRefused, e.what()};
    }
    if (!outcome.serial) {
        tx.commit();  // read only: nothing to keep, but end the transaction cleanly
        return {kNoError, "no change", false};
    }
    std::string what = "+" + std::to_string(outcome.added.size()) + " -" +
                       std::to_string(outcome.removed.size()) + " RRs";
    nlohmann::ordered_json details = {{"zone", m.zone.toText()},
                                      {"key", key->name.toText()},
                                      {"client", client},
                                      {"serial", *outcome.serial},
                                      {"added", recordsJson(outcome.added)},
                                      {"removed", recordsJson(outcome.removed)}};
    zones::EventWrite ev;
    ev.at = zones::nowMs();
    ev.kind = "update";
    ev.message = "UPDATE of " + m.zone.toText() + " by key " + key->name.toText() + " from " +
                 client + ": " + what + ", serial " + std::to_string(*outcome.serial);
    ev.details = details.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    zones::EventWriter(db).write(ev);
    tx.commit();
    return {kNoError, ev.message, true};
}

}  // namespace

UpdateResult UpdateProcessor::process(std::span<const uint8_t> message, const std::string& client,
                                      uint64_t now, std::span<uint8_t> out) noexcept {
    UpdateResult result;
    try {
        UpdateMessage m;
        UpdateParse parsed = parseUpdate(message, m);
        if (parsed == UpdateParse::Drop) return result;
        XfrAcl keys;  // signAnswer verifies and signs with the keys of an ACL
        for (const auto& row : zones::XfrStore(db_).keys()) keys.keys.push_back(row.key());
        zones::TsigRecord found;
        const bool signedRequest = zones::findTsig(message, found) != zones::TsigFind::None;
        Verdict v;
        if (parsed == UpdateParse::FormErr) {
            v = {kFormErr, "malformed UPDATE"};
        } else {
            zones::TsigRequest req = zones::verifyTsigRequest(message, keys.keys, now);
            if (req.status == zones::TsigStatus::Malformed) {
                v = {kFormErr, "malformed TSIG"};
            } else if (req.status == zones::TsigStatus::Failed) {
                v = {kNotAuth,
                     "TSIG check failed (error " + std::to_string(unsigned(req.error)) + ")"};
            } else {
                try {
                    v = apply(db_, m, req.status == zones::TsigStatus::Valid ? req.key : nullptr,
                              client);
                } catch (const std::exception& e) {
                    v = {kServFail, std::string("database: ") + e.what()};
                }
            }
        }
        size_t size = writeUpdateAnswer(message, m, v.rcode, out);
        if (size && signedRequest) size = signAnswer(&keys, message, out, size, size, now);
        result.size = size;
        // signAnswer turns a failed TSIG into NOTAUTH (or FORMERR): report what was sent.
        result.rcode = size >= 4 ? uint8_t(out[3] & 0x0F) : v.rcode;
        result.changed = v.changed;
        result.detail = std::move(v.detail);
    } catch (const std::exception& e) {
        // Reading the keys failed, or memory ran out: nothing was written.
        result = UpdateResult{};
        result.rcode = kServFail;
        result.size = writeUpdateAnswer(message, UpdateMessage{}, kServFail, out);
        result.detail = e.what();
    }
    return result;
}

}  // namespace dnsd
