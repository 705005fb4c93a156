#include "tests/support/secondary_server.hpp"

#include <filesystem>
#include <stdexcept>

#include "tests/support/query_builder.hpp"
#include "tests/support/server_readiness.hpp"

namespace testsupport {
namespace {

void replaceOnce(std::string& text, const std::string& what, const std::string& with) {
    size_t at = text.find(what);
    if (at == std::string::npos)
        throw std::runtime_error("secondary config: '" + what + "' not found in:\n" + text);
    text.replace(at, what.size(), with);
}

}  // namespace

const char* secondaryKindName(SecondaryKind k) {
    switch (k) {
        case SecondaryKind::Nsd:
            return "nsd";
        case SecondaryKind::Knot:
            return "knot";
        case SecondaryKind::Bind:
            return "bind";
    }
    return "?";
}

std::string secondaryBinary(SecondaryKind k) {
    const char* path = k == SecondaryKind::Nsd    ? "/usr/sbin/nsd"
                       : k == SecondaryKind::Knot ? "/usr/sbin/knotd"
                                                  : "/usr/sbin/named";
    return std::filesystem::exists(path) ? path : "";
}

SecondaryServer::SecondaryServer(SecondaryKind kind, std::string zone, const std::string& block,
                                 uint16_t port)
    : kind_(kind), zone_(std::move(zone)), port_(port), dir_("dnsd-secondary") {
    if (secondaryBinary(kind).empty())
        throw std::runtime_error(std::string(secondaryKindName(kind)) + " is not installed");
    const std::string d = dir_.path().string();
    const std::string p = std::to_string(port);
    std::string c;
    switch (kind) {
        case SecondaryKind::Nsd:
            c = "server:\n  ip-address: 127.0.0.1@" + p +
                "\n  username: \"\"\n  chroot: \"\"\n  database: \"\"\n  zonesdir: \"" + d +
                "\"\n  zonelistfile: \"" + d + "/zone.list\"\n  xfrdfile: \"" + d +
                "/xfrd.state\"\n  xfrdir: \"" + d + "\"\n  pidfile: \"" + d +
                "/nsd.pid\"\n  server-count: 1\n  verbosity: 2\n  rrl-ratelimit: 0\n"
                "remote-control:\n  control-enable: no\n\n" +
                block + "    provide-xfr: 127.0.0.1 NOKEY\n";
            break;
        case SecondaryKind::Knot:
            c = "server:\n  rundir: \"" + d + "\"\n  listen: 127.0.0.1@" + p +
                "\n\ndatabase:\n  storage: \"" + d +
                "\"\n\nlog:\n  - target: stderr\n    any: info\n\ntemplate:\n  - id: default\n"
                "    storage: \"" +
                d + "\"\n    zonefile-sync: -1\n\n" + block;
            // The test's own AXFR of the secondary's copy: one more acl entry for the zone.
            replaceOnce(c, "acl:\n",
                        "acl:\n  - id: test-transfer\n    address: 127.0.0.1\n"
                        "    action: transfer\n");
            replaceOnce(c, "    acl: dnsd-notify", "    acl: [dnsd-notify, test-transfer]");
            break;
        case SecondaryKind::Bind:
            c = "options {\n    directory \"" + d + "\";\n    listen-on port " + p +
                " { 127.0.0.1; };\n    listen-on-v6 { none; };\n    pid-file \"" + d +
                "/named.pid\";\n    session-keyfile \"" + d +
                "/session.key\";\n    managed-keys-directory \"" + d +
                "\";\n    recursion no;\n    dnssec-validation no;\n    notify no;\n"
                "    allow-transfer { 127.0.0.1; };\n};\ncontrols { };\n\n" +
                block;
            break;
    }
    configPath_ = dir_.writeFile(kind == SecondaryKind::Nsd    ? "nsd.conf"
                                 : kind == SecondaryKind::Knot ? "knot.conf"
                                                               : "named.conf",
                                 c);
    start();
}

SecondaryServer::~SecondaryServer() = default;

void SecondaryServer::start() {
    std::vector<std::string> args;
    switch (kind_) {
        case SecondaryKind::Nsd:
            args = {"-d", "-c", configPath_};
            break;
        case SecondaryKind::Knot:
            args = {"-c", configPath_};
            break;
        case SecondaryKind::Bind:
            args = {"-g", "-c", configPath_};
            break;
    }
    process_ = std::make_unique<Process>(secondaryBinary(kind_), args, std::vector<std::string>{},
                                         dir_.path());
    waitForServer(*process_, client(), QueryBuilder(zone_, 6).build(), std::chrono::seconds(15));
}

void SecondaryServer::stop() {
    if (process_) process_->stop();
}

std::optional<uint32_t> SecondaryServer::serial() const {
    auto r = client().udp(QueryBuilder(zone_, 6).build(), std::chrono::milliseconds(500));
    if (!r || !r->parsed() || r->rcode() != 0 || !r->aa()) return std::nullopt;
    const ldns_rr_list* answer = r->rrs(Section::Answer);
    for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer); ++i) {
        ldns_rr* rr = ldns_rr_list_rr(answer, i);
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
            return ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
    }
    return std::nullopt;
}

std::string SecondaryServer::describe() const {
    return std::string(secondaryKindName(kind_)) + " on port " + std::to_string(port_) +
           (process_ ? ": " + process_->describe() : "");
}

}  // namespace testsupport
