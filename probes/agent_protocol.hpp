// probes agent protocol — what a remote probe agent and the controller say to each other, and
// how every request and response is authenticated (probes/README.md "Agents").
//
// Contract: HTTP/1.1 over TCP, JSON bodies (nlohmann-json). Two requests, both from the agent:
//   GET  /v1/config  -> AgentConfig (what to probe)
//   POST /v1/report  (AgentReport) -> AgentReply (the current config version, so the agent
//                                     refetches the config within one report period)
// Every request carries X-Dnsd-Vantage (the agent's name), X-Dnsd-Time (the agent's clock, ms
// since 1970, strictly increasing per agent: the replay guard) and X-Dnsd-Signature, an
// HMAC-SHA256 with the vantage's key over a canonical text of method, target, vantage, time and
// body. Every 200 response carries X-Dnsd-Time (controller clock) and X-Dnsd-Signature, an
// HMAC over the request's signature, status, time and body, so an agent only acts on what its
// controller sent. Signatures are base64. Decoders throw std::runtime_error on malformed JSON
// or missing fields (control path).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zones/probe_store.hpp"

namespace probes {

inline constexpr const char* kAgentConfigPath = "/v1/config";
inline constexpr const char* kAgentReportPath = "/v1/report";
inline constexpr const char* kVantageHeader = "X-Dnsd-Vantage";
inline constexpr const char* kTimeHeader = "X-Dnsd-Time";
inline constexpr const char* kSignatureHeader = "X-Dnsd-Signature";

// One (member, probe) pair to check. `probe` carries every field of the definition.
struct AgentCheck {
    int64_t memberId = 0, probeId = 0;
    std::string member;  // the member's value (address or name)
    zones::ProbeDef probe;
};

struct AgentConfig {
    std::string version;  // opaque; changes whenever any check changes
    int reportMs = 1000;  // send a report at least this often, even an empty one (liveness)
    std::vector<AgentCheck> checks;
};

// One check result, timed by the agent's clock.
struct AgentResult {
    int64_t memberId = 0, probeId = 0;
    int64_t at = 0;  // ms since 1970, agent clock, when the check finished
    bool ok = false;
    int64_t latencyUs = 0;
    std::string message;
};

struct AgentReport {
    std::string configVersion;         // the config the agent runs
    uint64_t dropped = 0;              // results dropped from its full buffer since it started
    std::string version, host;         // dnsd-probe version, host name
    std::vector<AgentResult> results;  // oldest first
};

struct AgentReply {
    std::string configVersion;  // the controller's current config
};

std::string encodeConfig(const AgentConfig& config);
AgentConfig decodeConfig(std::string_view json);
std::string encodeReport(const AgentReport& report);
AgentReport decodeReport(std::string_view json);
std::string encodeReply(const AgentReply& reply);
AgentReply decodeReply(std::string_view json);

using AgentKey = std::vector<uint8_t>;

// Both throw std::invalid_argument if a field before the body holds a line break (the
// canonical text would be ambiguous); HTTP request lines and headers cannot carry one.
std::string requestSignature(std::span<const uint8_t> key, std::string_view method,
                             std::string_view target, std::string_view vantage, int64_t time,
                             std::string_view body);
std::string responseSignature(std::span<const uint8_t> key, std::string_view requestSignature,
                              int status, int64_t time, std::string_view body);
// Constant-time comparison of two signatures.
bool sameSignature(std::string_view a, std::string_view b);

// Reads a key file: the base64 key `dnsctl vantage add` printed, surrounding whitespace
// ignored. Throws naming the file if it cannot be read, is not base64, is shorter than 16
// bytes, or can be read by others than its owner and group (it is a secret).
AgentKey readKeyFile(const std::string& path);

}  // namespace probes
