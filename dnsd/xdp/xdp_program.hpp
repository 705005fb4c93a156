// dnsd::XdpProgram — dnsd's XDP program (xdp_dns.bpf.c) loaded and attached to one interface.
//
// Contract: the constructor loads the embedded object, attaches it through a BPF link (so the
// kernel detaches it when dnsd exits, even by SIGKILL: no program is left steering queries to
// a socket that is gone), and fills the listen map with `listen`. It throws std::runtime_error
// naming the interface and the reason (no such interface, not root, the driver refuses XDP, an
// XDP program of someone else's already attached). It also reads the interface's receive
// queues and MTU, for the sockets and the answers' size. addSocket() registers the AF_XDP socket of
// one receive queue. Not thread-safe; used during start-up only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/listen_address.hpp"

struct bpf_object;
struct bpf_link;

namespace dnsd {

class XdpProgram {
  public:
    XdpProgram(const std::string& interface, const std::vector<common::ListenAddress>& listen);
    ~XdpProgram();
    XdpProgram(const XdpProgram&) = delete;
    XdpProgram& operator=(const XdpProgram&) = delete;

    unsigned ifindex() const { return ifindex_; }
    const std::string& interface() const { return interface_; }
    // The receive queues the interface has (/sys/class/net/IF/queues/rx-*).
    unsigned queues() const { return queues_; }
    unsigned mtu() const { return mtu_; }
    void addSocket(unsigned queue, int xskFd);

  private:
    std::string interface_;
    unsigned ifindex_ = 0;
    unsigned queues_ = 1;
    unsigned mtu_ = 0;
    struct CloseObject {
        void operator()(bpf_object* o) const;
    };
    struct DestroyLink {
        void operator()(bpf_link* l) const;
    };
    std::unique_ptr<bpf_object, CloseObject> object_;
    std::unique_ptr<bpf_link, DestroyLink> link_;  // after object_: destroyed first
    int xsks_ = -1;
};

}  // namespace dnsd
