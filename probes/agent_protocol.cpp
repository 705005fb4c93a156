#include "probes/agent_protocol.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/fd.hpp"
#include "zones/tsig.hpp"

namespace probes {

namespace {

using Json = nlohmann::json;

std::string dump(const Json& j) {
    // A probe's message can hold any bytes a backend sent: replace invalid UTF-8, never throw.
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json parse(std::string_view text, const char* what) {
    try {
        Json j = Json::parse(text.begin(), text.end());
        if (!j.is_object()) throw std::runtime_error("not a JSON object");
        return j;
    } catch (const Json::exception& e) {
        throw std::runtime_error(std::string("malformed agent ") + what + ": " + e.what());
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string("malformed agent ") + what + ": " + e.what());
    }
}

// A required field of the right type; the message names the field and what it is part of.
template <typename T>
T field(const Json& j, const char* key, const char* what) {
    auto it = j.find(key);
    if (it == j.end())
        throw std::runtime_error(std::string("malformed agent ") + what + ": missing field '" +
                                 key + "'");
    try {
        return it->get<T>();
    } catch (const Json::exception&) {
        throw std::runtime_error(std::string("malformed agent ") + what + ": field '" + key +
                                 "' has the wrong type (" + it->type_name() + ")");
    }
}

const Json& arrayField(const Json& j, const char* key, const char* what) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_array())
        throw std::runtime_error(std::string("malformed agent ") + what + ": field '" + key +
                                 "' missing or not an array");
    return *it;
}

const Json& objectField(const Json& j, const char* key, const char* what) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_object())
        throw std::runtime_error(std::string("malformed agent ") + what + ": field '" + key +
                                 "' missing or not an object");
    return *it;
}

// Every field of the definition: the agent runs exactly what the controller would.
Json probeJson(const zones::ProbeDef& p) {
    return Json{{"id", p.id},
                {"name", p.name},
                {"type", p.type},
                {"port", p.port ? Json(*p.port) : Json(nullptr)},
                {"interval_ms", p.intervalMs},
                {"timeout_ms", p.timeoutMs},
                {"rise", p.rise},
                {"fall", p.fall},
                {"target", p.target},
                {"method", p.method},
                {"path", p.path},
                {"host_header", p.hostHeader},
                {"user_agent", p.userAgent},
                {"headers", p.headers},
                {"expect", p.expect},
                {"body", p.body},
                {"sni", p.sni},
                {"verify", p.verify},
                {"query", p.query},
                {"qtype", p.qtype},
                {"command", p.command},
                {"updated_at", p.updatedAt}};
}

zones::ProbeDef probeFromJson(const Json& j) {
    const char* what = "config (probe)";
    zones::ProbeDef p;
    p.id = field<int64_t>(j, "id", what);
    p.name = field<std::string>(j, "name", what);
    p.type = field<std::string>(j, "type", what);
    auto port = j.find("port");
    if (port == j.end())
        throw std::runtime_error("malformed agent config (probe): missing field 'port'");
    if (!port->is_null()) p.port = field<int>(j, "port", what);
    p.intervalMs = field<int>(j, "interval_ms", what);
    p.timeoutMs = field<int>(j, "timeout_ms", what);
    p.rise = field<int>(j, "rise", what);
    p.fall = field<int>(j, "fall", what);
    p.target = field<std::string>(j, "target", what);
    p.method = field<std::string>(j, "method", what);
    p.path = field<std::string>(j, "path", what);
    p.hostHeader = field<std::string>(j, "host_header", what);
    p.userAgent = field<std::string>(j, "user_agent", what);
    p.headers = field<std::string>(j, "headers", what);
    p.expect = field<std::string>(j, "expect", what);
    p.body = field<std::string>(j, "body", what);
    p.sni = field<std::string>(j, "sni", what);
    p.verify = field<bool>(j, "verify", what);
    p.query = field<std::string>(j, "query", what);
    p.qtype = field<int>(j, "qtype", what);
    p.command = field<std::string>(j, "command", what);
    p.updatedAt = field<int64_t>(j, "updated_at", what);
    return p;
}

std::string hmacBase64(std::span<const uint8_t> key, const std::string& text) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), int(key.size()),
              reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &len))
        throw std::runtime_error("HMAC-SHA256 failed (OpenSSL)");
    return zones::base64Encode(std::span<const uint8_t>(mac, len));
}

void oneLine(std::string_view field, const char* what) {
    if (field.find('\n') != std::string_view::npos)
        throw std::invalid_argument(std::string("agent signature: line break in the ") + what);
}

}  // namespace

std::string encodeConfig(const AgentConfig& config) {
    Json checks = Json::array();
    for (const auto& c : config.checks)
        checks.push_back({{"member_id", c.memberId},
                          {"probe_id", c.probeId},
                          {"member", c.member},
                          {"probe", probeJson(c.probe)}});
    return dump({{"version", config.version}, {"report_ms", config.reportMs}, {"checks", checks}});
}

AgentConfig decodeConfig(std::string_view json) {
    const char* what = "config";
    Json j = parse(json, what);
    AgentConfig c;
    c.version = field<std::string>(j, "version", what);
    c.reportMs = field<int>(j, "report_ms", what);
    if (c.reportMs <= 0)
        throw std::runtime_error("malformed agent config: report_ms must be positive");
    for (const auto& item : arrayField(j, "checks", what)) {
        if (!item.is_object())
            throw std::runtime_error("malformed agent config: a check is not an object");
        AgentCheck check;
        check.memberId = field<int64_t>(item, "member_id", what);
        check.probeId = field<int64_t>(item, "probe_id", what);
        check.member = field<std::string>(item, "member", what);
        check.probe = probeFromJson(objectField(item, "probe", what));
        c.checks.push_back(std::move(check));
    }
    return c;
}

std::string encodeReport(const AgentReport& report) {
    Json results = Json::array();
    for (const auto& r : report.results)
        results.push_back({{"member_id", r.memberId},
                           {"probe_id", r.probeId},
                           {"at", r.at},
                           {"ok", r.ok},
                           {"latency_us", r.latencyUs},
                           {"message", r.message}});
    return dump({{"config_version", report.configVersion},
                 {"dropped", report.dropped},
                 {"version", report.version},
                 {"host", report.host},
                 {"results", results}});
}

AgentReport decodeReport(std::string_view json) {
    const char* what = "report";
    Json j = parse(json, what);
    AgentReport r;
    r.configVersion = field<std::string>(j, "config_version", what);
    r.dropped = field<uint64_t>(j, "dropped", what);
    r.version = field<std::string>(j, "version", what);
    r.host = field<std::string>(j, "host", what);
    const Json& results = arrayField(j, "results", what);
    r.results.reserve(results.size());
    for (const auto& item : results) {
        if (!item.is_object())
            throw std::runtime_error("malformed agent report: a result is not an object");
        AgentResult res;
        res.memberId = field<int64_t>(item, "member_id", what);
        res.probeId = field<int64_t>(item, "probe_id", what);
        res.at = field<int64_t>(item, "at", what);
        res.ok = field<bool>(item, "ok", what);
        res.latencyUs = field<int64_t>(item, "latency_us", what);
        res.message = field<std::string>(item, "message", what);
        r.results.push_back(std::move(res));
    }
    return r;
}

std::string encodeReply(const AgentReply& reply) {
    return dump({{"config_version", reply.configVersion}});
}

AgentReply decodeReply(std::string_view json) {
    Json j = parse(json, "reply");
    AgentReply r;
    r.configVersion = field<std::string>(j, "config_version", "reply");
    return r;
}

// The canonical texts: one field per line, the body last and taken whole. A line break in any
// other field would make two requests share a text, so it is refused (an HTTP request line or
// header cannot carry one anyway); the time and status are numbers. The first line names the
// direction and version, so a request's signature can never pass as a response's.
std::string requestSignature(std::span<const uint8_t> key, std::string_view method,
                             std::string_view target, std::string_view vantage, int64_t time,
                             std::string_view body) {
    oneLine(method, "method");
    oneLine(target, "target");
    oneLine(vantage, "vantage");
    std::string text;
    text.reserve(64 + method.size() + target.size() + vantage.size() + body.size());
    text.append("dnsd-agent-v1\n")
        .append(method)
        .append("\n")
        .append(target)
        .append("\n")
        .append(vantage)
        .append("\n")
        .append(std::to_string(time))
        .append("\n")
        .append(body);
    return hmacBase64(key, text);
}

std::string responseSignature(std::span<const uint8_t> key, std::string_view requestSignature,
                              int status, int64_t time, std::string_view body) {
    oneLine(requestSignature, "request signature");
    std::string text;
    text.reserve(64 + requestSignature.size() + body.size());
    text.append("dnsd-controller-v1\n")
        .append(requestSignature)
        .append("\n")
        .append(std::to_string(status))
        .append("\n")
        .append(std::to_string(time))
        .append("\n")
        .append(body);
    return hmacBase64(key, text);
}

bool sameSignature(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

AgentKey readKeyFile(const std::string& path) {
    common::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid())
        throw std::runtime_error("key file " + path + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw std::runtime_error("key file " + path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw std::runtime_error("key file " + path + ": not a file");
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
        throw std::runtime_error("key file " + path + ": mode " + mode +
                                 " lets every user on this host read or change the secret; "
                                 "make it 0600 or 0640 (chmod 600 " +
                                 path + ")");
    }
    // A key is 44 characters of base64 (32 bytes); anything much larger is not a key file.
    constexpr size_t kMaxBytes = 4096;
    std::string text;
    char buf[1024];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("key file " + path + ": cannot read: " + std::strerror(errno));
        }
        if (n == 0) break;
        text.append(buf, size_t(n));
        if (text.size() > kMaxBytes)
            throw std::runtime_error("key file " + path +
                                     ": too large for a key (want the base64 key that "
                                     "`dnsctl vantage add` printed)");
    }
    auto key = zones::base64Decode(text);
    if (!key)
        throw std::runtime_error("key file " + path +
                                 ": not a base64 key (want the key that `dnsctl vantage add` "
                                 "printed)");
    if (key->size() < 16)
        throw std::runtime_error("key file " + path + ": key too short (" +
                                 std::to_string(key->size()) + " bytes, want at least 16)");
    return *key;
}

}  // namespace probes
