// The XDP program dnsd attaches with --xdp: DNS queries (UDP, opcode QUERY) to an address and
// port dnsd listens on go to the AF_XDP socket of their receive queue; everything else (TCP,
// ARP, ICMP, fragments, IPv4 options, IPv6 extension headers, NOTIFY and UPDATE, other ports)
// passes to the kernel's stack untouched, where dnsd's ordinary sockets serve it.
// Built with clang -target bpf; the object is embedded in dnsd (dnsd/xdp/CMakeLists.txt).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// A listening address: family 4 or 6, the port and address in network order. Address all
// zero: every address of the interface (a wildcard listen).
struct listen_key {
    __u8 family;
    __u8 pad;
    __u16 port;
    __u8 addr[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, struct listen_key);
    __type(value, __u8);
} dnsd_listen SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u32);
} dnsd_xsks SEC(".maps");

SEC("xdp")
int dnsd_xdp(struct xdp_md* ctx) {
    void* data = (void*)(long)ctx->data;
    void* end = (void*)(long)ctx->data_end;
    struct ethhdr* eth = data;
    if ((void*)(eth + 1) > end) return XDP_PASS;
    struct listen_key key = {};
    struct udphdr* udp;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr* ip = (void*)(eth + 1);
        if ((void*)(ip + 1) > end) return XDP_PASS;
        if (ip->ihl != 5 || ip->protocol != IPPROTO_UDP) return XDP_PASS;
        if (ip->frag_off & bpf_htons(0x3fff)) return XDP_PASS;  // a fragment
        udp = (void*)(ip + 1);
        key.family = 4;
        __builtin_memcpy(key.addr, &ip->daddr, 4);
    } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr* ip6 = (void*)(eth + 1);
        if ((void*)(ip6 + 1) > end) return XDP_PASS;
        if (ip6->nexthdr != IPPROTO_UDP) return XDP_PASS;
        udp = (void*)(ip6 + 1);
        key.family = 6;
        __builtin_memcpy(key.addr, &ip6->daddr, 16);
    } else {
        return XDP_PASS;
    }
    __u8* dns = (void*)(udp + 1);
    if ((void*)(dns + 12) > end) return XDP_PASS;
    // Responses and every opcode but QUERY (NOTIFY, UPDATE) go to the socket path.
    if (dns[2] & 0xf8) return XDP_PASS;
    key.port = udp->dest;
    if (!bpf_map_lookup_elem(&dnsd_listen, &key)) {
        __builtin_memset(key.addr, 0, sizeof key.addr);
        if (!bpf_map_lookup_elem(&dnsd_listen, &key)) return XDP_PASS;
    }
    // No socket on this queue: the kernel's stack answers it.
    return bpf_redirect_map(&dnsd_xsks, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
