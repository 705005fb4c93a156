"""probes: dnsd-probe CPU for many tcp members (issue 4, item 6).

The bench opens one TCP listener per member on 127.1.x.y (one epoll thread accepts and
closes every connection, and counts them), defines pools of --per-pool members each with
one tcp probe, starts dnsd-probe, waits until every pool has a decision, lets it settle,
and then samples dnsd-probe's CPU (utime+stime of its process, all threads) over
--seconds. The accepted-connection rate shows that the probes really ran at the rate
configured (members / interval), so a low CPU figure cannot come from probes not running.
Setup is one `dnsctl pool create` and one batch `dnsctl member add POOL --from-file FILE`
per pool (a few seconds for 10,000 members). --probe-bin measures another dnsd-probe binary
(e.g. a copy of the previous build) against the same setup.
"""

import os
import resource
import selectors
import signal
import socket
import subprocess
import threading
import time

import bench
import measure
import report
import servers
import zonegen

NAME = "probes"
HELP = "dnsd-probe CPU for N tcp members at 1 s interval (default 10,000)"


def options(p):
    p.set_defaults(servers="dnsd")
    p.add_argument("--members", type=int, default=10000, help="members to probe (default %(default)s)")
    p.add_argument("--per-pool", type=int, default=100, help="members per pool (default %(default)s)")
    p.add_argument("--interval-ms", type=int, default=1000, help="probe interval (default %(default)s)")
    p.add_argument("--seconds", type=int, default=30, help="CPU sampling window (default %(default)s)")
    p.add_argument("--settle", type=int, default=5, help="seconds after the first decisions before sampling")
    p.add_argument("--probe-bin", help="dnsd-probe binary to measure (default: BUILD_DIR/probes/dnsd-probe)")


def member_addr(i):
    # 127.1.0.1 ... skipping .0 and .255 host parts; all inside 127.0.0.0/8
    return f"127.{1 + i // (254 * 256)}.{(i // 254) % 256}.{1 + i % 254}"


class Listeners:
    def __init__(self, addrs, port):
        self.sel = selectors.EpollSelector()
        self.addrs, self.port = list(addrs), port
        self.socks = []
        self.accepted = 0
        self.stop_flag = False
        for a in self.addrs:
            self.socks.append(self._listen(a))
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _listen(self, addr):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, self.port))
        s.listen(64)
        s.setblocking(False)
        self.sel.register(s, selectors.EVENT_READ)
        return s

    def kill(self, i):
        """Closes member i's listener: its pending and new connects are refused, as when the
        backend process dies. (epoll_ctl is safe beside the loop thread's epoll_wait; an event
        already returned for the closed socket fails its accept, which the loop ignores.)"""
        s, self.socks[i] = self.socks[i], None
        if s is not None:
            self.sel.unregister(s)
            s.close()

    def revive(self, i):
        if self.socks[i] is None:
            self.socks[i] = self._listen(self.addrs[i])

    def _loop(self):
        while not self.stop_flag:
            for key, _ in self.sel.select(0.1):
                try:
                    c, _ = key.fileobj.accept()
                    c.close()
                    self.accepted += 1
                except OSError:
                    pass

    def close(self):
        self.stop_flag = True
        self.thread.join()
        for s in self.socks:
            if s is not None:
                s.close()
        self.sel.close()


def tcp_counters():
    """Machine-wide PassiveOpens and ListenOverflows (kernel view of the connects)."""
    out = {}
    for path, keys in (("/proc/net/snmp", ("PassiveOpens",)), ("/proc/net/netstat", ("ListenOverflows",))):
        with open(path) as f:
            lines = f.read().splitlines()
        for head, vals in zip(lines[::2], lines[1::2]):
            names, nums = head.split()[1:], vals.split()[1:]
            for k in keys:
                if k in names:
                    out[k] = int(nums[names.index(k)])
    return out


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            raise RuntimeError(f"need {need} file descriptors for the listeners, hard limit is {hard} (ulimit -Hn)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def setup_db(ctx, addrs, port, per_pool, interval_ms, rise=2, fall=2, priority=None, pool_options=()):
    """A database (dnsctl init, a small zone) with one tcp probe on `port` and pools p0, p1, ...
    of `per_pool` consecutive addresses each. priority(j) gives the priority of the j-th member
    of a pool (default: all 1). Returns (servers.Dnsd with .db set, not started; pools as lists
    of addresses)."""
    zone = zonegen.generate(os.path.join(ctx.tmp, "probes.zone"), hosts=10)
    d = servers.Dnsd(ctx, zone, 1)
    why = d.missing()
    if why:
        raise RuntimeError(why)
    os.makedirs(d.dir, exist_ok=True)
    d.db = os.path.join(d.dir, "dnsd.db")
    d.dnsctl("init")
    d.dnsctl("zone", "import", d.copy_zone("zone"), "--zone", zone.origin)
    d.dnsctl("probe", "add", "bench-tcp", "--type", "tcp", "--port", str(port), "--interval",
             f"{interval_ms}ms", "--timeout", f"{min(500, interval_ms // 2)}ms", "--rise", str(rise), "--fall", str(fall))
    pools = [addrs[i : i + per_pool] for i in range(0, len(addrs), per_pool)]
    for p, members in enumerate(pools):
        d.dnsctl("pool", "create", f"p{p}", "--zone", zone.origin, "--name", f"p{p}", "--type", "A", *pool_options)
    for p, members in enumerate(pools):
        listing = os.path.join(d.dir, f"members-p{p}.txt")
        with open(listing, "w") as f:
            f.write("".join(m + (f" --priority {priority(j)}" if priority else "") + "\n" for j, m in enumerate(members)))
        d.dnsctl("member", "add", f"p{p}", "--from-file", listing, "--probe", "bench-tcp")
    return d, pools


def run(ctx):
    args = ctx.args
    bench.ensure_dnsd(ctx, ("dnsd", "dnsctl", "dnsd-probe"))
    n = args.members
    raise_fd_limit(n + 1024)
    addrs = [member_addr(i) for i in range(n)]
    port = servers.free_port()
    signal.alarm(int(n * 0.2 + args.seconds + args.settle + 900))
    t0 = time.monotonic()
    lis = Listeners(addrs, port)
    ctx.log(f"{n} tcp listeners on 127.x.y.z:{port} up in {time.monotonic() - t0:.1f} s")
    try:
        t0 = time.monotonic()
        d, pools = setup_db(ctx, addrs, port, args.per_pool, args.interval_ms)
        setup_s = time.monotonic() - t0
        ctx.log(f"{len(pools)} pools, {n} members defined with dnsctl in {setup_s:.0f} s")

        if args.probe_bin:
            probe_bin = os.path.abspath(args.probe_bin)
            d.probe_bin = lambda: probe_bin
        ctx.log(f"dnsd-probe: {d.probe_bin()}")
        t0 = time.monotonic()
        d.start_probe(deadline=300)
        first = time.monotonic() - t0
        ctx.log(f"dnsd-probe: every pool decided {first:.1f} s after start; settling {args.settle} s")
        time.sleep(args.settle)
        pid = d.probe_proc.pid
        a, acc0, k0 = measure.cpu_sample(pid), lis.accepted, tcp_counters()
        time.sleep(args.seconds)
        b, acc1, k1 = measure.cpu_sample(pid), lis.accepted, tcp_counters()
        cpu = measure.cpu_seconds(a, b)
        wall = b.at - a.at
        st = d.status()
        members = [m for p in st["pools"] for m in p["members"]]
        up = sum(1 for m in members if m.get("health") == "up")
        rss = measure.rss_kb(pid)
        threads = b.threads
        d.stop()
    finally:
        lis.close()

    t = report.Table([("members", "int"), ("interval ms", "int"), ("CPU % of a core", "pct"),
                      ("expected/s", "int"), ("accepted/s", "int"), ("kernel opens/s", "int"),
                      ("listen overflows/s", "int"), ("members up", "int"),
                      ("RSS", "mb"), ("threads", "int"), ("first decision s", "f1")])
    kd = {k: (k1.get(k, 0) - k0.get(k, 0)) / wall for k in ("PassiveOpens", "ListenOverflows")}
    t.add("dnsd-probe", [n, args.interval_ms, cpu / wall * 100, n * 1000.0 / args.interval_ms,
                         (acc1 - acc0) / wall, kd["PassiveOpens"], kd["ListenOverflows"], up, rss, threads, first])
    head = [
        f"dnsd benchmark (probe engine), {time.strftime('%Y-%m-%d %H:%M:%S')}",
        f"command: tools/bench {' '.join(os.sys.argv[1:])}",
        f"{n} members in {len(pools)} pools, one tcp probe each (interval {args.interval_ms} ms, rise/fall 2),"
        " backends: listeners opened by the bench on 127.x.y.z",
        f"CPU: utime+stime of dnsd-probe over {wall:.0f} s after {args.settle} s of settling; aim: < 50% of a core",
        "accepted/s: connections the bench's listeners accepted; kernel opens/s: TCP PassiveOpens of the whole"
        " machine (includes anything else running); listen overflows: connects dropped because the bench's"
        " acceptor fell behind (then the probe rate is limited by the bench, not dnsd-probe)",
    ]
    text = "\n".join(head) + "\n\n" + t.text()
    print("\n" + text)
    if args.out:
        with open(args.out, "w") as f:
            f.write("## dnsd benchmark: probe engine\n\n" + "\n".join(f"- {h}" for h in head) + "\n\n" + t.markdown() + "\n")
        ctx.log(f"\nmarkdown written to {args.out}")
