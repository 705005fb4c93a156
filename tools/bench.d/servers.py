"""The servers under test: generated config in a temp dir, started in the foreground as
children of the bench (own session, SIGKILL if the bench dies), on 127.0.0.1 only.

Every server is configured alike: one zone, RRL off (NSD rrl-ratelimit 0; Knot and gdnsd
have no rate limiting unless configured), logging to a file at the lowest level that still
shows errors, IPv4 loopback only, and a given number of query workers.
"""

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import dnswire
import measure
import zonegen

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # Backstop for a bench killed with SIGKILL: its trap cannot run, the kernel still
    # kills the server leaders. (Forked grandchildren are handled by the group kill.)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port(taken=()):
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            if port in taken:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free loopback port found")


def spawn(ctx, cmd, log_path, cwd):
    """Starts a helper process (dnsd-probe and the like) as a registered child of the bench:
    own process group, output to log_path, killed with the bench."""
    with open(log_path, "a") as log:
        return ctx.children.add(subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
            start_new_session=True, preexec_fn=_die_with_parent))


def stop_proc(p, timeout=10):
    """SIGTERM to a spawned child's process group, SIGKILL if it is still there after timeout."""
    if p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


class _ExitedEarly(RuntimeError):
    pass


class Children:
    """Every process the bench started; killed (whole process group) on exit."""

    def __init__(self):
        self.procs = []

    def add(self, p):
        self.procs.append(p)
        return p

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        end = time.monotonic() + 5
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)  # also reaps forked grandchildren
            except (ProcessLookupError, PermissionError):
                pass
            if p.poll() is None:
                p.wait()
        self.procs = []


class Server:
    key = "?"
    title = "?"

    def __init__(self, ctx, zone, workers):
        self.ctx = ctx  # .tmp, .children, .build_dir, .log
        self.zone = zone
        self.workers = workers
        self.dir = os.path.join(ctx.tmp, self.key)
        self.port = None
        self.proc = None
        self.start_seconds = None
        # TCP connections the server must accept at once (bench tcp); None: its own default
        self.tcp_clients = None

    # --- per server --------------------------------------------------------------------
    def missing(self):
        """None if runnable here, else why not."""
        return None

    def setup(self):
        """Writes config (and for dnsd the database) into self.dir."""

    def command(self):
        raise NotImplementedError

    def version(self):
        return "?"

    def worker_desc(self):
        return f"{self.workers} worker(s)"

    # log file and a pattern meaning "the zone did not load" (checked while waiting)
    fail_log = None
    fail_pattern = None

    def load_failed(self):
        if not self.fail_log:
            return None
        try:
            with open(os.path.join(self.dir, self.fail_log), errors="replace") as f:
                m = re.search(self.fail_pattern, f.read())
        except OSError:
            return None
        return f"zone did not load: {m.group(0).strip()}" if m else None

    # --- common ------------------------------------------------------------------------
    def prepare(self):
        """Port-independent work done once before the first start (dnsd: database)."""

    def start(self, cpu=None, ready_timeout=60, taken=None, attempts=3):
        """Prepares, picks a free port, writes the config and starts the server.

        The port is picked just before the server binds it; another process on the machine
        may still take it in between, so a server that exits at once is retried on a
        fresh port.
        """
        taken = taken if taken is not None else set()
        os.makedirs(self.dir, exist_ok=True)
        t0 = time.monotonic()
        self.prepare()
        for attempt in range(attempts):
            self.port = free_port(taken)
            taken.add(self.port)
            try:
                return self._start_once(cpu, ready_timeout, t0)
            except _ExitedEarly as e:
                if attempt == attempts - 1:
                    raise RuntimeError(str(e))

    def _start_once(self, cpu, ready_timeout, t0):
        port = self.port
        self.setup()
        cmd = (["taskset", "-c", str(cpu)] if cpu is not None else []) + self.command()
        self.log_path = os.path.join(self.dir, "server.log")
        log = open(self.log_path, "a")
        self.proc = self.ctx.children.add(
            subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        )
        log.close()
        ok, why = dnswire.wait_authoritative(
            port, self.zone.origin, ready_timeout, alive=lambda: self.proc.poll() is None, failed=self.load_failed
        )
        if not ok:
            self.stop(keep_helpers=True)
            msg = f"{self.title} did not come up: {why}; log {self.log_path}:\n{self.log_tail()}"
            if why == "process exited":
                raise _ExitedEarly(msg)
            self.stop()
            raise RuntimeError(msg)
        self.start_seconds = time.monotonic() - t0
        return self

    def log_tail(self, n=15):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def pid(self):
        return self.proc.pid

    def stop(self, keep_helpers=False):
        if self.proc:
            stop_proc(self.proc)
        if self.proc:
            try:  # NSD's forked children share the group; make sure none is left
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def copy_zone(self, name):
        dst = os.path.join(self.dir, name)
        if not os.path.exists(dst):
            shutil.copyfile(self.zone.path, dst)
        return dst


def _first_line(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        out = (r.stdout + r.stderr).strip().splitlines()
        return out[0] if out else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


class Nsd(Server):
    key = "nsd"
    title = "NSD"
    fail_log = "nsd.log"
    fail_pattern = r"[^\n]*(read with \d+ errors|could not read zone)[^\n]*"

    def missing(self):
        return None if shutil.which("nsd") else "nsd not installed (apt-get install nsd)"

    def version(self):
        return _first_line(["nsd", "-v"])

    def worker_desc(self):
        return f"server-count {self.workers}" + (f", tcp-count {self.tcp_clients}" if self.tcp_clients else "")

    def setup(self):
        d = self.dir
        zf = self.copy_zone("zone")
        self.conf = os.path.join(d, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write(
                f"""server:
  ip-address: 127.0.0.1@{self.port}
  port: {self.port}
  do-ip6: no
  server-count: {self.workers}
  username: ""
  chroot: ""
  zonesdir: "{d}"
  database: ""
  pidfile: "{d}/nsd.pid"
  xfrdfile: "{d}/xfrd.state"
  zonelistfile: "{d}/zone.list"
  logfile: "{d}/nsd.log"
  verbosity: 0
  hide-version: yes
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
  ip-freebind: no
{f"  tcp-count: {self.tcp_clients}" + chr(10) if self.tcp_clients else ""}remote-control:
  control-enable: no
zone:
  name: "{self.zone.origin}"
  zonefile: "{zf}"
"""
            )
        r = subprocess.run(["nsd-checkconf", self.conf], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"nsd-checkconf {self.conf}: {r.stderr.strip() or r.stdout.strip()}")

    def command(self):
        return ["nsd", "-d", "-c", self.conf]


class Knot(Server):
    key = "knot"
    title = "Knot"
    fail_log = "knot.log"
    fail_pattern = r"[^\n]*zone file error[^\n]*|[^\n]*failed to (load|parse)[^\n]*"

    def missing(self):
        return None if shutil.which("knotd") else "knotd not installed (apt-get install knot)"

    def version(self):
        return _first_line(["knotd", "--version"])

    def worker_desc(self):
        return (f"udp-workers {self.workers}, tcp-workers 1, background-workers 1"
                + (f", tcp-max-clients {self.tcp_clients}" if self.tcp_clients else ""))

    def setup(self):
        d = self.dir
        self.copy_zone(self.zone.origin + "zone")
        os.makedirs(os.path.join(d, "db"), exist_ok=True)
        self.conf = os.path.join(d, "knot.conf")
        with open(self.conf, "w") as f:
            f.write(
                f"""server:
    rundir: "{d}"
    listen: 127.0.0.1@{self.port}
    udp-workers: {self.workers}
    tcp-workers: 1
    background-workers: 1
{f"    tcp-max-clients: {self.tcp_clients}" + chr(10) if self.tcp_clients else ""}database:
    storage: "{d}/db"
log:
  - target: "{d}/knot.log"
    any: error
template:
  - id: default
    storage: "{d}"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
  - domain: "{self.zone.origin}"
"""
            )

    def command(self):
        return ["knotd", "-c", self.conf]


class Gdnsd(Server):
    key = "gdnsd"
    title = "gdnsd"

    def missing(self):
        return None if shutil.which("gdnsd") else "gdnsd not installed (apt-get install gdnsd)"

    def version(self):
        m = re.search(r"gdnsd version \S+", _first_line(["gdnsd", "-c", "/nonexistent", "checkconf"]))
        return m.group(0) if m else "gdnsd"

    def worker_desc(self):
        return f"udp_threads {self.workers}, tcp_threads 1" + (
            f", tcp_clients_per_thread {self.tcp_clients}" if self.tcp_clients else "")

    def setup(self):
        d = self.dir
        os.makedirs(os.path.join(d, "zones"), exist_ok=True)
        dst = os.path.join(d, "zones", self.zone.origin.rstrip("."))
        plugins = ""
        if self.zone.pools:
            # pool names become DYNA multifo resources instead of static A RRsets
            dyna = [f"{n} 30 DYNA multifo!{n}" for n in sorted(self.zone.pools)]
            zonegen.without_pools(self.zone, dst, dyna)
            plugins = self._multifo()
        else:
            shutil.copyfile(self.zone.path, dst)
        with open(os.path.join(d, "config"), "w") as f:
            f.write(
                f"""options => {{
  listen => [ "127.0.0.1:{self.port}" ]
  udp_threads => {self.workers}
  tcp_threads => 1
{f"  tcp_clients_per_thread => {self.tcp_clients}" + chr(10) if self.tcp_clients else ""}  run_dir => "{d}/run"
  state_dir => "{d}/state"
}}
{plugins}
"""
            )

    def _multifo(self):
        p = self.zone.probe
        if p:
            # gdnsd's fastest tcp_connect: interval >= 2 s, timeout >= 1 s and < interval
            svc = (f"service_types => {{ bench_tcp => {{ plugin => tcp_connect, port => {p['port']},"
                   f" interval => {p['gdnsd_interval']}, timeout => {p['gdnsd_timeout']},"
                   f" up_thresh => {p['rise']}, ok_thresh => {p['rise']}, down_thresh => {p['gdnsd_down']} }} }}\n")
            types = "bench_tcp"
        else:
            svc, types = "", "up"  # "up": a static always-up monitor, no checks
        res = []
        for name, members in sorted(self.zone.pools.items()):
            addrs = ", ".join(f"m{i} => {a}" for i, a in enumerate(members))
            # up_thresh 0.1: with one of two members down, serve the other (not all)
            res.append(f"    {name} => {{ service_types => {types}, up_thresh => 0.1, {addrs} }}")
        return svc + "plugins => {\n  multifo => {\n" + "\n".join(res) + "\n  }\n}\n"

    def command(self):
        return ["gdnsd", "-c", self.dir, "start"]


class Dnsd(Server):
    key = "dnsd"
    title = "dnsd"

    def bins(self):
        b = self.ctx.build_dir
        return os.path.join(b, "dnsd", "dnsd"), os.path.join(b, "tools", "dnsctl")

    def probe_bin(self):
        return os.path.join(self.ctx.build_dir, "probes", "dnsd-probe")

    def missing(self):
        if getattr(self.ctx, "dnsd_skip", None):
            return self.ctx.dnsd_skip
        need = list(self.bins()) + ([self.probe_bin()] if self.zone.pools else [])
        for p in need:
            if not os.access(p, os.X_OK):
                return f"{p} not built (dnsd leg skipped)"
        return None

    def version(self):
        dnsd, _ = self.bins()
        repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        btype = "?"
        try:
            with open(os.path.join(self.ctx.build_dir, "CMakeCache.txt")) as f:
                for line in f:
                    if line.startswith("CMAKE_BUILD_TYPE:"):
                        btype = line.split("=", 1)[1].strip()
                    elif line.startswith("CMAKE_HOME_DIRECTORY:"):
                        repo = line.split("=", 1)[1].strip()  # the tree the binary was built from
        except OSError:
            pass
        rev = _first_line(["git", "-C", repo, "describe", "--always", "--dirty"])
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(dnsd)))
        return f"{dnsd} (built {built} from a tree at git {rev}, {btype or 'RelWithDebInfo, the project default'})"

    def worker_desc(self):
        return (f"--udp-threads {self.workers}" + (", --rrl-rate 0" if "--rrl-rate" in self.help_text() else "")
                + (f", --tcp-max-connections {self.tcp_clients}" if self.tcp_clients else ""))

    def dnsctl(self, *args):
        _, ctl = self.bins()
        cmd = [ctl, "--db", self.db, *args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {(r.stderr or r.stdout).strip()}")
        return r.stdout

    def prepare(self):
        self.db = os.path.join(self.dir, "dnsd.db")
        if os.path.exists(self.db):
            return  # restart of the same leg: keep the imported database
        t0 = time.monotonic()
        self.dnsctl("init")
        if self.zone.pools:
            zf = zonegen.without_pools(self.zone, os.path.join(self.dir, "zone"))
        else:
            zf = self.copy_zone("zone")
        self.dnsctl("zone", "import", zf, "--zone", self.zone.origin)
        self.import_seconds = time.monotonic() - t0
        if self.zone.pools:
            self.setup_pools()
            self.start_probe()

    def setup_pools(self):
        p = self.zone.probe
        probe = []
        if p:
            self.dnsctl("probe", "add", "bench-tcp", "--type", "tcp", "--port", str(p["port"]),
                        "--interval", f"{p['interval_ms']}ms", "--timeout", f"{p['timeout_ms']}ms",
                        "--rise", str(p["rise"]), "--fall", str(p["fall"]))
            probe = ["--probe", "bench-tcp"]
        for name, members in sorted(self.zone.pools.items()):
            self.dnsctl("pool", "create", name, "--zone", self.zone.origin, "--name", name,
                        "--type", "A", "--ttl", "30", "--hold-down", "1s")
            for m in members:
                self.dnsctl("member", "add", name, m, *probe)

    def probe_args(self):
        """Extra dnsd-probe options (a scenario's subclass adds its own)."""
        return []

    def start_probe(self, deadline=60):
        """dnsd-probe on the same database; returns once every pool has a decision."""
        self.probe_proc = spawn(self.ctx, [self.probe_bin(), "--db", self.db, *self.probe_args()],
                                os.path.join(self.dir, "probe.log"), self.dir)
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.probe_proc.poll() is not None:
                raise RuntimeError(f"dnsd-probe exited ({self.probe_proc.returncode}); log {self.dir}/probe.log")
            st = self.status()
            if st["pools"] and all(p.get("decision") for p in st["pools"]):
                return
            time.sleep(0.1)
        raise RuntimeError(f"dnsd-probe made no decision for every pool within {deadline} s")

    def status(self):
        return json.loads(self.dnsctl("status", "--json"))

    def stop(self, keep_helpers=False):
        super().stop()
        p = getattr(self, "probe_proc", None)
        if p and not keep_helpers:
            stop_proc(p)

    def command(self):
        dnsd, _ = self.bins()
        cmd = [dnsd, "--db", self.db, "--listen", f"127.0.0.1:{self.port}", "--udp-threads", str(self.workers)]
        if "--rrl-rate" in self.help_text():
            cmd += ["--rrl-rate", "0"]  # RRL off, as for the other servers (dnsd's default is on)
        if self.tcp_clients:
            cmd += ["--tcp-max-connections", str(self.tcp_clients)]
        return cmd

    def help_text(self):
        if not hasattr(self, "_help"):
            dnsd, _ = self.bins()
            r = subprocess.run([dnsd, "--help"], capture_output=True, text=True, timeout=10)
            self._help = r.stdout + r.stderr
        return self._help


class DnsdXdp(Dnsd):
    """dnsd answering UDP through AF_XDP (--xdp on the server end of the kxdpgun veth): one
    XDP worker per receive queue of the veth (1), beside the --udp-threads socket workers,
    which then only see what the XDP program passes on (TCP, NOTIFY, UPDATE)."""
    key = "dnsd-xdp"
    title = "dnsd-xdp"

    def missing(self):
        why = super().missing()
        if why:
            return why
        if not getattr(self.ctx, "xdp_interface", None):
            return "needs --loadgen kxdpgun (a veth in a namespace to attach to)"
        if "--xdp" not in self.help_text():
            return "this dnsd was built without XDP (clang or libbpf-dev missing at build time)"
        return None

    def command(self):
        return super().command() + ["--xdp", self.ctx.xdp_interface]

    def worker_desc(self):
        return super().worker_desc() + f", --xdp {self.ctx.xdp_interface} (1 queue: 1 XDP worker)"


ALL = {"nsd": Nsd, "knot": Knot, "dnsd": Dnsd, "gdnsd": Gdnsd, "dnsd-xdp": DnsdXdp}


def versions_line(servers):
    return "; ".join(f"{s.title}: {s.version()}" for s in servers)


def tree_info(server):
    s = measure.cpu_sample(server.pid())
    return s.procs, s.threads
