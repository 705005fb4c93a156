"""qps with kxdpgun (issue 15): AF_XDP load from a network namespace over a veth pair.

`tools/bench qps` runs this when the kernel allows network namespaces and kxdpgun is
installed (`--loadgen auto`, the default), or with `--loadgen kxdpgun`; `--loadgen
dnsperf` is the loopback bench of scenario_qps.py. dnsperf tops out near 150k q/s here and
its loopback delivery is charged to the server; kxdpgun costs the machine far less per
query, so the servers, not the load generator, set the limit.

Per worker count the servers start in the server namespace (netns.py) and stay up; then
per round, per mix (static, pool, do), per offered rate (--rates, then --max-rate), each
server in turn (interleaved, as in the dnsperf bench) gets one kxdpgun run of --seconds.
Per run: answered/sent, server CPU (utime+stime of its process tree) per answer, and the
whole machine's busy CPU (/proc/stat, everything: the server, kxdpgun, softirqs, and any
other work on the machine) per answer. The highest answered rate is the best median over
rounds among all offered rates.
"""

import os
import platform
import signal
import sys
import time

import bench
import kxdpgun
import netns
import report
import scenario_qps as q
import servers

DEFAULT_RATES = "100000,200000,400000"
DEFAULT_MAX = 1000000


def options(p):
    p.add_argument("--rates", default=DEFAULT_RATES,
                   help="kxdpgun: comma list of offered q/s for the fixed-rate rounds (default %(default)s)")
    p.add_argument("--max-rate", type=int, default=DEFAULT_MAX,
                   help="kxdpgun: offered q/s of the extra round that looks for the highest answered rate; "
                        "0: none (default %(default)s)")
    p.add_argument("--batch", type=int, help="kxdpgun -b (default: kxdpgun's, 10 for UDP)")


def parse_rates(args):
    try:
        rates = [int(x) for x in args.rates.split(",") if x.strip()]
    except ValueError:
        raise SystemExit(f"bench: --rates: '{args.rates}' is not a comma list of numbers")
    if not rates or min(rates) < 1000:
        raise SystemExit("bench: --rates needs at least one rate of 1000 q/s or more")
    if args.max_rate and args.max_rate not in rates:
        rates.append(args.max_rate)
    return rates


def do_file(src, dst):
    """The static queries with kxdpgun's D flag: EDNS with DO=1 on every query."""
    with open(src) as f, open(dst, "w") as g:
        for line in f:
            if line.strip():
                g.write(line.rstrip("\n") + " D\n")
    return dst


def label(rate):
    return f"{rate / 1e6:g}M" if rate >= 1e6 else f"{rate // 1000}k"


def run(ctx):
    args = ctx.args
    if args.rounds is None:
        args.rounds = 1 if args.quick else 2
    if args.seconds is None:
        args.seconds = 2 if args.quick else 5
    if args.rounds < 1 or args.seconds < 1:
        raise SystemExit("bench: --rounds and --seconds must be at least 1")
    rates = parse_rates(args)
    ncpu = len(os.sched_getaffinity(0))
    worker_list, mixes = q.parse_lists(args, ncpu)
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    if args.servers == q.DEFAULT_SERVERS:
        names.append("dnsd-xdp")  # dnsd's AF_XDP path, beside its socket path
    if any(n.startswith("dnsd") for n in names):
        bench.ensure_dnsd(ctx, ("dnsd", "dnsctl") + (("dnsd-probe",) if "pool" in mixes else ()))
    base_mixes = [m for m in mixes if m != "do"]
    if "do" in mixes and "static" not in base_mixes:
        base_mixes.insert(0, "static")
    zone, qfiles = q.prepare_zone(ctx, args, base_mixes)
    if "do" in mixes:
        qfiles["do"] = (do_file(qfiles["static"][0], os.path.join(ctx.tmp, "queries-do.txt")), qfiles["static"][1])
    pin_cpu, client_cpu = bench.pinning(args)
    ns = netns.NsPair()
    ctx.xdp_interface = ns.srv_dev  # dnsd-xdp attaches to the server end of the veth
    todo = bench.make_servers(ctx, zone, names, worker_list[0][0])
    if not todo:
        raise RuntimeError("no server to benchmark")

    per_run = args.seconds + 2  # kxdpgun loads its XDP program first
    plan = len(worker_list) * (args.rounds * len(mixes) * len(rates) * len(todo) * per_run
                               + len(todo) * (10 + 3 * len(mixes)))
    signal.alarm(int(plan * 2 + 180))
    ctx.log(f"zone {zone.origin} ({zone.records} records); kxdpgun over a veth pair; {len(worker_list)} worker count(s) x "
            f"{len(mixes)} mix(es) x {len(rates)} rate(s) x {len(todo)} server(s) x {args.rounds} round(s) x "
            f"{args.seconds} s: about {plan / 60:.0f} min")

    try:
        ns.create()
        ctx.log(f"namespaces {ns.srv} ({ns.srv_dev} {netns.SERVER_ADDR}, servers on 127.0.0.1) and "
                f"{ns.gen} ({ns.gen_dev} {netns.LOAD_ADDR}, kxdpgun)")
        gun = kxdpgun.Kxdpgun(ns, cpu=client_cpu, batch=args.batch, workdir=ctx.tmp)
        results, blocks, warnings, elapsed, load = measure_all(ctx, args, ns, gun, todo, worker_list, mixes, rates,
                                                               qfiles, pin_cpu, client_cpu)
    finally:
        # servers first: a namespace outlives its removal while a process still runs in it
        ctx.children.kill_all()
        ns.remove()
    text, md = render(args, blocks, mixes, rates, results, zone, qfiles, elapsed, warnings, load)
    print()
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(md)
        ctx.log(f"\nmarkdown written to {args.out}")


def measure_all(ctx, args, ns, gun, todo, worker_list, mixes, rates, qfiles, pin_cpu, client_cpu):
    results = {}  # (workers, mix) -> {server key: {rate: [KxResult]}}
    warnings = {}
    blocks = []
    load_start = os.getloadavg()[0]
    t0 = time.monotonic()
    for workers, wlabel in worker_list:
        server_cpu = pin_cpu if workers == 1 else None
        pin_desc = (f"servers on CPU {server_cpu}, kxdpgun on CPU {client_cpu}" if server_cpu is not None else
                    f"servers unpinned, kxdpgun on CPU {client_cpu}" if client_cpu is not None else "no CPU pinning")
        ctx.log(f"\n== {workers} worker(s) per server: {pin_desc}")
        ns.enter_server()
        try:
            running = q.start_all(ctx, todo, workers, server_cpu)
            pin_desc += "; " + "; ".join(f"{s.title} {s.worker_desc()}" for s in running)
            blocks.append((workers, wlabel, pin_desc, running))
            for mix in mixes:
                warm_up(ctx, gun, running, mix, qfiles[mix], warnings)
            for mix in mixes:
                results[(workers, mix)] = {s.key: {r: [] for r in rates} for s in running}
            for rnd in range(args.rounds):
                for mix in mixes:
                    for rate in rates:
                        for s in running:
                            if s.proc.poll() is not None:
                                raise RuntimeError(f"{s.title} exited (status {s.proc.returncode}); "
                                                   f"log {s.log_path}:\n{s.log_tail()}")
                            r = gun.run(s.port, qfiles[mix][0], args.seconds, rate, cpu_of=s.pid(), register=ctx.register)
                            results[(workers, mix)][s.key][rate].append(r)
                            ctx.log(f"w{workers} {mix:6} round {rnd + 1}/{args.rounds} {label(rate):>5} {s.title:5} "
                                    f"sent {r.offered:9,.0f}/s answered {r.qps:9,.0f}/s ({(r.answered_share() or 0):4.0%})  "
                                    f"srv {r.server_cpu:5.2f} s ({r.server_cpu / r.seconds:4.0%}) = {r.per_answer(r.server_cpu) or 0:5.2f} µs/ans  "
                                    f"machine {r.per_answer(r.machine_cpu) or 0:5.2f} µs/ans  gen {r.gen_cpu:4.2f} s")
            for s in running:
                s.stop(keep_helpers=True)
        finally:
            ns.leave_server()
    return results, blocks, warnings, time.monotonic() - t0, (load_start, os.getloadavg()[0])


def warm_up(ctx, gun, running, mix, qfile_shares, warnings):
    """One second at 20k q/s per server: the rcodes kxdpgun counts must match the mix; for
    the plain-query files also the cross-check of the first answers (scenario_qps)."""
    qfile, shares = qfile_shares
    ref = q.zonegen.expected_rcodes(shares) if shares else None
    for s in running:
        r = gun.run(s.port, qfile, 1, 20000, register=ctx.register)
        if not r.answered:
            raise RuntimeError(f"{s.title} answered none of kxdpgun's {r.sent} queries ({mix} mix): "
                               f"{' '.join(r.cmd)}")
        if ref is None:
            total = sum(r.rcodes.values()) or 1
            ref = {k: v / total for k, v in r.rcodes.items()}
            continue
        w = q.rcode_check(r, ref)
        if w:
            ctx.log(f"WARNING {s.title} ({mix} mix): unexpected rcode mix: {w}")
            q.add_warning(warnings, s.key, f"{mix} mix: unexpected rcode mix in warm-up: {w}")
    if mix != "do":  # "name TYPE D" lines: the same names as static, checked there
        for k, w in q.answer_check(running, qfile).items():
            ctx.log(f"WARNING {servers.ALL[k].title} ({mix} mix): {w}")
            q.add_warning(warnings, k, f"{mix} mix: {w}")


def summarize(per_rate, rates):
    """Per rate: (answered share, server µs/ans, machine µs/ans, offered/s, answered/s,
    server busy share), medians over rounds; and (highest answered/s, server busy share
    there): the best median among the rates."""
    med = report.median
    out = {}
    best = (None, None)
    for rate in rates:
        rs = per_rate.get(rate) or []
        if not rs:
            continue
        out[rate] = (med([r.answered_share() for r in rs]), med([r.per_answer(r.server_cpu) for r in rs]),
                     med([r.per_answer(r.machine_cpu) for r in rs]), med([r.offered for r in rs]),
                     med([r.qps for r in rs]), med([r.server_cpu / r.seconds for r in rs]))
        if out[rate][4] is not None and (best[0] is None or out[rate][4] > best[0]):
            best = (out[rate][4], out[rate][5])
    return out, best


def block_table(args, running, per, rates):
    fixed = [r for r in rates if r != args.max_rate] or rates
    cols = []
    for r in fixed:
        cols += [(f"ans @{label(r)}", "pct"), (f"srv µs @{label(r)}", "f2"), (f"mach µs @{label(r)}", "f2")]
    cols += [("usr µs", "f2"), ("highest ans/s", "int"), ("srv busy there", "pct0")]
    t = report.Table(cols)
    rows, offered = {}, {}
    for s in running:
        summ, best = summarize(per[s.key], rates)
        row = []
        for r in fixed:
            v = summ.get(r)
            row += [v[0] * 100 if v and v[0] is not None else None, v[1] if v else None, v[2] if v else None]
        usr = report.median([r.per_answer(r.server_user) for rs in per[s.key].values() for r in rs])
        row += [usr, best[0], best[1] * 100 if best[1] is not None else None]
        rows[s.key] = row
        offered[s.key] = {r: summ[r][3] for r in summ}
        t.add(s.title, row)
    for ours in ("dnsd", "dnsd-xdp"):
        if ours not in rows:
            continue
        for other in ("nsd", "knot", "gdnsd"):
            if other in rows:
                t.add_ratio(f"{ours}/{servers.ALL[other].title}", rows[ours], rows[other])
    return t, rows, offered


def render(args, blocks, mixes, rates, results, zone, qfiles, elapsed, warnings, load):
    some = next((rs[0] for per in results.values() for ph in per.values() for rs in ph.values() if rs), None)
    running_all = blocks[0][3] if blocks else []
    head = [
        f"dnsd benchmark (qps, kxdpgun), {time.strftime('%Y-%m-%d %H:%M:%S')}, {platform.node()}",
        f"command: tools/bench {' '.join(sys.argv[1:])}",
        f"machine: {q.cpu_model()}, {len(os.sched_getaffinity(0))} CPUs, Linux {platform.release()}",
        f"servers: {servers.versions_line(running_all)}",
        f"zone: {zone.origin} {zone.records} records; mixes: {', '.join(mixes)} "
        "(do: the static queries with EDNS DO=1, kxdpgun flag D)",
        f"method: per worker count, {args.rounds} interleaved round(s) x {args.seconds} s per mix, offered rate and "
        f"server; medians over rounds; {elapsed:.0f} s of measuring",
        f"load: kxdpgun (AF_XDP) in its own network namespace over a veth pair; e.g. {' '.join(some.cmd) if some else ''}",
        "ans: answered / sent; srv µs: server utime+stime (process tree, /proc/PID/stat) per answer; mach µs: busy CPU "
        "of the whole machine (/proc/stat: server, kxdpgun, softirqs and anything else running) per answer; "
        "usr µs: the user-mode part of srv µs (the server's own code), median over all its runs of the mix; "
        f"highest ans/s: best median answered/s among the offered rates ({', '.join(label(r) for r in rates)})",
        f"load average: {load[0]:.2f} at start, {load[1]:.2f} at end (other work on the machine adds noise, "
        "mostly to mach µs)",
    ]
    for k, ws in warnings.items():
        for w in ws:
            head.append(f"WARNING {servers.ALL[k].title}: {w}")
    text = ["\n".join(head)]
    md = ["## dnsd benchmark: qps with kxdpgun\n\n" + "\n".join(f"- {h}" for h in head)]
    for workers, wlabel, pin_desc, running in blocks:
        for mix in mixes:
            per = results.get((workers, mix))
            if not per:
                continue
            t, rows, offered = block_table(args, running, per, rates)
            short = []
            for key, per_rate in offered.items():
                for r, got in per_rate.items():
                    if got is not None and got < 0.97 * r:
                        short.append(f"{servers.ALL[key].title} @{label(r)}: {got:,.0f}/s")
            note = ("\nkxdpgun sent less than offered (median): " + "; ".join(short)) if short else ""
            text.append(f"== workers {wlabel}, {mix} mix\n{pin_desc}\n\n{t.text()}{note}")
            md.append(f"### Workers {wlabel}, {mix} mix\n\n{pin_desc}\n\n{t.markdown()}" + (f"\n\n{note.strip()}" if note else ""))
    md.append(raw_md(blocks, mixes, rates, results))
    return "\n\n".join(text), "\n\n".join(md) + "\n"


def raw_md(blocks, mixes, rates, results):
    out = ["### Per run", "",
           "| workers | mix | offered | server | round | sent/s | answered/s | ans | srv CPU s | srv busy | srv µs/ans | usr µs/ans | "
           "machine µs/ans | kxdpgun CPU s |",
           "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for workers, _, _, running in blocks:
        for mix in mixes:
            per = results.get((workers, mix), {})
            for rate in rates:
                for s in running:
                    for i, r in enumerate(per.get(s.key, {}).get(rate, [])):
                        out.append(f"| {workers} | {mix} | {label(rate)} | {s.title} | {i + 1} | {r.offered:,.0f} | "
                                   f"{r.qps:,.0f} | {(r.answered_share() or 0):.1%} | {r.server_cpu:.2f} | {r.server_cpu / r.seconds:.0%} | "
                                   f"{r.per_answer(r.server_cpu) or 0:.2f} | {r.per_answer(r.server_user) or 0:.2f} | "
                                   f"{r.per_answer(r.machine_cpu) or 0:.2f} | {r.gen_cpu:.2f} |")
    return "\n".join(out)
