// dnsd --xdp (issue 15) with the real binary on a real veth: a client in a network namespace of
// its own (tests/support/net_namespace) asks dnsd, which answers UDP queries through AF_XDP on
// the root side of the veth. The answers must be byte for byte what the socket path gives
// for the same query (dig's view of them: header flags, rcode, every section, TC and EDNS),
// over IPv4 and IPv6; /metrics must show that they really went through XDP; TCP, NOTIFY and
// queries to other ports must still reach the kernel's stack; a bad interface is a clear error;
// and the XDP program must be gone when dnsd is, even after SIGKILL.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/net_namespace.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/temp_dir.hpp"

using namespace testsupport;
using namespace std::chrono_literals;

namespace {

// A ULA prefix on the test's own veth only (both ends are ours; nothing is routed beyond),
// one per namespace (its /30's third octet), since parallel tests each have a veth of their
// own in the root namespace.
std::string ula(const NetNamespace& ns, int host) {
    const std::string& a = ns.hostAddress();  // 127.201.N.1
    const size_t from = a.find('.', 4) + 1;
    return "fdd5:6e73:64:" + a.substr(from, a.rfind('.') - from) + "::" + std::to_string(host);
}

const char* kZone = R"(
$ORIGIN xdp.test.
$TTL 300
@       IN SOA  ns1 hostmaster 7 3600 900 604800 60
        NS      ns1
ns1     A       192.0.2.53
www     A       192.0.2.80
        AAAA    2001:db8::80
alias   CNAME   www
*.wild  TXT     "wildcard"
sub     NS      ns.sub
ns.sub  A       192.0.2.99
)";

std::string bigTxt() {
    // 40 TXT strings of 100 octets: about 4 KB, more than any UDP answer may carry.
    std::string out;
    for (int i = 0; i < 40; ++i)
        out += "big TXT \"" + std::to_string(100 + i) + std::string(97, 'x') + "\"\n";
    return out;
}

std::string xdpInfo(const std::string& dev) {
    return runCommand(NetNamespace::ipProgram(), {"-d", "link", "show", "dev", dev}).out;
}

// dig's view of one answer, without what differs between two askers (the message ID).
std::string normalized(const std::string& digOut) {
    return std::regex_replace(digOut, std::regex("id: [0-9]+"), "id: N");
}

std::vector<std::string> digArgs(const std::string& server, uint16_t port,
                                 const std::vector<std::string>& query) {
    std::vector<std::string> a{"@" + server,  "-p",       std::to_string(port),
                               "+norec",      "+tries=1", "+time=3",
                               "+nocookie",   "+ignore",  "+noall",
                               "+comments",   "+answer",  "+authority",
                               "+additional", "+noidnout"};
    a.insert(a.end(), query.begin(), query.end());
    return a;
}

class XdpTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (std::string why = NetNamespace::unavailable(); !why.empty()) GTEST_SKIP() << why;
        auto help = runCommand(DNSD_BIN, {"--help"});
        if (help.out.find("--xdp") == std::string::npos)
            GTEST_SKIP() << "dnsd was built without XDP (clang or libbpf-dev missing)";
        ns_ = std::make_unique<NetNamespace>("xdp");
        const std::string inner = ns_->hostVeth() + "n";
        host6_ = ula(*ns_, 1);
        auto h6 = runCommand(NetNamespace::ipProgram(), {"-6", "addr", "add", host6_ + "/64", "dev",
                                                         ns_->hostVeth(), "nodad"});
        ASSERT_TRUE(h6.ok()) << h6.command << "\n" << h6.err;
        auto a6 = ns_->run(NetNamespace::ipProgram(),
                           {"-6", "addr", "add", ula(*ns_, 2) + "/64", "dev", inner, "nodad"});
        ASSERT_TRUE(a6.ok()) << a6.command << "\n" << a6.err;
        dir_ = std::make_unique<TempDir>("dnsd-xdp");
        const std::string zone = dir_->file("xdp.test.zone");
        std::ofstream(zone) << kZone << bigTxt();
        db_ = dir_->file("dnsd.db");
        createDatabase(db_, {zone});
        port_ = freePort();
        http_ = freePort();
        server_ = std::make_unique<DnsdServer>(
            db_, port_,
            std::vector<std::string>{"--listen", ns_->hostAddress() + ":" + std::to_string(port_),
                                     "--listen", "[" + host6_ + "]:" + std::to_string(port_),
                                     "--xdp", ns_->hostVeth(), "--rrl-rate", "0", "--http",
                                     "127.0.0.1:" + std::to_string(http_)},
            "xdp.test.");
    }

    double metric(const std::string& name) { return promValue(httpGet(http_, "/metrics"), name); }

    // The query asked from inside the namespace (over the veth: the XDP path for UDP).
    CommandResult fromInside(const std::string& server, const std::vector<std::string>& query) {
        return ns_->run("dig", digArgs(server, port_, query), 10s);
    }
    // The same query through dnsd's sockets on 127.0.0.1 (the kernel path).
    CommandResult throughSockets(const std::vector<std::string>& query) {
        return runCommand("dig", digArgs("127.0.0.1", port_, query));
    }

    std::unique_ptr<NetNamespace> ns_;
    std::string host6_;
    std::unique_ptr<TempDir> dir_;
    std::string db_;
    uint16_t port_ = 0, http_ = 0;
    std::unique_ptr<DnsdServer> server_;
};

TEST_F(XdpTest, UdpAnswersGoThroughXdpAndEqualTheSocketPath) {
    ASSERT_NE(xdpInfo(ns_->hostVeth()).find("xdp"), std::string::npos)
        << "no XDP program on " << ns_->hostVeth() << ":\n"
        << xdpInfo(ns_->hostVeth());
    const std::vector<std::vector<std::string>> queries = {
        {"www.xdp.test", "A"},
        {"www.xdp.test", "AAAA"},
        {"alias.xdp.test", "A"},
        {"nope.xdp.test", "A"},                    // NXDOMAIN with the SOA
        {"www.xdp.test", "MX"},                    // NODATA
        {"a.wild.xdp.test", "TXT"},                // wildcard
        {"host.sub.xdp.test", "A"},                // referral with glue
        {"example.org", "A"},                      // not ours: REFUSED
        {"big.xdp.test", "TXT"},                   // no EDNS: TC at 512
        {"big.xdp.test", "TXT", "+bufsize=1232"},  // EDNS: TC at 1232
        {"xdp.test", "SOA", "+nsid"},              // EDNS option
        {"xdp.test", "DNSKEY", "+dnssec"}};        // DO on an unsigned zone
    const double before = metric("dnsd_xdp_answers_total");
    int sent = 0;
    for (const std::string& server : {ns_->hostAddress(), host6_}) {
        for (const auto& q : queries) {
            CommandResult inside = fromInside(server, q);
            CommandResult sockets = throughSockets(q);
            ASSERT_TRUE(inside.ok()) << inside.command << "\n" << inside.out << inside.err;
            ASSERT_TRUE(sockets.ok()) << sockets.command << "\n" << sockets.err;
            EXPECT_NE(inside.out.find("status:"), std::string::npos) << inside.out;
            EXPECT_EQ(normalized(inside.out), normalized(sockets.out)) << inside.command;
            ++sent;
        }
    }
    EXPECT_EQ(metric("dnsd_xdp_answers_total") - before, sent)
        << "every UDP query from the namespace is answered through XDP, none else";
    EXPECT_EQ(metric("dnsd_xdp_dropped_total"), 0);
}

TEST_F(XdpTest, TcpNotifyAndOtherPortsStayOnTheKernelPath) {
    const double before = metric("dnsd_xdp_answers_total");
    // TCP: the program passes it; dnsd's TCP socket answers, with the whole big answer.
    auto tcp = fromInside(ns_->hostAddress(), {"big.xdp.test", "TXT", "+tcp"});
    ASSERT_TRUE(tcp.ok()) << tcp.err;
    EXPECT_NE(tcp.out.find("ANSWER: 40"), std::string::npos) << tcp.out;
    // NOTIFY (opcode 4) goes to the socket path, which answers it (dnsd is no secondary).
    auto notify = fromInside(ns_->hostAddress(), {"xdp.test", "SOA", "+opcode=notify"});
    ASSERT_TRUE(notify.ok()) << notify.err;
    EXPECT_NE(notify.out.find("opcode: NOTIFY"), std::string::npos) << notify.out;
    EXPECT_EQ(metric("dnsd_xdp_answers_total"), before) << "TCP or NOTIFY went through XDP";
    // A UDP port dnsd does not listen on: the kernel answers ICMP port unreachable, which
    // dig reports at once (and nothing is sent from dnsd's frames).
    auto other = ns_->run(
        "dig", digArgs(ns_->hostAddress(), uint16_t(freePort()), {"www.xdp.test", "A"}), 10s);
    EXPECT_NE(other.out + other.err, "") << other.command;
    EXPECT_EQ(other.out.find("status: NOERROR"), std::string::npos) << other.out;
    EXPECT_EQ(metric("dnsd_xdp_answers_total"), before);
    // The same query to dnsd's port goes through XDP again.
    auto udp = fromInside(ns_->hostAddress(), {"www.xdp.test", "A"});
    ASSERT_TRUE(udp.ok()) << udp.err;
    EXPECT_NE(udp.out.find("192.0.2.80"), std::string::npos) << udp.out;
    EXPECT_EQ(metric("dnsd_xdp_answers_total"), before + 1);
}

// A burst larger than one transmit kick (copy mode sends at most 32 frames per call) and
// then silence: every answer must still leave, not wait for the next query.
TEST_F(XdpTest, ABurstThenSilenceIsAnsweredInFull) {
    const std::string script = R"(
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2.0)
s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)  # SO_RCVBUFFORCE: the burst's answers must fit
q = lambda i: struct.pack(">HHHHHH", i, 0, 1, 0, 0, 0) + b"\x03www\x03xdp\x04test\x00" + struct.pack(">HH", 1, 1)
for i in range(300):
    s.sendto(q(i), (sys.argv[1], int(sys.argv[2])))
seen = set()
try:
    while len(seen) < 300:
        data = s.recv(2048)
        if data[3] & 15 == 0 and data[7] == 1:
            seen.add(struct.unpack(">H", data[:2])[0])
except socket.timeout:
    pass
print(len(seen))
)";
    const double before = metric("dnsd_xdp_answers_total");
    auto r = ns_->run("python3", {"-c", script, ns_->hostAddress(), std::to_string(port_)}, 10s);
    ASSERT_TRUE(r.ok()) << r.err;
    EXPECT_EQ(r.out, "300\n") << "answers received of 300 sent at once\n"
                              << runCommand(NetNamespace::ipProgram(),
                                            {"-s", "link", "show", "dev", ns_->hostVeth()})
                                     .out;
    EXPECT_EQ(metric("dnsd_xdp_answers_total") - before, 300);
}

// dnsd stopped while 3,000 queries arrive: the kernel can hold 2,048 (the receive frames) and
// drops the rest, and /metrics must say so; every query is then either answered or counted.
TEST_F(XdpTest, QueriesTheKernelDropsAreCounted) {
    const std::string script = R"py(
import os, signal, socket, struct, sys, time
pid, n = int(sys.argv[3]), 3000
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
q = lambda i: struct.pack(">HHHHHH", i, 0, 1, 0, 0, 0) + b"\x03www\x03xdp\x04test\x00" + struct.pack(">HH", 1, 1)
os.kill(pid, signal.SIGSTOP)
try:
    # kill() returns before every thread has stopped: wait until each one says so.
    def stopped(tid):
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("T", "t")
    while not all(stopped(t) for t in os.listdir(f"/proc/{pid}/task")):
        time.sleep(0.001)
    for i in range(n):
        s.sendto(q(i), (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.3)  # the veth's NAPI hands them to the XDP program meanwhile
finally:
    os.kill(pid, signal.SIGCONT)
s.settimeout(2.0)
seen = set()
try:
    while True:
        seen.add(struct.unpack(">H", s.recv(2048)[:2])[0])
except socket.timeout:
    pass
print(len(seen))
)py";
    const double before = metric("dnsd_xdp_answers_total");
    auto r = ns_->run("python3",
                      {"-c", script, ns_->hostAddress(), std::to_string(port_),
                       std::to_string(server_->process().pid())},
                      20s);
    ASSERT_TRUE(r.ok()) << r.err;
    const int answered = std::stoi(r.out);
    const std::string m = httpGet(http_, "/metrics");
    const double ringFull = promValue(m, "dnsd_xdp_kernel_dropped_total{reason=\"ring-full\"}");
    const double noFrame = promValue(m, "dnsd_xdp_kernel_dropped_total{reason=\"no-frame\"}");
    const double other = promValue(m, "dnsd_xdp_kernel_dropped_total{reason=\"other\"}");
    EXPECT_LE(answered, 2048) << "more answered than the receive frames can hold";
    EXPECT_EQ(promValue(m, "dnsd_xdp_answers_total") - before, answered);
    EXPECT_GT(ringFull + noFrame + other, 0);
    EXPECT_EQ(answered + ringFull + noFrame + other, 3000)
        << "answered " << answered << ", ring-full " << ringFull << ", no-frame " << noFrame
        << ", other " << other;
}

TEST_F(XdpTest, TheProgramGoesWithDnsdEvenAfterSigkill) {
    ASSERT_NE(xdpInfo(ns_->hostVeth()).find("xdp"), std::string::npos);
    ::kill(server_->process().pid(), SIGKILL);
    ASSERT_TRUE(server_->process().waitExit(5s).has_value());
    // The kernel drops a BPF link's program with its last fd: at once, but allow it a moment.
    std::string info;
    for (int i = 0; i < 50; ++i) {
        info = xdpInfo(ns_->hostVeth());
        if (info.find("prog/xdp") == std::string::npos) break;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(info.find("prog/xdp"), std::string::npos) << info;
    // And a new dnsd attaches again on the same interface.
    server_.reset();
    server_ = std::make_unique<DnsdServer>(
        db_, port_,
        std::vector<std::string>{"--listen", ns_->hostAddress() + ":" + std::to_string(port_),
                                 "--xdp", ns_->hostVeth(), "--http",
                                 "127.0.0.1:" + std::to_string(http_)},
        "xdp.test.");
    auto udp = fromInside(ns_->hostAddress(), {"www.xdp.test", "A"});
    ASSERT_TRUE(udp.ok()) << udp.err;
    EXPECT_NE(udp.out.find("192.0.2.80"), std::string::npos) << udp.out;
    EXPECT_EQ(metric("dnsd_xdp_answers_total"), 1);
}

TEST(XdpStart, ABadInterfaceIsAClearErrorAndExit1) {
    if (runCommand(DNSD_BIN, {"--help"}).out.find("--xdp") == std::string::npos)
        GTEST_SKIP() << "dnsd was built without XDP";
    TempDir dir("dnsd-xdp-bad");
    const std::string db = dir.file("dnsd.db");
    createDatabase(db, {std::string(DNSD_SOURCE_DIR) + "/tests/scenario/zones/scenario.test.zone"});
    Process p(DNSD_BIN, {"--db", db, "--listen", "127.0.0.1:" + std::to_string(freePort()), "--xdp",
                         "nosuchdev0", "--http", "none"});
    auto code = p.waitExit(10s);
    ASSERT_TRUE(code.has_value()) << "dnsd kept running with a bad --xdp";
    ASSERT_TRUE(WIFEXITED(*code));
    EXPECT_EQ(WEXITSTATUS(*code), 1);
    EXPECT_NE(p.stderrText().find("--xdp nosuchdev0: no such interface"), std::string::npos)
        << p.stderrText();
}

}  // namespace
