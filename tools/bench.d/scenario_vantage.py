"""vantage: probe agents and quorum against one dnsd-probe on the same members (issue 12).

One member set (default 1,000 tcp members on 127.1.x.y, the listeners of `bench probes`,
pools of --per-pool members in two tiers, interval 1 s, rise/fall 2, hold-down 1 s) in one
database, measured in two legs, one after the other, inside one bench invocation:
  single   `dnsd-probe --db DB`: the controller probes everything itself (vantage local only)
  vantage  `dnsd-probe --db DB --agents-listen 127.0.0.1:0 --no-local-vantage` (the controller)
           and --agents agents `dnsd-probe --vantage vN --controller URL --key-file F`, keys
           from `dnsctl vantage add vN`; the pools keep the default quorum (majority: 2 of 3)
Each leg: wait until every member is served (and, for agents, every agent's view of every
member is up), settle, then over --seconds: CPU (utime+stime from /proc) of every dnsd-probe
process, connections the backends accepted (results/s), the agents' report bytes (their
/metrics: dnsd_probe_agent_sent_bytes_total / _received_bytes_total) and the results the
controller counted (vantages.results). Then --rounds kill rounds: --kills tier-1 members of
distinct pools have their listener closed, each at a random phase in its own 1/K of one
interval (stratified); the database's pool_decisions is read (read-only) every --poll-ms, and
kill -> excluded is the time from the close to the first read where the member is no longer in
its pool's `served` (also kill -> decided_at, the decision's own timestamp). It is split at the
check that made the member down by the rules, found in the observations table: kill -> check
(the probe schedule, the same for both legs) and check -> excluded (what the probing path adds).
The members are reopened and the round ends when every one is served again. Aims (issue 12):
kill -> excluded median and p99 within 200 ms of the single prober's; controller CPU < 25% of a
core at 3,000 results/s.
"""

import json
import os
import random
import re
import signal
import sqlite3
import time

import bench
import measure
import report
import scenario_probes
import scenario_secondaries
import scenario_soak
import servers

NAME = "vantage"
HELP = "3 probe agents x 1,000 tcp members vs one dnsd-probe: CPU, report bytes/s, kill -> excluded"

AIM_EXCLUDED_S = 0.2
AIM_CONTROLLER_CPU = 25.0  # % of a core


def options(p):
    p.set_defaults(servers="dnsd")
    p.add_argument("--members", type=int, default=1000, help="tcp members (default %(default)s)")
    p.add_argument("--per-pool", type=int, default=10, help="members per pool (default %(default)s)")
    p.add_argument("--tier1", type=int, default=5,
                   help="members of priority 1 in each pool, the rest priority 2 (default %(default)s)")
    p.add_argument("--agents", type=int, default=3, help="probe agents in the vantage leg (default %(default)s)")
    p.add_argument("--interval-ms", type=int, default=1000, help="probe interval (default %(default)s)")
    p.add_argument("--fall", type=int, default=2, help="probe fall (default %(default)s)")
    p.add_argument("--rise", type=int, default=2, help="probe rise (default %(default)s)")
    p.add_argument("--seconds", type=int, default=20, help="CPU / bytes sampling window per leg (default %(default)s)")
    p.add_argument("--settle", type=int, default=5, help="seconds after every member is up before sampling")
    p.add_argument("--kills", type=int, default=20, help="members killed per round, one per pool (default %(default)s)")
    p.add_argument("--rounds", type=int, default=10, help="kill rounds per leg (default %(default)s)")
    p.add_argument("--poll-ms", type=int, default=5, help="pool_decisions read interval (default %(default)s)")
    p.add_argument("--deadline", type=float, default=30.0,
                   help="give up on a round's exclusions or recoveries after this many s (default %(default)s)")
    p.add_argument("--legs", default="single,vantage", help="legs to run, in order (default %(default)s)")
    p.add_argument("--seed", type=int, help="random seed for victims and phases (default: random, printed)")
    p.add_argument("--probe-bin", help="dnsd-probe binary (default: BUILD_DIR/probes/dnsd-probe)")
    p.add_argument("--json", metavar="FILE", help="also write the figures and every kill's times to FILE")


def wait_for(what, cond, deadline, procs, poll=0.1):
    """Polls cond() until true; fails naming `what` on time-out or when a process exited."""
    end = time.monotonic() + deadline
    while True:
        for label, p in procs.items():
            if p.poll() is not None:
                raise RuntimeError(f"{label} exited ({p.returncode}) while waiting for {what}")
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise RuntimeError(f"no {what} within {deadline:.0f} s")
        time.sleep(poll)


def log_match(path, pattern):
    try:
        with open(path, errors="replace") as f:
            return re.search(pattern, f.read())
    except OSError:
        return None


class Db:
    """Read-only view of the bench database (WAL: never blocks the writer)."""

    def __init__(self, path):
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5, isolation_level=None)
        self.pool_ids = {name: pid for pid, name in self.conn.execute("SELECT id, name FROM pools")}

    def decisions(self):
        """{pool id: (set of served values, decided_at ms)}."""
        rows = self.conn.execute("SELECT pool_id, served, decided_at FROM pool_decisions").fetchall()
        return {pid: (set(served.split()), at) for pid, served, at in rows}

    def member_ids(self):
        return {value: mid for mid, value in self.conn.execute("SELECT id, value FROM members")}

    def observations(self, member_id, since_ms, until_ms):
        """[(vantage, at ms, ok)] of one member, oldest first."""
        return self.conn.execute("SELECT vantage, at, ok FROM observations WHERE member_id = ? AND at BETWEEN ? AND ?"
                                 " ORDER BY at, id", (member_id, since_ms, until_ms)).fetchall()

    def members_up(self):
        return self.conn.execute("SELECT count(*) FROM members WHERE health = 'up'").fetchone()[0]

    def views_up(self):
        """{vantage: members it sees up} from member_views."""
        return dict(self.conn.execute("SELECT vantage, count(*) FROM member_views WHERE health = 'up' GROUP BY vantage"))

    def vantage_results(self):
        """{vantage: results counted by the controller} (vantages.results, written about once a second)."""
        try:
            return dict(self.conn.execute("SELECT name, results FROM vantages"))
        except sqlite3.Error:
            return {}

    def close(self):
        self.conn.close()


def all_served(db, pools, tier1):
    try:
        dec = db.decisions()
    except sqlite3.Error:
        return False
    for p, members in enumerate(pools):
        got = dec.get(db.pool_ids[f"p{p}"])
        if got is None or not set(members[:tier1]) <= got[0]:
            return False
    return True


def proc_stat_busy():
    """(busy, total) jiffies of the whole machine from /proc/stat (everything running)."""
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return sum(vals) - idle, sum(vals)


def metric_sum(m, name):
    return sum(v for k, v in m.items() if k == name or k.startswith(name + "{"))


AGENT_COUNTERS = {"sent": "dnsd_probe_agent_sent_bytes_total", "received": "dnsd_probe_agent_received_bytes_total",
                  "reports": "dnsd_probe_agent_reports_total", "dropped": "dnsd_probe_agent_results_dropped_total",
                  "failures": "dnsd_probe_agent_request_failures_total"}


def agent_counters(port):
    """An agent's report counters from its /metrics ({} when it does not answer)."""
    try:
        m = scenario_secondaries.metrics(port)
    except OSError:
        return {}
    return {k: metric_sum(m, name) for k, name in AGENT_COUNTERS.items()}


def refused_total(port):
    try:
        return metric_sum(scenario_secondaries.metrics(port), "dnsd_probe_agent_requests_refused_total")
    except OSError:
        return None


def window(ctx, args, procs, agent_ports, lis, db):
    """CPU of each process, accepted/s, agent bytes/s and controller results/s over --seconds."""
    a = {k: measure.cpu_sample(p.pid) for k, p in procs.items()}
    acc0, res0, busy0, k0 = lis.accepted, db.vantage_results(), proc_stat_busy(), scenario_probes.tcp_counters()
    self0 = os.times()
    m0 = {k: agent_counters(pt) for k, pt in agent_ports.items()}
    time.sleep(args.seconds)
    b = {k: measure.cpu_sample(p.pid) for k, p in procs.items()}
    acc1, res1, busy1, k1 = lis.accepted, db.vantage_results(), proc_stat_busy(), scenario_probes.tcp_counters()
    self1 = os.times()
    m1 = {k: agent_counters(pt) for k, pt in agent_ports.items()}
    wall = next(iter(b.values())).at - next(iter(a.values())).at
    out = {"wall": wall, "accepted": (acc1 - acc0) / wall, "procs": {},
           "overflows": (k1.get("ListenOverflows", 0) - k0.get("ListenOverflows", 0)) / wall}
    for k, p in procs.items():
        out["procs"][k] = {"cpu": measure.cpu_seconds(a[k], b[k]) / wall * 100, "rss": measure.rss_kb(p.pid),
                           "threads": b[k].threads}
        if k in res0 and k in res1 and res0[k] is not None and res1[k] is not None:
            out["procs"][k]["results"] = (res1[k] - res0[k]) / wall
        if m0.get(k) and m1.get(k):
            for c in ("sent", "received", "reports"):
                out["procs"][k][c] = (m1[k][c] - m0[k][c]) / wall
    ncpu = len(os.sched_getaffinity(0))
    mine = sum(v["cpu"] for v in out["procs"].values())
    out["machine"] = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]) * 100 * ncpu  # % of one core
    out["bench"] = (self1.user + self1.system - self0.user - self0.system) / wall * 100  # the acceptor thread
    out["others"] = out["machine"] - mine - out["bench"]
    out["load"] = os.getloadavg()
    return out


def deciding_check(db, member_id, v, needed, fall):
    """Seconds from the kill to the check that made the member down by the rules: per vantage
    the first time `fall` results in a row failed after the close (from the observations the
    controller stored, each at its check's own time), then the `needed`-th earliest of those.
    None when the observations do not show it."""
    close_ms = v["wall"] * 1000
    rows = db.observations(member_id, int(close_ms) - 50, int(close_ms + (v["t"] + 1) * 1000))
    run, down = {}, {}
    for vantage, at, ok in rows:
        if vantage in down:
            continue
        run[vantage] = 0 if ok else run.get(vantage, 0) + 1
        if run[vantage] >= fall:
            down[vantage] = at
    times = sorted(down.values())
    return (times[needed - 1] - close_ms) / 1000.0 if len(times) >= needed else None


def kill_rounds(ctx, args, label, lis, db, pools, tier1, rng, procs, needed):
    """--rounds rounds of --kills kills; returns one dict per kill: t (s or None), decided (s or
    None), check (kill -> deciding check, s or None)."""
    interval = args.interval_ms / 1000.0
    index = {a: i for i, a in enumerate(lis.addrs)}
    member_ids = db.member_ids()
    samples = []
    for r in range(args.rounds):
        chosen = rng.sample(range(len(pools)), min(args.kills, len(pools)))
        # Stratified phases: one random offset in each 1/K of the interval. Kill -> excluded is
        # mostly a sawtooth of the kill's phase against the probes' schedule, so K independent
        # offsets would make two legs' medians differ by chance far more than evenly spread ones.
        k = len(chosen)
        offsets = [(i + rng.random()) * interval / k for i in range(k)]
        rng.shuffle(offsets)
        victims = sorted(({"pool": p, "addr": pools[p][rng.randrange(tier1)], "offset": o,
                           "closed": None, "t": None, "decided": None} for p, o in zip(chosen, offsets)),
                         key=lambda v: v["offset"])
        start = time.monotonic() + 0.02
        todo = list(victims)
        while time.monotonic() < start + interval + args.deadline:
            now = time.monotonic()
            for v in todo:
                if v["closed"] is None and start + v["offset"] <= now:
                    lis.kill(index[v["addr"]])
                    v["closed"], v["wall"] = time.monotonic(), time.time()
            try:
                dec = db.decisions()
            except sqlite3.Error:
                dec = {}
            read = time.monotonic()
            for v in todo:
                got = dec.get(db.pool_ids[f"p{v['pool']}"])
                if v["closed"] is not None and got is not None and v["addr"] not in got[0]:
                    v["t"] = read - v["closed"]
                    v["decided"] = got[1] / 1000.0 - v["wall"]
            todo = [v for v in todo if v["t"] is None]
            if not todo:
                break
            time.sleep(args.poll_ms / 1000.0)
        for v in victims:
            lis.revive(index[v["addr"]])
        samples.extend(victims)
        ts = [v["t"] for v in victims if v["t"] is not None]
        ctx.log(f"  {label} round {r + 1}/{args.rounds}: {len(ts)}/{len(victims)} excluded, median "
                f"{report.median(ts) or 0:.3f} s, max {max(ts) if ts else 0:.3f} s; waiting for recovery")
        wait_for("recovery of the killed members", lambda: all_served(db, pools, tier1), args.deadline, procs, 0.05)
        for v in victims:  # by now the controller has stored the round's observations
            v["check"] = deciding_check(db, member_ids[v["addr"]], v, needed, args.fall) if v["t"] is not None else None
        time.sleep(rng.uniform(0, interval))  # the next round starts at another probe phase
    return samples


def bootstrap_median_diff(a, b, rng, rounds=2000):
    """5th and 95th percentile of median(a*) - median(b*) over resamples with replacement."""
    diffs = sorted(report.median(rng.choices(a, k=len(a))) - report.median(rng.choices(b, k=len(b)))
                   for _ in range(rounds))
    return diffs[int(0.05 * rounds)], diffs[int(0.95 * rounds) - 1]


def parse_key(out):
    m = re.search(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])", out)
    return m.group(0) if m else None


def leg_single(ctx, args, d, probe_bin, lis, db, pools, rng):
    log = os.path.join(d.dir, "single-probe.log")
    p = servers.spawn(ctx, [probe_bin, "--db", d.db, "--http", f"127.0.0.1:{servers.free_port()}"], log, d.dir)
    procs = {"dnsd-probe": p}
    try:
        t0 = time.monotonic()
        n = sum(len(p) for p in pools)
        wait_for("every member up and served (single prober)",
                 lambda: db.members_up() >= n and all_served(db, pools, args.tier1), 120, procs, 0.2)
        ctx.log(f"single: every member served {time.monotonic() - t0:.1f} s after start; settling {args.settle} s")
        time.sleep(args.settle)
        w = window(ctx, args, procs, {}, lis, db)
        ctx.log(f"single: dnsd-probe {w['procs']['dnsd-probe']['cpu']:.1f}% of a core, {w['accepted']:.0f} connects/s")
        kills = kill_rounds(ctx, args, "single", lis, db, pools, args.tier1, rng, procs, 1)
    finally:
        servers.stop_proc(p)
    return w, kills


def leg_vantage(ctx, args, d, probe_bin, lis, db, pools, rng):
    names = [f"v{i + 1}" for i in range(args.agents)]
    keys = {}
    for v in names:
        out = d.dnsctl("vantage", "add", v)
        key = parse_key(out)
        if key is None:
            raise RuntimeError(f"dnsctl vantage add {v} printed no key:\n{out}")
        keys[v] = os.path.join(d.dir, f"{v}.key")
        fd = os.open(keys[v], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
    clog = os.path.join(d.dir, "controller.log")
    cport = servers.free_port()
    controller = servers.spawn(ctx, [probe_bin, "--db", d.db, "--agents-listen", "127.0.0.1:0", "--no-local-vantage",
                                     "--http", f"127.0.0.1:{cport}"], clog, d.dir)
    procs = {"controller": controller}
    try:
        m = wait_for("'agents: listening on' in the controller's log",
                     lambda: log_match(clog, r"agents: listening on 127\.0\.0\.1:(\d+)"), 60, procs)
        url = f"http://127.0.0.1:{m.group(1)}"
        ports = {}
        taken = set()
        t0 = time.monotonic()
        for v in names:
            ports[v] = servers.free_port(taken)
            taken.add(ports[v])
            procs[v] = servers.spawn(ctx, [probe_bin, "--vantage", v, "--controller", url, "--key-file", keys[v],
                                           "--http", f"127.0.0.1:{ports[v]}"], os.path.join(d.dir, f"agent-{v}.log"), d.dir)
        for v in names:
            wait_for(f"config in agent {v}'s log", lambda: log_match(os.path.join(d.dir, f"agent-{v}.log"),
                                                                       rf"agent {v}: config \d+ checks"), 60, procs)
        n = sum(len(p) for p in pools)
        wait_for("every agent's view of every member up",
                 lambda: all(db.views_up().get(v, 0) >= n for v in names) and db.members_up() >= n
                 and all_served(db, pools, args.tier1),
                 120, procs, 0.2)
        ctx.log(f"vantage: {len(names)} agents see every member up {time.monotonic() - t0:.1f} s after start;"
                f" settling {args.settle} s")
        time.sleep(args.settle)
        w = window(ctx, args, procs, ports, lis, db)
        ctx.log(f"vantage: controller {w['procs']['controller']['cpu']:.1f}% of a core, agents "
                + ", ".join(f"{w['procs'][v]['cpu']:.1f}%" for v in names) + f", {w['accepted']:.0f} connects/s")
        kills = kill_rounds(ctx, args, "vantage", lis, db, pools, args.tier1, rng, procs, args.agents // 2 + 1)
        end = {v: agent_counters(ports[v]) for v in names}
        w["health"] = {"dropped": sum(c.get("dropped", 0) for c in end.values()),
                       "failures": sum(c.get("failures", 0) for c in end.values()), "refused": refused_total(cport)}
    finally:
        for p in reversed(list(procs.values())):
            servers.stop_proc(p)
        for v in keys:  # leaves the database as it was: a later single leg has no silent vantages
            try:
                d.dnsctl("vantage", "delete", v)
            except RuntimeError as e:
                ctx.log(f"warning: {e}")
    return w, kills


def run(ctx):
    args = ctx.args
    legs = [x.strip() for x in args.legs.split(",") if x.strip()]
    for x in legs:
        if x not in ("single", "vantage"):
            raise SystemExit(f"bench: --legs: unknown leg '{x}' (single, vantage)")
    if not 1 <= args.tier1 < args.per_pool:
        raise SystemExit("bench: --tier1 must be at least 1 and less than --per-pool (two tiers)")
    bench.ensure_dnsd(ctx, ("dnsd", "dnsctl", "dnsd-probe"))
    if ctx.dnsd_skip:
        raise RuntimeError(ctx.dnsd_skip)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    n = args.members
    scenario_probes.raise_fd_limit(n * 2 + 1024)
    addrs = [scenario_probes.member_addr(i) for i in range(n)]
    port = servers.free_port()
    per_leg = 300 + args.settle + args.seconds + args.rounds * (2 * args.deadline + 3 * args.interval_ms / 1000.0)
    signal.alarm(int(n * 0.2 + 120 + len(legs) * per_leg))
    t0 = time.monotonic()
    lis = scenario_probes.Listeners(addrs, port)
    ctx.log(f"{n} tcp listeners on 127.x.y.z:{port} up in {time.monotonic() - t0:.1f} s; seed {seed}")
    results = {}
    db = None
    try:
        t0 = time.monotonic()
        d, pools = scenario_probes.setup_db(ctx, addrs, port, args.per_pool, args.interval_ms, rise=args.rise,
                                            fall=args.fall, priority=lambda j: 1 if j < args.tier1 else 2,
                                            pool_options=("--hold-down", "1s"))
        ctx.log(f"{len(pools)} pools of {args.per_pool} ({args.tier1} priority 1), {n} members defined in "
                f"{time.monotonic() - t0:.0f} s")
        probe_bin = os.path.abspath(args.probe_bin) if args.probe_bin else d.probe_bin()
        ctx.log(f"dnsd-probe: {probe_bin}")
        db = Db(d.db)
        for leg in legs:
            fn = leg_single if leg == "single" else leg_vantage
            results[leg] = fn(ctx, args, d, probe_bin, lis, db, pools, rng)
    finally:
        if db:
            db.close()
        lis.close()
    print_report(ctx, args, results, n, len(pools), seed, d, probe_bin)


def print_report(ctx, args, results, n, npools, seed, d, probe_bin):
    agents = [f"v{i + 1}" for i in range(args.agents)]
    expected = {"single": n * 1000.0 / args.interval_ms, "vantage": args.agents * n * 1000.0 / args.interval_ms}
    t = report.Table([("CPU % of a core", "pct"), ("results/s", "int"), ("reports/s", "f1"), ("report B/s out", "int"),
                      ("report B/s in", "int"), ("B/result", "int"), ("RSS", "mb"), ("threads", "int")])
    for leg, (w, _) in results.items():
        rows = [("dnsd-probe", "dnsd-probe (single prober)")] if leg == "single" else \
            [("controller", "controller")] + [(v, f"agent {v}") for v in agents]
        for key, label in rows:
            p = w["procs"][key]
            res = p.get("results")
            if key == "dnsd-probe":
                res = w["accepted"]
            elif key == "controller":
                res = sum(w["procs"][v].get("results") or 0 for v in agents) or None
            per = p["sent"] / p["results"] if p.get("sent") is not None and p.get("results") else None
            t.add(label, [p["cpu"], res, p.get("reports"), p.get("sent"), p.get("received"), per, p["rss"], p["threads"]])
        if leg == "vantage":
            ag = [w["procs"][v] for v in agents]
            tot = lambda k: sum(a[k] for a in ag) if all(a.get(k) is not None for a in ag) else None
            per = tot("sent") / tot("results") if tot("sent") is not None and tot("results") else None
            t.add("agents together", [tot("cpu"), tot("results"), tot("reports"), tot("sent"), tot("received"), per,
                                      sum(a["rss"] for a in ag), sum(a["threads"] for a in ag)])
    conn = report.Table([("backend connects/s", "int"), ("expected/s", "int"), ("listen overflows/s", "int"),
                         ("bench CPU %", "pct"), ("machine CPU %", "pct"), ("others CPU %", "pct"),
                         ("load avg 1 min", "f2")])
    for leg, (w, _) in results.items():
        conn.add(leg, [w["accepted"], expected[leg], w["overflows"], w["bench"], w["machine"], w["others"], w["load"][0]])

    k = report.Table([("kills", "int"), ("excluded", "int"), ("median s", "f3"), ("p99 s", "f3"), ("max s", "f3"),
                      ("kill->check median s", "f3"), ("check->excluded median ms", "int"),
                      ("check->excluded p99 ms", "int"), ("kill->decided_at median s", "f3")])
    stats = {}
    for leg, (_, kills) in results.items():
        ts = [v["t"] for v in kills if v["t"] is not None]
        lat = [(v["t"] - v["check"]) * 1000 for v in kills if v["t"] is not None and v.get("check") is not None]
        stats[leg] = (report.median(ts), scenario_soak.pct(ts, 99), len(ts), len(kills), ts)
        k.add(leg, [len(kills), len(ts), stats[leg][0], stats[leg][1], max(ts) if ts else None,
                    report.median([v.get("check") for v in kills]), report.median(lat), scenario_soak.pct(lat, 99),
                    report.median([v["decided"] for v in kills if v["t"] is not None])])
    k_cols = len(k.columns)
    if "single" in stats and "vantage" in stats and None not in stats["single"][:2] + stats["vantage"][:2]:
        diff = [None] * k_cols
        diff[2], diff[3] = stats["vantage"][0] - stats["single"][0], stats["vantage"][1] - stats["single"][1]
        k.add("vantage - single", diff)
    notes = []
    if "vantage" in results and results["vantage"][0].get("health"):
        h = results["vantage"][0]["health"]
        notes.append(f"vantage leg, whole run: agents dropped {h['dropped']:.0f} results, {h['failures']:.0f} requests"
                     f" to the controller failed, the controller refused {h['refused'] if h['refused'] is not None else '?'}"
                     " agent requests")
    if "single" in stats and "vantage" in stats and stats["single"][4] and stats["vantage"][4]:
        lo, hi = bootstrap_median_diff(stats["vantage"][4], stats["single"][4], random.Random(seed))
        notes.append(f"median difference, 90% bootstrap interval: {lo * 1000:+.0f} .. {hi * 1000:+.0f} ms (as if the"
                     " kills were independent; with stratified phases the real spread is smaller; kill->check is the"
                     " phase part, check->excluded what the probing path adds after the deciding check)")

    aims = []
    if "single" in stats and "vantage" in stats:
        (sm, sp, sn, sk), (vm, vp, vn, vk) = stats["single"][:4], stats["vantage"][:4]
        if None in (sm, sp, vm, vp):
            aims.append("FAIL kill->excluded: no exclusion measured in one of the legs")
        else:
            ok = vm - sm <= AIM_EXCLUDED_S and vp - sp <= AIM_EXCLUDED_S and vn == vk and sn == sk
            aims.append(f"{'PASS' if ok else 'FAIL'} kill->excluded within {AIM_EXCLUDED_S * 1000:.0f} ms of the single"
                        f" prober: median {vm:.3f} s vs {sm:.3f} s ({(vm - sm) * 1000:+.0f} ms), p99 {vp:.3f} s vs"
                        f" {sp:.3f} s ({(vp - sp) * 1000:+.0f} ms); excluded {vn}/{vk} vs {sn}/{sk}")
    if "vantage" in results:
        w = results["vantage"][0]
        cpu = w["procs"]["controller"]["cpu"]
        got = sum(w["procs"][v].get("results") or 0 for v in agents)
        want = expected["vantage"]
        at_rate = got >= 0.95 * want
        ok = cpu < AIM_CONTROLLER_CPU and at_rate
        aims.append(f"{'PASS' if ok else 'FAIL'} controller CPU {cpu:.1f}% of a core (aim < {AIM_CONTROLLER_CPU:.0f}%)"
                    f" at {got:,.0f} results/s counted by the controller (expected {want:,.0f}/s"
                    f"{'' if at_rate else ', NOT reached'})")

    head = [
        f"dnsd benchmark (vantage points), {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"command: tools/bench {' '.join(os.sys.argv[1:])}",
        f"version: {d.version()}; dnsd-probe: {probe_bin} (built"
        f" {time.strftime('%Y-%m-%d %H:%M', time.localtime(os.path.getmtime(probe_bin)))})",
        f"{n} tcp members in {npools} pools of {args.per_pool} (priority 1: {args.tier1}, priority 2: the rest),"
        f" interval {args.interval_ms} ms, rise {args.rise}, fall {args.fall}, hold-down 1 s, quorum majority;"
        " backends: listeners opened by the bench on 127.x.y.z",
        f"legs: single = `dnsd-probe --db DB`; vantage = controller `dnsd-probe --db DB --agents-listen"
        f" 127.0.0.1:0 --no-local-vantage` + {args.agents} agents `dnsd-probe --vantage vN --controller URL"
        " --key-file F` on the same machine",
        f"CPU: utime+stime from /proc over {results[next(iter(results))][0]['wall']:.0f} s after {args.settle} s of"
        " settling; results/s: single = connects the backends accepted, agents = vantages.results delta"
        " (the controller's count); report B/s: agents' dnsd_probe_agent_sent/received_bytes_total;"
        " bench CPU: the bench's own process (the listeners' acceptor); machine CPU: /proc/stat busy time of"
        " all CPUs in % of one core; others: machine - dnsd-probe processes - bench (other work on the machine)",
        f"kill -> excluded: {args.rounds} rounds x {args.kills} tier-1 members of distinct pools closed at random"
        f" phases (one in each 1/{args.kills} of the interval), pool_decisions read every {args.poll_ms} ms; seed {seed}; kill->check: to the check that made"
        f" the member down by the rules (single: its {args.fall}nd failure in a row; vantage: the"
        f" {args.agents // 2 + 1}nd agent to see {args.fall} in a row), from the observations table (each at its"
        " check's time); check->excluded: from that check to the read that no longer showed the member",
    ]
    body = [t, conn, k]
    text = "\n".join(head) + "\n\n" + "\n\n".join(x.text() for x in body) + "\n" + "\n".join(notes) + "\n\n" \
        + "\n".join(aims)
    print("\n" + text)
    if args.out:
        with open(args.out, "w") as f:
            f.write("## dnsd benchmark: vantage points\n\n" + "\n".join(f"- {h}" for h in head) + "\n\n"
                    + "\n\n".join(x.markdown() for x in body) + "\n\n" + "".join(f"{x}\n\n" for x in notes)
                    + "\n".join(f"- {a}" for a in aims) + "\n")
        ctx.log(f"\nmarkdown written to {args.out}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"head": head, "aims": aims, "notes": notes,
                       "legs": {leg: {"window": w, "kills": kills} for leg, (w, kills) in results.items()}},
                      f, indent=1, default=str)
        ctx.log(f"json written to {args.json}")
