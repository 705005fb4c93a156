"""A pair of network namespaces joined by a veth pair, for kxdpgun (AF_XDP) load.

    server namespace  "dnsdbench-srv-PID": lo up (127.0.0.1), veth kbsPID 127.202.0.1/30
    load namespace    "dnsdbench-gen-PID": lo down,           veth kbgPID 127.202.0.2/30

The servers listen on 127.0.0.1 inside the server namespace exactly as in the loopback
bench (servers.py is unchanged); the load namespace reaches that 127.0.0.1 over the veth.
Addresses stay in 127.0.0.0/8, so route_localnet=1 is set on both ends (otherwise the
kernel drops them as martians); the server's replies to 127.202.0.2 need a route in the
*local* table, where the kernel's "local 127.0.0.0/8 dev lo" would otherwise catch them
(the same sequence as tests/support/net_namespace.cpp, with both ends in namespaces we own,
so nothing in the root namespace changes).

The bench's own main thread enters the server namespace (setns) while servers run, so the
servers it spawns, its readiness queries and its answer checks all live there; kxdpgun is
started with `ip netns exec` in the load namespace.

Removal: NsPair.remove() is called from the scenario's finally, from atexit, and (through
bench.py's signal handlers, which raise) on SIGINT/SIGTERM/SIGHUP/SIGALRM; a bench killed
with SIGKILL leaves its namespaces behind, and the next run removes those of dead pids.
"""

import atexit
import ctypes
import json
import os
import re
import shutil
import subprocess

CLONE_NEWNET = 0x40000000
PREFIX = "dnsdbench-"
_libc = ctypes.CDLL(None, use_errno=True)

SERVER_ADDR, LOAD_ADDR = "127.202.0.1", "127.202.0.2"


def _ip(*args, check=True):
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError(f"netns: `ip {' '.join(args)}` failed: {(r.stderr or r.stdout).strip()}")
    return r


def unavailable():
    """None if namespaces and kxdpgun can be used here, else why not (one line)."""
    if os.geteuid() != 0:
        return "network namespaces and AF_XDP need root"
    if not shutil.which("ip"):
        return "`ip` (Debian package iproute2) is not installed"
    if not shutil.which("kxdpgun"):
        return "kxdpgun (Debian package knot-dnsutils) is not installed"
    probe = f"{PREFIX}check-{os.getpid()}"
    r = _ip("netns", "add", probe, check=False)
    if r.returncode != 0:
        return "cannot create a network namespace: " + (r.stderr.strip().splitlines() or ["?"])[0]
    _ip("netns", "del", probe, check=False)
    return None


def remove_stale():
    """Namespaces of earlier bench runs whose process is gone (killed with SIGKILL)."""
    r = _ip("netns", "list", check=False)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(re.escape(PREFIX) + r"(?:srv|gen|check)-(\d+)", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            _ip("netns", "del", name, check=False)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns: {os.strerror(e)}")


class NsPair:
    def __init__(self):
        pid = os.getpid()
        self.srv, self.gen = f"{PREFIX}srv-{pid}", f"{PREFIX}gen-{pid}"
        self.srv_dev, self.gen_dev = f"kbs{pid}", f"kbg{pid}"  # <= 15 characters
        self._home = None  # fd of the namespace the bench came from, while inside srv
        self._created = False

    def create(self, queues=1):
        remove_stale()
        atexit.register(self.remove)
        self._created = True
        s, g, sd, gd = self.srv, self.gen, self.srv_dev, self.gen_dev
        _ip("netns", "add", s)
        _ip("netns", "add", g)
        q = ["numtxqueues", str(queues), "numrxqueues", str(queues)]
        _ip("link", "add", sd, *q, "netns", s, "type", "veth", "peer", "name", gd, *q, "netns", g)
        _ip("-n", s, "link", "set", "lo", "up")
        _ip("-n", s, "addr", "add", SERVER_ADDR + "/30", "dev", sd)
        _ip("-n", g, "addr", "add", LOAD_ADDR + "/30", "dev", gd)
        for ns, dev in ((s, sd), (g, gd)):
            _ip("netns", "exec", ns, "sysctl", "-qw", f"net.ipv4.conf.{dev}.route_localnet=1",
                "net.ipv4.conf.all.route_localnet=1")
            _ip("-n", ns, "link", "set", dev, "up")
        # load side: 127.0.0.1 is the server over the veth (its lo is down: no 127/8 of its own)
        _ip("-n", g, "route", "add", "127.0.0.1/32", "dev", gd, "src", LOAD_ADDR)
        # server side: replies to the load address leave by the veth, not by lo
        _ip("-n", s, "route", "add", LOAD_ADDR + "/32", "dev", sd, "table", "local", "src", "127.0.0.1")
        self.srv_mac, self.gen_mac = self.mac(s, sd), self.mac(g, gd)
        return self

    @staticmethod
    def mac(ns, dev):
        r = _ip("-n", ns, "-j", "link", "show", dev)
        return json.loads(r.stdout)[0]["address"]

    def enter_server(self):
        """The calling thread (the bench's main thread) moves into the server namespace."""
        if self._home is None:
            self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        fd = os.open(f"/run/netns/{self.srv}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(fd)
        finally:
            os.close(fd)

    def leave_server(self):
        if self._home is not None:
            try:
                _setns(self._home)
            finally:
                os.close(self._home)
                self._home = None

    def gen_command(self, cmd):
        return ["ip", "netns", "exec", self.gen, *cmd]

    def remove(self):
        """Idempotent; safe from atexit after a normal removal."""
        if not self._created:
            return
        try:
            self.leave_server()
        except OSError:
            pass
        # deleting the veth is synchronous (its peer goes with it); the namespaces' own
        # teardown is not, so the link is not left to `netns del`
        _ip("-n", self.srv, "link", "del", self.srv_dev, check=False)
        _ip("netns", "del", self.srv, check=False)
        _ip("netns", "del", self.gen, check=False)
        self._created = False
