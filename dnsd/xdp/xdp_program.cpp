#include "dnsd/xdp/xdp_program.hpp"

#include "common/fd.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace dnsd {

extern const uint8_t kXdpDnsObject[];
extern const size_t kXdpDnsObjectSize;

namespace {

struct ListenKey {  // struct listen_key of xdp_dns.bpf.c
    uint8_t family;
    uint8_t pad;
    uint16_t port;  // network order
    uint8_t addr[16];
};

std::runtime_error failure(const std::string& interface, const std::string& what, int err) {
    return std::runtime_error("--xdp " + interface + ": " + what + ": " + std::strerror(err));
}

}  // namespace

XdpProgram::XdpProgram(const std::string& interface,
                       const std::vector<common::ListenAddress>& listen)
    : interface_(interface) {
    ifindex_ = ::if_nametoindex(interface.c_str());
    if (ifindex_ == 0) throw failure(interface, "no such interface", errno);
    std::error_code ec;
    unsigned rx = 0;
    for (const auto& e :
         std::filesystem::directory_iterator("/sys/class/net/" + interface + "/queues", ec))
        if (e.path().filename().string().rfind("rx-", 0) == 0) ++rx;
    queues_ = rx ? rx : 1;
    common::Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq req{};
    std::strncpy(req.ifr_name, interface.c_str(), IFNAMSIZ - 1);
    if (!s.valid() || ::ioctl(s.get(), SIOCGIFMTU, &req) != 0)
        throw failure(interface, "cannot read its MTU", errno);
    mtu_ = unsigned(req.ifr_mtu);

    libbpf_set_print(nullptr);  // errors are reported below, with the interface named
    object_.reset(bpf_object__open_mem(kXdpDnsObject, kXdpDnsObjectSize, nullptr));
    if (!object_) throw failure(interface, "cannot open the XDP program", errno);
    if (int e = bpf_object__load(object_.get()); e != 0)
        throw failure(interface, "cannot load the XDP program (root or CAP_BPF needed)", -e);
    bpf_program* prog = bpf_object__find_program_by_name(object_.get(), "dnsd_xdp");
    bpf_map* listenMap = bpf_object__find_map_by_name(object_.get(), "dnsd_listen");
    bpf_map* xskMap = bpf_object__find_map_by_name(object_.get(), "dnsd_xsks");
    if (!prog || !listenMap || !xskMap) throw failure(interface, "XDP program incomplete", EINVAL);
    xsks_ = bpf_map__fd(xskMap);
    for (const common::ListenAddress& a : listen) {
        ListenKey k{};
        uint8_t one = 1;
        if (a.family() == AF_INET) {
            const auto& s = reinterpret_cast<const sockaddr_in&>(a.addr);
            k.family = 4;
            k.port = s.sin_port;
            std::memcpy(k.addr, &s.sin_addr, 4);
        } else if (a.family() == AF_INET6) {
            const auto& s = reinterpret_cast<const sockaddr_in6&>(a.addr);
            k.family = 6;
            k.port = s.sin6_port;
            std::memcpy(k.addr, &s.sin6_addr, 16);
        } else {
            continue;
        }
        if (bpf_map_update_elem(bpf_map__fd(listenMap), &k, &one, BPF_ANY) != 0)
            throw failure(interface, "cannot fill the listen map", errno);
    }
    // A link, not a plain attach: the kernel removes it with the last fd, so a dnsd that
    // crashes leaves no program behind.
    link_.reset(bpf_program__attach_xdp(prog, int(ifindex_)));
    if (!link_) {
        int e = errno;
        throw failure(interface,
                      e == EBUSY || e == EEXIST ? "another XDP program is attached"
                                                : "cannot attach the XDP program",
                      e);
    }
}

XdpProgram::~XdpProgram() = default;

void XdpProgram::CloseObject::operator()(bpf_object* o) const {
    bpf_object__close(o);
}

void XdpProgram::DestroyLink::operator()(bpf_link* l) const {
    bpf_link__destroy(l);
}

void XdpProgram::addSocket(unsigned queue, int xskFd) {
    uint32_t key = queue;
    uint32_t fd = uint32_t(xskFd);
    if (bpf_map_update_elem(xsks_, &key, &fd, BPF_ANY) != 0)
        throw failure(interface_,
                      "cannot register the AF_XDP socket of queue " + std::to_string(queue), errno);
}

}  // namespace dnsd
