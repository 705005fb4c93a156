#include "tests/support/ldns_zone_signer.hpp"

// stdbool first: without it ldns/common.h #defines true/false as the ints 1/0 in C++.
#include <stdbool.h>
// clang-format off
#include <ldns/ldns.h>
// clang-format on

#include <cctype>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "tests/support/run_command.hpp"

namespace testsupport {
namespace {

using RrPtr = std::unique_ptr<ldns_rr, decltype(&ldns_rr_free)>;

RrPtr parseRr(const std::string& text) {
    ldns_rr* rr = nullptr;
    ldns_status st = ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr);
    if (st != LDNS_STATUS_OK) {
        throw std::runtime_error("cannot parse RR '" + text + "': " + ldns_get_errorstr_by_id(st));
    }
    return RrPtr(rr, ldns_rr_free);
}

std::string rdfText(const ldns_rdf* rdf) {
    char* s = ldns_rdf2str(rdf);
    std::string out = s ? s : "";
    free(s);
    return out;
}

std::string ldnsLower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
    return s;
}

CommandResult mustRun(const std::string& program, const std::vector<std::string>& args) {
    CommandResult r = runCommand(program, args);
    if (!r.ok()) {
        throw std::runtime_error(r.command + " failed (exit " + std::to_string(r.exitCode) +
                                 "): " + r.err + r.out);
    }
    return r;
}

// ldns-keygen writes its files into the current directory, which for a test is the build
// dir shared by parallel runs: run it inside our own dir instead.
std::string generateKey(const TempDir& dir, const std::string& origin, bool ksk) {
    std::string script = std::string("cd \"$0\" && exec ldns-keygen -a ECDSAP256SHA256 ") +
                         (ksk ? "-k " : "") + "\"$1\"";
    CommandResult r = mustRun("sh", {"-c", script, dir.path().string(), origin});
    std::string base = trimmed(r.out);
    if (base.empty() || base.find('\n') != std::string::npos) {
        throw std::runtime_error("ldns-keygen printed no single key name: " + r.out);
    }
    return dir.file(base);
}

}  // namespace

std::string readTextFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

LdnsZoneSigner::LdnsZoneSigner(std::string origin)
    : origin_(std::move(origin)), dir_("dnsd-signer") {
    kskBase_ = generateKey(dir_, origin_, true);
    zskBase_ = generateKey(dir_, origin_, false);
    kskTag_ = keyTagOf(kskDnskey());
    zskTag_ = keyTagOf(zskDnskey());
    ds_ = trimmed(mustRun("ldns-key2ds", {"-n", "-2", kskBase_ + ".key"}).out);
}

std::string LdnsZoneSigner::kskDnskey() const {
    return trimmed(readTextFile(kskBase_ + ".key"));
}

std::string LdnsZoneSigner::zskDnskey() const {
    return trimmed(readTextFile(zskBase_ + ".key"));
}

std::string LdnsZoneSigner::sign(const std::string& zoneFile, const std::string& outName,
                                 const SignOptions& options) const {
    std::string out = dir_.file(outName);
    std::vector<std::string> args = {"-o", origin_, "-f", out};
    if (options.inception) args.insert(args.end(), {"-i", *options.inception});
    if (options.expiration) args.insert(args.end(), {"-e", *options.expiration});
    args.insert(args.end(), {zoneFile, kskBase_, zskBase_});
    mustRun("ldns-signzone", args);
    return out;
}

std::string tamperRrsig(const std::string& zoneText, const std::string& owner,
                        const std::string& type) {
    std::istringstream in(zoneText);
    std::string out;
    bool done = false;
    const std::string wantOwner = ldnsLower(owner);
    for (std::string line; std::getline(in, line);) {
        if (!done && !line.empty() && line[0] != ';') {
            ldns_rr* raw = nullptr;
            if (ldns_rr_new_frm_str(&raw, line.c_str(), 0, nullptr, nullptr) == LDNS_STATUS_OK) {
                RrPtr rr(raw, ldns_rr_free);
                if (ldns_rr_get_type(rr.get()) == LDNS_RR_TYPE_RRSIG &&
                    ldnsLower(rdfText(ldns_rr_owner(rr.get()))) == wantOwner &&
                    rdfText(ldns_rr_rrsig_typecovered(rr.get())) == type) {
                    // The signature is the last field, in base64; swap one of its characters
                    // for another base64 digit so the line still parses.
                    size_t sig = line.find_last_of(" \t") + 1;
                    size_t at = sig + 10;
                    if (at >= line.size()) throw std::runtime_error("short RRSIG: " + line);
                    line[at] = line[at] == 'A' ? 'B' : 'A';
                    done = true;
                }
            }
        }
        out += line + "\n";
    }
    if (!done) throw std::runtime_error("no RRSIG " + type + " at " + owner + " to tamper with");
    return out;
}

std::string delvTrustAnchorEntry(const std::string& text) {
    RrPtr rr = parseRr(text);
    std::string fieldsText;
    ldns_rr_type t = ldns_rr_get_type(rr.get());
    if (t != LDNS_RR_TYPE_DS && t != LDNS_RR_TYPE_DNSKEY) {
        throw std::runtime_error("a trust anchor must be a DS or DNSKEY RR: " + text);
    }
    // The last field (digest or public key) is quoted; ldns prints it without spaces.
    size_t n = ldns_rr_rd_count(rr.get());
    for (size_t i = 0; i + 1 < n; ++i) fieldsText += rdfText(ldns_rr_rdf(rr.get(), i)) + " ";
    fieldsText += "\"" + rdfText(ldns_rr_rdf(rr.get(), n - 1)) + "\"";
    return "\"" + rdfText(ldns_rr_owner(rr.get())) + "\" " +
           (t == LDNS_RR_TYPE_DS ? "static-ds " : "static-key ") + fieldsText + ";";
}

uint16_t keyTagOf(const std::string& text) {
    RrPtr rr = parseRr(text);
    if (ldns_rr_get_type(rr.get()) == LDNS_RR_TYPE_DNSKEY) return ldns_calc_keytag(rr.get());
    if (ldns_rr_get_type(rr.get()) == LDNS_RR_TYPE_DS) {
        return ldns_rdf2native_int16(ldns_rr_rdf(rr.get(), 0));
    }
    throw std::runtime_error("not a DNSKEY or DS RR: " + text);
}

}  // namespace testsupport
