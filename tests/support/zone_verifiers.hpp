// testsupport zone verifiers — three independent DNSSEC zone checkers run on a zone file, a
// `delv` wrapper that validates one answer from a server, and an AXFR into a zone file (how a
// test gets "the zone the server serves" to verify).
//
// Contract: each verifier runs the real tool once on `zoneFile` for `origin`, at the current
// time, and returns ok (exit status 0) plus everything it printed; a missing tool throws
// (install-deps installs all of them):
//   - ldnsVerifyZone: `ldns-verify-zone FILE` (ldnsutils): every RRset signed, every
//     signature valid now, NSEC chain complete;
//   - bindDnssecVerify: `dnssec-verify -o ORIGIN FILE` (bind9): fully signed per algorithm,
//     DNSKEY self-signed by a KSK, NSEC chain;
//   - knotZoneCheck: `kzonecheck -d on -o ORIGIN FILE` (knot-dnssecutils): Knot's semantic
//     checks plus DNSSEC (signatures, NSEC).
// delv asks `@127.0.0.1 -p PORT` with the given trust anchors (DS or DNSKEY RRs, written to a
// `trust-anchors { }` file for -a) and `+root=ANCHOR-NAME`, so validation starts at the zone and
// never needs the real root; fullyValidated is true only when delv says "fully validated"
// (positive or negative answer) and reports no failure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace testsupport {

struct VerifierResult {
    std::string tool;  // "ldns-verify-zone", "dnssec-verify", "kzonecheck"
    bool ok = false;
    std::string output;  // stdout and stderr, for assertion messages
    std::string command;
};

VerifierResult ldnsVerifyZone(const std::string& zoneFile);
VerifierResult bindDnssecVerify(const std::string& zoneFile, const std::string& origin);
VerifierResult knotZoneCheck(const std::string& zoneFile, const std::string& origin);
// All three, in the order above.
std::vector<VerifierResult> verifyZoneWithAll(const std::string& zoneFile,
                                              const std::string& origin);

struct DelvResult {
    bool fullyValidated = false;
    std::string output;
    std::string command;
};

DelvResult delv(uint16_t port, const std::vector<std::string>& trustAnchors,
                const std::string& name, const std::string& type,
                const std::string& address = "127.0.0.1");

// AXFR of `zone` from address:port with dig, written to `outPath` as a zone file (one SOA, at
// the top); returns the number of RRs. Throws with dig's output when the transfer fails.
size_t axfrToFile(const std::string& zone, uint16_t port, const std::string& outPath,
                  const std::string& address = "127.0.0.1");

}  // namespace testsupport
