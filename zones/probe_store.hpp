// zones::ProbeStore — probe definitions in the database, shared by dnsctl and dnsd-probe.
//
// Contract: every definition that reaches the probes table went through `validate`, which
// throws std::runtime_error with one message naming the bad field (unknown type, zero or
// too short interval, timeout not below the interval, missing port, ...). Writers record an
// event for every change. Callers own the transaction: a throw before commit changes nothing.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zones {

struct ProbeDef {
    int64_t id = 0;
    std::string name;
    std::string type;  // tcp | http | https | dns | icmp | exec
    std::optional<int> port;
    int intervalMs = 1000;
    int timeoutMs = 500;
    int rise = 2;
    int fall = 2;
    std::string target;  // host:port or URL checked on the member's behalf ("" = the member)
    std::string method = "GET";
    std::string path = "/";
    std::string hostHeader;
    std::string userAgent;
    std::string headers;  // "Name: value" lines separated by '\n'
    std::string expect = "200-399";
    std::string body;  // required substring of the response body ("" = none)
    std::string sni;
    bool verify = true;
    std::string query;  // dns: the name asked
    int qtype = 1;
    std::string command;  // exec
    int64_t updatedAt = 0;

    // The port used when neither the probe nor its target names one (0 = none).
    int effectivePort() const;
    // The timeout a probe gets when none is given: 500 ms, or half a shorter interval, so a
    // short interval does not trip over the default.
    static int defaultTimeoutMs(int intervalMs);
};

class ProbeStore {
  public:
    explicit ProbeStore(SQLite::Database& db) : db_(db) {}

    static void validate(const ProbeDef& probe);
    int64_t create(const ProbeDef& probe);
    void update(const ProbeDef& probe);  // by id
    void remove(const std::string& name);
    std::optional<ProbeDef> find(const std::string& name);
    std::vector<ProbeDef> list();

  private:
    SQLite::Database& db_;
};

// "100ms", "1s", "1.5s", "2m", "1h", or plain milliseconds; throws on anything else.
int64_t parseDurationMs(const std::string& text);
std::string formatDurationMs(int64_t ms);
// Expected HTTP status list like "200-399" or "200,204,301-302": validate, and match.
bool validStatusRanges(const std::string& expect);
bool statusMatches(const std::string& expect, int status);

}  // namespace zones
