"""tcp (issue 15): DNS over TCP with 1,000+ connections against NSD, Knot, gdnsd and dnsd.

The load is dnsd-tcpload (tools/tcpload, built with dnsd; tools/README.md says why not
dnsperf -m tcp or kxdpgun -T), one epoll thread pinned to the client CPU, every server on
the other CPU with one worker/thread for TCP. Source addresses rotate over --sources
addresses from 127.0.1.0, so the servers see many clients, not one. Where namespaces are
allowed (root), everything runs inside a fresh network namespace of its own (netns.py, the
server side of the qps bench's pair), so other work on the machine neither shares the
loopback's ports nor its TIME_WAIT table; else on the machine's loopback.

Phases, per round, each server in turn (interleaved, as the qps bench does):
  hold   --connections connections held for the whole run, --pipeline queries in flight on
         each (a new one as soon as an answer arrives): answered/s at saturation
  fixed  the same connections, queries capped at --rate q/s: CPU per answer at equal load
  churn  --churn-connections at once, each closed by the client after --churn-queries
         answers (sent pipelined) and replaced at once: connections/s and answers/s
Per run: answered/s, share answered, server CPU (utime+stime of its process tree) per
answer, whole-machine busy CPU per answer, the generator's own CPU (to show it was not the
limit), and every failed connection: refused, reset,
closed by the server with queries unanswered, queries timed out. Before each run the bench
waits (up to 15 s, `ss`) until the server holds no connection of the previous one.
Every server's connection limit is set to the most connections a phase holds (--limit to
change it; dnsd keeps its default of 20 per client address, and the clients hold 10 per
address): the clients never exceed a limit, so a refused or reset connection is a fault.
Memory per connection is measured on first contact (the warm-up: the first time the server
sees --connections connections), before any allocator has memory left over from earlier
connections: server RSS at its peak during the warm-up minus RSS just before it, per
connection open at the peak. Kernel socket memory is not in RSS and not counted.
"""

import os
import platform
import signal
import subprocess
import sys
import time
import types

import bench
import kxdpgun
import measure
import netns
import report
import scenario_qps as q
import servers

NAME = "tcp"
HELP = "DNS over TCP: 1,000+ pipelined connections and connection churn, answers/s, CPU and memory per connection"
DEFAULT_SERVERS = "nsd,knot,gdnsd,dnsd"
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
PHASES = ("hold", "fixed", "churn")


def options(p):
    p.set_defaults(servers=DEFAULT_SERVERS)
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 2; --quick: 1)")
    p.add_argument("--seconds", type=int, help="seconds per run (default 5; --quick: 3)")
    p.add_argument("--quick", action="store_true", help="1 round of 3 s (a smoke run)")
    p.add_argument("--phases", default=",".join(PHASES), help="which of hold,fixed,churn (default %(default)s)")
    p.add_argument("--connections", type=int, default=1000, help="connections held in hold/fixed (default %(default)s)")
    p.add_argument("--pipeline", type=int, default=4, help="queries in flight per connection (default %(default)s)")
    p.add_argument("--rate", type=int, default=10000, help="q/s of the fixed phase (default %(default)s)")
    p.add_argument("--churn-connections", type=int, default=1000,
                   help="connections at once in the churn phase (default %(default)s)")
    p.add_argument("--churn-queries", type=int, default=3,
                   help="answers per connection before the client closes it, churn phase (default %(default)s)")
    p.add_argument("--sources", type=int, default=100,
                   help="client source addresses (127.0.1.0 on) to spread connections over (default %(default)s)")
    p.add_argument("--limit", type=int,
                   help="each server's TCP connection limit (default: the most connections a phase holds, so "
                        "the clients never exceed it and any refusal is a fault)")
    p.add_argument("--hosts", type=int, default=1000, help="A names in the generated zone (default %(default)s)")
    p.add_argument("--loop", choices=("auto", "netns", "host"), default="auto",
                   help="netns: a network namespace of the bench's own (needs root); host: the machine's "
                        "loopback; auto: netns where allowed (default %(default)s)")


def tcpload_bin(ctx):
    return os.path.join(ctx.build_dir, "tools", "dnsd-tcpload")


class Run:
    """One dnsd-tcpload run with the server's CPU and memory around it."""

    def __init__(self, out, seconds):
        self.v = {}
        for line in out.splitlines():
            k, _, val = line.partition(":")
            if val.strip():
                self.v[k.strip()] = float(val)
        if "answered" not in self.v:
            raise RuntimeError("dnsd-tcpload printed no statistics:\n" + out[-1500:])
        self.seconds = self.v.get("seconds") or seconds
        self.server_cpu = self.server_user = self.machine_cpu = self.gen_cpu = 0.0
        self.rss_before = self.rss_peak = 0
        self.cmd = []

    def __getitem__(self, k):
        return self.v.get(k, 0)

    @property
    def qps(self):
        return self["answered"] / self.seconds

    def share(self):
        """Answered of the queries whose answer was due (not those still in flight at the end)."""
        due = self["sent"] - self["unanswered_at_end"]
        return self["answered"] / due if due > 0 else None

    def lost(self):
        return int(self["sent"] - self["answered"] - self["unanswered_at_end"])

    def per_answer(self, cpu):
        return cpu * 1e6 / self["answered"] if self["answered"] else None

    def failed(self):
        """Connections that went wrong: refused, failed, reset, closed early, timed out."""
        return int(self["refused"] + self["connect_failed"] + self["reset"] + self["closed_early"]
                   + (1 if self["timeouts"] else 0))

    def rss_per_conn(self):
        return (self.rss_peak - self.rss_before) * 1024 / self["peak_open"] if self["peak_open"] else None

    def rcodes(self):
        return {RCODES.get(i, f"RCODE{i}"): int(self[f"rcode_{i}"]) for i in range(16) if self[f"rcode_{i}"]}


class Load:
    def __init__(self, ctx, args, cpu):
        self.ctx, self.args, self.cpu = ctx, args, cpu
        self.runs = 0

    def command(self, port, qfile, phase, seconds):
        a = self.args
        cmd = (["taskset", "-c", str(self.cpu)] if self.cpu is not None else []) + [
            tcpload_bin(self.ctx), "--server", f"127.0.0.1:{port}", "--queries", qfile, "--seconds", str(seconds),
            "--source", "127.0.1.0", "--source-count", str(a.sources), "--pipeline", str(a.pipeline)]
        if phase == "churn":
            cmd += ["--connections", str(a.churn_connections), "--queries-per-connection", str(a.churn_queries)]
        else:
            cmd += ["--connections", str(a.connections)]
        if phase == "fixed":
            cmd += ["--rate", str(a.rate)]
        return cmd

    def drain(self, server, timeout=15):
        """Waits until the server holds no connection of an earlier run (established, or
        closed by the client and not yet by the server), so every run starts from none; the
        count left if it does not get there."""
        end = time.monotonic() + timeout
        while True:
            r = subprocess.run(["ss", "-Htn", "state", "established", "state", "close-wait", "state", "syn-recv",
                                "sport", "=", f":{server.port}"], capture_output=True, text=True, timeout=10)
            left = len([ln for ln in r.stdout.splitlines() if ln.strip()])
            if left == 0 or r.returncode != 0 or time.monotonic() > end:
                return left
            time.sleep(0.1)

    def run(self, server, qfile, phase, seconds):
        self.runs += 1
        left = self.drain(server)
        if left:
            self.ctx.log(f"NOTE {server.title} still held {left} connection(s) of the previous run after 15 s")
        cmd = self.command(server.port, qfile, phase, seconds)
        out_path = os.path.join(self.ctx.tmp, f"tcpload-{self.runs}.out")
        pid = server.pid()
        rss_before = measure.rss_kb(pid)
        before = measure.cpu_sample(pid)
        m0 = kxdpgun.machine_busy()
        peak = rss_before
        with open(out_path, "w") as out:
            p = self.ctx.children.add(subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                                       start_new_session=True))
            end = time.monotonic() + seconds + 30
            while True:
                # the rusage of the generator itself comes with its reaping
                got, status, ru = os.wait4(p.pid, os.WNOHANG)
                if got == p.pid:
                    p.returncode = os.waitstatus_to_exitcode(status)
                    break
                if time.monotonic() > end:
                    p.kill()
                    p.wait()
                    raise RuntimeError(f"dnsd-tcpload did not stop: {' '.join(cmd)}")
                peak = max(peak, measure.rss_kb(pid))
                time.sleep(0.1)
        m1 = kxdpgun.machine_busy()
        after = measure.cpu_sample(pid)
        with open(out_path) as f:
            text = f.read()
        if p.returncode != 0:
            raise RuntimeError(f"dnsd-tcpload failed ({p.returncode}): {' '.join(cmd)}\n{text[-1500:]}")
        r = Run(text, seconds)
        r.cmd = cmd
        r.server_cpu = measure.cpu_seconds(before, after)
        r.server_user = (after.user - before.user) / measure.CLK_TCK
        r.machine_cpu = (m1[0] - m0[0]) / measure.CLK_TCK
        r.gen_cpu = ru.ru_utime + ru.ru_stime
        r.rss_before, r.rss_peak = rss_before, peak
        return r


def configure(todo, args):
    """Every server's limit is what the clients hold at most (or --limit), one TCP thread each."""
    if args.limit is None:
        args.limit = max(args.connections, args.churn_connections)
    for s in todo:
        s.tcp_clients = args.limit


def run(ctx):
    args = ctx.args
    if args.rounds is None:
        args.rounds = 1 if args.quick else 2
    if args.seconds is None:
        args.seconds = 3 if args.quick else 5
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    for p in phases:
        if p not in PHASES:
            raise SystemExit(f"bench: unknown phase '{p}' ({', '.join(PHASES)})")
    if args.rounds < 1 or args.seconds < 1 or not phases:
        raise SystemExit("bench: --rounds, --seconds and --phases need at least one")
    if args.connections < 1 or args.pipeline < 1 or args.churn_connections < 1 or args.churn_queries < 1:
        raise SystemExit("bench: --connections, --pipeline, --churn-connections and --churn-queries must be at least 1")
    if not 1 <= args.sources <= 65000:
        raise SystemExit("bench: --sources must be from 1 to 65000")
    use_ns = False
    if args.loop != "host":
        why = netns.unavailable()
        # kxdpgun is the qps bench's need, not this one's
        why = None if why and why.startswith("kxdpgun") else why
        if why and args.loop == "netns":
            raise SystemExit(f"bench: --loop netns: {why}")
        use_ns = why is None
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    targets = ("dnsd", "dnsctl", "dnsd-tcpload")
    bench.ensure_dnsd(ctx, targets)
    if not os.access(tcpload_bin(ctx), os.X_OK):
        raise RuntimeError(f"{tcpload_bin(ctx)} not built: the load generator of this bench is built with dnsd "
                           f"(cmake --build {ctx.build_dir} --target dnsd-tcpload)")
    args.mix, args.workers, args.loadgen = "static", "1", "dnsperf"
    args.zone = args.queries = None
    zone, qfiles = q.prepare_zone(ctx, args, ["static"])
    qfile, shares = qfiles["static"]
    pin_cpu, client_cpu = bench.pinning(args)
    todo = bench.make_servers(ctx, zone, names, 1)
    if not todo:
        raise RuntimeError("no server to benchmark")
    configure(todo, args)
    per_run = args.seconds + 2
    plan = args.rounds * len(phases) * len(todo) * per_run + len(todo) * 15
    signal.alarm(int(plan * 2 + 180))
    ctx.log(f"zone {zone.origin} ({zone.records} records); dnsd-tcpload, {args.connections} connections x "
            f"{args.pipeline} in flight, churn {args.churn_connections} x {args.churn_queries} queries, "
            f"{args.sources} sources; {len(phases)} phase(s) x {len(todo)} server(s) x {args.rounds} round(s) x "
            f"{args.seconds} s: about {plan / 60:.0f} min; {'own network namespace' if use_ns else 'host loopback'}")
    ns = netns.NsPair() if use_ns else None
    results = {s.key: {p: [] for p in phases} for s in todo}
    load_start = os.getloadavg()
    try:
        if ns:
            ns.create()
            ns.enter_server()
        running = q.start_all(ctx, todo, 1, pin_cpu)
        load = Load(ctx, args, client_cpu)
        warnings = warm_up(ctx, load, running, qfile, shares)
        t0 = time.monotonic()
        for rnd in range(args.rounds):
            for phase in phases:
                for s in running:
                    if s.proc.poll() is not None:
                        raise RuntimeError(f"{s.title} exited (status {s.proc.returncode}); log {s.log_path}:\n{s.log_tail()}")
                    r = load.run(s, qfile, phase, args.seconds)
                    results[s.key][phase].append(r)
                    ctx.log(f"round {rnd + 1}/{args.rounds} {phase:5} {s.title:5} answered {r.qps:9,.0f}/s "
                            f"({(r.share() or 0):4.0%})  srv {r.server_cpu / r.seconds:4.0%} "
                            f"{r.per_answer(r.server_cpu) or 0:5.2f} µs/ans  machine {r.per_answer(r.machine_cpu) or 0:5.2f} "
                            f"µs/ans  gen {r.gen_cpu / r.seconds:4.0%}  open {int(r['peak_open'])}  "
                            f"rss +{(r.rss_peak - r.rss_before) / 1024:.1f} MB  failed conns {r.failed()}"
                            + f"  lost {r.lost()}" + (f"  conns/s {r['completed'] / r.seconds:,.0f}" if phase == "churn" else ""))
        elapsed = time.monotonic() - t0
        for s in running:
            s.stop()
    finally:
        ctx.children.kill_all()  # a namespace outlives its removal while a process runs in it
        if ns:
            ns.remove()
    text, md = render(args, running, phases, results, zone, elapsed, warnings, (load_start[0], os.getloadavg()[0]),
                      use_ns, pin_cpu, client_cpu)
    print()
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(md)
        ctx.log(f"\nmarkdown written to {args.out}")


def warm_up(ctx, load, running, qfile, shares):
    """Two seconds of hold load per server, the first TCP it sees: the rcode mix must be what a
    correct server returns; the run's RSS growth is the memory per connection."""
    ref = q.zonegen.expected_rcodes(shares)
    warnings = {}
    for s in running:
        r = load.run(s, qfile, "hold", 2)
        s.first_contact = r
        ctx.log(f"warm-up {s.title:5} answered {r.qps:9,.0f}/s, {int(r['peak_open'])} open, RSS {r.rss_before / 1024:.1f} -> "
                f"{r.rss_peak / 1024:.1f} MB = {r.rss_per_conn() or 0:,.0f} B/conn, failed conns {r.failed()}, lost {r.lost()}")
        if not r["answered"]:
            raise RuntimeError(f"{s.title} answered none of {int(r['sent'])} TCP queries: {' '.join(r.cmd)}")
        w = q.rcode_check(types.SimpleNamespace(rcodes=r.rcodes()), ref)
        if w:
            ctx.log(f"WARNING {s.title}: unexpected rcode mix: {w}")
            q.add_warning(warnings, s.key, f"unexpected rcode mix in warm-up: {w}")
    return warnings


def summarize(rs, first=None):
    med = report.median
    return {
        "lost": sum(r.lost() for r in rs),
        "qps": med([r.qps for r in rs]),
        "share": med([(r.share() or 0) * 100 for r in rs]),
        "srv": med([r.per_answer(r.server_cpu) for r in rs]),
        "usr": med([r.per_answer(r.server_user) for r in rs]),
        "mach": med([r.per_answer(r.machine_cpu) for r in rs]),
        "busy": med([r.server_cpu / r.seconds * 100 for r in rs]),
        "gen": med([r.gen_cpu / r.seconds * 100 for r in rs]),
        "rss": first.rss_per_conn() if first else None,
        "conns": med([r["completed"] / r.seconds for r in rs]),
        "failed": sum(r.failed() for r in rs),
        "timeouts": sum(int(r["timeouts"]) for r in rs),
    }


COLS = {
    "hold": [("answered/s", "qps", "int"), ("answered", "share", "pct"), ("srv µs/ans", "srv", "f2"),
             ("usr µs/ans", "usr", "f2"), ("mach µs/ans", "mach", "f2"), ("srv busy", "busy", "pct0"),
             ("gen busy", "gen", "pct0"), ("RSS B/conn", "rss", "int"), ("failed conns", "failed", "int"),
             ("lost", "lost", "int"), ("timeouts", "timeouts", "int")],
    "churn": [("answered/s", "qps", "int"), ("conns/s", "conns", "int"), ("answered", "share", "pct"),
              ("srv µs/ans", "srv", "f2"), ("mach µs/ans", "mach", "f2"), ("srv busy", "busy", "pct0"),
              ("gen busy", "gen", "pct0"), ("failed conns", "failed", "int"), ("lost", "lost", "int"),
              ("timeouts", "timeouts", "int")],
}
COLS["fixed"] = [c for c in COLS["hold"] if c[1] != "rss"]


def render(args, running, phases, results, zone, elapsed, warnings, load, use_ns, pin_cpu, client_cpu):
    some = next((rs[0] for per in results.values() for rs in per.values() if rs), None)
    head = [
        f"dnsd benchmark (tcp), {time.strftime('%Y-%m-%d %H:%M:%S')}, {platform.node()}",
        f"command: tools/bench {' '.join(sys.argv[1:])}",
        f"machine: {q.cpu_model()}, {len(os.sched_getaffinity(0))} CPUs, Linux {platform.release()}",
        f"servers: {servers.versions_line(running)}",
        "configured: " + "; ".join(f"{s.title} {s.worker_desc()}" for s in running)
        + (" (dnsd: default --tcp-max-per-client 20)" if any(s.key == "dnsd" for s in running) else ""),
        f"zone: {zone.origin} {zone.records} records; {'own network namespace, its loopback' if use_ns else 'host loopback'}; "
        f"servers on CPU {pin_cpu}, dnsd-tcpload on CPU {client_cpu}",
        f"method: {args.rounds} interleaved round(s) x {args.seconds} s per phase and server; medians over rounds "
        f"(failed conns and timeouts: sums); {elapsed:.0f} s of measuring",
        f"load: dnsd-tcpload, one epoll thread, {args.sources} source addresses; hold: {args.connections} connections x "
        f"{args.pipeline} in flight; fixed: the same at {args.rate:,} q/s; churn: {args.churn_connections} connections "
        f"at once, each closed by the client after {args.churn_queries} answers; e.g. {' '.join(some.cmd) if some else ''}",
        "srv µs/ans: server utime+stime (process tree) per answer; usr: its user-mode part; mach µs/ans: busy CPU of "
        "the whole machine (server, generator, kernel, and anything else running) per answer; gen busy: the "
        "generator's own CPU share (near 100%: it, not the server, set the pace); answered: of the queries due (not "
        "those in flight when the run ended); lost: sent, not answered, not in flight at the end; RSS B/conn: server "
        "peak RSS minus RSS before, per connection open at the peak, on first contact (the warm-up, "
        f"{args.connections} connections; kernel socket memory not included); failed conns: refused + connect failed "
        "+ reset + closed by the server with queries unanswered (+1 per run with timeouts)",
        f"load average: {load[0]:.2f} at start, {load[1]:.2f} at end (other work on the machine adds noise, mostly to "
        "mach µs)",
    ]
    for k, ws in warnings.items():
        for w in ws:
            head.append(f"WARNING {servers.ALL[k].title}: {w}")
    text = ["\n".join(head)]
    md = ["## dnsd benchmark: tcp\n\n" + "\n".join(f"- {h}" for h in head)]
    for phase in phases:
        cols = COLS[phase]
        t = report.Table([(title, kind) for title, _, kind in cols])
        rows = {}
        for s in running:
            summ = summarize(results[s.key][phase], getattr(s, "first_contact", None) if phase == "hold" else None)
            rows[s.key] = [summ[key] for _, key, _ in cols]
            t.add(s.title, rows[s.key])
        if "dnsd" in rows:
            for other in ("nsd", "knot", "gdnsd"):
                if other in rows:
                    t.add_ratio(f"dnsd/{servers.ALL[other].title}", rows["dnsd"], rows[other])
        title = {"hold": f"hold: {args.connections} connections x {args.pipeline} in flight, saturated",
                 "fixed": f"fixed: {args.connections} connections at {args.rate:,} q/s",
                 "churn": f"churn: {args.churn_connections} connections at once, {args.churn_queries} queries each"}[phase]
        text.append(f"== {title}\n\n{t.text()}")
        md.append(f"### {title[0].upper() + title[1:]}\n\n{t.markdown()}")
    md.append(raw_md(running, phases, results))
    return "\n\n".join(text), "\n\n".join(md) + "\n"


def raw_md(running, phases, results):
    out = ["### Per run", "",
           "| phase | server | round | answered/s | answered | srv µs/ans | mach µs/ans | gen CPU s | peak open | "
           "RSS before MB | RSS peak MB | refused | connect failed | reset | closed early | timeouts | conns done |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for phase in ["warm-up"] + list(phases):
        for s in running:
            rs = [s.first_contact] if phase == "warm-up" and hasattr(s, "first_contact") else results[s.key].get(phase, [])
            for i, r in enumerate(rs):
                out.append(f"| {phase} | {s.title} | {i + 1} | {r.qps:,.0f} | {(r.share() or 0):.1%} | "
                           f"{r.per_answer(r.server_cpu) or 0:.2f} | {r.per_answer(r.machine_cpu) or 0:.2f} | "
                           f"{r.gen_cpu:.2f} | {int(r['peak_open'])} | {r.rss_before / 1024:.1f} | {r.rss_peak / 1024:.1f} | "
                           f"{int(r['refused'])} | {int(r['connect_failed'])} | {int(r['reset'])} | "
                           f"{int(r['closed_early'])} | {int(r['timeouts'])} | {int(r['completed'])} |")
    return "\n".join(out)
