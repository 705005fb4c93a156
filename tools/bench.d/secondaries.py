"""Secondary servers for `tools/bench secondaries`: NSD, Knot and BIND as secondaries of a
primary on 127.0.0.1, and Knot as a primary (the anchor), each a child of the bench in its
own process group (servers.Children kills them on exit).

The secondaries are configured the way tests/support/secondary_server.cpp does it: a
minimal server block (loopback port, state in the run's temp dir, RRL off) followed by the
block `dnsctl secondary config ZONE ADDR --for nsd|knot|bind --primary ADDR:PORT` prints
(key, primary, NOTIFY acl, zone). For the Knot primary the bench writes the equivalent
block itself.
"""

import base64
import os
import re
import shutil
import subprocess
import time

import dnswire
import servers

BINARIES = {"nsd": "nsd", "knot": "knotd", "bind": "named"}
TITLES = {"nsd": "NSD", "knot": "Knot", "bind": "BIND"}


def missing(kind):
    b = BINARIES[kind]
    if shutil.which(b) or os.access(f"/usr/sbin/{b}", os.X_OK):
        return None
    return f"{b} not installed (tools/install-deps installs {'bind9' if kind == 'bind' else kind})"


def version(kind):
    cmd = {"nsd": ["nsd", "-v"], "knot": ["knotd", "--version"], "bind": ["named", "-v"]}[kind]
    return servers._first_line(cmd)


class Secondary:
    """One secondary of `zone` on 127.0.0.1:port; `block` is what dnsctl secondary config printed."""

    def __init__(self, ctx, kind, zone, port, block, dirname, cpus=None):
        self.ctx, self.kind, self.zone, self.port, self.block = ctx, kind, zone, port, block
        self.cpus = cpus  # taskset -c list, or None: unpinned
        self.title = TITLES[kind]
        self.dir = os.path.join(ctx.tmp, dirname)
        self.proc = None

    def _config(self):
        d, p = self.dir, self.port
        if self.kind == "nsd":
            return ("nsd.conf",
                    f'server:\n  ip-address: 127.0.0.1@{p}\n  username: ""\n  chroot: ""\n  database: ""\n'
                    f'  zonesdir: "{d}"\n  zonelistfile: "{d}/zone.list"\n  xfrdfile: "{d}/xfrd.state"\n'
                    f'  xfrdir: "{d}"\n  pidfile: "{d}/nsd.pid"\n  server-count: 1\n  verbosity: 2\n'
                    f'  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n'
                    f"remote-control:\n  control-enable: no\n\n{self.block}")
        if self.kind == "knot":
            return ("knot.conf",
                    f'server:\n  rundir: "{d}"\n  listen: 127.0.0.1@{p}\n  udp-workers: 1\n  tcp-workers: 1\n'
                    f'  background-workers: 1\n\ndatabase:\n  storage: "{d}"\n\n'
                    f"log:\n  - target: stderr\n    any: info\n\n"
                    f'template:\n  - id: default\n    storage: "{d}"\n    zonefile-sync: -1\n\n{self.block}')
        return ("named.conf",
                f'options {{\n    directory "{d}";\n    listen-on port {p} {{ 127.0.0.1; }};\n'
                f'    listen-on-v6 {{ none; }};\n    pid-file "{d}/named.pid";\n'
                f'    session-keyfile "{d}/session.key";\n    managed-keys-directory "{d}";\n'
                f"    recursion no;\n    dnssec-validation no;\n    notify no;\n}};\ncontrols {{ }};\n\n{self.block}")

    def start(self, fresh=True):
        if fresh and os.path.isdir(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.dir, exist_ok=True)
        name, text = self._config()
        conf = os.path.join(self.dir, name)
        with open(conf, "w") as f:
            f.write(text)
        cmd = {"nsd": ["nsd", "-d", "-c", conf], "knot": ["knotd", "-c", conf],
               "bind": ["named", "-g", "-c", conf]}[self.kind]
        if self.cpus:
            cmd = ["taskset", "-c", self.cpus] + cmd
        self.log_path = os.path.join(self.dir, "server.log")
        with open(self.log_path, "a") as log:
            self.proc = self.ctx.children.add(subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                start_new_session=True, preexec_fn=servers._die_with_parent))
        return self

    def serial(self, timeout=0.3):
        a = dnswire.query(self.port, self.zone, "SOA", timeout=timeout)
        if a is None or a.rcode != 0 or not a.aa:
            return None
        for t, v in a.records:
            if t == 6:
                return soa_serial(v)
        return None

    def wait_serial(self, want, deadline):
        """Until the secondary serves `want` (or newer); False at the deadline or if it exited."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            s = self.serial()
            if s is not None and s >= want:
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        servers.Server.stop(self)

    def log_tail(self, n=10):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


def soa_serial(rdata_hex):
    """The serial of an SOA rdata (hex as dnswire returns it: two names, then 5 x 32 bit)."""
    b = bytes.fromhex(rdata_hex)
    pos = 0
    for _ in range(2):  # mname, rname (uncompressed or ending in a pointer)
        while True:
            n = b[pos]
            if n & 0xC0 == 0xC0:
                pos += 2
                break
            pos += 1
            if n == 0:
                break
            pos += n
    return int.from_bytes(b[pos : pos + 4], "big")


def new_tsig_secret():
    return base64.b64encode(os.urandom(32)).decode()


class KnotPrimary:
    """Knot as the primary of `zone` (its journal answers IXFR, it NOTIFYs the secondary),
    with a control socket for knotc zone-begin/set/unset/commit."""

    def __init__(self, ctx, zone, port, key, secret, secondary_port):
        self.ctx, self.zone, self.port = ctx, zone, port
        self.key, self.secret, self.secondary_port = key, secret, secondary_port
        self.dir = os.path.join(ctx.tmp, "knot-primary")
        self.title = "Knot (primary)"
        self.proc = None

    def start(self, deadline=60):
        d = self.dir
        os.makedirs(os.path.join(d, "db"), exist_ok=True)
        shutil.copyfile(self.zone.path, os.path.join(d, self.zone.origin + "zone"))
        self.sock = os.path.join(d, "knot.sock")
        self.conf = os.path.join(d, "knot.conf")
        with open(self.conf, "w") as f:
            f.write(f"""server:
  rundir: "{d}"
  listen: 127.0.0.1@{self.port}
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
control:
  listen: "{self.sock}"
database:
  storage: "{d}/db"
log:
  - target: stderr
    any: info
key:
  - id: {self.key}
    algorithm: hmac-sha256
    secret: {self.secret}
remote:
  - id: secondary
    address: 127.0.0.1@{self.secondary_port}
    key: {self.key}
acl:
  - id: transfer
    address: 127.0.0.1
    action: transfer
    key: {self.key}
template:
  - id: default
    storage: "{d}"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: changes
    serial-policy: increment
    semantic-checks: off
zone:
  - domain: "{self.zone.origin}"
    notify: secondary
    acl: transfer
""")
        self.log_path = os.path.join(d, "server.log")
        with open(self.log_path, "a") as log:
            self.proc = self.ctx.children.add(subprocess.Popen(
                ["knotd", "-c", self.conf], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=d, start_new_session=True, preexec_fn=servers._die_with_parent))
        ok, why = dnswire.wait_authoritative(self.port, self.zone.origin, deadline,
                                             alive=lambda: self.proc.poll() is None)
        if not ok:
            raise RuntimeError(f"Knot primary did not come up: {why}; log {self.log_path}")
        return self

    def knotc(self, *args):
        r = subprocess.run(["knotc", "-s", self.sock, *args], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(f"knotc {' '.join(args)}: {(r.stderr or r.stdout).strip()}")
        return r.stdout

    def set_a(self, owner, addr):
        """Replaces owner's A RRset; returns the wall ms at which zone-commit was called."""
        z = self.zone.origin
        self.knotc("zone-begin", z)
        try:
            self.knotc("zone-unset", z, owner, "A")
        except RuntimeError:
            pass  # nothing to unset
        self.knotc("zone-set", z, owner, "30", "A", addr)
        t = time.time() * 1000
        self.knotc("zone-commit", z)
        return t

    def transfer_log(self):
        """(outgoing transfers [(kind, messages, bytes)], NOTIFYs acknowledged, NOTIFYs that
        failed) from Knot's log."""
        xfrs, acked, failed = [], 0, 0
        try:
            with open(self.log_path, errors="replace") as f:
                for line in f:
                    m = re.search(r"\b([AI]XFR), outgoing,.*finished.*?(\d+) messages, (\d+) bytes", line)
                    if m:
                        xfrs.append((m.group(1), int(m.group(2)), int(m.group(3))))
                    elif re.search(r"notify, outgoing,.*serial \d+", line, re.I):
                        acked += 1  # Knot logs the serial once the secondary answered
                    elif re.search(r"notify, outgoing,.*failed", line, re.I):
                        failed += 1
        except OSError:
            pass
        return xfrs, acked, failed

    def stop(self):
        servers.Server.stop(self)
