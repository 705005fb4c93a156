"""load: time and memory to load a large zone, one server at a time (issue 4, item 5).

For each server, --repeat times, in interleaved order: start it on the generated zone
and wait until it answers the apex SOA authoritatively.
  load s       from starting the server to the first authoritative answer; for dnsd the
               `dnsctl init` + `dnsctl zone import` time is added (its own columns too),
               because that is what a user waits for before the zone is served.
  peak RSS     the largest VmHWM of any process of the server (NSD forks children that
               share the loaded zone copy-on-write, so summing their RSS would count the
               zone several times); for dnsd also dnsctl's peak RSS during the import
  PSS          proportional set size summed over the server's processes once loaded
               (shared pages divided among their users): the memory it really holds
For dnsd it then adds one record with `dnsctl record add` and reports the time until dnsd
serves it (target: within 2 s on a 1,000,000-record zone).
Each server is stopped before the next starts, so they never compete for memory or CPU.
"""

import os
import signal
import subprocess
import time

import bench
import dnswire
import measure
import report
import servers
import zonegen

NAME = "load"
HELP = "time and peak RSS to load a large zone (dnsd import + start vs NSD, Knot)"


def options(p):
    p.add_argument("--records", type=int, default=1000000, help="records in the generated zone (default %(default)s)")
    p.add_argument("--repeat", type=int, default=1, help="interleaved repetitions, medians reported (default %(default)s)")
    p.add_argument("--timeout", type=int, default=900, help="seconds a server may take to load (default %(default)s)")


def pss_kb(root):
    total = 0
    for pid in measure.tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def max_hwm_kb(root):
    best = 0
    for pid in measure.tree(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        best = max(best, int(line.split()[1]))
        except OSError:
            pass
    return best


class TimedDnsd(servers.Dnsd):
    """dnsd whose dnsctl runs are timed and whose peak RSS is taken from wait4()."""

    def dnsctl(self, *args):
        _, ctl = self.bins()
        cmd = [ctl, "--db", self.db, *args]
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.ctx.register(p)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        self.ctl_runs.append((args[0] if args[0] != "zone" else " ".join(args[:2]), time.monotonic() - t0, ru.ru_maxrss))
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {out.decode(errors='replace').strip()[-1500:]}")
        return out.decode(errors="replace")


def run(ctx):
    args = ctx.args
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    if "dnsd" in names:
        bench.ensure_dnsd(ctx)
    zpath = os.path.join(ctx.tmp, "large.zone")
    t0 = time.monotonic()
    zone = zonegen.generate_large(zpath, args.records)
    ctx.log(f"generated {zone.origin} with {zone.records:,} records ({zonegen.file_size_mb(zpath):.0f} MB) in {time.monotonic() - t0:.1f} s")
    server_cpu, _ = bench.pinning(args)
    signal.alarm(int(len(names) * args.repeat * (args.timeout + 60) + 300))

    results = {}
    order = []
    for rep in range(args.repeat):
        for key in names:
            cls = TimedDnsd if key == "dnsd" else servers.ALL.get(key)
            if cls is None:
                raise SystemExit(f"bench: unknown server '{key}'")
            s = cls(ctx, zone, 1)
            why = s.missing()
            if why:
                if rep == 0:
                    ctx.log(f"SKIP {s.title}: {why}")
                continue
            s.dir = os.path.join(ctx.tmp, f"{key}-{rep}")  # fresh database/config each time
            s.ctl_runs = []
            if s.title not in order:
                order.append(s.title)
            t = time.monotonic()
            try:
                s.start(cpu=server_cpu, ready_timeout=args.timeout)
            except RuntimeError as e:
                if key == "dnsd":
                    ctx.log(f"SKIP dnsd: {e}")
                    continue
                raise
            total = time.monotonic() - t
            row = {"load": total, "hwm": max_hwm_kb(s.pid()), "pss": pss_kb(s.pid()),
                   "cpu": measure.cpu_sample(s.pid()).ticks / measure.CLK_TCK}
            if key == "dnsd":
                row["import"] = sum(sec for _, sec, _ in s.ctl_runs)
                row["start"] = total - row["import"]
                row["ctl_rss"] = max(rss for _, _, rss in s.ctl_runs)
                row["update"], row["publish"] = update_latency(s, zone, ctx)
            results.setdefault(s.title, []).append(row)
            ctx.log(f"{s.title}: served after {total:.1f} s, peak RSS {row['hwm'] / 1024:.0f} MB, PSS {row['pss'] / 1024:.0f} MB"
                    + (f" (import {row['import']:.1f} s, dnsctl peak RSS {row['ctl_rss'] / 1024:.0f} MB,"
                       f" one-record change served in {row['update']:.2f} s,"
                       f" {row['publish']:.2f} s after dnsctl exited)" if key == "dnsd" and row.get("update") is not None else ""))
            s.stop()

    cols = [("load s", "s"), ("server CPU s", "f2"), ("peak RSS", "mb"), ("PSS loaded", "mb"),
            ("dnsctl import s", "s"), ("dnsctl peak RSS", "mb"), ("change served s", "s"),
            ("after dnsctl s", "s")]
    t = report.Table(cols)
    med = report.median
    rows = {}
    for title in order:
        rs = results.get(title, [])
        rows[title] = [med([r.get(k) for r in rs]) for k in ("load", "cpu", "hwm", "pss", "import", "ctl_rss", "update", "publish")]
        t.add(title, rows[title])
    if "dnsd" in rows:
        for other in ("NSD", "Knot", "gdnsd"):
            if other in rows:
                t.add_ratio(f"dnsd/{other}", rows["dnsd"][:4] + [None] * 4, rows[other][:4] + [None] * 4)
    head = [
        f"dnsd benchmark (zone load), {time.strftime('%Y-%m-%d %H:%M:%S')}",
        f"command: tools/bench {' '.join(os.sys.argv[1:])}",
        f"zone: {zone.origin} {zone.records:,} records (A, every 4th name also AAAA), {zonegen.file_size_mb(zpath):.0f} MB",
        f"method: each server alone, {args.repeat} repetition(s), medians; load s = start to first authoritative SOA answer"
        " (dnsd: + dnsctl init + zone import)",
        "peak RSS = largest VmHWM of the server's processes; PSS = Pss summed over them once loaded",
        "change served = from starting `dnsctl record add` (one A record) to dnsd answering it; after dnsctl = from dnsctl's exit",
    ]
    text = "\n".join(head) + "\n\n" + t.text()
    print("\n" + text)
    if args.out:
        with open(args.out, "w") as f:
            f.write("## dnsd benchmark: zone load\n\n" + "\n".join(f"- {h}" for h in head) + "\n\n" + t.markdown() + "\n")
        ctx.log(f"\nmarkdown written to {args.out}")


def update_latency(s, zone, ctx, deadline=30.0):
    """Seconds from starting `dnsctl record add` to dnsd serving the new record."""
    name = f"bench-change-{int(time.time())}.{zone.origin}"
    t0 = time.monotonic()
    try:
        s.dnsctl("record", "add", zone.origin, f"{name} 300 IN A 192.0.2.77")
    except RuntimeError as e:
        ctx.log(f"dnsd: could not time a one-record change: {e}")
        return None, None
    t1 = time.monotonic()
    while time.monotonic() - t1 < deadline:
        a = dnswire.query(s.port, name, "A", timeout=0.2)
        if a is not None and a.rcode == 0 and "192.0.2.77" in a.values(1):
            t2 = time.monotonic()
            return t2 - t0, t2 - t1
        time.sleep(0.01)
    ctx.log(f"dnsd: the added record was not served within {deadline:.0f} s of dnsctl's exit")
    return None, None
