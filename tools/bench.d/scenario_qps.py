"""qps: throughput, CPU per answered query and latency, in interleaved rounds.

One run covers every configuration issue 4 asks about: each worker count (--workers,
default 1 and one per CPU) x each query mix (--mix, default static and pool). Per worker
count the servers are (re)started; then per round, for each mix, for each phase, each server
in turn (A B C A B C ...), so slow drifts of the machine (other load, thermal, frequency)
hit every server and both mixes alike:
  sat    dnsperf without -Q: saturated queries/s and server CPU per answered query
  fixed  dnsperf -Q RATE -v: server CPU per answered query at a fixed offered load (split
         into user and kernel time), and p50/p99 latency computed from dnsperf's per-query
         -v lines (dnsperf 2.10 has no percentile output; lost queries have no latency and
         are reported as lost %).
All servers run during the whole worker-count block; only the one under test gets traffic.
"""

import os
import platform
import signal
import sys
import time

import bench
import dnswire
import measure
import report
import netns
import scenario_qps_kxdp
import servers
import zonegen

NAME = "qps"
HELP = "queries/s, server CPU µs per answered query, p50/p99 latency (interleaved rounds)"
DEFAULT_SERVERS = "nsd,knot,gdnsd,dnsd"

# Issue 4 targets, checked in the summary.
TARGET_CPU_RATIO = 0.8  # dnsd µs/q at the fixed rate <= 0.8 x the cheapest peer
TARGET_POOL_RATIO = 1.05  # dnsd pool-mix µs/q within 5% of the static mix


def options(p):
    # gdnsd runs by default when it is installed (it is the peer for failover names); a
    # missing one is skipped with a SKIP line. set_defaults overrides the common default.
    p.set_defaults(servers=DEFAULT_SERVERS)
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 5; --quick: 2)")
    p.add_argument("--seconds", type=int, help="seconds per dnsperf run (default 10; --quick: 3)")
    p.add_argument("--quick", action="store_true", help="2 rounds of 3 s (a smoke run)")
    p.add_argument("--rate", type=int, default=40000, help="offered queries/s of the fixed-rate phase (default %(default)s)")
    p.add_argument("--phases", default="sat,fixed", help="which of sat,fixed to run (default %(default)s)")
    p.add_argument("--workers", default="1,auto",
                   help="comma list of query workers per server, a number or 'auto' = one per CPU; "
                        "each is one block of rounds (default %(default)s)")
    p.add_argument("--zone", help="zone file to serve instead of the generated one (needs --origin; static mix only)")
    p.add_argument("--origin", help="origin of --zone")
    p.add_argument("--hosts", type=int, default=1000, help="A names in the generated zone (default %(default)s)")
    p.add_argument("--queries", help="dnsperf query file to use instead of the generated mix (static mix only)")
    p.add_argument("--mix",
                   help="comma list of static,pool,do; 'pool': half of the queries hit failover pool names "
                        "(dnsd pools, gdnsd DYNA multifo, static for NSD/Knot); 'do': the static queries with "
                        "EDNS DO=1 (kxdpgun only) (default: static,pool,do with kxdpgun, static,pool with dnsperf)")
    p.add_argument("--pools", type=int, default=100, help="pool names in the pool mix (default %(default)s)")
    p.add_argument("--loadgen", choices=("auto", "kxdpgun", "dnsperf"), default="auto",
                   help="load generator: kxdpgun (AF_XDP, from a network namespace over a veth pair) or dnsperf "
                        "(loopback); auto: kxdpgun where namespaces and kxdpgun are available (default %(default)s)")
    scenario_qps_kxdp.options(p)
    p.add_argument("--transport", choices=("udp", "tcp"), default="udp", help="dnsperf -m (default %(default)s)")
    p.add_argument("--clients", type=int, default=4, help="dnsperf -c (default %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="dnsperf -T (default %(default)s)")
    p.add_argument("--outstanding", type=int, default=256, help="dnsperf -q (default %(default)s)")


# (title, format, better): better "hi"/"lo" says which way the "dnsd/best peer" ratio
# picks its peer; None = no best-peer ratio for that column.
COLUMNS = [
    ("sat qps", "int", "hi"),
    ("srv CPU@sat", "pct", None),
    ("µs/q@sat", "f2", "lo"),
    (None, "f2", "lo"),  # "µs/q@RATE", titled at run time
    ("usr µs/q", "f2", "lo"),
    ("sys µs/q", "f2", "lo"),
    ("qps@fixed", "int", None),
    ("p50 µs", "f1", "lo"),
    ("p99 µs", "f1", "lo"),
    ("lost@fixed", "pct0", None),
]
COL_SAT, COL_FIXED = 0, 3


def parse_lists(args, ncpu):
    workers = []
    for w in (x.strip() for x in str(args.workers).split(",") if x.strip()):
        try:
            n = ncpu if w == "auto" else int(w)
        except ValueError:
            raise SystemExit(f"bench: --workers: '{w}' is neither a number nor 'auto'")
        if n < 1:
            raise SystemExit("bench: --workers must be at least 1")
        label = f"{n} (auto = one per CPU)" if w == "auto" else str(n)
        if n not in [x for x, _ in workers]:
            workers.append((n, label))
    mixes = [m.strip() for m in args.mix.split(",") if m.strip()]
    for m in mixes:
        if m not in ("static", "pool", "do"):
            raise SystemExit(f"bench: unknown mix '{m}' (static, pool, do)")
        if m == "do" and args.loadgen != "kxdpgun":
            raise SystemExit("bench: --mix do needs --loadgen kxdpgun (dnsperf's query file has no per-query DO flag)")
    if not workers or not mixes:
        raise SystemExit("bench: --workers and --mix need at least one value")
    if "pool" in mixes and (args.zone or args.queries):
        raise SystemExit("bench: --mix pool needs the generated zone and queries (no --zone/--queries)")
    return workers, list(dict.fromkeys(mixes))


def prepare_zone(ctx, args, mixes):
    """The zone (with pool names when a pool mix runs) and {mix: (query file, shares)}."""
    if args.zone:
        if not args.origin:
            raise SystemExit("bench: --zone needs --origin NAME")
        zone = zonegen.from_file(os.path.abspath(args.zone), args.origin)
    else:
        pools = args.pools if "pool" in mixes else 0
        zone = zonegen.generate(os.path.join(ctx.tmp, "bench.zone"), hosts=args.hosts, pools=pools)
    qfiles = {}
    for mix in mixes:
        if args.queries:
            qfiles[mix] = (os.path.abspath(args.queries), None)
            continue
        qfile = os.path.join(ctx.tmp, f"queries-{mix}.txt")
        shares = zonegen.write_queries(qfile, zone, pool_share=0.5 if mix == "pool" else 0.0)
        qfiles[mix] = (qfile, shares)
    return zone, qfiles


def rcode_check(result, expected):
    """'' if the rcode mix matches what a correct server returns, else a warning."""
    total = sum(result.rcodes.values()) or 1
    bad = []
    for code, n in sorted(result.rcodes.items()):
        share = n / total
        if code not in expected and share > 0.001:
            bad.append(f"{code} {share:.1%}")
    for code, share in expected.items():
        got = result.rcodes.get(code, 0) / total
        if abs(got - share) > 0.02:
            bad.append(f"{code} {got:.1%} (expected {share:.1%})")
    return ", ".join(bad)


def choose_loadgen(ctx, args):
    """Resolves --loadgen auto; kxdpgun is the default wherever it can run."""
    if args.loadgen in ("auto", "kxdpgun"):
        why = netns.unavailable()
        if why and args.loadgen == "kxdpgun":
            raise SystemExit(f"bench: --loadgen kxdpgun: {why}")
        if why:
            ctx.log(f"load generator: dnsperf on loopback (kxdpgun not usable: {why})")
        args.loadgen = "dnsperf" if why else "kxdpgun"
    if args.mix is None:
        args.mix = "static,pool,do" if args.loadgen == "kxdpgun" else "static,pool"


def run(ctx):
    args = ctx.args
    choose_loadgen(ctx, args)
    if args.loadgen == "kxdpgun":
        return scenario_qps_kxdp.run(ctx)
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5
    if args.seconds is None:
        args.seconds = 3 if args.quick else 10
    if args.rounds < 1 or args.seconds < 1:
        raise SystemExit("bench: --rounds and --seconds must be at least 1")
    phases = [p for p in args.phases.split(",") if p]
    for p in phases:
        if p not in ("sat", "fixed"):
            raise SystemExit(f"bench: unknown phase '{p}' (sat, fixed)")
    ncpu = len(os.sched_getaffinity(0))
    worker_list, mixes = parse_lists(args, ncpu)
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    if "dnsd" in names:
        bench.ensure_dnsd(ctx, ("dnsd", "dnsctl") + (("dnsd-probe",) if "pool" in mixes else ()))

    zone, qfiles = prepare_zone(ctx, args, mixes)
    pin_cpu, client_cpu = bench.pinning(args)
    todo = bench.make_servers(ctx, zone, names, worker_list[0][0])
    if not todo:
        raise RuntimeError("no server to benchmark")

    # stop by ourselves whatever happens: 2x the planned time plus start-up slack
    per_run = args.seconds + 3
    plan = len(worker_list) * (args.rounds * len(mixes) * len(phases) * len(todo) * per_run
                               + len(todo) * (10 + 2 * len(mixes)))
    signal.alarm(int(plan * 2 + 180))
    ctx.log(f"zone {zone.origin} ({zone.records} records); {len(worker_list)} worker count(s) x {len(mixes)} mix(es) "
            f"x {len(phases)} phase(s) x {len(todo)} server(s) x {args.rounds} round(s) x {args.seconds} s: "
            f"about {plan / 60:.0f} min")
    for mix in mixes:
        qfile, shares = qfiles[mix]
        ctx.log(f"mix {mix}: {qfile}" + (f" ({', '.join(f'{k} {v:.0%}' for k, v in shares.items())})" if shares else ""))

    perf = measure.Dnsperf(args.clients, args.threads, args.outstanding, cpu=client_cpu,
                           transport=args.transport, workdir=ctx.tmp)
    results = {}  # (workers, mix) -> {server key: {phase: [DnsperfResult]}}
    warnings = {}
    blocks = []  # (workers, label, pin description, [servers])
    load_start = os.getloadavg()[0]
    t0 = time.monotonic()
    for workers, wlabel in worker_list:
        server_cpu = pin_cpu if workers == 1 else None  # several workers must be free to use every core
        pin_desc = f"servers on CPU {server_cpu}, dnsperf on CPU {client_cpu} (taskset)" if server_cpu is not None else (
            f"servers unpinned, dnsperf on CPU {client_cpu} (taskset)" if client_cpu is not None else "no CPU pinning")
        ctx.log(f"\n== {workers} worker(s) per server: {pin_desc}")
        running = start_all(ctx, todo, workers, server_cpu)
        # worker_desc() follows s.workers, which the next block changes: keep this block's
        pin_desc += "; " + "; ".join(f"{s.title} {s.worker_desc()}" for s in running)
        blocks.append((workers, wlabel, pin_desc, running))
        for mix in mixes:
            warm_up(ctx, perf, running, mix, qfiles[mix], warnings)
        for mix in mixes:
            results[(workers, mix)] = {s.key: {p: [] for p in phases} for s in running}
        for rnd in range(args.rounds):
            for mix in mixes:
                qfile = qfiles[mix][0]
                for phase in phases:
                    for s in running:
                        if s.proc.poll() is not None:
                            raise RuntimeError(f"{s.title} exited (status {s.proc.returncode}); log {s.log_path}:\n{s.log_tail()}")
                        rate = args.rate if phase == "fixed" else None
                        r = perf.run(s.port, qfile, args.seconds, rate=rate, verbose=phase == "fixed",
                                     cpu_of=s.pid(), register=ctx.register)
                        results[(workers, mix)][s.key][phase].append(r)
                        extra = f" p50 {r.percentile(50) * 1e6:.0f} µs p99 {r.percentile(99) * 1e6:.0f} µs" if r.latencies else ""
                        ctx.log(f"w{workers} {mix:6} round {rnd + 1}/{args.rounds} {phase:5} {s.title:5} {r.qps:10,.0f} q/s  "
                                f"cpu {r.server_cpu:6.2f} s = {r.cpu_us_per_query() or 0:6.2f} µs/q "
                                f"(usr {r.user_us_per_query() or 0:.2f})  lost {r.lost}{extra}")
        for s in running:
            s.stop(keep_helpers=True)  # dnsd-probe keeps deciding for the next block
    elapsed = time.monotonic() - t0
    notes = [f"load average: {load_start:.2f} at start, {os.getloadavg()[0]:.2f} at end (other work on the machine adds noise)"]
    if "fixed" in phases:
        for (workers, mix), per in results.items():
            for key, ph in per.items():
                got = report.median([r.qps for r in ph["fixed"]])
                if got is not None and got < 0.97 * args.rate:
                    notes.append(f"NOTE {servers.ALL[key].title} ({workers} worker(s), {mix} mix): the fixed phase reached only "
                                 f"{got:,.0f} of {args.rate:,} q/s offered (server or dnsperf short of CPU): its µs/q@fixed "
                                 "is not at the same load as the others'")
    if "pool" in mixes:
        notes.append(f"pool mix: half of the queries on {len(zone.pools)} pool names x 2 members, TTL 30; NSD/Knot: "
                     "static A RRsets; dnsd: dnsctl pools, members without probes (always up), decided by a running "
                     "dnsd-probe; gdnsd: DYNA multifo with service_types up")
        for s in todo:
            p = getattr(s, "probe_proc", None)
            if p and p.poll() is None:
                cpu = measure.cpu_sample(p.pid).ticks / measure.CLK_TCK
                notes.append(f"dnsd-probe (separate process, not in dnsd's CPU): {cpu:.2f} s CPU since start")

    text, md = render(ctx, args, blocks, mixes, results, phases, zone, qfiles, elapsed, warnings, notes)
    print()
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(md)
        ctx.log(f"\nmarkdown written to {args.out}")


def start_all(ctx, todo, workers, cpu):
    taken = set()
    running = []
    for s in todo:
        s.workers = workers
        try:
            s.start(cpu=cpu, taken=taken)
        except RuntimeError as e:
            if s.key.startswith("dnsd"):
                ctx.log(f"SKIP {s.title}: {e}")
                continue
            raise
        procs, threads = servers.tree_info(s)
        ctx.log(f"started {s.title} on 127.0.0.1:{s.port} ({s.worker_desc()}; {procs} process(es), {threads} thread(s)) in {s.start_seconds:.1f} s")
        running.append(s)
    if not running:
        raise RuntimeError("no server came up")
    return running


def warm_up(ctx, perf, running, mix, qfile_shares, warnings):
    """One second of load per server, and sanity checks of the answers' rcodes and data."""
    qfile, shares = qfile_shares
    ref = zonegen.expected_rcodes(shares) if shares else None  # user zone: the first server's mix
    for s in running:
        r = perf.run(s.port, qfile, 1, register=ctx.register)
        if ref is None:
            total = sum(r.rcodes.values()) or 1
            ref = {k: v / total for k, v in r.rcodes.items()}
            continue
        w = rcode_check(r, ref)
        if w:
            ctx.log(f"WARNING {s.title} ({mix} mix): unexpected rcode mix: {w}")
            add_warning(warnings, s.key, f"{mix} mix: unexpected rcode mix in warm-up: {w}")
    for k, w in answer_check(running, qfile).items():
        ctx.log(f"WARNING {servers.ALL[k].title} ({mix} mix): {w}")
        add_warning(warnings, k, f"{mix} mix: {w}")


def add_warning(warnings, key, text):
    have = warnings.setdefault(key, [])
    if text not in have:
        have.append(text)


def answer_check(running, qfile, sample=200):
    """Compares rcode and answer-section data for the first queries of the file across
    servers (the first server is the reference); {key: warning} for those that differ."""
    with open(qfile) as f:
        queries = [ln.split() for ln in f.readlines()[:sample] if ln.strip()]
    seen = {}
    for s in running:
        got = []
        for name, qtype in queries:
            a = dnswire.query(s.port, name, qtype, timeout=1.0)
            got.append(None if a is None else (a.rcode, sorted(a.records)))
        seen[s.key] = got
    ref = running[0]
    out = {}

    def cname_only(x):
        # gdnsd (3.x, by design) answers a CNAME without chasing it inside the zone
        if x is None or not any(t == 5 for t, _ in x[1]):
            return x
        return (x[0], [r for r in x[1] if r[0] == 5])

    for s in running[1:]:
        norm = cname_only if s.key == "gdnsd" else (lambda x: x)
        bad = sorted({f"{q[0]} {q[1]}" for q, x, y in zip(queries, seen[ref.key], seen[s.key]) if norm(x) != norm(y)})
        if bad:
            out[s.key] = (f"{len(bad)} of {len(queries)} sampled answers differ from {ref.title}'s, "
                          f"e.g. {', '.join(bad[:3])}")
    return out


def summarize(rs_sat, rs_fixed):
    med = report.median
    row = [None] * len(COLUMNS)
    if rs_sat:
        row[0] = med([r.qps for r in rs_sat])
        row[1] = med([r.server_cpu / r.runtime * 100 for r in rs_sat if r.runtime])
        row[2] = med([r.cpu_us_per_query() for r in rs_sat])
    if rs_fixed:
        row[3] = med([r.cpu_us_per_query() for r in rs_fixed])
        row[4] = med([r.user_us_per_query() for r in rs_fixed])
        row[5] = med([r.sys_us_per_query() for r in rs_fixed])
        row[6] = med([r.qps for r in rs_fixed])
        row[7] = med([r.percentile(50) * 1e6 for r in rs_fixed if r.latencies])
        row[8] = med([r.percentile(99) * 1e6 for r in rs_fixed if r.latencies])
        row[9] = med([r.lost / r.sent * 100 if r.sent else 0 for r in rs_fixed])
    return row


def best_peer(rows, col):
    """(key, value) of the best peer of dnsd in a column (cheapest or fastest), or None."""
    better = COLUMNS[col][2]
    peers = [(k, r[col]) for k, r in rows.items() if k != "dnsd" and r[col] is not None]
    if not better or not peers:
        return None
    return (max if better == "hi" else min)(peers, key=lambda kv: kv[1])


def block_tables(args, running, per, phases):
    """The result table of one (workers, mix) block, its spread table and the rows."""
    cols = [(t, f) for t, f, _ in COLUMNS]
    cols[COL_FIXED] = (f"µs/q@{args.rate // 1000}k", "f2")
    t = report.Table(cols)
    rows = {}
    for s in running:
        rows[s.key] = summarize(per[s.key].get("sat"), per[s.key].get("fixed"))
        t.add(s.title, rows[s.key])
    if "dnsd" in rows:
        for other in ("nsd", "knot", "gdnsd"):
            if other in rows:
                t.add_ratio(f"dnsd/{servers.ALL[other].title}", rows["dnsd"], rows[other])
        if len(rows) > 2:
            best = [best_peer(rows, i) for i in range(len(COLUMNS))]
            t.add_ratio("dnsd/best peer", rows["dnsd"], [b[1] if b else None for b in best])
    # spread of the per-round values: how much to trust a ratio
    sp = report.Table([("sat qps", "pct"), ("µs/q@sat", "pct"), (cols[COL_FIXED][0], "pct"), ("p99 µs", "pct")])
    for s in running:
        sat, fixed = per[s.key].get("sat") or [], per[s.key].get("fixed") or []
        sp.add(s.title, [report.spread([r.qps for r in sat]), report.spread([r.cpu_us_per_query() for r in sat]),
                         report.spread([r.cpu_us_per_query() for r in fixed]),
                         report.spread([r.percentile(99) for r in fixed if r.latencies])])
    return t, sp, rows


def targets(args, blocks, mixes, all_rows):
    """Issue 4's qps targets, one line per worker count: (label, target, measured, verdict)."""
    out = []
    k = args.rate // 1000
    for workers, wlabel, _, _ in blocks:
        rows = all_rows.get((workers, "static")) or all_rows.get((workers, mixes[0]))
        mix = "static" if (workers, "static") in all_rows else mixes[0]
        d = rows.get("dnsd") if rows else None
        if not d:
            continue
        b = best_peer(rows, COL_FIXED)
        if d[COL_FIXED] is not None and b:
            ratio = d[COL_FIXED] / b[1]
            out.append((wlabel, f"CPU µs/q @{k}k ≤ {TARGET_CPU_RATIO} x cheapest peer ({mix})",
                        f"dnsd {d[COL_FIXED]:.2f} / {servers.ALL[b[0]].title} {b[1]:.2f} = {ratio:.2f}x",
                        "met" if ratio <= TARGET_CPU_RATIO else "NOT met"))
        b = best_peer(rows, COL_SAT)
        if d[COL_SAT] is not None and b:
            ratio = d[COL_SAT] / b[1]
            verdict = "met" if ratio >= 1.0 else "NOT met"
            busy = d[1]  # srv CPU@sat: well below 100%, dnsperf (not the server) set the pace
            if busy is not None and busy < 90:
                verdict += f" (dnsperf-bound: dnsd {busy:.0f}% busy)"
            out.append((wlabel, f"saturated q/s ≥ best peer ({mix})",
                        f"dnsd {d[COL_SAT]:,.0f} / {servers.ALL[b[0]].title} {b[1]:,.0f} = {ratio:.2f}x", verdict))
        st, po = all_rows.get((workers, "static"), {}).get("dnsd"), all_rows.get((workers, "pool"), {}).get("dnsd")
        if st and po and st[COL_FIXED] and po[COL_FIXED]:
            ratio = po[COL_FIXED] / st[COL_FIXED]
            out.append((wlabel, f"dnsd pool-mix CPU µs/q @{k}k within {TARGET_POOL_RATIO - 1:.0%} of static",
                        f"pool {po[COL_FIXED]:.2f} / static {st[COL_FIXED]:.2f} = {ratio:.2f}x",
                        "met" if ratio <= TARGET_POOL_RATIO else "NOT met"))
        for m in mixes:
            r = all_rows.get((workers, m), {}).get("dnsd")
            if r and r[7] is not None:
                out.append((wlabel, f"p50/p99 @{k}k reported ({m})", f"dnsd p50 {r[7]:.0f} µs, p99 {r[8]:.0f} µs", "reported"))
    return out


def pool_vs_static(args, blocks, all_rows):
    """Per server and worker count: µs/q at the fixed rate for both mixes, and their ratio."""
    t = report.Table([(f"static µs/q@{args.rate // 1000}k", "f2"), (f"pool µs/q@{args.rate // 1000}k", "f2"),
                      ("pool/static", "x")])
    for workers, _, _, running in blocks:
        for s in running:
            st = all_rows.get((workers, "static"), {}).get(s.key)
            po = all_rows.get((workers, "pool"), {}).get(s.key)
            a, b = (st[COL_FIXED] if st else None), (po[COL_FIXED] if po else None)
            t.add(f"{s.title} ({workers} worker{'s' if workers > 1 else ''})", [a, b, b / a if a and b else None])
    return t


def render(ctx, args, blocks, mixes, results, phases, zone, qfiles, elapsed, warnings, notes):
    first = next(iter(results.values()))
    some = next((rs for ph in first.values() for rs in ph.values() if rs), None)
    perf_cmd = " ".join(some[0].cmd) if some else ""
    running_all = blocks[0][3]
    head = [
        f"dnsd benchmark (qps), {time.strftime('%Y-%m-%d %H:%M:%S')}, {platform.node()}",
        f"command: tools/bench {' '.join(sys.argv[1:])}",
        f"machine: {cpu_model()}, {len(os.sched_getaffinity(0))} CPUs, Linux {platform.release()}",
        f"servers: {servers.versions_line(running_all)}",
        f"zone: {zone.origin} {zone.records} records; query mixes: "
        + "; ".join(f"{m}: " + (", ".join(f"{k} {v:.0%}" for k, v in qfiles[m][1].items()) if qfiles[m][1] else qfiles[m][0])
                    for m in mixes),
        f"method: per worker count, {args.rounds} interleaved rounds x {args.seconds} s per mix and phase "
        f"({', '.join(mixes)}; {', '.join(phases)}), medians over rounds; {elapsed:.0f} s of measuring",
        f"load: {args.transport}; e.g. {perf_cmd}",
        f"cpu: utime+stime from /proc/PID/stat over the server's process tree (tick {1e6 / measure.CLK_TCK:.0f} µs) "
        "/ answered queries; usr/sys: the two parts at the fixed rate (sys includes the loopback delivery of the "
        "responses to dnsperf, which the kernel runs inside the server's send call)",
        "latency: p50/p99 of dnsperf -v per-query times at the fixed rate (answered queries only)",
        "dnsd/best peer: per column, dnsd against the best of the other servers (fastest q/s, cheapest µs/q, lowest latency)",
    ]
    head += notes
    for k, ws in warnings.items():
        for w in ws:
            head.append(f"WARNING {servers.ALL[k].title}: {w}")
    text = ["\n".join(head)]
    md = ["## dnsd benchmark: qps\n\n" + "\n".join(f"- {h}" for h in head)]
    all_rows = {}
    for workers, wlabel, pin_desc, running in blocks:
        for mix in mixes:
            per = results.get((workers, mix))
            if not per:
                continue
            t, sp, rows = block_tables(args, running, per, phases)
            all_rows[(workers, mix)] = rows
            text.append(f"== workers {wlabel}, {mix} mix\n{pin_desc}\n\n{t.text()}\n\n"
                        f"spread of per-round values ((max-min)/median):\n{sp.text()}")
            md.append(f"### Workers {wlabel}, {mix} mix\n\n{pin_desc}\n\n{t.markdown()}\n\n"
                      f"Spread of per-round values ((max-min)/median):\n\n{sp.markdown()}")
    if "static" in mixes and "pool" in mixes:
        pt = pool_vs_static(args, blocks, all_rows)
        text.append("== failover (pool) names vs static names, CPU per query at the fixed rate\n" + pt.text())
        md.append("### Failover (pool) names vs static names\n\nCPU per query at the fixed rate.\n\n" + pt.markdown())
    tg = targets(args, blocks, mixes, all_rows)
    if tg:
        tt = report.Table([("target", "str"), ("measured", "str"), ("", "str")])
        for wlabel, target, measured, verdict in tg:
            tt.add(f"{wlabel} worker(s)", [target, measured, verdict])
        text.append("== aims (qps part, see tools/BENCH.md)\n" + tt.text())
        md.append("### Aims (qps part, see tools/BENCH.md)\n\n" + tt.markdown())
    md.append(raw_rounds_md(blocks, mixes, results, phases))
    return "\n\n".join(text), "\n\n".join(md) + "\n"


def raw_rounds_md(blocks, mixes, results, phases):
    out = ["### Per round", "", "| workers | mix | server | phase | round | q/s | server CPU s | µs/q | usr µs/q | lost | p50 µs | p99 µs |",
           "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for workers, _, _, running in blocks:
        for mix in mixes:
            per = results.get((workers, mix), {})
            for s in running:
                for p in phases:
                    for i, r in enumerate(per.get(s.key, {}).get(p, [])):
                        p50 = f"{r.percentile(50) * 1e6:.1f}" if r.latencies else "-"
                        p99 = f"{r.percentile(99) * 1e6:.1f}" if r.latencies else "-"
                        out.append(f"| {workers} | {mix} | {s.title} | {p} | {i + 1} | {r.qps:,.0f} | {r.server_cpu:.2f} | "
                                   f"{r.cpu_us_per_query() or 0:.2f} | {r.user_us_per_query() or 0:.2f} | {r.lost} | {p50} | {p99} |")
    return "\n".join(out)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()
