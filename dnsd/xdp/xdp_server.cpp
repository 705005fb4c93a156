#include "dnsd/xdp/xdp_server.hpp"

#include <stdexcept>

namespace dnsd {

XdpServer::XdpServer(const std::vector<std::string>& interfaces,
                     const std::vector<common::ListenAddress>& listen) {
    for (const std::string& name : interfaces) {
        programs_.push_back(std::make_unique<XdpProgram>(name, listen));
        XdpProgram& p = *programs_.back();
        if (p.mtu() < 1280 || p.mtu() + 14u > XskSocket::kFrameSize)
            throw std::runtime_error("--xdp " + name + ": MTU " + std::to_string(p.mtu()) +
                                     " is not supported (1280 to " +
                                     std::to_string(XskSocket::kFrameSize - 14) + ")");
        bool zeroCopy = true;
        for (unsigned q = 0; q < p.queues(); ++q) {
            auto socket = std::make_unique<XskSocket>(name, p.ifindex(), q);
            p.addSocket(q, socket->fd());
            zeroCopy = zeroCopy && socket->zeroCopy();
            queues_.push_back(
                {std::move(socket), p.mtu(), "dnsd/xdp" + std::to_string(queues_.size())});
        }
        // Said now: the sockets move to their workers.
        description_ += (description_.empty() ? "" : ", ") + name + " (" +
                        std::to_string(p.queues()) + (p.queues() == 1 ? " queue, " : " queues, ") +
                        (zeroCopy ? "zero-copy" : "copy mode") + ")";
    }
}

std::vector<std::unique_ptr<XdpWorker>> XdpServer::workers(
    const StateHolder& state, const EngineConfig& config, RateLimiter& rrl,
    std::vector<std::unique_ptr<ThreadStats>>& stats, const std::atomic<bool>& stop) {
    std::vector<std::unique_ptr<XdpWorker>> out;
    for (Queue& q : queues_) {
        stats.push_back(std::make_unique<ThreadStats>());
        out.push_back(std::make_unique<XdpWorker>(std::move(q.socket), q.mtu,
                                                  DatagramPath(state, config, rrl, *stats.back()),
                                                  *stats.back(), stop, q.name));
    }
    return out;
}

}  // namespace dnsd
