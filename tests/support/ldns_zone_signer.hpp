// testsupport::LdnsZoneSigner — the reference signer for DNSSEC tests: a KSK and a ZSK made by
// `ldns-keygen` (ECDSAP256SHA256, algorithm 13), zones signed by `ldns-signzone` (NSEC), and the
// DS the parent would publish, from `ldns-key2ds` (SHA-256).
//
// Contract: the constructor generates both keys for `origin` in its own temp dir (removed with
// the signer) and throws with the tool's stderr if that fails. sign() writes a signed copy of a
// zone file into that dir and returns its path; the optional inception/expiration ("YYYYMMDD"
// or "YYYYMMDDhhmmss", UTC, or seconds since the epoch) are passed to ldns-signzone as given, so
// a test can make expired or not-yet-valid signatures. Every zone signed by one signer shares
// its keys, so one trust anchor (dsRecord()) covers them all.
//
// Plus text helpers for negative controls (tamperRrsig) and for trust anchors in the forms
// delv and Unbound read (any DS or DNSKEY RR, e.g. the lines `dnsctl dnssec ds` prints).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace testsupport {

struct SignOptions {
    std::optional<std::string> inception;   // ldns-signzone -i (default: now)
    std::optional<std::string> expiration;  // ldns-signzone -e (default: now + 4 weeks)
};

class LdnsZoneSigner {
  public:
    explicit LdnsZoneSigner(std::string origin);

    const std::string& origin() const { return origin_; }
    // Signs `zoneFile` (whose origin is origin()) into dir()/outName; returns the path.
    std::string sign(const std::string& zoneFile, const std::string& outName,
                     const SignOptions& options = {}) const;
    // The KSK's DS (digest type 2, SHA-256) as one RR line: "origin. 3600 IN DS tag 13 2 hex".
    const std::string& dsRecord() const { return ds_; }
    // The KSK's and ZSK's DNSKEY RRs, one line each.
    std::string kskDnskey() const;
    std::string zskDnskey() const;
    uint16_t kskTag() const { return kskTag_; }
    uint16_t zskTag() const { return zskTag_; }
    const TempDir& dir() const { return dir_; }

  private:
    std::string origin_;
    TempDir dir_;
    std::string kskBase_;  // key file path without .key/.private
    std::string zskBase_;
    uint16_t kskTag_ = 0;
    uint16_t zskTag_ = 0;
    std::string ds_;
};

// Returns `zoneText` with one byte of the signature of the RRSIG at `owner` covering `type`
// changed (the record still parses; only the cryptography fails). Throws if there is none.
std::string tamperRrsig(const std::string& zoneText, const std::string& owner,
                        const std::string& type);

// One trust anchor RR (DS or DNSKEY, presentation form) parsed: delv's `trust-anchors { }`
// entry for it ("name" static-ds|static-key ...;). Throws on anything else.
std::string delvTrustAnchorEntry(const std::string& rr);

// The key tag of a DNSKEY or DS RR given as text (throws if it is neither).
uint16_t keyTagOf(const std::string& rr);

std::string readTextFile(const std::string& path);

}  // namespace testsupport
