// Transfers that must not happen, against the real dnsd: each gets the RFC's answer and not a
// single record of the zone. Unknown key and bad signature: NOTAUTH with BADKEY / BADSIG,
// unsigned (RFC 8945 §5.2); a stale signature: NOTAUTH with BADTIME, signed, carrying our
// clock; the wrong key or no key for a secondary that must sign, or an address that is no
// secondary: REFUSED; a zone we do not serve: NOTAUTH; AXFR over UDP: REFUSED; a malformed
// IXFR (no SOA in authority): FORMERR. Every refusal is counted in the metrics.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>

#include "tests/support/dns_client.hpp"
#include "tests/support/dnsctl_runner.hpp"
#include "tests/support/dnsd_server.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_get.hpp"
#include "tests/support/query_builder.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait_until.hpp"
#include "zones/tsig.hpp"

using namespace testsupport;

namespace {

const std::string kZone = "svc.example.com.";
const std::string kSecret = "c2VjcmV0LWtleS1mb3ItdHNpZy10ZXN0cy0xMjM0NTY3OA==";
const std::string kOther = "b3RoZXItc2VjcmV0LWZvci10c2lnLXRlc3RzLTEyMzQ1Ng==";

zones::TsigKey key(const std::string& name, const std::string& secret) {
    return {*zones::Name::fromText(name), zones::TsigAlgorithm::HmacSha256,
            *zones::base64Decode(secret)};
}

// An AXFR (or other) query signed with `k` as if at `when`.
std::vector<uint8_t> signedQuery(std::vector<uint8_t> q, const zones::TsigKey& k, uint64_t when) {
    size_t size = q.size();
    q.resize(size + 256);
    zones::TsigSigner signer(k, {}, when);
    q.resize(signer.sign(q.data(), size, q.size()));
    return q;
}

class Refusals : public ::testing::Test {
  protected:
    void SetUp() override {
        db_ = dir_.file("dnsd.db");
        createDatabase(db_,
                       {std::string(DNSD_SOURCE_DIR) + "/zones/examples/svc.example.com.zone"});
        ok({"tsig", "add", "xfr-key", "--secret", kSecret});
        ok({"tsig", "add", "spare-key", "--secret", kOther});
        // 127.0.0.1 must sign with xfr-key; 127.0.0.2 is no secondary at all.
        ok({"secondary", "add", kZone, "127.0.0.1:5999", "--key", "xfr-key", "--no-notify"});
        httpPort_ = freePort();
        dnsd_ = std::make_unique<DnsdServer>(
            db_, freePort(),
            std::vector<std::string>{"--http", "127.0.0.1:" + std::to_string(httpPort_)}, kZone);
        now_ = uint64_t(::time(nullptr));
        // dnsd has loaded the secondary once a signed AXFR goes through.
        ASSERT_TRUE(waitUntil(
            [&] {
                auto r = tcp(signedQuery(axfr(), key("xfr-key.", kSecret), now_));
                return r && r->rcode() == 0 && r->ancount() > 0;
            },
            std::chrono::seconds(5)));
    }
    void ok(const std::vector<std::string>& args) {
        auto r = runDnsctl(db_, args);
        ASSERT_TRUE(r.ok()) << r.command << "\n" << r.err;
    }
    static std::vector<uint8_t> axfr() { return QueryBuilder(kZone, 252).build(); }
    std::optional<DnsMessage> tcp(const std::vector<uint8_t>& q) {
        return DnsClient("127.0.0.1", dnsd_->port()).tcp(q, std::chrono::seconds(2));
    }
    // One query over TCP from another loopback source address, one message back.
    std::optional<DnsMessage> tcpFrom(const char* source, const std::vector<uint8_t>& q) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in src{}, dst{};
        src.sin_family = dst.sin_family = AF_INET;
        inet_pton(AF_INET, source, &src.sin_addr);
        inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
        dst.sin_port = htons(dnsd_->port());
        timeval tv{2, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::vector<uint8_t> framed = {uint8_t(q.size() >> 8), uint8_t(q.size())};
        framed.insert(framed.end(), q.begin(), q.end());
        std::vector<uint8_t> in(65537);
        size_t got = 0;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0 &&
            ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0 &&
            ::send(fd, framed.data(), framed.size(), 0) == ssize_t(framed.size())) {
            for (ssize_t n; got < 2 || got < 2 + size_t(in[0] << 8 | in[1]);) {
                n = ::recv(fd, in.data() + got, in.size() - got, 0);
                if (n <= 0) break;
                got += size_t(n);
            }
        }
        ::close(fd);
        if (got < 2 || got < 2 + size_t(in[0] << 8 | in[1])) return std::nullopt;
        return DnsMessage(
            std::vector<uint8_t>(in.begin() + 2, in.begin() + 2 + (in[0] << 8 | in[1])));
    }
    // The TSIG error field of an answer (-1: no TSIG).
    static int tsigError(const DnsMessage& m) {
        zones::TsigRecord t;
        if (zones::findTsig(m.bytes(), t) != zones::TsigFind::Found) return -1;
        return t.error;
    }
    static size_t tsigMacSize(const DnsMessage& m) {
        zones::TsigRecord t;
        zones::findTsig(m.bytes(), t);
        return t.mac.size();
    }

    TempDir dir_;
    std::string db_;
    uint16_t httpPort_ = 0;
    std::unique_ptr<DnsdServer> dnsd_;
    uint64_t now_ = 0;
};

TEST_F(Refusals, EachBadRequestGetsItsAnswerAndNoRecord) {
    // Unknown key: NOTAUTH, BADKEY, unsigned.
    auto unknown = tcp(signedQuery(axfr(), key("nobody.", kSecret), now_));
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->rcode(), 9);
    EXPECT_EQ(tsigError(*unknown), 17);
    EXPECT_EQ(tsigMacSize(*unknown), 0u);
    EXPECT_EQ(unknown->ancount(), 0);
    // The right key name with the wrong secret: NOTAUTH, BADSIG, unsigned.
    auto badSig = tcp(signedQuery(axfr(), key("xfr-key.", kOther), now_));
    ASSERT_TRUE(badSig);
    EXPECT_EQ(badSig->rcode(), 9);
    EXPECT_EQ(tsigError(*badSig), 16);
    EXPECT_EQ(badSig->ancount(), 0);
    // Signed ten minutes ago (fudge 300 s): NOTAUTH, BADTIME, signed, our clock in other data.
    auto stale = tcp(signedQuery(axfr(), key("xfr-key.", kSecret), now_ - 600));
    ASSERT_TRUE(stale);
    EXPECT_EQ(stale->rcode(), 9);
    EXPECT_EQ(tsigError(*stale), 18);
    EXPECT_EQ(tsigMacSize(*stale), 32u);
    EXPECT_EQ(stale->ancount(), 0);
    // A key we know, but not the one this secondary must use; and no key at all: REFUSED.
    auto wrongKey = tcp(signedQuery(axfr(), key("spare-key.", kOther), now_));
    ASSERT_TRUE(wrongKey);
    EXPECT_EQ(wrongKey->rcode(), 5);
    EXPECT_EQ(wrongKey->ancount(), 0);
    EXPECT_EQ(tsigError(*wrongKey), 0);  // the refusal itself is signed: the key was good
    auto unsignedAxfr = tcp(axfr());
    ASSERT_TRUE(unsignedAxfr);
    EXPECT_EQ(unsignedAxfr->rcode(), 5);
    EXPECT_EQ(unsignedAxfr->ancount(), 0);
    // An address that is no secondary, even with the right key: REFUSED.
    auto stranger = tcpFrom("127.0.0.2", signedQuery(axfr(), key("xfr-key.", kSecret), now_));
    ASSERT_TRUE(stranger);
    EXPECT_EQ(stranger->rcode(), 5);
    EXPECT_EQ(stranger->ancount(), 0);
    // A zone we do not serve: NOTAUTH.
    auto notOurs =
        tcp(signedQuery(QueryBuilder("example.org.", 252).build(), key("xfr-key.", kSecret), now_));
    ASSERT_TRUE(notOurs);
    EXPECT_EQ(notOurs->rcode(), 9);
    // AXFR over UDP: REFUSED (RFC 5936 §4.2: TCP only).
    auto udp =
        DnsClient("127.0.0.1", dnsd_->port())
            .udp(signedQuery(axfr(), key("xfr-key.", kSecret), now_), std::chrono::seconds(2));
    ASSERT_TRUE(udp);
    EXPECT_EQ(udp->rcode(), 5);
    EXPECT_EQ(udp->ancount(), 0);
    // IXFR without the client's SOA in authority: FORMERR.
    auto ixfr = tcp(signedQuery(QueryBuilder(kZone, 251).build(), key("xfr-key.", kSecret), now_));
    ASSERT_TRUE(ixfr);
    EXPECT_EQ(ixfr->rcode(), 1);
    // A TSIG cut short inside its MAC: FORMERR, never a crash; dnsd still answers after.
    auto cut = signedQuery(axfr(), key("xfr-key.", kSecret), now_);
    cut.resize(cut.size() - 20);
    auto truncated = tcp(cut);
    if (truncated) EXPECT_NE(truncated->rcode(), 0);
    EXPECT_TRUE(dnsd_->process().alive());
    auto good = tcp(signedQuery(axfr(), key("xfr-key.", kSecret), now_));
    ASSERT_TRUE(good);
    EXPECT_EQ(good->rcode(), 0);

    // Counted: 1 good AXFR at set-up and 1 now; the rest by outcome.
    std::string metrics = httpGet(httpPort_, "/metrics");
    EXPECT_EQ(promValue(metrics, "dnsd_xfr_requests_total{outcome=\"refused\"}"), 3) << metrics;
    EXPECT_EQ(promValue(metrics, "dnsd_xfr_requests_total{outcome=\"notauth\"}"), 4);
    EXPECT_GE(promValue(metrics, "dnsd_xfr_requests_total{outcome=\"axfr\"}"), 2);
    // The IXFR without an SOA (the cut TSIG is FORMERR from the query parser itself).
    EXPECT_EQ(promValue(metrics, "dnsd_xfr_requests_total{outcome=\"formerr\"}"), 1);
}

}  // namespace
