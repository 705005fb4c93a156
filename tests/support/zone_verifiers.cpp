#include "tests/support/zone_verifiers.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/ldns_zone_signer.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"

namespace testsupport {
namespace {

VerifierResult run(const std::string& tool, const std::vector<std::string>& args) {
    CommandResult r = runCommand(tool, args, {}, std::chrono::seconds(120));
    return {tool, r.ok(), r.out + r.err, r.command};
}

}  // namespace

VerifierResult ldnsVerifyZone(const std::string& zoneFile) {
    return run("ldns-verify-zone", {zoneFile});
}

VerifierResult bindDnssecVerify(const std::string& zoneFile, const std::string& origin) {
    return run("dnssec-verify", {"-o", origin, zoneFile});
}

VerifierResult knotZoneCheck(const std::string& zoneFile, const std::string& origin) {
    return run("kzonecheck", {"-d", "on", "-o", origin, zoneFile});
}

std::vector<VerifierResult> verifyZoneWithAll(const std::string& zoneFile,
                                              const std::string& origin) {
    return {ldnsVerifyZone(zoneFile), bindDnssecVerify(zoneFile, origin),
            knotZoneCheck(zoneFile, origin)};
}

DelvResult delv(uint16_t port, const std::vector<std::string>& trustAnchors,
                const std::string& name, const std::string& type, const std::string& address) {
    if (trustAnchors.empty()) throw std::runtime_error("delv needs at least one trust anchor");
    TempDir dir("dnsd-delv");
    std::string anchors = "trust-anchors {\n";
    std::string anchorName;
    for (const auto& rr : trustAnchors) {
        std::string entry = delvTrustAnchorEntry(rr);
        anchors += "  " + entry + "\n";
        anchorName = entry.substr(1, entry.find('"', 1) - 1);
    }
    anchors += "};\n";
    std::string file = dir.writeFile("anchors.conf", anchors);
    // +root names the anchor validation starts from; without it delv wants the root's key.
    CommandResult r = runCommand(
        "delv",
        {"-a", file, "+root=" + anchorName, "@" + address, "-p", std::to_string(port), name, type},
        {}, std::chrono::seconds(60));
    DelvResult out;
    out.output = r.out + r.err;
    out.command = r.command;
    // delv prints "; fully validated" or "; negative response, fully validated" on success,
    // and "; validation failed" / "resolution failed: ..." (not for ncache) on failure.
    bool validated = out.output.find("fully validated") != std::string::npos;
    bool failed = out.output.find("validation failed") != std::string::npos ||
                  out.output.find("broken trust chain") != std::string::npos ||
                  out.output.find("unsigned answer") != std::string::npos;
    out.fullyValidated = r.ok() && validated && !failed;
    return out;
}

size_t axfrToFile(const std::string& zone, uint16_t port, const std::string& outPath,
                  const std::string& address) {
    CommandResult r = runCommand("dig",
                                 {"@" + address, "-p", std::to_string(port), "AXFR", zone,
                                  "+onesoa", "+nocmd", "+nostats", "+nocomments"},
                                 {}, std::chrono::seconds(60));
    // dig exits 0 even when the transfer is refused; a transfer has the SOA and something more.
    std::istringstream in(r.out);
    std::string text;
    size_t count = 0;
    bool sawSoa = false;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == ';') continue;
        if (!sawSoa && line.find("\tSOA\t") != std::string::npos) sawSoa = true;
        text += line + "\n";
        ++count;
    }
    if (!r.ok() || !sawSoa || count < 2) {
        throw std::runtime_error(r.command + ": no zone transferred: " + r.out + r.err);
    }
    std::ofstream out(outPath, std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + outPath);
    return count;
}

}  // namespace testsupport
