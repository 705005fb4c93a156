"""resolver-failover: client-visible failover time through a caching Unbound in front of
dnsd, with the TTL lowered near a state change (issue 12) and without.

dnsd serves one pool, fo.bench.example. A: 127.0.0.11 (priority 1) and 127.0.0.12
(priority 2), TCP listeners the bench opens and closes, one tcp probe (interval, fall,
rise per options), pool TTL 30. Unbound (Debian's) runs unprivileged on 127.0.0.1:PORT
with a stub-zone for bench.example. pointing at dnsd, cache on, prefetch off. A client
asks Unbound for the pool name every --poll-ms (100 ms).

Each trial: Unbound is (re)started, so its cache is empty; the client's first answer fills
the cache (time c, answer .11 with TTL 30). At c + phase the bench closes .11's listener
(the backend "dies") and measures kill -> the first Unbound answer without .11.
The same phases are used for both modes, trials interleaved (mode A, mode B, A, B, ...):
  degraded-ttl 5   the pool's answer TTL drops to 5 while .11 is failing checks but not yet
                   down (near-change lowering, dnsd's default)
  degraded-ttl 30  no lowering at all: how a server without it behaves
Two phase sets:
  any   phase uniform in [0, TTL): the backend dies at any point of the cache lifetime
  late  phase uniform in [TTL - interval x fall, TTL): the cached answer expires while the
        probe is still counting failures, the case near-change lowering is for
The lowering can only help when Unbound refills its cache from dnsd between the first
failed check and the down decision; the table counts those trials ("refilled failing").
"""

import os
import random
import shutil
import signal
import subprocess
import time

import bench
import dnswire
import report
import scenario_failover
import servers
import zonegen

NAME = "resolver-failover"
HELP = "failover time seen through a caching Unbound, TTL lowered near a state change vs not"

PRIMARY, BACKUP = "127.0.0.11", "127.0.0.12"
POOL = "fo"


def options(p):
    p.set_defaults(servers="dnsd")
    p.add_argument("--trials", type=int, default=8, help="kills per mode and phase set (default %(default)s)")
    p.add_argument("--modes", default="5,30",
                   help="degraded-ttl values to compare, comma separated (default %(default)s: lowering on, off)")
    p.add_argument("--phases", default="any,late", help="phase sets: any, late (default %(default)s)")
    p.add_argument("--ttl", type=int, default=30, help="pool TTL, s (default %(default)s)")
    p.add_argument("--interval-ms", type=int, default=1000, help="tcp probe interval (default %(default)s)")
    p.add_argument("--fall", type=int, default=3, help="probe fall (default %(default)s)")
    p.add_argument("--rise", type=int, default=2, help="probe rise (default %(default)s)")
    p.add_argument("--poll-ms", type=int, default=100, help="client query period (default %(default)s)")
    p.add_argument("--seed", type=int, help="random seed for the kill phases (default: random, printed)")


class Unbound:
    """Debian's unbound in the foreground, unprivileged style: no chroot, no remote control."""

    def __init__(self, ctx, dnsd_port):
        self.ctx = ctx
        self.dnsd_port = dnsd_port
        self.dir = os.path.join(ctx.tmp, "unbound")
        os.makedirs(self.dir, exist_ok=True)
        self.port = None
        self.proc = None

    @staticmethod
    def binary():
        return shutil.which("unbound") or ("/usr/sbin/unbound" if os.access("/usr/sbin/unbound", os.X_OK) else None)

    @staticmethod
    def version():
        try:
            r = subprocess.run([Unbound.binary(), "-V"], capture_output=True, text=True, timeout=10)
            return (r.stdout.splitlines() or ["?"])[0]
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    def config(self):
        d = self.dir
        return f"""server:
  interface: 127.0.0.1@{self.port}
  port: {self.port}
  do-ip6: no
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "{d}"
  pidfile: "{d}/unbound.pid"
  logfile: "{d}/unbound.log"
  use-syslog: no
  verbosity: 1
  num-threads: 1
  access-control: 127.0.0.0/8 allow
  # dnsd listens on 127.0.0.1: unbound refuses to query localhost unless told
  do-not-query-localhost: no
  module-config: "iterator"
  qname-minimisation: no
  # the cache as a resolver runs it: on, TTLs as served, no early refresh
  prefetch: no
  serve-expired: no
  cache-min-ttl: 0
remote-control:
  control-enable: no
stub-zone:
  name: "{zonegen.ORIGIN}"
  stub-addr: 127.0.0.1@{self.dnsd_port}
"""

    def start(self, deadline=20):
        """Starts on a fresh port with an empty cache; returns once it resolves in the zone."""
        for _ in range(3):
            self.port = servers.free_port({self.dnsd_port})
            conf = os.path.join(self.dir, "unbound.conf")
            with open(conf, "w") as f:
                f.write(self.config())
            r = subprocess.run(["unbound-checkconf", conf], capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"unbound-checkconf {conf}: {(r.stderr or r.stdout).strip()}")
            with open(os.path.join(self.dir, "stderr.log"), "a") as log:
                self.proc = self.ctx.children.add(subprocess.Popen(
                    [self.binary(), "-d", "-c", conf], stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True,
                    preexec_fn=servers._die_with_parent))
            end = time.monotonic() + deadline
            while time.monotonic() < end and self.proc.poll() is None:
                # ns1 is a static name: resolving it proves the stub works without
                # touching the cached pool answer the trial is about
                a = dnswire.query(self.port, "ns1." + zonegen.ORIGIN, "A", timeout=0.2, rd=True)
                if a is not None and a.rcode == 0 and a.values(1):
                    return
                time.sleep(0.05)
            if self.proc.poll() is None:
                self.stop()
                raise RuntimeError(f"unbound on 127.0.0.1:{self.port} did not resolve ns1 within {deadline} s;"
                                   f" see {self.dir}/unbound.log")
        raise RuntimeError(f"unbound exited at start three times; see {self.dir}/unbound.log")

    def stop(self):
        if self.proc:
            servers.stop_proc(self.proc)
        self.proc = None


class PoolDnsd(servers.Dnsd):
    """dnsd + dnsd-probe with the two-tier pool of this scenario."""

    def setup_pools(self):
        a = self.ctx.args
        self.dnsctl("probe", "add", "bench-tcp", "--type", "tcp", "--port", str(self.backend_port),
                    "--interval", f"{a.interval_ms}ms", "--timeout", f"{min(500, a.interval_ms // 2)}ms",
                    "--rise", str(a.rise), "--fall", str(a.fall))
        self.dnsctl("pool", "create", POOL, "--zone", self.zone.origin, "--name", POOL, "--type", "A",
                    "--ttl", str(a.ttl), "--failback", "auto", "--hold-down", "1s")
        self.dnsctl("member", "add", POOL, PRIMARY, "--priority", "1", "--probe", "bench-tcp")
        self.dnsctl("member", "add", POOL, BACKUP, "--priority", "2", "--probe", "bench-tcp")

    def probe_args(self):
        return ["--http", "none"]

    def command(self):
        return super().command() + ["--http", "none"]

    def answer(self):
        a = dnswire.query(self.port, self.qname, "A", timeout=0.2)
        return (set(a.values(1)), a.ttl) if a is not None and a.rcode == 0 else (set(), None)


def wait_normal(dnsd, ttl, deadline=60):
    """Until dnsd answers the primary alone at the full TTL (tier 1, nothing failing)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        for proc, what in ((dnsd.probe_proc, "dnsd-probe"), (dnsd.proc, "dnsd")):
            if proc.poll() is not None:
                raise RuntimeError(f"{what} exited (status {proc.returncode}) during the run; logs in {dnsd.dir}")
        if dnsd.answer() == ({PRIMARY}, ttl):
            return
        time.sleep(0.05)
    raise RuntimeError(f"dnsd does not answer {PRIMARY} at TTL {ttl} within {deadline} s: {dnsd.answer()}")


def decided_at(dnsd):
    """decided_at (ms) of the pool's current decision when it no longer serves the primary."""
    try:
        for p in dnsd.status().get("pools", []):
            dec = p.get("decision") or {}
            if p.get("name") == POOL and PRIMARY not in dec.get("served", [PRIMARY]):
                return dec.get("decided_at")
    except (RuntimeError, ValueError):
        return None
    return None


def trial(ctx, dnsd, unbound, backend, phase, deadline):
    """One kill; returns {t, decided, refills: [(s after kill, addrs, ttl)], fill_ttl}."""
    a = ctx.args
    period = a.poll_ms / 1000.0
    unbound.start()
    first = None
    end = time.monotonic() + 10
    while first is None and time.monotonic() < end:
        first = dnswire.query(unbound.port, dnsd.qname, "A", timeout=0.5, rd=True)
    if first is None or first.values(1) != [PRIMARY]:
        raise RuntimeError(f"unbound's first answer is not {PRIMARY}: {first and first.values(1)}")
    c = time.monotonic()
    kill_at = c + phase
    nxt = c + period
    killed = wall_kill = None
    prev_ttl = first.ttl
    refills = []
    out = {"t": None, "fill_ttl": first.ttl}
    while killed is None or time.monotonic() - killed < deadline:
        due = nxt if killed is not None else min(nxt, kill_at)
        time.sleep(max(0.0, due - time.monotonic()))
        if killed is None and time.monotonic() >= kill_at:
            wall_kill, killed = time.time(), time.monotonic()
            backend.close()
        if time.monotonic() < nxt:
            continue
        nxt += period
        ans = dnswire.query(unbound.port, dnsd.qname, "A", timeout=0.5, rd=True)
        if ans is None or ans.rcode != 0:
            continue
        got = set(ans.values(1))
        # Unbound counts a cached answer's TTL down; a higher TTL than the last one means
        # it asked dnsd again (cache refill)
        if killed is not None and ans.ttl is not None and prev_ttl is not None and ans.ttl > prev_ttl:
            refills.append((time.monotonic() - killed, sorted(got), ans.ttl))
        prev_ttl = ans.ttl
        if killed is not None and got and PRIMARY not in got:
            out["t"] = time.monotonic() - killed
            break
    unbound.stop()
    d = decided_at(dnsd)
    out["decided"] = d / 1000.0 - wall_kill if d is not None else None
    out["refills"] = refills
    return out


def run(ctx):
    args = ctx.args
    if not Unbound.binary():
        raise RuntimeError("unbound not installed (apt-get install unbound; tools/bench installs it)")
    modes = [int(m) for m in args.modes.split(",") if m.strip()]
    phase_sets = [p.strip() for p in args.phases.split(",") if p.strip()]
    for p in phase_sets:
        if p not in ("any", "late"):
            raise SystemExit(f"bench: --phases: unknown phase set '{p}' (any, late)")
    window = args.interval_ms / 1000.0 * args.fall
    if window >= args.ttl:
        raise SystemExit("bench: interval x fall must be shorter than --ttl")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    deadline = 2 * args.ttl + window + 30
    trials = len(modes) * len(phase_sets) * args.trials
    signal.alarm(int(trials * (deadline + 90) + 300))
    bench.ensure_dnsd(ctx, ("dnsd", "dnsctl", "dnsd-probe"))
    if ctx.dnsd_skip:
        raise RuntimeError(ctx.dnsd_skip)

    port = scenario_failover.free_backend_port([PRIMARY, BACKUP])
    backends = {a: scenario_failover.Backend(a, port) for a in (PRIMARY, BACKUP)}
    for b in backends.values():
        b.open()
    zone = zonegen.generate(os.path.join(ctx.tmp, "resolver.zone"), hosts=10)
    zone.pools = {POOL: [PRIMARY, BACKUP]}
    dnsd = PoolDnsd(ctx, zone, 1)
    dnsd.backend_port = port
    dnsd.qname = f"{POOL}.{zone.origin}"
    why = dnsd.missing()
    if why:
        raise RuntimeError(why)
    rows = {}
    try:
        dnsd.start()
        ctx.log(f"dnsd on 127.0.0.1:{dnsd.port}; backends {PRIMARY}:{port} (tier 1), {BACKUP}:{port} (tier 2);"
                f" seed {seed}")
        unbound = Unbound(ctx, dnsd.port)
        mode_now = None
        for ps in phase_sets:
            for i in range(args.trials):
                if ps == "any":
                    phase = rng.uniform(0, args.ttl)
                else:
                    phase = rng.uniform(args.ttl - window, args.ttl)
                for mode in (modes if i % 2 == 0 else list(reversed(modes))):
                    if mode != mode_now:
                        dnsd.dnsctl("pool", "set", POOL, "--degraded-ttl", str(mode))
                        mode_now = mode
                        time.sleep(1.0)  # dnsd-probe reads pool changes every 100 ms
                    wait_normal(dnsd, args.ttl)
                    res = trial(ctx, dnsd, unbound, backends[PRIMARY], phase, deadline)
                    res["phase"] = phase
                    rows.setdefault((ps, mode), []).append(res)
                    refills = ", ".join(f"{s:.1f} s: {'+'.join(a)} TTL {t}" for s, a, t in res["refills"]) or "none"
                    t = f"{res['t']:.2f} s" if res["t"] is not None else f"still .11 after {deadline:.0f} s"
                    dec = f"{res['decided']:.2f} s" if res["decided"] is not None else "-"
                    ctx.log(f"[{ps} {i + 1}/{args.trials}] degraded-ttl {mode:>2}: kill at {phase:5.2f} s after fill"
                            f" -> {t} (decision {dec}; refills after the kill: {refills})")
                    backends[PRIMARY].open()
        dnsd.stop()
    finally:
        for b in backends.values():
            b.close()
    text, md = render(args, modes, phase_sets, rows, seed, dnsd, window)
    print("\n" + text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(md)
        ctx.log(f"\nmarkdown written to {args.out}")


def failing_refill(res):
    """The trial's cache was refilled with the dead primary after the kill (while it was failing)."""
    return any(PRIMARY in a for _, a, _ in res["refills"])


def render(args, modes, phase_sets, rows, seed, dnsd, window):
    t = report.Table([("n", "int"), ("median s", "f2"), ("p90 s", "f2"), ("max s", "f2"), ("min s", "f2"),
                      ("kill->decision s", "f2"), ("refilled failing", "int"), ("refill TTL", "str")])
    for ps in phase_sets:
        stats = {}
        for mode in modes:
            rs = rows.get((ps, mode), [])
            ts = [r["t"] for r in rs]
            done = [x for x in ts if x is not None]
            lost = len(ts) - len(done)
            refilled = [r for r in rs if failing_refill(r)]
            refill_ttls = sorted({tt for r in refilled for _, a, tt in r["refills"] if PRIMARY in a})
            vals = [len(rs), report.median(done), report.percentile(done, 90), max(done) if done else None,
                    min(done) if done else None, report.median([r["decided"] for r in rs]), len(refilled),
                    " ".join(map(str, refill_ttls)) or "-"]
            label = f"{ps}: degraded-ttl {mode}" + (" (lowering on)" if mode < args.ttl else " (no lowering)")
            if lost:
                label += f", {lost} never failed over"
            t.add(label, vals)
            stats[mode] = vals
        if len(modes) == 2 and all(stats.get(m) for m in modes):
            off, on = sorted(modes, reverse=True)[0], sorted(modes)[0]
            t.add_ratio(f"{ps}: ratio degraded-ttl {off} / {on}", [None] + stats[off][1:6] + [None, None],
                        [None] + stats[on][1:6] + [None, None])
    head = [
        f"dnsd benchmark (resolver-failover), {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"command: tools/bench {' '.join(os.sys.argv[1:])} (seed {seed})",
        f"versions: dnsd {dnsd.version()}; {Unbound.version()}",
        f"pool {POOL}.{zonegen.ORIGIN} A: {PRIMARY} priority 1, {BACKUP} priority 2; TTL {args.ttl}, hold-down 1 s;"
        f" tcp probe every {args.interval_ms} ms, fall {args.fall}, rise {args.rise}",
        f"Unbound 127.0.0.1 (stub-zone -> dnsd, cache on, prefetch off, restarted before every trial);"
        f" client asks it every {args.poll_ms} ms",
        f"time = kill of {PRIMARY} (listener closed) -> first Unbound answer without it; "
        f"phase sets: any = kill at a uniform time in [0, {args.ttl}) s after the cache fill,"
        f" late = in [{args.ttl - window:g}, {args.ttl}) s (the cached answer expires within interval x fall"
        f" = {window:g} s of the kill)",
        "refilled failing = trials where Unbound fetched the pool again after the kill and still got"
        f" {PRIMARY} (the cache expired before the down decision); refill TTL = the TTLs it got then",
    ]
    text = "\n".join(head) + "\n\n" + t.text()
    raw = ["| phase set | degraded-ttl | kill after fill s | time s | decision s | refills after the kill |",
           "|---|---:|---:|---:|---:|---|"]
    for (ps, mode), rs in sorted(rows.items()):
        for r in rs:
            refills = "; ".join(f"{s:.1f} s {'+'.join(a)} TTL {tt}" for s, a, tt in r["refills"]) or "-"
            raw.append(f"| {ps} | {mode} | {r['phase']:.2f} | {report.fmt(r['t'], 'f2')} |"
                       f" {report.fmt(r['decided'], 'f2')} | {refills} |")
    md = ("## dnsd benchmark: resolver-failover\n\n" + "\n".join(f"- {h}" for h in head) + "\n\n" + t.markdown()
          + "\n\nEvery trial:\n\n" + "\n".join(raw) + "\n")
    return text, md
