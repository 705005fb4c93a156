"""secondaries: dnsd as the primary of NSD, Knot and BIND (issue 11, performance).

Three legs, each bounded, on 127.0.0.1 only:

flip  Real dnsd, dnsd-probe and SQLite database. One pool, flip.<zone> A, of 127.0.0.41
      (priority 1) and 127.0.0.42 (priority 2), each checked by a tcp probe (--probe-ms,
      fall 1, rise 1) against a TCP listener the bench opens and closes; failback auto, no
      hold-down. NSD, Knot and BIND are secondaries of dnsd, each with its own TSIG key
      (`dnsctl tsig add`, `dnsctl secondary add ZONE ADDR --key`, configured with what
      `dnsctl secondary config --for KIND` prints). Every --flip-ms the bench closes or
      reopens .41, so every flip is one failover or failback decision, which bumps the
      zone's serial, so dnsd NOTIFYs and the secondaries transfer. Each secondary is asked
      flip.<zone> A every --poll-ms (UDP); per decision (its time from the events row
      dnsd-probe writes, as `bench soak` does) and secondary: decision -> first answer with
      the new value. Bytes per decision from dnsd's dnsd_xfr_bytes_total; NOTIFYs from
      dnsd_notify_sent_total / _acked_total. Run for every --hosts size (the zone-size
      dependence of the bytes).
anchor The same with Knot as the primary (its journal answers IXFR, it NOTIFYs) and NSD as
      its TSIG-signed secondary: every --flip-ms `knotc zone-begin/zone-unset/zone-set/
      zone-commit` changes flip.<zone> A between .41 and .42 (serial-policy increment);
      the decision time is when zone-commit was called. Bytes from Knot's transfer log.
qps   dnsd with a --big-records zone (zonegen.generate_large) and the three secondaries:
      saturated dnsperf q/s (dnsd pinned to one CPU, dnsperf to the other, as `bench qps`)
      for --window-s without transfers, then the same while the secondaries transfer the
      whole zone again and again (each cycle starts them with empty state, so each one
      AXFRs the zone), interleaved for --rounds. The secondaries are not pinned: their
      own CPU for reading a big zone is part of what dnsd competes with on a small machine.
"""

import bisect
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import threading
import time
import urllib.request

import bench
import dnswire
import measure
import report
import scenario_failover
import scenario_soak
import secondaries
import servers
import zonegen

NAME = "secondaries"
HELP = "dnsd as primary of NSD, Knot and BIND: decision -> secondary answer, bytes per decision, q/s during transfers"

POOL = "flip"
PRIMARY, STANDBY = "127.0.0.41", "127.0.0.42"
KINDS = ["nsd", "knot", "bind"]
AIM_MEDIAN_MS, AIM_P99_MS, AIM_QPS_PCT = 200, 1000, 10


def options(p):
    p.set_defaults(servers="dnsd")
    p.add_argument("--legs", default="flip,anchor,qps", help="comma list of flip,anchor,qps (default %(default)s)")
    p.add_argument("--decisions", type=int, default=20, help="decisions per flip run (default %(default)s)")
    p.add_argument("--flip-ms", type=int, default=2000, help="time between decisions (default %(default)s)")
    p.add_argument("--probe-ms", type=int, default=100, help="tcp probe interval (default %(default)s)")
    p.add_argument("--poll-ms", type=float, default=5, help="each secondary is asked this often (default %(default)s)")
    p.add_argument("--hosts", default="1000,10000",
                   help="zone sizes (A names; every 4th also AAAA) of the flip leg (default %(default)s)")
    p.add_argument("--big-records", type=int, default=1000000, help="zone size of the qps leg (default %(default)s)")
    p.add_argument("--window-s", type=int, default=20, help="dnsperf run per window (default %(default)s)")
    p.add_argument("--rounds", type=int, default=2, help="(no transfer, transfer) window pairs (default %(default)s)")
    p.add_argument("--max-transfer-s", type=int, default=240,
                   help="give up when one transfer cycle to all three takes longer (default %(default)s)")
    p.add_argument("--json", metavar="FILE", help="write a machine-readable summary to FILE")


def pct(values, p):
    return scenario_soak.pct(values, p)


def metrics(port):
    """dnsd's /metrics as {name{labels}: value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            try:
                out[k] = float(v)
            except ValueError:
                pass
    return out


def mdelta(a, b, prefix):
    return {k[len(prefix):]: b[k] - a.get(k, 0) for k in b if k.startswith(prefix)}


# --- dnsd with secondaries ---------------------------------------------------------------

class PrimaryDnsd(servers.Dnsd):
    """servers.Dnsd with the flip pool (when the zone has one), a TSIG key and a secondary
    entry per kind (ports chosen by the caller), and /metrics on a loopback port."""

    def __init__(self, ctx, zone, workers, dirname, sec_ports, backend_port=None):
        super().__init__(ctx, zone, workers)
        self.dir = os.path.join(ctx.tmp, dirname)
        self.sec_ports = sec_ports  # kind -> port
        self.backend_port = backend_port
        self.http_port = servers.free_port()

    def prepare(self):
        fresh = not os.path.exists(os.path.join(self.dir, "dnsd.db"))
        super().prepare()
        if fresh:
            for kind, port in self.sec_ports.items():
                self.dnsctl("tsig", "add", f"{kind}-key")
                self.dnsctl("secondary", "add", self.zone.origin, f"127.0.0.1:{port}", "--key", f"{kind}-key")

    def setup_pools(self):
        a = self.ctx.args
        self.dnsctl("probe", "add", "flip-tcp", "--type", "tcp", "--port", str(self.backend_port),
                    "--interval", f"{a.probe_ms}ms", "--timeout", f"{max(50, a.probe_ms * 4 // 5)}ms",
                    "--rise", "1", "--fall", "1")
        self.dnsctl("pool", "create", POOL, "--zone", self.zone.origin, "--name", POOL, "--type", "A",
                    "--ttl", "30", "--failback", "auto", "--hold-down", "0s")
        self.dnsctl("member", "add", POOL, PRIMARY, "--priority", "1", "--probe", "flip-tcp")
        self.dnsctl("member", "add", POOL, STANDBY, "--priority", "2", "--probe", "flip-tcp")

    def start_probe(self, deadline=60):
        self.probe_log = os.path.join(self.dir, "probe.log")
        with open(self.probe_log, "a") as log:
            self.probe_proc = self.ctx.children.add(subprocess.Popen(
                [self.probe_bin(), "--db", self.db, "--http", "none"], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True,
                preexec_fn=servers._die_with_parent))
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.probe_proc.poll() is not None:
                raise RuntimeError(f"dnsd-probe exited ({self.probe_proc.returncode}); log {self.probe_log}")
            tl = read_timeline(self.db)
            if tl and tl[-1][1] == frozenset([PRIMARY]):
                return
            time.sleep(0.05)
        raise RuntimeError(f"dnsd-probe did not decide {PRIMARY} within {deadline} s; log {self.probe_log}")

    def command(self):
        return super().command() + ["--http", f"127.0.0.1:{self.http_port}"]

    def soa_serial(self):
        a = dnswire.query(self.port, self.zone.origin, "SOA", timeout=1)
        vals = [v for t, v in a.records if t == 6] if a else []
        if not vals:
            raise RuntimeError("dnsd did not answer its SOA")
        return secondaries.soa_serial(vals[0])

    def secondaries(self, suffix="", cpus=None):
        out = []
        for kind, port in self.sec_ports.items():
            block = self.dnsctl("secondary", "config", self.zone.origin, f"127.0.0.1:{port}", "--for", kind,
                                "--primary", f"127.0.0.1:{self.port}")
            out.append(secondaries.Secondary(self.ctx, kind, self.zone.origin, port, block,
                                             f"{os.path.basename(self.dir)}-{kind}{suffix}", cpus))
        return out


def read_timeline(db):
    """[(wall ms, served set)] of the pool's decisions, from the events dnsd-probe writes."""
    out = []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
        for at, details in c.execute("SELECT at, details FROM events WHERE pool = ? ORDER BY id", (POOL,)):
            try:
                d = json.loads(details)
            except (TypeError, ValueError):
                continue
            if "served" in d:
                out.append((at, frozenset(d["served"].split())))
    return out


# --- watching the secondaries ------------------------------------------------------------

class Watcher(threading.Thread):
    """Asks one server flip.<zone> A every period over UDP; keeps (t_send, t_recv, set)."""

    def __init__(self, port, qname, period):
        super().__init__(daemon=True)
        self.port, self.period = port, period
        self.question = dnswire.encode_name(qname) + struct.pack("!HH", 1, 1)
        self.samples = []
        self.stopping = threading.Event()
        self.error = None
        self.lost = 0

    def run(self):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("127.0.0.1", self.port))
                s.settimeout(0.2)
                qid = 0
                nxt = time.monotonic()
                while not self.stopping.is_set():
                    qid = (qid + 1) & 0xFFFF
                    t_send = time.time() * 1000
                    s.send(struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + self.question)
                    got = None
                    try:
                        while got is None:
                            got = scenario_soak.parse_answer(s.recv(4096), qid)
                    except socket.timeout:
                        self.lost += 1
                    if got is not None:
                        self.samples.append((t_send, time.time() * 1000, got[1] if got[0] == 0 else frozenset()))
                    nxt += self.period
                    self.stopping.wait(max(0.0, nxt - time.monotonic()))
        except Exception as e:
            self.error = f"{type(e).__name__}: {e}"

    def stop(self):
        self.stopping.set()
        self.join(timeout=5)


def lags(samples, decisions):
    """Per decision: ms from its time to the first answer (asked after it) showing its set,
    before the next decision; None when the secondary never showed it."""
    sends = [s[0] for s in samples]
    out = []
    for j, (at, want) in enumerate(decisions):
        nxt = decisions[j + 1][0] if j + 1 < len(decisions) else float("inf")
        k = bisect.bisect_left(sends, at)
        lag = None
        while k < len(samples) and samples[k][0] < nxt:
            if samples[k][2] == want:
                lag = samples[k][1] - at
                break
            k += 1
        out.append(lag)
    return out


def lag_row(values):
    seen = [v for v in values if v is not None]
    return {"n": len(values), "unseen": len(values) - len(seen), "median": pct(seen, 50), "p99": pct(seen, 99),
            "max": max(seen) if seen else None}


def start_all(secs, serial, deadline):
    for s in secs:
        s.start()
    for s in secs:
        if not s.wait_serial(serial, deadline):
            raise RuntimeError(f"{s.title} secondary did not reach serial {serial} within {deadline} s;"
                               f" log {s.log_path}:\n{s.log_tail()}")


# --- leg 1: flips through dnsd --------------------------------------------------------------

def flip_leg(ctx, hosts, backends, bport):
    args = ctx.args
    zone = zonegen.generate(os.path.join(ctx.tmp, f"flip-{hosts}.zone"), hosts=hosts)
    zone.pools = {POOL: [PRIMARY, STANDBY]}
    qname = f"{POOL}.{zone.origin}"
    taken = set()
    ports = {k: servers.free_port(taken) for k in KINDS}
    dnsd = PrimaryDnsd(ctx, zone, 1, f"dnsd-flip-{hosts}", ports, bport)
    why = dnsd.missing()
    if why:
        raise RuntimeError(why)
    dnsd.start(taken=taken)
    ctx.log(f"[flip {hosts} hosts, {zone.records} records] dnsd on 127.0.0.1:{dnsd.port}, metrics :{dnsd.http_port}")
    secs = dnsd.secondaries()
    try:
        start_all(secs, dnsd.soa_serial(), 60)
        ctx.log("  " + ", ".join(f"{s.title} :{s.port}" for s in secs) + " have the zone")
        watchers = {s.kind: Watcher(s.port, qname, args.poll_ms / 1000.0) for s in secs}
        for w in watchers.values():
            w.start()
        m0 = metrics(dnsd.http_port)
        t0 = time.time() * 1000
        for k in range(args.decisions):
            time.sleep(args.flip_ms / 1000.0)
            (backends[0].open if k % 2 else backends[0].close)()
        time.sleep(min(3.0, args.flip_ms / 1000.0))  # the last decision's transfers
        m1 = metrics(dnsd.http_port)
        for w in watchers.values():
            w.stop()
        if backends[0].sock is None:
            backends[0].open()
        alive = {s.title: s.proc.poll() is None for s in secs}
        alive["dnsd"] = dnsd.proc.poll() is None
    finally:
        for s in secs:
            s.stop()
        dnsd.stop()
    timeline = [d for d in read_timeline(dnsd.db) if d[0] >= t0]
    # a decision that serves the same set as the one before changes nothing (not expected here)
    decisions = [d for i, d in enumerate(timeline) if i == 0 or d[1] != timeline[i - 1][1]]
    xfr_bytes = m1.get("dnsd_xfr_bytes_total", 0) - m0.get("dnsd_xfr_bytes_total", 0)
    xfr_msgs = m1.get("dnsd_xfr_messages_total", 0) - m0.get("dnsd_xfr_messages_total", 0)
    outcomes = {re.sub(r'[{}"]|outcome=', "", k): v for k, v in mdelta(m0, m1, "dnsd_xfr_requests_total").items() if v}
    rows = {}
    for s in secs:
        lab = f'{{zone="{zone.origin}",secondary="127.0.0.1:{s.port}"}}'
        sent = m1.get("dnsd_notify_sent_total" + lab, 0) - m0.get("dnsd_notify_sent_total" + lab, 0)
        acked = m1.get("dnsd_notify_acked_total" + lab, 0) - m0.get("dnsd_notify_acked_total" + lab, 0)
        w = watchers[s.kind]
        rows[s.kind] = dict(lag_row(lags(w.samples, decisions)), notify_sent=sent, notify_acked=acked,
                            polls=len(w.samples), poll_lost=w.lost, error=w.error,
                            behind=m1.get("dnsd_secondary_behind_serials" + lab))
    n = len(decisions) or 1
    return {"hosts": hosts, "records": zone.records, "decisions": len(decisions), "flips": args.decisions,
            "xfr_bytes": xfr_bytes, "xfr_messages": xfr_msgs, "xfr_requests": outcomes,
            "bytes_per_decision": xfr_bytes / n, "bytes_per_transfer": xfr_bytes / max(1, sum(outcomes.values())),
            "secondaries": rows, "alive": alive}


# --- leg 2: the anchor, Knot -> NSD ---------------------------------------------------------

def anchor_leg(ctx, hosts):
    args = ctx.args
    zone = zonegen.generate(os.path.join(ctx.tmp, f"anchor-{hosts}.zone"), hosts=hosts)
    with open(zone.path, "a") as f:
        f.write(f"{POOL} 30 IN A {PRIMARY}\n")
    zone.records += 1
    qname = f"{POOL}.{zone.origin}"
    taken = set()
    kport, nport = servers.free_port(taken), servers.free_port(taken)
    secret = secondaries.new_tsig_secret()
    knot = secondaries.KnotPrimary(ctx, zone, kport, "anchor-key.", secret, nport)
    block = (f'key:\n    name: "anchor-key."\n    algorithm: hmac-sha256\n    secret: "{secret}"\n\n'
             f'zone:\n    name: "{zone.origin}"\n    zonefile: "{zone.origin}zone"\n'
             f"    request-xfr: 127.0.0.1@{kport} anchor-key.\n    allow-notify: 127.0.0.1 anchor-key.\n")
    nsd = secondaries.Secondary(ctx, "nsd", zone.origin, nport, block, "anchor-nsd")
    try:
        knot.start()
        ctx.log(f"[anchor {hosts} hosts] Knot primary :{kport} -> NSD secondary :{nport}")
        a = dnswire.query(kport, zone.origin, "SOA")
        start_all([nsd], secondaries.soa_serial([v for t, v in a.records if t == 6][0]), 60)
        w = Watcher(nport, qname, args.poll_ms / 1000.0)
        w.start()
        x0, a0, f0 = knot.transfer_log()
        decisions = []
        nxt = time.monotonic()
        for k in range(args.decisions):
            nxt += args.flip_ms / 1000.0
            time.sleep(max(0.0, nxt - time.monotonic()))
            addr = STANDBY if k % 2 == 0 else PRIMARY
            decisions.append((knot.set_a(POOL, addr), frozenset([addr])))
        time.sleep(min(3.0, args.flip_ms / 1000.0))
        w.stop()
        x1, a1, f1 = knot.transfer_log()
        alive = {"Knot": knot.proc.poll() is None, "NSD": nsd.proc.poll() is None}
    finally:
        nsd.stop()
        knot.stop()
    xfrs = x1[len(x0):]
    kinds = {}
    for kind, _m, _b in xfrs:
        kinds[kind] = kinds.get(kind, 0) + 1
    total = sum(b for _k, _m, b in xfrs)
    row = dict(lag_row(lags(w.samples, decisions)), notify_sent=(a1 - a0) + (f1 - f0), notify_acked=a1 - a0,
               polls=len(w.samples),
               poll_lost=w.lost, error=w.error, behind=None)
    return {"hosts": hosts, "records": zone.records, "decisions": len(decisions), "xfr_bytes": total,
            "xfr_requests": kinds, "bytes_per_decision": total / max(1, len(decisions)),
            "bytes_per_transfer": total / max(1, len(xfrs)), "secondaries": {"nsd": row}, "alive": alive}


# --- leg 3: q/s while transferring a big zone -------------------------------------------------

class TransferLoop(threading.Thread):
    """Starts the secondaries with empty state (each AXFRs the zone), waits until all have
    it, stops them, again, until stopped. Keeps (start, end, ok) per cycle (monotonic s)."""

    def __init__(self, make, serial, deadline):
        super().__init__(daemon=True)
        self.make, self.serial, self.deadline = make, serial, deadline
        self.cycles = []
        self.stopping = threading.Event()
        self.error = None

    def run(self):
        k = 0
        try:
            while not self.stopping.is_set():
                k += 1
                secs = self.make(f"-{k}")
                t = time.monotonic()
                try:
                    for s in secs:
                        s.start()
                    ok = all(s.wait_serial(self.serial, self.deadline) for s in secs)
                    self.cycles.append((t, time.monotonic(), ok))
                finally:
                    for s in secs:
                        s.stop()
                    for s in secs:
                        subprocess.run(["rm", "-rf", s.dir])
        except Exception as e:
            self.error = f"{type(e).__name__}: {e}"

    def stop(self):
        self.stopping.set()
        self.join(timeout=self.deadline + 30)


def busy_share(cycles, a, b):
    """Share of [a, b] during which a transfer cycle was running."""
    busy = sum(max(0.0, min(e, b) - max(s, a)) for s, e, _ in cycles)
    return busy / (b - a) if b > a else 0.0


def qps_leg(ctx):
    args = ctx.args
    server_cpu, client_cpu = bench.pinning(args)
    # With CPUs to spare, the secondaries get their own, so only the transfers themselves
    # compete with dnsd's answers; on a 2-CPU machine they share with dnsd and dnsperf.
    rest = [c for c in sorted(os.sched_getaffinity(0)) if c not in (server_cpu, client_cpu)]
    sec_cpus = ",".join(map(str, rest)) if server_cpu is not None and rest else None
    path = os.path.join(ctx.tmp, "big.zone")
    zone = zonegen.generate_large(path, args.big_records)
    zone.hosts = [f"h{i}" for i in range(hosts_of(args.big_records))]
    qfile = os.path.join(ctx.tmp, "queries-big.txt")
    zonegen.write_queries(qfile, zone, count=20000, seed=11)
    taken = set()
    ports = {k: servers.free_port(taken) for k in KINDS}
    dnsd = PrimaryDnsd(ctx, zone, 1, "dnsd-big", ports)
    t = time.monotonic()
    dnsd.start(cpu=server_cpu, ready_timeout=600, taken=taken)
    ctx.log(f"[qps] dnsd with {zone.records:,} records on :{dnsd.port} (init + import + load"
            f" {time.monotonic() - t:.0f} s)")
    out = {"records": zone.records, "windows": [], "server_cpu": server_cpu, "client_cpu": client_cpu,
           "secondary_cpus": sec_cpus}
    make = lambda suffix: dnsd.secondaries(suffix, sec_cpus)  # noqa: E731
    perf = measure.Dnsperf(4, 1, 256, cpu=client_cpu, workdir=ctx.tmp)
    try:
        serial = dnsd.soa_serial()
        m0 = metrics(dnsd.http_port)
        t = time.monotonic()
        secs = make("-0")
        try:
            start_all(secs, serial, args.max_transfer_s)
        finally:
            for s in secs:
                s.stop()
        out["first_cycle_s"] = time.monotonic() - t
        m1 = metrics(dnsd.http_port)
        out["bytes_per_cycle"] = m1.get("dnsd_xfr_bytes_total", 0) - m0.get("dnsd_xfr_bytes_total", 0)
        ctx.log(f"  one cycle (three fresh secondaries, each AXFRs {zone.records:,} records):"
                f" {out['first_cycle_s']:.1f} s, {out['bytes_per_cycle'] / 1e6:.1f} MB from dnsd")
        for r in range(args.rounds):
            for xfer in (False, True):
                loop = None
                if xfer:
                    loop = TransferLoop(make, serial, args.max_transfer_s)
                    loop.start()
                    time.sleep(0.5)  # the first cycle's secondaries are starting
                ma = metrics(dnsd.http_port)
                a = time.monotonic()
                dp = perf.run(dnsd.port, qfile, args.window_s, cpu_of=dnsd.pid(), register=ctx.register)
                b = time.monotonic()
                mb = metrics(dnsd.http_port)
                w = {"round": r + 1, "transfer": xfer, "qps": dp.qps, "lost": dp.lost, "sent": dp.sent,
                     "cpu_us_per_query": dp.cpu_us_per_query(),
                     "server_cpu_pct": dp.server_cpu / dp.server_wall * 100 if getattr(dp, "server_wall", 0) else None,
                     "xfr_bytes": mb.get("dnsd_xfr_bytes_total", 0) - ma.get("dnsd_xfr_bytes_total", 0),
                     "command": " ".join(dp.cmd)}
                if loop:
                    loop.stop()
                    w["busy_share"] = busy_share(loop.cycles, a, b)
                    w["cycles_done"] = sum(1 for s, e, ok in loop.cycles if ok and a <= e <= b)
                    w["cycle_s"] = [round(e - s, 1) for s, e, ok in loop.cycles]
                    w["error"] = loop.error
                    if loop.error or not all(ok for *_x, ok in loop.cycles):
                        raise RuntimeError(f"transfer loop failed: {loop.error or 'a cycle timed out'}")
                out["windows"].append(w)
                ctx.log(f"  round {r + 1} {'transfer' if xfer else 'no transfer':11}: {dp.qps:,.0f} q/s"
                        + (f", busy {w['busy_share'] * 100:.0f}% of the window, {w['xfr_bytes'] / 1e6:.0f} MB"
                           if xfer else ""))
        out["alive"] = dnsd.proc.poll() is None
    finally:
        dnsd.stop()
    return out


def hosts_of(records):
    """How many h<i> names zonegen.generate_large writes for `records`."""
    n, i = 4, 0
    while n < records:
        n += 1
        if i % 4 == 0 and n < records:
            n += 1
        i += 1
    return i


# --- the run --------------------------------------------------------------------------------

def run(ctx):
    args = ctx.args
    legs = [x.strip() for x in args.legs.split(",") if x.strip()]
    bad = [x for x in legs if x not in ("flip", "anchor", "qps")]
    if bad or args.decisions < 2 or args.flip_ms < 200 or args.poll_ms < 1:
        raise SystemExit("bench: secondaries needs --legs of flip,anchor,qps, --decisions >= 2, --flip-ms >= 200,"
                         " --poll-ms >= 1")
    try:
        sizes = [int(x) for x in args.hosts.split(",") if x.strip()]
    except ValueError:
        raise SystemExit(f"bench: --hosts: '{args.hosts}' is not a comma list of numbers")
    need = [secondaries.missing(k) for k in KINDS if secondaries.missing(k)]
    if "qps" in legs and not shutil.which("dnsperf"):
        need.append("dnsperf not installed (apt-get install dnsperf)")
    if need:
        raise RuntimeError("; ".join(need))
    bench.ensure_dnsd(ctx, ("dnsd", "dnsctl", "dnsd-probe"))
    if ctx.dnsd_skip:
        raise RuntimeError(ctx.dnsd_skip)
    flip_s = (args.decisions * args.flip_ms / 1000.0 + 120)
    plan = (len(sizes) * flip_s if "flip" in legs else 0) + (flip_s if "anchor" in legs else 0)
    if "qps" in legs:
        plan += 900 + 2 * args.max_transfer_s + args.rounds * 2 * (args.window_s + args.max_transfer_s + 40)
    signal.alarm(int(plan))
    ctx.log(f"secondaries: legs {', '.join(legs)}; time limit {plan / 60:.0f} min")

    summary = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "command": "tools/bench " + " ".join(os.sys.argv[1:]),
               "versions": {k: secondaries.version(k) for k in KINDS}, "flip": [], "anchor": None, "qps": None,
               "ixfr_journal": journal_landed(ctx.build_dir)}
    summary["versions"]["dnsd"] = servers.Dnsd(ctx, zonegen.Zone("", zonegen.ORIGIN, []), 1).version()
    if "flip" in legs:
        bport = scenario_failover.free_backend_port([PRIMARY, STANDBY])
        backends = [scenario_failover.Backend(a, bport) for a in (PRIMARY, STANDBY)]
        for b in backends:
            b.open()
        try:
            for h in sizes:
                summary["flip"].append(flip_leg(ctx, h, backends, bport))
        finally:
            for b in backends:
                b.close()
    if "anchor" in legs:
        summary["anchor"] = anchor_leg(ctx, sizes[0] if sizes else 1000)
    if "qps" in legs:
        summary["qps"] = qps_leg(ctx)
    text = render(args, summary)
    print("\n" + text, flush=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write("## dnsd benchmark: secondaries\n\n" + text + "\n")
        ctx.log(f"markdown written to {args.out}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1, sort_keys=True, default=sorted)
        ctx.log(f"summary written to {args.json}")


def journal_landed(build_dir):
    """Whether the tree dnsd was built from answers IXFR from a journal (a guess from git log)."""
    repo = bench.REPO
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_HOME_DIRECTORY:"):
                    repo = line.split("=", 1)[1].strip()
    except OSError:
        pass
    r = subprocess.run(["git", "-C", repo, "log", "--oneline", "-i", "--grep", "journal", "--grep", "IXFR",
                        "-E", "--all-match", "-n", "20"], capture_output=True, text=True)
    lines = [x for x in r.stdout.splitlines() if re.search(r"journal", x, re.I) and "answered in full" not in x]
    return lines[0] if lines else None


def ixfr_note(s):
    full = sum(r["xfr_requests"].get("ixfr-full", 0) for r in s["flip"])
    incr = sum(v for r in s["flip"] for k, v in r["xfr_requests"].items() if k.startswith("ixfr") and k != "ixfr-full")
    git = (f"git log of the tree has a journal commit: {s['ixfr_journal']}" if s["ixfr_journal"]
           else "no journal-based IXFR in git log of the tree dnsd was built from")
    if not s["flip"]:
        return git
    if full and not incr:
        return (f"dnsd answered all {full:.0f} IXFR requests with the full zone (outcome ixfr-full in"
                f" dnsd_xfr_requests_total): bytes per decision are a whole zone per secondary; {git}")
    return f"IXFR outcomes {', '.join(f'{k} {v:.0f}' for r in s['flip'] for k, v in r['xfr_requests'].items())}; {git}"


def fmt(v, kind="f1"):
    return report.fmt(v, kind)


def render(args, s):
    head = [
        f"- date: {s['date']}; command: `{s['command']}`",
        f"- versions: dnsd {s['versions']['dnsd']}; {s['versions']['nsd']}; {s['versions']['knot']};"
        f" {s['versions']['bind']}",
        f"- flip: pool {POOL}.<zone> A, {PRIMARY} (priority 1) / {STANDBY} (priority 2), tcp probe every"
        f" {args.probe_ms} ms, fall 1 rise 1, failback auto, hold-down 0; the bench closes/reopens {PRIMARY}"
        f" every {args.flip_ms} ms, {args.decisions} times; each secondary asked every {args.poll_ms:g} ms (UDP);"
        " decision time = the events row dnsd-probe writes (Knot anchor: when `knotc zone-commit` was called)",
        "- IXFR: " + ixfr_note(s),
    ]
    t = report.Table([("records", "int"), ("decisions", "int"), ("median ms", "f1"), ("p99 ms", "f1"),
                      ("max ms", "f1"), ("unseen", "int"), ("bytes/decision", "int"), ("xfr requests", "str"),
                      ("NOTIFY sent/acked", "str")])
    legs = [("dnsd", r) for r in s["flip"]] + ([("Knot", s["anchor"])] if s["anchor"] else [])
    for prim, r in legs:
        for kind, row in r["secondaries"].items():
            req = " ".join(f"{k} {v:.0f}" for k, v in sorted(r["xfr_requests"].items()))
            ack = "-" if row["notify_acked"] is None else f"{row['notify_acked']:.0f}"
            t.add(f"{prim} -> {secondaries.TITLES[kind]}" + (" (anchor)" if prim == "Knot" else ""),
                  [r["records"], r["decisions"], row["median"], row["p99"], row["max"], row["unseen"],
                   r["bytes_per_decision"], req, f"{row['notify_sent']:.0f}/{ack}"])
    text = "\n".join(head)
    if legs:
        text += "\n\n" + t.markdown()
        text += ("\n\n*bytes/decision*: transfer bytes the primary sent during the run (dnsd: dnsd_xfr_bytes_total;"
                 " Knot: its 'outgoing, finished' log lines) / decisions, all secondaries together; *xfr requests*:"
                 " dnsd_xfr_requests_total by outcome (Knot: transfers by type); *unseen*: decisions a secondary never"
                 " answered before the next one.")
    q = s["qps"]
    if q:
        qt = report.Table([("q/s", "int"), ("dnsd µs/q", "f2"), ("dnsd CPU", "pct"), ("busy", "pct"),
                           ("xfr MB", "f1"), ("cycles", "str")])
        for w in q["windows"]:
            qt.add(f"round {w['round']}, {'transfer' if w['transfer'] else 'no transfer'}",
                   [w["qps"], w["cpu_us_per_query"], w["server_cpu_pct"],
                    w["busy_share"] * 100 if w["transfer"] else None, w["xfr_bytes"] / 1e6,
                    " ".join(f"{c:g}" for c in w.get("cycle_s", [])) or "-"])
        sec = (f"secondaries on CPUs {q['secondary_cpus']}" if q.get("secondary_cpus")
               else "secondaries unpinned (no CPU left for them: they share with dnsd and dnsperf)")
        pin = (f"dnsd on CPU {q['server_cpu']}, dnsperf on CPU {q['client_cpu']} (taskset), {sec}"
               if q["server_cpu"] is not None else "no pinning")
        text += (f"\n\nq/s while transferring: dnsd serving {q['records']:,} records, dnsperf saturated"
                 f" (`{q['windows'][0]['command'] if q['windows'] else ''}`), {args.window_s} s windows; {pin}."
                 f" One transfer cycle = NSD, Knot and BIND started with empty state, each AXFRs the zone:"
                 f" {q['first_cycle_s']:.1f} s and {q['bytes_per_cycle'] / 1e6:.1f} MB from dnsd when alone."
                 " *busy*: share of the window with a cycle running; *cycles*: each cycle's seconds;"
                 " *dnsd µs/q*: dnsd's whole CPU (transfers included) / answered queries; *dnsd CPU*: its share of"
                 " one CPU: well under 100% means dnsperf (and what shares its CPU), not dnsd, set the rate.\n\n"
                 + qt.markdown())
    text += "\n\n" + aims(s)
    return text


def aims(s):
    t = report.Table([("measured", "str"), ("aim", "str"), ("verdict", "str")])
    for r in s["flip"]:
        for kind, row in r["secondaries"].items():
            med, p99 = row["median"], row["p99"]
            ok = (med is not None and p99 is not None and med <= AIM_MEDIAN_MS and p99 <= AIM_P99_MS
                  and not row["unseen"])
            t.add(f"dnsd -> {secondaries.TITLES[kind]}, {r['records']:,} records",
                  [f"median {fmt(med)} ms, p99 {fmt(p99)} ms, {row['unseen']} unseen",
                   f"median <= {AIM_MEDIAN_MS} ms, p99 <= {AIM_P99_MS} ms", "met" if ok else "NOT met"])
    if len(s["flip"]) >= 2:
        a, b = s["flip"][0], s["flip"][-1]
        ratio = b["bytes_per_decision"] / a["bytes_per_decision"] if a["bytes_per_decision"] else None
        ok = ratio is not None and ratio <= 1.5
        t.add("IXFR bytes per decision vs zone size",
              [f"{a['bytes_per_decision']:,.0f} B at {a['records']:,} records, {b['bytes_per_decision']:,.0f} B at"
               f" {b['records']:,} ({fmt(ratio, 'f2')}x for {b['records'] / a['records']:.1f}x the records)",
               "independent of zone size (<= 1.5x)", "met" if ok else "NOT met"])
    q = s["qps"]
    if q and q["windows"]:
        base = report.median([w["qps"] for w in q["windows"] if not w["transfer"]])
        xfer = report.median([w["qps"] for w in q["windows"] if w["transfer"]])
        drop = (1 - xfer / base) * 100 if base and xfer else None
        t.add(f"q/s during full transfers ({q['records']:,} records)",
              [f"{fmt(xfer, 'int')} vs {fmt(base, 'int')} without ({fmt(drop)}% lower)", f"within {AIM_QPS_PCT}%",
               "met" if drop is not None and drop <= AIM_QPS_PCT else "NOT met"])
    return "aims:\n\n" + t.markdown()
