// DNS check: one UDP query for probe.query/qtype at the target; healthy means a response with
// our id, QR set, RCODE NOERROR and at least one answer record. The query is built by hand
// (a header and one question) so no ldns type crosses into probes/.
#include <boost/asio/ip/udp.hpp>
#include <random>

#include "probes/check_op.hpp"
#include "zones/name.hpp"
#include "zones/zone_file.hpp"

namespace probes {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

const char* rcodeName(int rcode) {
    static const char* names[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                  "NXDOMAIN", "NOTIMP",  "REFUSED"};
    return rcode >= 0 && rcode < 6 ? names[rcode] : "RCODE?";
}

// Skips a (possibly compressed) name at `pos`; false if it runs past the end.
bool skipName(const uint8_t* m, size_t n, size_t& pos) {
    while (pos < n) {
        uint8_t len = m[pos];
        if ((len & 0xc0) == 0xc0) {
            pos += 2;
            return pos <= n;
        }
        pos += 1 + len;
        if (len == 0) return pos <= n;
    }
    return false;
}

// A traced run's view of the reply: rcode, flags, section counts, and the answer records
// (A and AAAA as addresses, other types by name and RDATA length).
std::string answerText(const uint8_t* m, size_t n) {
    int rcode = m[3] & 0x0f;
    int qd = m[4] << 8 | m[5], an = m[6] << 8 | m[7], ns = m[8] << 8 | m[9],
        ar = m[10] << 8 | m[11];
    std::string out = std::string("answer ") + rcodeName(rcode) + ((m[2] & 0x04) ? ", aa" : "") +
                      ((m[2] & 0x02) ? ", tc" : "") + ", " + std::to_string(an) + " answer, " +
                      std::to_string(ns) + " authority, " + std::to_string(ar) + " additional";
    size_t pos = 12;
    for (int i = 0; i < qd; ++i)
        if (!skipName(m, n, pos) || (pos += 4) > n) return out + " (malformed)";
    for (int i = 0; i < an; ++i) {
        if (!skipName(m, n, pos) || pos + 10 > n) return out + " (malformed)";
        uint16_t type = uint16_t(m[pos] << 8 | m[pos + 1]);
        uint32_t ttl = uint32_t(m[pos + 4]) << 24 | uint32_t(m[pos + 5]) << 16 |
                       uint32_t(m[pos + 6]) << 8 | m[pos + 7];
        size_t rdlen = size_t(m[pos + 8] << 8 | m[pos + 9]);
        pos += 10;
        if (pos + rdlen > n) return out + " (malformed)";
        out += i ? "; " : ": ";
        out += zones::rrTypeToText(type) + " ttl " + std::to_string(ttl) + " ";
        if ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16)) {
            asio::ip::address a;
            if (type == 1) {
                asio::ip::address_v4::bytes_type b;
                std::copy(m + pos, m + pos + 4, b.begin());
                a = asio::ip::address_v4(b);
            } else {
                asio::ip::address_v6::bytes_type b;
                std::copy(m + pos, m + pos + 16, b.begin());
                a = asio::ip::address_v6(b);
            }
            out += a.to_string();
        } else {
            out += std::to_string(rdlen) + " bytes";
        }
        pos += rdlen;
    }
    return out;
}

class DnsCheck : public CheckOp {
  public:
    DnsCheck(asio::io_context& io, int timeoutMs, CheckDone done)
        : CheckOp(io, timeoutMs, std::move(done)), socket_(io) {}

    void start(const zones::ProbeDef& probe, const CheckTarget& target) {
        trace_ = target.trace;
        armDeadline();
        auto qname = zones::Name::fromText(probe.query);
        if (!qname) return finish(false, "bad query name '" + probe.query + "'");
        static thread_local std::mt19937 rng{std::random_device{}()};
        id_ = uint16_t(rng());
        query_ = {uint8_t(id_ >> 8), uint8_t(id_), 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
        auto wire = qname->wire();
        query_.insert(query_.end(), wire.begin(), wire.end());
        qname_ = qname->toText();
        qtype_ = uint16_t(probe.qtype);
        query_.push_back(uint8_t(probe.qtype >> 8));
        query_.push_back(uint8_t(probe.qtype));
        query_.push_back(0);
        query_.push_back(1);
        auto self = std::static_pointer_cast<DnsCheck>(shared_from_this());
        int port = target.port;
        stage_ = "resolve";
        resolveHost(
            io_, target.host,
            [self, port](const boost::system::error_code& ec,
                         std::vector<asio::ip::address> addrs) {
                if (self->finished()) return;
                if (ec || addrs.empty())
                    return self->finish(false, "resolve: " + (ec ? ec.message() : "no address"));
                self->server_ = udp::endpoint(addrs.front(), uint16_t(port));
                boost::system::error_code oec;
                self->socket_.open(self->server_.protocol(), oec);
                if (oec) return self->finish(false, "socket: " + oec.message());
                self->stage_ = "response";
                self->saw([&] {
                    return "sent query " + self->qname_ + " " + zones::rrTypeToText(self->qtype_) +
                           " to " + self->server_.address().to_string() + " port " +
                           std::to_string(self->server_.port());
                });
                self->socket_.async_send_to(asio::buffer(self->query_), self->server_,
                                            [self](const boost::system::error_code& ec, size_t) {
                                                if (self->finished()) return;
                                                if (ec)
                                                    return self->finish(false,
                                                                        "send: " + ec.message());
                                                self->receive();
                                            });
            });
    }

  protected:
    void onTimeout() override {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

  private:
    void receive() {
        auto self = std::static_pointer_cast<DnsCheck>(shared_from_this());
        socket_.async_receive_from(
            asio::buffer(reply_), from_, [self](const boost::system::error_code& ec, size_t n) {
                if (self->finished()) return;
                if (ec) return self->finish(false, "receive: " + ec.message());
                const uint8_t* r = self->reply_.data();
                // Ignore strays (wrong source or id) and keep waiting until the deadline.
                if (self->from_ != self->server_ || n < 12 || (r[0] << 8 | r[1]) != self->id_ ||
                    !(r[2] & 0x80))
                    return self->receive();
                int rcode = r[3] & 0x0f;
                int ancount = r[6] << 8 | r[7];
                self->saw([&] { return answerText(r, n); });
                if (rcode != 0)
                    return self->finish(false, std::string("rcode ") + rcodeName(rcode));
                if (ancount == 0) return self->finish(false, "NOERROR without an answer");
                self->finish(true, "NOERROR, " + std::to_string(ancount) + " answer(s)");
            });
    }

    udp::socket socket_;
    std::string qname_;
    uint16_t qtype_ = 0;
    udp::endpoint server_, from_;
    uint16_t id_ = 0;
    std::vector<uint8_t> query_;
    std::array<uint8_t, 4096> reply_{};
};

}  // namespace

void runDnsCheck(asio::io_context& io, const zones::ProbeDef& probe, const CheckTarget& target,
                 CheckDone done) {
    auto op = std::make_shared<DnsCheck>(io, probe.timeoutMs, std::move(done));
    op->start(probe, target);
}

}  // namespace probes
