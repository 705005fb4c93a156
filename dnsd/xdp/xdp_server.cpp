#include "dnsd/xdp/xdp_server.hpp"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <stdexcept>

namespace dnsd {
namespace {

uint16_t interfaceMtu(const std::string& interface) {
    if (::if_nametoindex(interface.c_str()) == 0)
        throw std::runtime_error("--xdp " + interface + ": no such interface");
    common::Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq req{};
    std::strncpy(req.ifr_name, interface.c_str(), IFNAMSIZ - 1);
    if (!s.valid() || ::ioctl(s.get(), SIOCGIFMTU, &req) != 0)
        throw std::runtime_error("--xdp " + interface + ": cannot read its MTU");
    if (req.ifr_mtu < 1280 || req.ifr_mtu + 14 > int(XskSocket::kFrameSize))
        throw std::runtime_error("--xdp " + interface + ": MTU " + std::to_string(req.ifr_mtu) +
                                 " is not supported (1280 to " +
                                 std::to_string(XskSocket::kFrameSize - 14) + ")");
    return uint16_t(req.ifr_mtu);
}

}  // namespace

XdpServer::XdpServer(const std::vector<std::string>& interfaces,
                     const std::vector<common::ListenAddress>& listen) {
    for (const std::string& name : interfaces) {
        const uint16_t mtu = interfaceMtu(name);
        programs_.push_back(std::make_unique<XdpProgram>(name, listen));
        XdpProgram& p = *programs_.back();
        for (unsigned q = 0; q < p.queues(); ++q) {
            auto socket = std::make_unique<XskSocket>(name, p.ifindex(), q);
            p.addSocket(q, socket->fd());
            queues_.push_back(
                {std::move(socket), mtu, "dnsd/xdp" + std::to_string(queues_.size())});
        }
    }
}

std::vector<std::unique_ptr<XdpWorker>> XdpServer::workers(
    const StateHolder& state, const EngineConfig& config, RateLimiter& rrl,
    std::vector<std::unique_ptr<ThreadStats>>& stats, const std::atomic<bool>& stop) {
    std::vector<std::unique_ptr<XdpWorker>> out;
    for (Queue& q : queues_) {
        stats.push_back(std::make_unique<ThreadStats>());
        out.push_back(std::make_unique<XdpWorker>(std::move(q.socket), q.mtu, state, config, rrl,
                                                  *stats.back(), stop, q.name));
    }
    return out;
}

std::string XdpServer::describe() const {
    std::string out;
    for (const auto& p : programs_) {
        bool zeroCopy = false;
        for (const Queue& q : queues_)
            if (q.socket && q.socket->zeroCopy()) zeroCopy = true;
        out += (out.empty() ? "" : ", ") + p->interface() + " (" + std::to_string(p->queues()) +
               (p->queues() == 1 ? " queue, " : " queues, ") +
               (zeroCopy ? "zero-copy" : "copy mode") + ")";
    }
    return out;
}

}  // namespace dnsd
