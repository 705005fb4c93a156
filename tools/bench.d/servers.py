"""The servers under test: generated config in a temp dir, started in the foreground as
children of the bench (own session, SIGKILL if the bench dies), on 127.0.0.1 only.

Every server is configured alike: one zone, RRL off (NSD rrl-ratelimit 0; Knot and gdnsd
have no rate limiting unless configured), logging to a file at the lowest level that still
shows errors, IPv4 loopback only, and a given number of query workers.
"""

import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import dnswire
import measure

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
    def start(self, port, cpu=None, ready_timeout=60):
        os.makedirs(self.dir, exist_ok=True)
        self.port = port
        t0 = time.monotonic()
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
            self.stop()
            raise RuntimeError(f"{self.title} did not come up: {why}; log {self.log_path}:\n{self.log_tail()}")
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

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
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
        return f"server-count {self.workers}"

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
remote-control:
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
        return f"udp-workers {self.workers}, tcp-workers 1, background-workers 1"

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
database:
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
        return f"udp_threads {self.workers}, tcp_threads 1"

    def setup(self):
        d = self.dir
        os.makedirs(os.path.join(d, "zones"), exist_ok=True)
        dst = os.path.join(d, "zones", self.zone.origin.rstrip("."))
        plugins = ""
        if self.zone.pools:
            # the pool names become DYNA multifo resources; the static A RRsets go
            plugins, text = self._multifo()
            with open(dst, "w") as f:
                f.write(text)
        else:
            shutil.copyfile(self.zone.path, dst)
        with open(os.path.join(d, "config"), "w") as f:
            f.write(
                f"""options => {{
  listen => [ "127.0.0.1:{self.port}" ]
  udp_threads => {self.workers}
  tcp_threads => 1
  run_dir => "{d}/run"
  state_dir => "{d}/state"
}}
{plugins}
"""
            )

    def _multifo(self):
        with open(self.zone.path) as f:
            lines = [ln for ln in f if not any(ln.startswith(p + " ") for p in self.zone.pools)]
        res = []
        for name, members in sorted(self.zone.pools.items()):
            lines.append(f"{name} 30 DYNA multifo!{name}\n")
            addrs = ", ".join(f"m{i} => {a}" for i, a in enumerate(members))
            res.append(f"    {name} => {{ {addrs} }}")
        plugins = "service_types => { }\nplugins => {\n  multifo => {\n" + "\n".join(res) + "\n  }\n}\n"
        return plugins, "".join(lines)

    def command(self):
        return ["gdnsd", "-c", self.dir, "start"]


class Dnsd(Server):
    key = "dnsd"
    title = "dnsd"

    def bins(self):
        b = self.ctx.build_dir
        return os.path.join(b, "dnsd", "dnsd"), os.path.join(b, "tools", "dnsctl")

    def missing(self):
        if getattr(self.ctx, "dnsd_skip", None):
            return self.ctx.dnsd_skip
        for p in self.bins():
            if not os.access(p, os.X_OK):
                return f"{p} not built (dnsd leg skipped)"
        return None

    def version(self):
        dnsd, _ = self.bins()
        repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        rev = _first_line(["git", "-C", repo, "describe", "--always", "--dirty"])
        btype = "?"
        try:
            with open(os.path.join(self.ctx.build_dir, "CMakeCache.txt")) as f:
                for line in f:
                    if line.startswith("CMAKE_BUILD_TYPE:"):
                        btype = line.split("=", 1)[1].strip()
        except OSError:
            pass
        return f"{dnsd} (git {rev}, {btype})"

    def worker_desc(self):
        return f"--udp-threads {self.workers}"

    def dnsctl(self, *args):
        _, ctl = self.bins()
        cmd = [ctl, "--db", self.db, *args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {(r.stderr or r.stdout).strip()}")
        return r.stdout

    def setup(self):
        self.db = os.path.join(self.dir, "dnsd.db")
        if os.path.exists(self.db):
            return  # restart of the same leg: keep the imported database
        t0 = time.monotonic()
        self.dnsctl("init")
        zf = self.copy_zone("zone")
        self.dnsctl("zone", "import", zf, "--zone", self.zone.origin)
        # pools for pool names (issue 3/4); absent until dnsctl has them
        for name, members in sorted(self.zone.pools.items()):
            self.setup_pool(name, members)
        self.import_seconds = time.monotonic() - t0

    def setup_pool(self, name, members):
        raise RuntimeError("pool mix for dnsd is not wired yet (needs dnsctl pool/member)")

    def command(self):
        dnsd, _ = self.bins()
        return [dnsd, "--db", self.db, "--listen", f"127.0.0.1:{self.port}", "--udp-threads", str(self.workers)]


ALL = {"nsd": Nsd, "knot": Knot, "dnsd": Dnsd, "gdnsd": Gdnsd}


def versions_line(servers):
    return "; ".join(f"{s.title}: {s.version()}" for s in servers)


def tree_info(server):
    s = measure.cpu_sample(server.pid())
    return s.procs, s.threads
