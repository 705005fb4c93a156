// TCP connect check, plus the host resolution every socket-based check shares.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "probes/check_op.hpp"

namespace probes {

namespace asio = boost::asio;
using asio::ip::tcp;

void resolveHost(asio::io_context& io, const std::string& host, Resolved done) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (!ec) {
        done(ec, {addr});
        return;
    }
    auto resolver = std::make_shared<tcp::resolver>(io);
    resolver->async_resolve(
        host, "",
        [resolver, done](const boost::system::error_code& ec, tcp::resolver::results_type results) {
            std::vector<asio::ip::address> out;
            for (const auto& r : results) out.push_back(r.endpoint().address());
            done(ec, std::move(out));
        });
}

namespace {

class TcpCheck : public CheckOp {
  public:
    TcpCheck(asio::io_context& io, int timeoutMs, CheckDone done)
        : CheckOp(io, timeoutMs, std::move(done)), socket_(io) {}

    void start(const CheckTarget& target) {
        armDeadline();
        stage_ = "resolve";
        auto self = std::static_pointer_cast<TcpCheck>(shared_from_this());
        int port = target.port;
        resolveHost(io_, target.host,
                    [self, port](const boost::system::error_code& ec,
                                 std::vector<asio::ip::address> addrs) {
                        if (self->finished()) return;
                        if (ec || addrs.empty())
                            return self->finish(false,
                                                "resolve: " + (ec ? ec.message() : "no address"));
                        std::vector<tcp::endpoint> eps;
                        for (const auto& a : addrs) eps.emplace_back(a, uint16_t(port));
                        self->stage_ = "connect";
                        asio::async_connect(
                            self->socket_, eps,
                            [self](const boost::system::error_code& ec, const tcp::endpoint&) {
                                if (self->finished()) return;
                                if (ec) return self->finish(false, "connect: " + ec.message());
                                boost::system::error_code ignored;
                                self->socket_.close(ignored);
                                self->finish(true, "connected");
                            });
                    });
    }

  protected:
    void onTimeout() override {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

  private:
    tcp::socket socket_;
};

}  // namespace

void runTcpCheck(asio::io_context& io, const zones::ProbeDef& probe, const CheckTarget& target,
                 CheckDone done) {
    auto op = std::make_shared<TcpCheck>(io, probe.timeoutMs, std::move(done));
    op->start(target);
}

}  // namespace probes
