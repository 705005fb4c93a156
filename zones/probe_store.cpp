#include "zones/probe_store.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "zones/pool_store.hpp"
#include "zones/schema.hpp"

namespace zones {
namespace {

std::string columnText(SQLite::Statement& q, int i) {
    return q.getColumn(i).isNull() ? std::string() : q.getColumn(i).getString();
}

ProbeDef readProbe(SQLite::Statement& q) {
    ProbeDef p;
    p.id = q.getColumn(0).getInt64();
    p.name = q.getColumn(1).getString();
    p.type = q.getColumn(2).getString();
    if (!q.getColumn(3).isNull()) p.port = q.getColumn(3).getInt();
    p.intervalMs = q.getColumn(4).getInt();
    p.timeoutMs = q.getColumn(5).getInt();
    p.rise = q.getColumn(6).getInt();
    p.fall = q.getColumn(7).getInt();
    p.target = columnText(q, 8);
    p.method = q.getColumn(9).getString();
    p.path = q.getColumn(10).getString();
    p.hostHeader = columnText(q, 11);
    p.userAgent = columnText(q, 12);
    p.headers = q.getColumn(13).getString();
    p.expect = q.getColumn(14).getString();
    p.body = columnText(q, 15);
    p.sni = columnText(q, 16);
    p.verify = q.getColumn(17).getInt() != 0;
    p.query = columnText(q, 18);
    p.qtype = q.getColumn(19).getInt();
    p.command = columnText(q, 20);
    p.updatedAt = q.getColumn(21).getInt64();
    return p;
}

const char* kColumns =
    "id, name, type, port, interval_ms, timeout_ms, rise, fall, target, method, path, "
    "host_header, user_agent, headers, expect, body, sni, verify, query, qtype, command, "
    "updated_at";

void bindOptional(SQLite::Statement& q, int i, const std::string& v) {
    if (v.empty())
        q.bind(i);
    else
        q.bind(i, v);
}

void bindProbe(SQLite::Statement& q, const ProbeDef& p) {
    q.bind(1, p.name);
    q.bind(2, p.type);
    if (p.port)
        q.bind(3, *p.port);
    else
        q.bind(3);
    q.bind(4, p.intervalMs);
    q.bind(5, p.timeoutMs);
    q.bind(6, p.rise);
    q.bind(7, p.fall);
    bindOptional(q, 8, p.target);
    q.bind(9, p.method);
    q.bind(10, p.path);
    bindOptional(q, 11, p.hostHeader);
    bindOptional(q, 12, p.userAgent);
    q.bind(13, p.headers);
    q.bind(14, p.expect);
    bindOptional(q, 15, p.body);
    bindOptional(q, 16, p.sni);
    q.bind(17, p.verify ? 1 : 0);
    bindOptional(q, 18, p.query);
    q.bind(19, p.qtype);
    bindOptional(q, 20, p.command);
    q.bind(21, nowMs());
}

bool targetHasPort(const std::string& t) {
    if (t.find("://") != std::string::npos) return true;  // URL: the scheme gives a default
    if (!t.empty() && t[0] == '[') return t.find("]:") != std::string::npos;
    return std::count(t.begin(), t.end(), ':') == 1;
}

}  // namespace

int ProbeDef::defaultTimeoutMs(int intervalMs) {
    return intervalMs > 0 ? std::min(500, intervalMs / 2) : 500;
}

int ProbeDef::effectivePort() const {
    if (port) return *port;
    if (type == "http") return 80;
    if (type == "https") return 443;
    if (type == "dns") return 53;
    return 0;
}

void ProbeStore::validate(const ProbeDef& p) {
    auto fail = [&](const std::string& what) {
        throw std::runtime_error("probe " + (p.name.empty() ? std::string("?") : p.name) + ": " +
                                 what);
    };
    if (p.name.empty() || p.name.find_first_of(" \t\n") != std::string::npos)
        fail("name must be non-empty without spaces");
    static const char* kTypes[] = {"tcp", "http", "https", "dns", "icmp", "exec"};
    bool known = false;
    for (const char* t : kTypes) known |= p.type == t;
    if (!known) fail("unknown type '" + p.type + "' (tcp, http, https, dns, icmp, exec)");
    if (p.intervalMs <= 0) fail("interval must be greater than zero");
    if (p.intervalMs < 100)
        fail("interval " + formatDurationMs(p.intervalMs) + " is below the 100ms minimum");
    if (p.timeoutMs <= 0) fail("timeout must be greater than zero");
    if (p.timeoutMs >= p.intervalMs)
        fail("timeout " + formatDurationMs(p.timeoutMs) + " must be shorter than the interval " +
             formatDurationMs(p.intervalMs));
    if (p.rise < 1 || p.rise > 100) fail("rise must be 1..100");
    if (p.fall < 1 || p.fall > 100) fail("fall must be 1..100");
    if (p.port && (*p.port < 1 || *p.port > 65535)) fail("port must be 1..65535");
    if (p.type == "tcp" && !p.port && !targetHasPort(p.target))
        fail("tcp needs --port (or a --target host:port)");
    if (p.type == "exec" && p.command.empty()) fail("exec needs --command");
    if (p.type != "exec" && !p.command.empty()) fail("--command is only for exec probes");
    if (p.type == "dns" && p.query.empty()) fail("dns needs --query NAME");
    if ((p.type == "http" || p.type == "https") && !validStatusRanges(p.expect))
        fail("--expect '" + p.expect + "' is not a status list like 200-399 or 200,204");
    if (p.path.empty() || p.path[0] != '/') fail("--path must start with '/'");
    if (p.method.empty() || p.method.find_first_of(" \r\n") != std::string::npos)
        fail("--method must be one word");
    for (const std::string* s : {&p.headers, &p.hostHeader, &p.userAgent, &p.path})
        if (s->find('\r') != std::string::npos) fail("headers must not contain carriage returns");
    size_t start = 0;
    while (start < p.headers.size()) {
        size_t end = p.headers.find('\n', start);
        std::string line =
            p.headers.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (line.find(':') == std::string::npos || line.find(':') == 0)
            fail("header '" + line + "' is not 'Name: value'");
        if (end == std::string::npos) break;
        start = end + 1;
    }
}

int64_t ProbeStore::create(const ProbeDef& p) {
    validate(p);
    if (find(p.name)) throw std::runtime_error("probe " + p.name + " already exists");
    SQLite::Statement q(
        db_, std::string("INSERT INTO probes (name, type, port, interval_ms, timeout_ms, "
                         "rise, fall, target, method, path, host_header, user_agent, "
                         "headers, expect, body, sni, verify, query, qtype, command, "
                         "updated_at, created_at) VALUES "
                         "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?21)"));
    bindProbe(q, p);
    q.exec();
    int64_t id = db_.getLastInsertRowid();
    appendEvent(db_, "", "", "admin-probe-add", "probe " + p.name + " added (" + p.type + ")");
    return id;
}

void ProbeStore::update(const ProbeDef& p) {
    validate(p);
    SQLite::Statement q(
        db_,
        "UPDATE probes SET name=?, type=?, port=?, interval_ms=?, timeout_ms=?, "
        "rise=?, fall=?, target=?, method=?, path=?, host_header=?, user_agent=?, "
        "headers=?, expect=?, body=?, sni=?, verify=?, query=?, qtype=?, command=?, "
        "updated_at=? WHERE id=?");
    bindProbe(q, p);
    q.bind(22, p.id);
    if (q.exec() != 1) throw std::runtime_error("probe " + p.name + " does not exist");
    appendEvent(db_, "", "", "admin-probe-set", "probe " + p.name + " changed");
}

void ProbeStore::remove(const std::string& name) {
    SQLite::Statement q(db_, "DELETE FROM probes WHERE name=?");
    q.bind(1, name);
    if (q.exec() != 1) throw std::runtime_error("probe " + name + " does not exist");
    appendEvent(db_, "", "", "admin-probe-delete", "probe " + name + " deleted");
}

std::optional<ProbeDef> ProbeStore::find(const std::string& name) {
    SQLite::Statement q(db_, std::string("SELECT ") + kColumns + " FROM probes WHERE name=?");
    q.bind(1, name);
    if (!q.executeStep()) return std::nullopt;
    return readProbe(q);
}

std::vector<ProbeDef> ProbeStore::list() {
    SQLite::Statement q(db_, std::string("SELECT ") + kColumns + " FROM probes ORDER BY name");
    std::vector<ProbeDef> out;
    while (q.executeStep()) out.push_back(readProbe(q));
    return out;
}

int64_t parseDurationMs(const std::string& text) {
    auto bad = [&]() -> int64_t {
        throw std::runtime_error("'" + text + "' is not a duration (like 100ms, 1s, 1.5s, 2m, 1h)");
    };
    if (text.empty()) return bad();
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || !std::isfinite(value) || value < 0) return bad();
    std::string unit(end);
    double factor = unit == "ms" || unit.empty() ? 1
                    : unit == "s"                ? 1000
                    : unit == "m"                ? 60000
                    : unit == "h"                ? 3600000
                    : unit == "d"                ? 86400000
                                                 : -1;
    if (factor < 0 || value * factor > 1e15) return bad();
    return int64_t(std::llround(value * factor));
}

std::string formatDurationMs(int64_t ms) {
    if (ms != 0 && ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
    if (ms != 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
    if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

namespace {
// Calls f(lo, hi) per range; false on syntax error.
template <typename F>
bool forEachRange(const std::string& expect, F f) {
    if (expect.empty()) return false;
    size_t start = 0;
    while (true) {
        size_t comma = expect.find(',', start);
        std::string part =
            expect.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        size_t dash = part.find('-');
        std::string a = part.substr(0, dash),
                    b = dash == std::string::npos ? a : part.substr(dash + 1);
        auto num = [](const std::string& s, int& out) {
            if (s.empty() || s.size() > 3 || s.find_first_not_of("0123456789") != std::string::npos)
                return false;
            out = std::atoi(s.c_str());
            return out >= 100 && out <= 599;
        };
        int lo = 0, hi = 0;
        if (!num(a, lo) || !num(b, hi) || lo > hi) return false;
        if (f(lo, hi)) return true;
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return true;
}
}  // namespace

bool validStatusRanges(const std::string& expect) {
    return forEachRange(expect, [](int, int) { return false; });
}

bool statusMatches(const std::string& expect, int status) {
    bool hit = false;
    forEachRange(expect, [&](int lo, int hi) { return hit = status >= lo && status <= hi; });
    return hit;
}

}  // namespace zones
