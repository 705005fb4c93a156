// libFuzzer target: any bytes as a request to a primary, down the paths dnsd takes with it.
//
// (a) The TSIG parser: zones::findTsig and zones::verifyTsigRequest with xfrWorld()'s keys.
// (b) The transports' path, over UDP and TCP from 127.0.0.1 (see xfr_world.hpp for the ACL):
//     dnsd::answer(); an answer to a signed query goes through dnsd::signAnswer; a transfer
//     request goes to dnsd::ZoneTransfer::begin, and over TCP every message of a transfer it
//     starts is pulled with next() until it returns 0 (over UDP dnsd sends TC instead).
//
// Oracles, beyond "no crash, no sanitizer report":
// - TSIG: findTsig and verifyTsigRequest agree (no TSIG: Unsigned; malformed: Malformed); a
//   found TSIG starts after the header and inside the message; a Valid request names a key we
//   have, carries a full-length MAC, and signing its stripped message again with that key at
//   its time gives the same MAC; a Failed one carries BADKEY, BADSIG, BADTIME or BADTRUNC,
//   and names its key unless BADKEY.
// - every response and every transfer message passes testsupport::strictMessageProblem, is at
//   least a header, echoes the ID with QR set, has at most one question, and fits 65535 octets
//   over TCP and, over UDP, the payload size the query's OPT advertises (512 without one, at
//   least 512, at most the UDP maximum) whether signed or not;
// - the answer to a query whose TSIG is Valid verifies with the query's key and MAC, as the
//   client would verify it; BADKEY and BADSIG answers are NOTAUTH;
// - a transfer starts only for a valid or unsigned request, never with a single response as
//   well; a refusal carries its RCODE (REFUSED, NOTAUTH, FORMERR);
// - a transfer ends within kMaxMessages messages, every message NOERROR and authoritative,
//   signed messages verifying one after the other (RFC 8945 §5.3.1) when the request was
//   signed, the first record the SOA, the last record the SOA, no other SOA, and as many
//   records between them as the transfer says it sent.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dnsd/xfr/tsig_answer.hpp"
#include "dnsd/xfr/zone_transfer.hpp"
#include "tests/fuzz/xfr_world.hpp"
#include "tests/support/strict_message.hpp"

namespace {

// big.xfr.test. takes about 6 messages; anything near this is a transfer that does not end.
constexpr uint64_t kMaxMessages = 64;
constexpr uint16_t kSoa = 6, kOpt = 41;

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "xfr_fuzz: %s\n", why.c_str());
    std::abort();
}

uint16_t get16(std::span<const uint8_t> m, size_t at) {
    return uint16_t((m[at] << 8) | m[at + 1]);
}

// The types of a message's records, section by section; empty if it does not parse (only
// called on messages strictMessageProblem accepted, and on queries).
bool recordTypes(std::span<const uint8_t> m, std::vector<uint16_t>& types) {
    types.clear();
    if (m.size() < 12) return false;
    size_t pos = 12;
    for (uint16_t i = 0; i < get16(m, 4); ++i) {
        if (!zones::readMessageName(m, pos) || pos + 4 > m.size()) return false;
        pos += 4;
    }
    const uint32_t rrs = uint32_t(get16(m, 6)) + get16(m, 8) + get16(m, 10);
    for (uint32_t i = 0; i < rrs; ++i) {
        if (!zones::readMessageName(m, pos) || pos + 10 > m.size()) return false;
        types.push_back(get16(m, pos));
        pos += 10 + get16(m, pos + 8);
        if (pos > m.size()) return false;
    }
    return true;
}

void checkMessage(std::span<const uint8_t> query, std::span<const uint8_t> m, size_t limit,
                  const char* what) {
    std::string problem = testsupport::strictMessageProblem(m);
    if (!problem.empty()) fail(std::string(what) + ": " + problem);
    if (m.size() > limit)
        fail(std::string(what) + ": " + std::to_string(m.size()) + " octets, more than " +
             std::to_string(limit));
    if (m[0] != query[0] || m[1] != query[1]) fail(std::string(what) + ": ID not echoed");
    if ((m[2] & 0x80) == 0) fail(std::string(what) + ": QR not set");
    if (get16(m, 4) > 1) fail(std::string(what) + ": more than one question");
}

zones::TsigRequest checkTsig(std::span<const uint8_t> q) {
    zones::TsigRecord found;
    const zones::TsigFind f = zones::findTsig(q, found);
    zones::TsigRequest req =
        zones::verifyTsigRequest(q, fuzzsupport::xfrKeys(), fuzzsupport::kXfrNow);
    using zones::TsigStatus;
    if ((f == zones::TsigFind::None) != (req.status == TsigStatus::Unsigned))
        fail("findTsig and verifyTsigRequest disagree on whether there is a TSIG");
    if ((f == zones::TsigFind::Malformed) && req.status != TsigStatus::Malformed)
        fail("a malformed TSIG was not judged malformed");
    if (f == zones::TsigFind::Found && (found.offset < 12 || found.offset >= q.size()))
        fail("TSIG found outside the message");
    if (req.status == TsigStatus::Failed) {
        using zones::TsigError;
        if (req.error != TsigError::BadKey && req.error != TsigError::BadSig &&
            req.error != TsigError::BadTime && req.error != TsigError::BadTrunc)
            fail("a failed TSIG without a TSIG error");
        if ((req.error == TsigError::BadKey) != (req.key == nullptr))
            fail("a failed TSIG names a key exactly when it is not BADKEY");
    }
    if (req.status != TsigStatus::Valid) return req;
    const zones::TsigRecord& t = req.record;
    if (!req.key || !(req.key->name == t.keyName)) fail("a valid TSIG without the key it names");
    if (t.mac.size() != zones::tsigMacSize(req.key->algorithm))
        fail("a valid TSIG with a MAC of the wrong length");
    if (t.error == 0 && t.other.empty()) {
        // Sign what the MAC covers again, as the client did: the same MAC must come out.
        std::vector<uint8_t> m(q.begin(), q.begin() + ptrdiff_t(t.offset));
        m[0] = uint8_t(t.originalId >> 8);
        m[1] = uint8_t(t.originalId);
        uint16_t ar = uint16_t(get16(q, 10) - 1);
        m[10] = uint8_t(ar >> 8);
        m[11] = uint8_t(ar);
        size_t size = m.size();
        m.resize(size + 1024);
        zones::TsigSigner signer(*req.key, {}, t.timeSigned, t.fudge);
        size = signer.sign(m.data(), size, m.size());
        if (size == 0 || signer.lastMac() != t.mac) fail("signing a valid request again differs");
    }
    return req;
}

// The UDP payload size the query's OPT advertises, if it has one.
std::optional<uint16_t> optPayload(std::span<const uint8_t> q) {
    if (q.size() < 12) return std::nullopt;
    size_t pos = 12;
    for (uint16_t i = 0; i < get16(q, 4); ++i) {
        if (!zones::readMessageName(q, pos) || pos + 4 > q.size()) return std::nullopt;
        pos += 4;
    }
    const uint32_t rrs = uint32_t(get16(q, 6)) + get16(q, 8) + get16(q, 10);
    for (uint32_t i = 0; i < rrs; ++i) {
        if (!zones::readMessageName(q, pos) || pos + 10 > q.size()) return std::nullopt;
        if (get16(q, pos) == kOpt) return get16(q, pos + 2);
        pos += 10 + get16(q, pos + 8);
    }
    return std::nullopt;
}

// Pulls a transfer to its end, checking every message.
void pumpTransfer(std::span<const uint8_t> q, dnsd::ZoneTransfer& transfer,
                  const zones::TsigRequest& tsig, std::vector<uint8_t>& out) {
    std::optional<zones::TsigVerifier> verifier;
    if (tsig.status == zones::TsigStatus::Valid) verifier.emplace(*tsig.key, tsig.record.mac);
    std::vector<uint16_t> types, answers;
    for (uint64_t i = 0;; ++i) {
        size_t n = transfer.next(out);
        if (n == 0) break;
        if (i == kMaxMessages) fail("a transfer that does not end");
        std::span<const uint8_t> m(out.data(), n);
        checkMessage(q, m, 65535, "transfer message");
        if ((m[3] & 0x0F) != 0 || (m[2] & 0x04) == 0)
            fail("transfer message " + std::to_string(i) + " not NOERROR and authoritative");
        if (get16(m, 4) != (i == 0 ? 1 : 0))
            fail("transfer message " + std::to_string(i) + ": the question only in the first");
        if (verifier && !verifier->verify(m, fuzzsupport::kXfrNow))
            fail("transfer message " + std::to_string(i) + " does not verify");
        if (!recordTypes(m, types)) fail("transfer message does not parse");
        answers.insert(answers.end(), types.begin(), types.begin() + get16(m, 6));
    }
    if (answers.size() < 2 || answers.front() != kSoa || answers.back() != kSoa ||
        std::count(answers.begin(), answers.end(), kSoa) != 2)
        fail("a transfer not opened and closed by the SOA alone");
    if (answers.size() != transfer.records() + 2)
        fail("a transfer sent " + std::to_string(answers.size()) + " records, says " +
             std::to_string(transfer.records()) + " + 2");
}

void run(std::span<const uint8_t> q, const zones::TsigRequest& tsig, dnsd::Transport t) {
    static const auto state = fuzzsupport::xfrWorld();
    static auto* scratch = new dnsd::Scratch();
    static const dnsd::EngineConfig config;
    static std::vector<uint8_t> out(65535);
    const bool tcp = t == dnsd::Transport::Tcp;
    // The UDP worker's buffer (udp_worker.cpp: the UDP maximum, at least 512).
    const size_t room = tcp ? 65535 : std::max<size_t>(config.maxUdpPayload, 512);
    // Over UDP, no more than the client said it takes (RFC 6891 §6.2.5: at least 512), and
    // no more than our maximum.
    const std::optional<uint16_t> payload = optPayload(q);
    const size_t limit =
        tcp ? 65535
            : std::min<size_t>(config.maxUdpPayload, std::max<size_t>(512, payload.value_or(512)));
    std::span<uint8_t> o(out.data(), room);
    const dnsd::Client client = fuzzsupport::xfrClient(t);
    dnsd::AnswerResult r =
        dnsd::answer(*state->zones, *state->pools, config, q, o, client, *scratch);
    const bool valid = tsig.status == zones::TsigStatus::Valid;
    if (r.action == dnsd::Action::Send) {
        if (r.tsig)
            r.size = dnsd::signAnswer(state->xfr.get(), q, o, r.size, r.questionSize,
                                      fuzzsupport::kXfrNow);
        std::span<const uint8_t> m(out.data(), r.size);
        checkMessage(q, m, limit, tcp ? "answer over TCP" : "answer over UDP");
        if (r.tsig && valid &&
            !zones::TsigVerifier(*tsig.key, tsig.record.mac).verify(m, fuzzsupport::kXfrNow))
            fail("the answer to a validly signed query does not verify");
        if (r.tsig && tsig.status == zones::TsigStatus::Failed &&
            (tsig.error == zones::TsigError::BadKey || tsig.error == zones::TsigError::BadSig) &&
            (m[3] & 0x0F) != 9)
            fail("BADKEY or BADSIG not answered NOTAUTH");
        return;
    }
    if (r.action != dnsd::Action::Transfer) return;
    dnsd::ZoneTransfer::Start s =
        dnsd::ZoneTransfer::begin(state, q, o, client, fuzzsupport::kXfrNow);
    if (s.transfer && s.size) fail("a transfer and a single response");
    if (s.transfer && tsig.status != zones::TsigStatus::Valid &&
        tsig.status != zones::TsigStatus::Unsigned)
        fail("a transfer for a request whose TSIG failed");
    if (s.size) {
        std::span<const uint8_t> m(out.data(), s.size);
        checkMessage(q, m, room, "transfer's single response");
        const uint8_t rcode = m[3] & 0x0F;
        const uint8_t want = s.outcome == dnsd::XfrOutcome::Refused   ? 5
                             : s.outcome == dnsd::XfrOutcome::NotAuth ? 9
                             : s.outcome == dnsd::XfrOutcome::FormErr ? 1
                                                                      : 0;
        if (rcode != want)
            fail(std::string("outcome ") + dnsd::xfrOutcomeName(s.outcome) + " with RCODE " +
                 std::to_string(rcode));
        if (valid &&
            !zones::TsigVerifier(*tsig.key, tsig.record.mac).verify(m, fuzzsupport::kXfrNow))
            fail("the single response to a validly signed request does not verify");
    } else if (!s.transfer) {
        fail("neither a response nor a transfer");
    }
    if (s.transfer && tcp) pumpTransfer(q, *s.transfer, tsig, out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> q(data, size);
    zones::TsigRequest tsig = checkTsig(q);
    run(q, tsig, dnsd::Transport::Udp);
    run(q, tsig, dnsd::Transport::Tcp);
    return 0;
}
