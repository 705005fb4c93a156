// Requests to the real controller's agent endpoint that must be refused: a forged report (signed
// over another body), a replayed one (the same bytes twice) and one from an unknown vantage. A
// genuine request made the same way is accepted, so the refusals are about what was changed;
// the controller stays healthy and keeps taking the real agents' reports.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "probes/agent_protocol.hpp"
#include "tests/support/unique_fd.hpp"
#include "tests/vantage/vantage_fixture.hpp"

namespace vantage {
namespace {

// One HTTP exchange with the controller's agent endpoint: `request` sent as is, the whole
// response read (Connection: close); returns its status code, 0 when none came.
int exchange(uint16_t port, const std::string& request, std::string* response = nullptr) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    timeval tv{5, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 0;
    if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size()))
        return 0;
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd.get(), buf, sizeof buf, 0)) > 0;) out.append(buf, size_t(n));
    if (response) *response = out;
    // "HTTP/1.1 401 ..."
    if (out.rfind("HTTP/1.", 0) != 0 || out.size() < 12) return 0;
    return std::stoi(out.substr(9, 3));
}

// A POST /v1/report as an agent sends it, with `signedBody` signed and `body` sent.
std::string reportRequest(const std::string& vantage, const probes::AgentKey& key, int64_t time,
                          const std::string& signedBody, const std::string& body) {
    std::string signature =
        probes::requestSignature(key, "POST", probes::kAgentReportPath, vantage, time, signedBody);
    return std::string("POST ") + probes::kAgentReportPath +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n" + probes::kVantageHeader +
           ": " + vantage + "\r\n" + probes::kTimeHeader + ": " + std::to_string(time) + "\r\n" +
           probes::kSignatureHeader + ": " + signature + "\r\nConnection: close\r\n\r\n" + body;
}

std::string emptyReport(const std::string& host) {
    probes::AgentReport report;
    report.version = "test";
    report.host = host;
    return probes::encodeReport(report);
}

TEST_F(VantageScenario, ForgedReplayedAndUnknownReportsAreRefused) {
    // fra and nyc are real agents; the test speaks for sin, whose agent is not running.
    ASSERT_NO_FATAL_FAILURE(startAll({"fra", "nyc"}));
    probes::AgentKey key = probes::readKeyFile(keyFile_.at("sin"));
    uint16_t port = agentsPort_;
    std::string genuine = emptyReport("genuine"), other = emptyReport("forged");
    int64_t t = zones::nowMs();
    std::string response;

    // Forged: the signature is sin's, over a different body.
    EXPECT_EQ(exchange(port, reportRequest("sin", key, t, genuine, other), &response), 401)
        << response;
    // Genuine, made the same way: accepted.
    std::string accepted = reportRequest("sin", key, t + 1, genuine, genuine);
    ASSERT_EQ(exchange(port, accepted, &response), 200) << response << "\n" << logs();
    // Replayed: the very same bytes again.
    EXPECT_EQ(exchange(port, accepted, &response), 409) << response;
    // Unknown vantage, with a key of its own.
    probes::AgentKey stranger(32, 7);
    EXPECT_EQ(exchange(port, reportRequest("zzz", stranger, t + 2, genuine, genuine), &response),
              401)
        << response;

    // Counted against sin (forged + replayed), and the controller carries on: alive, and the
    // real agents' reports still go in.
    ASSERT_TRUE(waitUntil(
        [&] { return scalar("SELECT refused FROM vantages WHERE name = 'sin'") >= 2; }, 5s))
        << logs();
    EXPECT_TRUE(controller_->alive()) << controller_->describe();
    // Logged, naming who was refused (at most once a minute per vantage and reason).
    std::string log = controller_->stderrText();
    EXPECT_NE(log.find("refused a request from 127.0.0.1"), std::string::npos) << log;
    EXPECT_NE(log.find("(vantage zzz)"), std::string::npos) << log;
    EXPECT_NE(log.find("(vantage sin)"), std::string::npos) << log;
    int64_t fra = reports("fra"), nyc = reports("nyc");
    EXPECT_TRUE(waitUntil([&] { return reports("fra") > fra && reports("nyc") > nyc; }, 10s))
        << logs();
    EXPECT_EQ(served(), kPrimary);
    EXPECT_EQ(events("failover"), 0) << eventDump();
}

}  // namespace
}  // namespace vantage
