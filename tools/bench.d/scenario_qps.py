"""qps: throughput, CPU per answered query and latency, in interleaved rounds.

Per round, for each phase, each server in turn (A B C A B C ...), so slow drifts of the
machine (other load, thermal, frequency) hit every server alike:
  sat    dnsperf without -Q: saturated queries/s and server CPU per answered query
  fixed  dnsperf -Q RATE -v: server CPU per answered query at a fixed offered load, and
         p50/p99 latency computed from dnsperf's per-query -v lines (dnsperf 2.10 has no
         percentile output; lost queries have no latency and are reported as lost %).
All servers run during the whole benchmark; only the one under test gets traffic.
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
import servers
import zonegen

NAME = "qps"
HELP = "queries/s, server CPU µs per answered query, p50/p99 latency (interleaved rounds)"


def options(p):
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 5; --quick: 2)")
    p.add_argument("--seconds", type=int, help="seconds per dnsperf run (default 10; --quick: 3)")
    p.add_argument("--quick", action="store_true", help="2 rounds of 3 s (a smoke run)")
    p.add_argument("--rate", type=int, default=40000, help="offered queries/s of the fixed-rate phase (default %(default)s)")
    p.add_argument("--phases", default="sat,fixed", help="which of sat,fixed to run (default %(default)s)")
    p.add_argument("--workers", default="1", help="query workers per server: a number or 'auto' = one per CPU (default 1)")
    p.add_argument("--zone", help="zone file to serve instead of the generated one (needs --origin)")
    p.add_argument("--origin", help="origin of --zone")
    p.add_argument("--hosts", type=int, default=1000, help="A names in the generated zone (default %(default)s)")
    p.add_argument("--queries", help="dnsperf query file to use instead of the generated mix")
    p.add_argument("--mix", choices=("static", "pool"), default="static",
                   help="'pool': half of the queries hit failover pool names (dnsd pools, gdnsd DYNA multifo, static for NSD/Knot)")
    p.add_argument("--pools", type=int, default=100, help="pool names in the pool mix (default %(default)s)")
    p.add_argument("--transport", choices=("udp", "tcp"), default="udp", help="dnsperf -m (default %(default)s)")
    p.add_argument("--clients", type=int, default=4, help="dnsperf -c (default %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="dnsperf -T (default %(default)s)")
    p.add_argument("--outstanding", type=int, default=256, help="dnsperf -q (default %(default)s)")


COLUMNS = [
    ("sat qps", "int"),
    ("srv CPU@sat", "pct"),
    ("µs/q@sat", "f2"),
    (None, None),  # "µs/q@RATE", titled at run time
    ("qps@fixed", "int"),
    ("p50 µs", "f1"),
    ("p99 µs", "f1"),
    ("lost@fixed", "pct0"),
]


def prepare_zone(ctx, args):
    qfile = os.path.join(ctx.tmp, "queries.txt")
    if args.zone:
        if not args.origin:
            raise SystemExit("bench: --zone needs --origin NAME")
        zone = zonegen.from_file(os.path.abspath(args.zone), args.origin)
    else:
        pools = args.pools if args.mix == "pool" else 0
        zone = zonegen.generate(os.path.join(ctx.tmp, "bench.zone"), hosts=args.hosts, pools=pools)
    if args.queries:
        qfile = os.path.abspath(args.queries)
        shares = None
    else:
        shares = zonegen.write_queries(qfile, zone, pool_share=0.5 if args.mix == "pool" else 0.0)
    return zone, qfile, shares


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


def run(ctx):
    args = ctx.args
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
    workers = ncpu if args.workers == "auto" else int(args.workers)
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    if "dnsd" in names:
        bench.ensure_dnsd(ctx, ("dnsd", "dnsctl") + (("dnsd-probe",) if args.mix == "pool" else ()))

    zone, qfile, shares = prepare_zone(ctx, args)
    server_cpu, client_cpu = bench.pinning(args)
    if workers > 1 and server_cpu is not None:
        server_cpu = None  # several workers must be free to use every core
    todo = bench.make_servers(ctx, zone, names, workers)
    if not todo:
        raise RuntimeError("no server to benchmark")

    # stop by ourselves whatever happens: 2x the planned time plus start-up slack
    per_run = args.seconds + 3
    plan = args.rounds * len(phases) * len(todo) * per_run + len(todo) * 4
    signal.alarm(int(plan * 2 + 120))

    ctx.log(f"zone {zone.origin} ({zone.records} records), queries {qfile}"
            + (f" mix {', '.join(f'{k} {v:.0%}' for k, v in shares.items())}" if shares else ""))
    pin_desc = f"servers on CPU {server_cpu}, dnsperf on CPU {client_cpu} (taskset)" if client_cpu is not None else "no CPU pinning"
    if workers > 1 and client_cpu is not None:
        pin_desc = f"servers unpinned ({workers} workers), dnsperf on CPU {client_cpu} (taskset)"
    ctx.log(pin_desc)

    taken = set()
    running = []
    for s in todo:
        try:
            s.start(cpu=server_cpu, taken=taken)
        except RuntimeError as e:
            if s.key == "dnsd":
                ctx.log(f"SKIP dnsd: {e}")
                continue
            raise
        procs, threads = servers.tree_info(s)
        ctx.log(f"started {s.title} on 127.0.0.1:{s.port} ({s.worker_desc()}; {procs} process(es), {threads} thread(s)) in {s.start_seconds:.1f} s")
        running.append(s)
    if not running:
        raise RuntimeError("no server came up")

    perf = measure.Dnsperf(args.clients, args.threads, args.outstanding, cpu=client_cpu,
                           transport=args.transport, workdir=ctx.tmp)
    expected = zonegen.expected_rcodes(shares) if shares else None
    warnings = {}
    ref = expected  # for a user zone, the first server's rcode mix is the reference
    for s in running:  # warm-up, and a sanity check of the answers' rcodes
        r = perf.run(s.port, qfile, 1, register=ctx.register)
        if ref is None:
            total = sum(r.rcodes.values()) or 1
            ref = {k: v / total for k, v in r.rcodes.items()}
            continue
        w = rcode_check(r, ref)
        if w:
            ctx.log(f"WARNING {s.title}: unexpected rcode mix: {w}")
            warnings[s.key] = f"unexpected rcode mix in warm-up: {w}"

    diff = answer_check(running, qfile)
    for k, w in diff.items():
        warnings[k] = (warnings[k] + "; " if k in warnings else "") + w
        ctx.log(f"WARNING {servers.ALL[k].title}: {w}")

    results = {s.key: {p: [] for p in phases} for s in running}
    load_start = os.getloadavg()[0]
    t0 = time.monotonic()
    for rnd in range(args.rounds):
        for phase in phases:
            for s in running:
                if s.proc.poll() is not None:
                    raise RuntimeError(f"{s.title} exited (status {s.proc.returncode}); log {s.log_path}:\n{s.log_tail()}")
                rate = args.rate if phase == "fixed" else None
                r = perf.run(s.port, qfile, args.seconds, rate=rate, verbose=phase == "fixed",
                             cpu_of=s.pid(), register=ctx.register)
                results[s.key][phase].append(r)
                extra = f" p50 {r.percentile(50) * 1e6:.0f} µs p99 {r.percentile(99) * 1e6:.0f} µs" if r.latencies else ""
                ctx.log(f"round {rnd + 1}/{args.rounds} {phase:5} {s.title:5} {r.qps:10,.0f} q/s  "
                        f"cpu {r.server_cpu:6.2f} s = {r.cpu_us_per_query() or 0:6.2f} µs/q  lost {r.lost}{extra}")
    elapsed = time.monotonic() - t0
    notes = [f"load average: {load_start:.2f} at start, {os.getloadavg()[0]:.2f} at end (other work on the machine adds noise)"]
    if "fixed" in phases:
        for s in running:
            got = report.median([r.qps for r in results[s.key]["fixed"]])
            if got is not None and got < 0.97 * args.rate:
                notes.append(f"NOTE {s.title}: the fixed phase reached only {got:,.0f} of {args.rate:,} q/s offered "
                             "(server or dnsperf short of CPU): its µs/q@fixed is not at the same load as the others'")
    if args.mix == "pool":
        notes.append(f"pool names: {len(zone.pools)} names x 2 members, TTL 30; NSD/Knot: static A RRsets; "
                     "dnsd: dnsctl pools, members without probes (always up), decided by a running dnsd-probe; "
                     "gdnsd: DYNA multifo with service_types up")
        for s in running:
            p = getattr(s, "probe_proc", None)
            if p and p.poll() is None:
                cpu = measure.cpu_sample(p.pid).ticks / measure.CLK_TCK
                notes.append(f"dnsd-probe (separate process, not in dnsd's CPU): {cpu:.2f} s CPU since start")

    text, md = render(ctx, args, running, results, phases, zone, shares, pin_desc, workers, elapsed, warnings, notes)
    print()
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(md)
        ctx.log(f"\nmarkdown written to {args.out}")


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
    row = [None] * 8
    if rs_sat:
        row[0] = med([r.qps for r in rs_sat])
        row[1] = med([r.server_cpu / r.runtime * 100 for r in rs_sat if r.runtime])
        row[2] = med([r.cpu_us_per_query() for r in rs_sat])
    if rs_fixed:
        row[3] = med([r.cpu_us_per_query() for r in rs_fixed])
        row[4] = med([r.qps for r in rs_fixed])
        row[5] = med([r.percentile(50) * 1e6 for r in rs_fixed if r.latencies])
        row[6] = med([r.percentile(99) * 1e6 for r in rs_fixed if r.latencies])
        row[7] = med([r.lost / r.sent * 100 if r.sent else 0 for r in rs_fixed])
    return row


def render(ctx, args, running, results, phases, zone, shares, pin_desc, workers, elapsed, warnings, notes):
    cols = list(COLUMNS)
    cols[3] = (f"µs/q@{args.rate // 1000}k", "f2")
    t = report.Table(cols)
    rows = {}
    for s in running:
        rows[s.key] = summarize(results[s.key].get("sat"), results[s.key].get("fixed"))
        t.add(s.title, rows[s.key])
    if "dnsd" in rows:
        for other in ("nsd", "knot", "gdnsd"):
            if other in rows:
                t.add_ratio(f"dnsd/{servers.ALL[other].title}", rows["dnsd"], rows[other])
    # spread of the per-round values: how much to trust a ratio
    sp = report.Table([("sat qps", "pct"), ("µs/q@sat", "pct"), (cols[3][0], "pct"), ("p99 µs", "pct")])
    for s in running:
        sat, fixed = results[s.key].get("sat") or [], results[s.key].get("fixed") or []
        sp.add(s.title, [report.spread([r.qps for r in sat]), report.spread([r.cpu_us_per_query() for r in sat]),
                         report.spread([r.cpu_us_per_query() for r in fixed]),
                         report.spread([r.percentile(99) for r in fixed if r.latencies])])

    perf_cmd = " ".join(next(iter(results[running[0].key].values()))[0].cmd) if results else ""
    head = [
        f"dnsd benchmark (qps), {time.strftime('%Y-%m-%d %H:%M:%S')}, {platform.node()}",
        f"command: tools/bench {' '.join(sys.argv[1:])}",
        f"machine: {cpu_model()}, {len(os.sched_getaffinity(0))} CPUs, Linux {platform.release()}",
        f"servers: {servers.versions_line(running)}",
        f"workers: {'; '.join(f'{s.title} {s.worker_desc()}' for s in running)}",
        f"zone: {zone.origin} {zone.records} records; query mix: "
        + (", ".join(f"{k} {v:.0%}" for k, v in shares.items()) if shares else args.queries),
        f"method: {args.rounds} interleaved rounds x {args.seconds} s per phase ({', '.join(phases)}), medians over rounds; {elapsed:.0f} s of measuring",
        f"load: {pin_desc}; {args.transport}; e.g. {perf_cmd}",
        f"cpu: utime+stime from /proc/PID/stat over the server's process tree (tick {1e6 / measure.CLK_TCK:.0f} µs) / answered queries",
        "latency: p50/p99 of dnsperf -v per-query times at the fixed rate (answered queries only)",
    ]
    head += notes
    for k, w in warnings.items():
        head.append(f"WARNING {servers.ALL[k].title}: {w}")
    text = "\n".join(head) + "\n\n" + t.text() + "\n\nspread of per-round values ((max-min)/median):\n" + sp.text()
    md = ("## dnsd benchmark: qps\n\n" + "\n".join(f"- {h}" for h in head) + "\n\n" + t.markdown()
          + "\n\nSpread of per-round values ((max-min)/median):\n\n" + sp.markdown() + "\n\n"
          + raw_rounds_md(running, results, phases) + "\n")
    return text, md


def raw_rounds_md(running, results, phases):
    out = ["Per round:", "", "| server | phase | round | q/s | server CPU s | µs/q | lost | p50 µs | p99 µs |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in running:
        for p in phases:
            for i, r in enumerate(results[s.key][p]):
                p50 = f"{r.percentile(50) * 1e6:.1f}" if r.latencies else "-"
                p99 = f"{r.percentile(99) * 1e6:.1f}" if r.latencies else "-"
                out.append(f"| {s.title} | {p} | {i + 1} | {r.qps:,.0f} | {r.server_cpu:.2f} | "
                           f"{r.cpu_us_per_query() or 0:.2f} | {r.lost} | {p50} | {p99} |")
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
