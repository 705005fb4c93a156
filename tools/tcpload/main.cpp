// dnsd-tcpload: DNS-over-TCP load for `tools/bench tcp` (see tools/README.md for why our own).
// Prints "key: value" lines, one per counter of TcpLoadResult, for the bench to parse.
#include <arpa/inet.h>
#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "common/listen_address.hpp"
#include "common/option_table.hpp"
#include "tools/tcpload/tcp_load.hpp"
#include "zones/name.hpp"
#include "zones/zone_file.hpp"

namespace {

// "name TYPE [flags]" lines (dnsperf's format; kxdpgun's E/D flags add EDNS, D with DO=1).
std::vector<std::vector<uint8_t>> readQueries(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read query file " + path);
    std::vector<std::vector<uint8_t>> out;
    std::string line;
    size_t lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        std::istringstream words(line);
        std::string name, type, flags;
        if (!(words >> name)) continue;
        words >> type >> flags;
        auto qname = zones::Name::fromText(name.back() == '.' ? name : name + ".");
        auto qtype = zones::rrTypeFromText(type.empty() ? "A" : type);
        if (!qname || !qtype)
            throw std::runtime_error(path + ":" + std::to_string(lineNo) +
                                     ": want 'name TYPE', got '" + line + "'");
        bool edns = flags.find_first_of("ED") != std::string::npos;
        bool dnssecOk = flags.find('D') != std::string::npos;
        std::vector<uint8_t> q = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, uint8_t(edns ? 1 : 0)};
        auto wire = qname->wire();
        q.insert(q.end(), wire.begin(), wire.end());
        q.insert(q.end(), {uint8_t(*qtype >> 8), uint8_t(*qtype), 0, 1});
        if (edns)  // OPT: root, type 41, 1232-byte payload, DO bit as asked, no options
            q.insert(q.end(), {0, 0, 41, 0x04, 0xd0, 0, 0, uint8_t(dnssecOk ? 0x80 : 0), 0, 0, 0});
        size_t len = q.size() - 2;
        q[0] = uint8_t(len >> 8);
        q[1] = uint8_t(len);
        out.push_back(std::move(q));
    }
    if (out.empty()) throw std::runtime_error("no queries in " + path);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::string server = "127.0.0.1:53", source = "127.0.0.1", queries;
    unsigned sourceCount = 1, seconds = 5;
    size_t connections = 1000, pipeline = 4, perConnection = 0;
    uint64_t rate = 0;
    int timeoutMs = 3000;
    common::OptionTable options(
        "dnsd-tcpload",
        "dnsd-tcpload: DNS over TCP load from many connections, pipelined, held or churned\n",
        "DNSD_TCPLOAD_");
    options.text("server", server, "ADDR:PORT of the DNS server (IPv4)");
    options.text("source", source, "first IPv4 source address");
    options.integer("source-count", sourceCount, 1u, 65536u,
                    "consecutive source addresses to rotate over");
    options.integer<size_t>("connections", connections, 1, 60000, "connections at once");
    options.integer<size_t>("pipeline", pipeline, 1, 1000, "queries in flight per connection");
    options.integer<size_t>("queries-per-connection", perConnection, 0, 1000000,
                            "close after this many answers and reconnect (0: hold)");
    options.integer("seconds", seconds, 1u, 3600u, "length of the run");
    options.integer<uint64_t>("rate", rate, 0, 100000000, "queries per second at most (0: no cap)");
    options.integer("timeout", timeoutMs, 10, 60000,
                    "milliseconds without progress before a query or connect counts as lost");
    options.text("queries", queries, "file of 'name TYPE' lines (required)");
    if (auto exit = options.parse(argc, argv, "1")) return *exit;

    tcpload::TcpLoadConfig config;
    try {
        common::ListenAddress to = common::ListenAddress::parse(server);
        if (to.family() != AF_INET) throw std::runtime_error("--server: IPv4 only");
        std::memcpy(&config.server, &to.addr, sizeof config.server);
        if (inet_pton(AF_INET, source.c_str(), &config.firstSource) != 1)
            throw std::runtime_error("--source: not an IPv4 address: " + source);
        if (queries.empty()) throw std::runtime_error("--queries FILE is required");
        config.queries = readQueries(queries);
    } catch (const std::exception& e) {
        std::cerr << "dnsd-tcpload: " << e.what() << "\n";
        return 2;
    }
    config.sourceCount = sourceCount;
    config.connections = connections;
    config.pipeline = pipeline;
    config.queriesPerConnection = perConnection;
    config.seconds = seconds;
    config.rate = rate;
    config.timeoutMs = timeoutMs;
    // Every connection is a descriptor: take the hard limit rather than fail at 1024.
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < connections + 16) {
        std::cerr << "dnsd-tcpload: " << connections << " connections need more descriptors than "
                  << "the limit of " << files.rlim_cur << " (ulimit -n)\n";
        return 2;
    }
    tcpload::TcpLoadResult r;
    try {
        r = tcpload::TcpLoad(std::move(config)).run();
    } catch (const std::exception& e) {
        std::cerr << "dnsd-tcpload: " << e.what() << "\n";
        return 1;
    }
    std::printf(
        "seconds: %.3f\nconnects_tried: %llu\nconnected: %llu\nrefused: %llu\n"
        "connect_failed: %llu\nreset: %llu\nclosed_early: %llu\ntimeouts: %llu\n"
        "completed: %llu\nsent: %llu\nanswered: %llu\nmalformed: %llu\n"
        "unanswered_at_end: %llu\npeak_open: %zu\n",
        r.seconds, (unsigned long long)r.connectsTried, (unsigned long long)r.connected,
        (unsigned long long)r.refused, (unsigned long long)r.connectFailed,
        (unsigned long long)r.reset, (unsigned long long)r.closedEarly,
        (unsigned long long)r.timeouts, (unsigned long long)r.completed, (unsigned long long)r.sent,
        (unsigned long long)r.answered, (unsigned long long)r.malformed,
        (unsigned long long)r.unansweredAtEnd, r.peakOpen);
    for (size_t i = 0; i < r.rcodes.size(); ++i)
        if (r.rcodes[i]) std::printf("rcode_%zu: %llu\n", i, (unsigned long long)r.rcodes[i]);
    return 0;
}
