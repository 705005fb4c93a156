// zones::ZoneSigner — signs one zone (RFC 4033-4035, NSEC): what dnsd serves for a signed zone.
//
//     ZoneSigner signer(apex, policy, keys);
//     auto zone = signer.build(records, pools, generation, previousSignedSnapshot);
//     auto sigs = signer.signRRset(owner, rrtype::A, ttl, rdatas);   // a pool's answer
//
// Contract: all signatures are made here, when a snapshot or a pool table is built, never per
// query (DESIGN.md). `build` drops whatever DNSSEC records the stored zone carries (RRSIG,
// NSEC, NSEC3, NSEC3PARAM anywhere; DNSKEY, CDS, CDNSKEY at the apex) and adds its own: the
// DNSKEY RRset, CDS/CDNSKEY (RFC 7344; the delete form of RFC 8078 while going insecure),
// one NSEC per authoritative name (TTL per RFC 9077), and an RRSIG per authoritative RRset
// and signing key: DNSKEY/CDS/CDNSKEY by the KSKs, the rest by the ZSKs. Delegations sign
// only their DS and NSEC; glue and empty non-terminals are never signed (no NSEC either).
// Pool RRsets are not in the zone: `signRRset` signs each decision's answer.
//
// Signature times come from the policy's epoch, not from the clock: inception = epoch - 1 h,
// expiration = epoch + validity + a per-RRset jitter of up to validity/16 (RFC 6781 §4.4.2.2),
// so rebuilding the same data with the same epoch gives the same RRSIG headers, and `build`
// reuses the previous snapshot's signature for every RRset that did not change (ECDSA
// signatures are randomised, so signing again would make every RRSIG differ and cost the
// whole zone's signing time for a one-record change). A new epoch re-signs everything.
// Signing is spread over the machine's cores. Throws std::runtime_error if OpenSSL fails.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "zones/name.hpp"
#include "zones/record_batch.hpp"
#include "zones/signing_key.hpp"
#include "zones/zone_snapshot.hpp"

namespace zones {

struct SigningPolicy {
    uint32_t dnskeyTtl = 3600;
    uint32_t validity = 14 * 86400;
    int64_t epoch = 0;       // Unix seconds (see above)
    bool unsigning = false;  // publish the CDS/CDNSKEY delete records (RFC 8078 §4)
};

struct ZoneKey {
    std::shared_ptr<const SigningKey> key;
    bool publish = true;  // in the DNSKEY RRset
    bool sign = true;     // makes signatures
    bool cds = false;     // published as CDS and CDNSKEY (the key the parent should have)
};

class ZoneSigner {
  public:
    ZoneSigner(Name apex, SigningPolicy policy, std::vector<ZoneKey> keys);

    std::shared_ptr<const ZoneSnapshot> build(const RecordBatch& records,
                                              std::vector<PoolBinding> pools, uint64_t generation,
                                              const ZoneSnapshot* previous) const;

    // The signed zone after a change that touched only `owners` (canonical wire keys), where
    // `records` holds every stored record now at those owners: re-signs only the RRsets that
    // changed (a pool decision's SOA serial bump re-signs the SOA alone). nullptr when the
    // change adds or removes a name or changes a name's types (the NSEC chain moves), or
    // `base` was signed with other keys or times: build then.
    std::shared_ptr<const ZoneSnapshot> patch(const ZoneSnapshot& base,
                                              const std::vector<std::string>& owners,
                                              const RecordBatch& records,
                                              uint64_t generation) const;

    // The RRSIG RDATAs of one RRset at `owner` (canonical wire), one per signing ZSK.
    std::vector<std::vector<uint8_t>> signRRset(
        std::string_view owner, uint16_t type, uint32_t ttl,
        const std::vector<std::span<const uint8_t>>& rdatas) const;

    // Everything signatures depend on besides the data (keys, their roles, epoch, validity):
    // equal fingerprints mean reusable signatures.
    const std::string& fingerprint() const { return fingerprint_; }
    const Name& apex() const { return apex_; }
    const SigningPolicy& policy() const { return policy_; }

  private:
    struct Times {
        uint32_t inception, expiration;
    };
    Times times(std::string_view owner, uint16_t type) const;
    // The RRSIG RDATA up to the signature, for `key` over an RRset at `owner`.
    void rrsigHeader(std::string_view owner, uint16_t type, uint32_t ttl, const SigningKey& key,
                     std::vector<uint8_t>& out) const;
    const std::vector<const SigningKey*>& signersFor(uint16_t type, bool atApex) const;
    // Appends `previous`'s signature when the RRset and the RRSIG header are the same there.
    bool reuseSignature(const ZoneSnapshot& previous, std::string_view owner, uint16_t type,
                        uint32_t ttl, const std::vector<std::span<const uint8_t>>& rdatas,
                        const std::vector<uint8_t>& header,
                        std::vector<std::span<const uint8_t>>& scratch, RecordBatch& out) const;
    // DNSKEY, CDS and CDNSKEY at the apex.
    void addApexRecords(RecordBatch& input) const;

    Name apex_;
    SigningPolicy policy_;
    std::vector<ZoneKey> keys_;
    std::vector<const SigningKey*> zsks_, ksks_;
    std::string fingerprint_;
};

}  // namespace zones
