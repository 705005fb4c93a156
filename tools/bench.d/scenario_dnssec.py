"""dnssec: what signing costs dnsd, against NSD and Knot (issue 13, "Performance").

Three parts, run in this order (--parts picks some):
  qps       server CPU per answer for DO=1 queries against the same zone signed and served
            by dnsd (dnsctl dnssec enable), NSD (dnsd's own AXFR of the signed zone, pool
            answers and their signatures included, loaded as a pre-signed zone file) and
            Knot (the unsigned zone, `dnssec-signing: on`: Knot's automatic signing); and
            the same queries with DO=0 on the same signed zones; and both against a dnsd
            serving the same zone and pools unsigned (the reference). Static names, NXDOMAIN,
            NODATA and pool names in the mix (dnsd: real pools decided by dnsd-probe;
            NSD/Knot: the same data as static A RRsets). Interleaved rounds at one fixed
            offered rate, as in `bench qps`; before measuring, every server's DO=1 answers
            are checked (RRSIG over the answer, NSEC for NXDOMAIN and NODATA) and the
            positive ones verified against the zone's DNSKEY (dnssec_wire.py).
  decision  decision -> signed answer served (dnssec_decision.py)
  sign      time and peak memory to sign the 1,000,000-record zone (dnssec_signing.py)
See tools/BENCH.md.
"""

import copy
import os
import platform
import signal
import subprocess
import sys
import time

import bench
import dnssec_wire
import kxdpgun
import measure
import netns
import report
import scenario_qps as q
import servers
import zonegen

NAME = "dnssec"
HELP = "DNSSEC: DO=1 CPU per query vs NSD and Knot, decision -> signed answer, signing the big zone"
PARTS = ("qps", "decision", "sign")

AIM_CPU_RATIO = 1.0  # dnsd DO=1 µs/answer <= NSD's


def options(p):
    p.set_defaults(servers="nsd,knot,dnsd,dnsd-unsigned")
    p.add_argument("--parts", default=",".join(PARTS), help="comma list of qps,decision,sign (default %(default)s)")
    g = p.add_argument_group("qps part")
    g.add_argument("--rate", type=int, default=50000, help="offered queries/s (default %(default)s)")
    g.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default %(default)s)")
    g.add_argument("--seconds", type=int, default=10, help="seconds per load run (default %(default)s)")
    g.add_argument("--hosts", type=int, default=1000, help="A names in the generated zone (default %(default)s)")
    g.add_argument("--pools", type=int, default=100, help="pool names (default %(default)s)")
    g.add_argument("--pool-share", type=float, default=0.25, help="share of queries on pool names (default %(default)s)")
    g.add_argument("--loadgen", choices=("auto", "kxdpgun", "dnsperf"), default="auto",
                   help="kxdpgun from a network namespace, or dnsperf on loopback (default %(default)s: kxdpgun "
                        "where it can run)")
    g.add_argument("--batch", type=int, help="kxdpgun -b")
    g = p.add_argument_group("decision part")
    g.add_argument("--decisions", type=int, default=60, help="decisions timed per server (default %(default)s)")
    g.add_argument("--probe-ms", type=int, default=100, help="dnsd-probe tcp interval, fall/rise 1 (default %(default)s)")
    g = p.add_argument_group("sign part")
    g.add_argument("--records", type=int, default=1000000, help="records of the big zone (default %(default)s)")
    g.add_argument("--sign-timeout", type=int, default=1800, help="seconds one signer may take (default %(default)s)")
    g.add_argument("--no-unsigned", action="store_true", help="sign part: skip dnsd's unsigned start (the baseline)")


def run(ctx):
    args = ctx.args
    parts = [x.strip() for x in args.parts.split(",") if x.strip()]
    for x in parts:
        if x not in PARTS:
            raise SystemExit(f"bench: unknown part '{x}' ({', '.join(PARTS)})")
    bench.ensure_dnsd(ctx, ("dnsd", "dnsctl", "dnsd-probe"))
    if ctx.dnsd_skip:
        raise RuntimeError(ctx.dnsd_skip)
    load = os.getloadavg()
    head = [
        f"dnsd benchmark (dnssec), {time.strftime('%Y-%m-%d %H:%M:%S')}, {platform.node()}",
        f"command: tools/bench {' '.join(sys.argv[1:])}",
        f"machine: {q.cpu_model()}, {len(os.sched_getaffinity(0))} CPUs, Linux {platform.release()}; "
        f"load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min)",
    ]
    text, md = ["\n".join(head)], ["## dnsd benchmark: dnssec\n\n" + "\n".join(f"- {h}" for h in head)]
    import dnssec_decision
    import dnssec_signing

    run_part = {"qps": run_qps, "decision": dnssec_decision.run, "sign": dnssec_signing.run}
    for part in PARTS:
        if part not in parts:
            continue
        ctx.log(f"\n=== part {part}")
        t, m = run_part[part](ctx)
        text.append(t)
        md.append(m)
        ctx.children.kill_all()
    end = os.getloadavg()
    tail = f"load average at end {end[0]:.2f} / {end[1]:.2f} / {end[2]:.2f}"
    text.append(tail)
    md.append(f"- {tail}")
    print("\n" + "\n\n".join(text))
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n\n".join(md) + "\n")
        ctx.log(f"\nmarkdown written to {args.out}")


# --- servers --------------------------------------------------------------------------------

class SignedDnsd(servers.Dnsd):
    """dnsd with the zone signed by `dnsctl dnssec enable` and AXFR allowed from 127.0.0.1."""

    prepare_seconds = 0.0  # the database set-up (dnsctl runs), not part of the start

    def prepare(self):
        t0 = time.monotonic()
        fresh = not os.path.exists(os.path.join(self.dir, "dnsd.db"))
        super().prepare()
        if fresh:
            self.dnsctl("dnssec", "enable", self.zone.origin)
            self.dnsctl("secondary", "add", self.zone.origin, "127.0.0.1", "--no-notify")
        self.prepare_seconds = time.monotonic() - t0


class UnsignedDnsd(servers.Dnsd):
    """The same zone and pools, not signed: the reference for "DO=0 unchanged"."""

    key = "dnsd-unsigned"
    title = "dnsd unsigned"


class SignedNsd(servers.Nsd):
    """NSD loading a pre-signed zone file (self.zone.path is dnsd's AXFR), with
    minimal-responses: by default NSD adds the apex NS RRset (and its RRSIG) to the authority
    section of every answer and the glue with its RRSIGs to the additional section (565 bytes
    for a DO=1 A answer where dnsd and Knot send 170), which is a different answer to
    compare, not a different server speed."""

    def setup(self):
        super().setup()
        with open(self.conf) as f:
            conf = f.read()
        with open(self.conf, "w") as f:
            f.write(conf.replace("  rrl-ratelimit: 0\n", "  rrl-ratelimit: 0\n  minimal-responses: yes\n", 1))
        r = subprocess.run(["nsd-checkconf", self.conf], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"nsd-checkconf {self.conf}: {r.stderr.strip() or r.stdout.strip()}")

    def worker_desc(self):
        return super().worker_desc() + ", minimal-responses yes"


class SignedKnot(servers.Knot):
    """Knot signing the unsigned zone itself (automatic signing, KSK + ZSK, ECDSA P-256, NSEC:
    Knot's defaults, as dnsd's)."""

    signing_threads = 1

    def setup(self):
        super().setup()
        with open(self.conf) as f:
            conf = f.read()
        policy = (f"policy:\n  - id: bench\n    algorithm: ecdsap256sha256\n"
                  f"    signing-threads: {self.signing_threads}\n")
        conf = conf.replace("template:\n", policy + "template:\n", 1)
        conf = conf.replace("    semantic-checks: off\n",
                            "    semantic-checks: off\n    dnssec-signing: on\n    dnssec-policy: bench\n", 1)
        with open(self.conf, "w") as f:
            f.write(conf)

    def worker_desc(self):
        return super().worker_desc() + f", signing-threads {self.signing_threads}"


def wait_signed(server, name, deadline):
    """Waits until server answers name SOA with DO=1 carrying an RRSIG; seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline:
        if server.proc and server.proc.poll() is not None:
            raise RuntimeError(f"{server.title} exited; log {server.log_path}:\n{server.log_tail()}")
        m = dnssec_wire.query(server.port, name, "SOA", timeout=0.3)
        if m is not None and m.rcode == 0 and m.count(dnssec_wire.T_RRSIG, 0):
            return time.monotonic() - t0
        time.sleep(0.02)
    raise RuntimeError(f"{server.title} did not serve {name} signed within {deadline:.0f} s; log {server.log_path}")


def axfr(port, origin, dst):
    """dnsd's zone as a secondary would get it, one SOA, as a zone file NSD loads."""
    cmd = ["dig", "-p", str(port), "@127.0.0.1", origin, "AXFR", "+onesoa", "+nocmd", "+nocomments",
           "+nostats", "+noquestion", "+time=10"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    lines = [ln for ln in r.stdout.splitlines() if ln.strip() and not ln.startswith(";")]
    if r.returncode != 0 or not lines or "SOA" not in lines[0]:
        raise RuntimeError(f"AXFR from dnsd failed: {' '.join(cmd)}\n{(r.stderr or r.stdout)[-1500:]}")
    with open(dst, "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


# --- checks of what is served ---------------------------------------------------------------

SHAPES = [("static A", "h1", "A"), ("pool A", "pool0", "A"), ("NXDOMAIN", "nx-bench-check", "A"),
          ("NODATA", "h1", "TXT")]


def check_shapes(ctx, running, zone):
    """Per server and answer kind: the DO=1 response (size, RRSIGs, NSECs, signature check)
    and the DO=0 response size. Returns ({key: {kind: (do bytes, plain bytes, note)}}, problems)."""
    out, problems = {}, []
    for s in running:
        signed = s.key != UnsignedDnsd.key
        keys = dnssec_wire.dnskeys(s.port, zone.origin)
        row = {}
        for kind, label, rtype in SHAPES:
            name = f"{label}.{zone.origin}"
            m = dnssec_wire.query(s.port, name, rtype, do=True, timeout=1.0)
            p = dnssec_wire.query(s.port, name, rtype, do=False, timeout=1.0)
            if m is None or p is None:
                problems.append(f"{s.title}: no answer to {name} {rtype}")
                continue
            sigs, nsecs = m.count(dnssec_wire.T_RRSIG), m.count(dnssec_wire.T_NSEC)
            note = f"{sigs} RRSIG, {nsecs} NSEC"
            want_rcode = 3 if kind == "NXDOMAIN" else 0
            if m.rcode != want_rcode or m.flags & 0x0200:
                problems.append(f"{s.title} {kind}: rcode {m.rcode}, TC {bool(m.flags & 0x0200)}")
            if not signed:
                if sigs or nsecs:
                    problems.append(f"{s.title} {kind}: RRSIG/NSEC from an unsigned zone ({note})")
            elif kind in ("NXDOMAIN", "NODATA"):
                if not sigs or not nsecs:
                    problems.append(f"{s.title} {kind}: DO=1 answer without RRSIG/NSEC ({note})")
            else:
                ok, why = dnssec_wire.check_answer(m, keys)
                note += ", answer verifies" if ok else f", answer does NOT verify: {why}"
                if not ok:
                    problems.append(f"{s.title} {kind}: {why}")
            if p.count(dnssec_wire.T_RRSIG):
                problems.append(f"{s.title} {kind}: RRSIG in a DO=0 answer")
            row[kind] = (len(m.raw), len(p.raw), note)
        out[s.key] = row
    return out, problems


# --- qps part -------------------------------------------------------------------------------

def flagged(src, dst, flag):
    """kxdpgun's per-line flag: E = EDNS (DO=0), D = EDNS with DO=1."""
    with open(src) as f, open(dst, "w") as g:
        for line in f:
            if line.strip():
                g.write(f"{line.rstrip()} {flag}\n")
    return dst


class FlagDnsperf(measure.Dnsperf):
    """dnsperf with EDNS on every query (-e), and the DO bit (-D) when asked."""

    def __init__(self, *a, do=False, **kw):
        super().__init__(*a, **kw)
        self.do = do

    def command(self, *a, **kw):
        return super().command(*a, **kw) + (["-D"] if self.do else ["-e"])


def per_answer(r):
    if isinstance(r, kxdpgun.KxResult):
        return r.per_answer(r.server_cpu), r.per_answer(r.server_user), r.answered_share(), r.qps
    share = r.completed / r.sent if r.sent else None
    return r.cpu_us_per_query(), r.user_us_per_query(), share, r.qps


def run_qps(ctx):
    args = ctx.args
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    if args.loadgen in ("auto", "kxdpgun"):
        why = netns.unavailable()
        if why and args.loadgen == "kxdpgun":
            raise SystemExit(f"bench: --loadgen kxdpgun: {why}")
        if why:
            ctx.log(f"load generator: dnsperf on loopback (kxdpgun not usable: {why})")
        args.loadgen = "dnsperf" if why else "kxdpgun"
    zone = zonegen.generate(os.path.join(ctx.tmp, "dnssec.zone"), hosts=args.hosts, pools=args.pools)
    plain_q = os.path.join(ctx.tmp, "queries.txt")
    shares = zonegen.write_queries(plain_q, zone, pool_share=args.pool_share)
    mixes = ["DO=1", "DO=0"]
    if args.loadgen == "kxdpgun":
        qfiles = {"DO=1": flagged(plain_q, plain_q + ".do", "D"), "DO=0": flagged(plain_q, plain_q + ".edns", "E")}
    else:
        qfiles = {"DO=1": plain_q, "DO=0": plain_q}
    pin_cpu, client_cpu = bench.pinning(args)
    plan = args.rounds * 2 * len(names) * (args.seconds + 2) + 120
    signal.alarm(int(plan * 2 + 600))
    ctx.log(f"zone {zone.origin} ({zone.records} records, {len(zone.pools)} pools); {args.loadgen} at {args.rate:,} q/s; "
            f"{args.rounds} round(s) x 2 mixes x {len(names)} servers x {args.seconds} s: about {plan / 60:.0f} min")

    ns = netns.NsPair() if args.loadgen == "kxdpgun" else None
    try:
        if ns:
            ns.create()
            ns.enter_server()
            gun = kxdpgun.Kxdpgun(ns, cpu=client_cpu, batch=args.batch, workdir=ctx.tmp)
            load = {m: (lambda port, qf, sec, cpu_of, m=m: gun.run(port, qf, sec, args.rate, cpu_of=cpu_of,
                                                                   register=ctx.register)) for m in mixes}
        else:
            perfs = {m: FlagDnsperf(4, 1, 256, cpu=client_cpu, workdir=ctx.tmp, do=m == "DO=1") for m in mixes}
            load = {m: (lambda port, qf, sec, cpu_of, m=m: perfs[m].run(port, qf, sec, rate=args.rate, cpu_of=cpu_of,
                                                                        register=ctx.register)) for m in mixes}
        running, startup = start_signed(ctx, zone, names, pin_cpu)
        shapes, problems = check_shapes(ctx, running, zone)
        for p in problems:
            ctx.log(f"WARNING {p}")
        results = {m: {s.key: [] for s in running} for m in mixes}
        expected = zonegen.expected_rcodes(shares)
        for s in running:  # warm-up, and the rcode mix of every server
            for m in mixes:
                r = load[m](s.port, qfiles[m], 1, None)
                w = q.rcode_check(r, expected)
                if w:
                    problems.append(f"{s.title} {m}: unexpected rcode mix in warm-up: {w}")
                    ctx.log(f"WARNING {problems[-1]}")
        t0 = time.monotonic()
        for rnd in range(args.rounds):
            for m in mixes:
                for s in running:
                    if s.proc.poll() is not None:
                        raise RuntimeError(f"{s.title} exited; log {s.log_path}:\n{s.log_tail()}")
                    r = load[m](s.port, qfiles[m], args.seconds, s.pid())
                    results[m][s.key].append(r)
                    us, usr, share, qps = per_answer(r)
                    ctx.log(f"round {rnd + 1}/{args.rounds} {m} {s.title:5} answered {qps:9,.0f}/s ({(share or 0):4.0%}) "
                            f"srv {us or 0:6.2f} µs/ans (usr {usr or 0:5.2f})")
        elapsed = time.monotonic() - t0
    finally:
        ctx.children.kill_all()
        if ns:
            ns.remove()
    return render_qps(args, running, startup, shapes, problems, results, mixes, zone, shares, elapsed, pin_cpu,
                      client_cpu)


def start_signed(ctx, zone, names, cpu):
    """dnsd first (its AXFR is NSD's zone), then NSD and Knot; each serving signed answers."""
    order = [k for k in ("dnsd", "nsd", "knot", "dnsd-unsigned") if k in names]
    for k in names:
        if k not in order:
            raise SystemExit(f"bench: dnssec compares dnsd, nsd, knot and dnsd-unsigned, not {k}")
    taken, running, startup = set(), [], {}
    ncpu = len(os.sched_getaffinity(0))
    for key in order:
        if key == "dnsd":
            s = SignedDnsd(ctx, zone, 1)
        elif key == "nsd":
            dnsd = next((x for x in running if x.key == "dnsd"), None)
            if dnsd is None:
                ctx.log("SKIP NSD: its pre-signed zone is dnsd's AXFR, and dnsd is not running")
                continue
            z = copy.copy(zone)
            z.path = os.path.join(ctx.tmp, "signed-by-dnsd.zone")
            n = axfr(dnsd.port, zone.origin, z.path)
            ctx.log(f"AXFR from dnsd: {n} records into {z.path}")
            s = SignedNsd(ctx, z, 1)
        elif key == "knot":
            s = SignedKnot(ctx, zone, 1)
            s.signing_threads = ncpu
        else:
            s = UnsignedDnsd(ctx, zone, 1)
        why = s.missing()
        if why:
            ctx.log(f"SKIP {s.title}: {why}")
            continue
        s.start(cpu=cpu, taken=taken, ready_timeout=120)
        if key == "dnsd-unsigned":
            ctx.log(f"started {s.title} on 127.0.0.1:{s.port} ({s.worker_desc()})")
        else:
            signed = wait_signed(s, zone.origin, 120)
            startup[s.title] = s.start_seconds - getattr(s, "prepare_seconds", 0.0) + signed
            ctx.log(f"started {s.title} on 127.0.0.1:{s.port} ({s.worker_desc()}), serving signed after "
                    f"{startup[s.title]:.1f} s")
        running.append(s)
    if not running:
        raise RuntimeError("no server came up")
    return running, startup


def render_qps(args, running, startup, shapes, problems, results, mixes, zone, shares, elapsed, pin_cpu, client_cpu):
    med = report.median
    cols = [("DO=1 µs/ans", "f2"), ("DO=0 µs/ans", "f2"), ("DO=1/DO=0", "x"), ("DO=1 usr µs", "f2"),
            ("DO=0 usr µs", "f2"), ("DO=1 answered", "pct0"), ("DO=0 answered", "pct0"), ("spread DO=1", "pct0")]
    t = report.Table(cols)
    rows = {}
    for s in running:
        v = {m: [per_answer(r) for r in results[m][s.key]] for m in mixes}
        d1 = med([x[0] for x in v["DO=1"]])
        d0 = med([x[0] for x in v["DO=0"]])
        rows[s.key] = [d1, d0, d1 / d0 if d1 and d0 else None, med([x[1] for x in v["DO=1"]]),
                       med([x[1] for x in v["DO=0"]]), (med([x[2] for x in v["DO=1"]]) or 0) * 100,
                       (med([x[2] for x in v["DO=0"]]) or 0) * 100, report.spread([x[0] for x in v["DO=1"]])]
        t.add(s.title, rows[s.key])
    for other in ("nsd", "knot", "dnsd-unsigned"):
        if "dnsd" in rows and other in rows:
            title = next(s.title for s in running if s.key == other)
            t.add_ratio(f"dnsd/{title}", rows["dnsd"], rows[other])
    st = report.Table([("DO=1 bytes", "int"), ("DO=0 bytes", "int"), ("DO=1 answer", "str")])
    for s in running:
        for kind, _, _ in SHAPES:
            v = shapes.get(s.key, {}).get(kind)
            if v:
                st.add(f"{s.title} {kind}", list(v))
    aims = []
    if "dnsd" in rows and "nsd" in rows and rows["dnsd"][0] and rows["nsd"][0]:
        ratio = rows["dnsd"][0] / rows["nsd"][0]
        aims.append(f"DO=1 CPU per answer at or below NSD's: dnsd {rows['dnsd'][0]:.2f} µs vs NSD {rows['nsd'][0]:.2f} µs "
                    f"= {ratio:.2f}x: {'PASS' if ratio <= AIM_CPU_RATIO else 'FAIL'}")
    if "dnsd" in rows and "dnsd-unsigned" in rows and rows["dnsd"][1] and rows["dnsd-unsigned"][1]:
        ratio = rows["dnsd"][1] / rows["dnsd-unsigned"][1]
        aims.append(f"DO=0 unchanged by signing: dnsd signed {rows['dnsd'][1]:.2f} µs vs unsigned "
                    f"{rows['dnsd-unsigned'][1]:.2f} µs = {ratio:.2f}x: {'PASS' if ratio <= 1.05 else 'FAIL'} "
                    "(within 5%; read it against the spread)")
    pin = (f"servers on CPU {pin_cpu}, load generator on CPU {client_cpu}" if pin_cpu is not None else "no CPU pinning")
    head = [
        f"zone {zone.origin}: {zone.records} records ({args.hosts} hosts, {len(zone.pools)} pool names x 2 members); "
        "dnsd: dnsctl dnssec enable (ECDSA P-256 KSK + ZSK, NSEC), pools decided by dnsd-probe; NSD: dnsd's AXFR "
        "(pool answers as static RRsets with dnsd's signatures), minimal-responses; Knot: dnssec-signing on (ECDSA P-256 "
        "KSK + ZSK, NSEC); dnsd unsigned: the same zone and pools, not signed (the DO=0 reference)",
        "query mix: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()) + "; DO=1: EDNS with DO set; "
        "DO=0: EDNS, DO clear (the same signed zones)",
        f"load: {args.loadgen} at {args.rate:,} q/s offered, {args.rounds} interleaved round(s) x {args.seconds} s per "
        f"mix and server, medians; {elapsed:.0f} s of measuring; {pin}; one query worker per server ("
        + "; ".join(f"{s.title} {s.worker_desc()}" for s in running) + ")",
        "µs/ans: the server's utime+stime (process tree, /proc/PID/stat) per answer; usr: its user-mode part; "
        "answered: answers / queries sent",
        "serving signed after start: " + ", ".join(f"{k} {v:.1f} s" for k, v in startup.items()),
    ] + aims + [f"WARNING {p}" for p in problems]
    text = ("== qps: CPU per answer, DO=1 vs DO=0, signed zone\n" + "\n".join(head) + "\n\n" + t.text()
            + "\n\nanswers (one query each, checked before the load):\n" + st.text())
    md = ("### CPU per answer, DO=1 and DO=0, signed zone\n\n" + "\n".join(f"- {h}" for h in head) + "\n\n"
          + t.markdown() + "\n\nAnswers (one query each, checked before the load):\n\n" + st.markdown()
          + "\n\n" + raw_md(running, results, mixes))
    return text, md


def raw_md(running, results, mixes):
    out = ["Per run:", "", "| mix | server | round | answered/s | answered | srv µs/ans | usr µs/ans |",
           "|---|---|---:|---:|---:|---:|---:|"]
    for m in mixes:
        for s in running:
            for i, r in enumerate(results[m][s.key]):
                us, usr, share, qps = per_answer(r)
                out.append(f"| {m} | {s.title} | {i + 1} | {qps:,.0f} | {(share or 0):.1%} | {us or 0:.2f} | {usr or 0:.2f} |")
    return "\n".join(out)
