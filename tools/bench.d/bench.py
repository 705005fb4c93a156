#!/usr/bin/python3
"""dnsd benchmark driver (started by tools/bench after it has installed the packages).

Subcommands (one module each, all sharing servers.py / measure.py / report.py):
  qps       saturated queries/s, server CPU per answered query, latency at a fixed rate
  load      time and peak RSS to load a large zone
  failover  time from killing a backend to the first answer without it (dnsd, gdnsd)
  probes    dnsd-probe CPU for many tcp members
  soak      fixed rate with decisions flipping every second: consistency, errors, memory
  secondaries  dnsd as primary of NSD, Knot, BIND: decision -> secondary answer, bytes, q/s during transfers
  vantage   3 probe agents vs one dnsd-probe on the same members: CPU, report bytes/s, kill -> excluded
  resolver-failover  failover time seen through a caching Unbound, TTL lowered near a change vs not
  tcp       DNS over TCP: 1,000+ pipelined connections and churn, answers/s, CPU and memory per connection
  update    RFC 2136 UPDATE: updates/s (TXT add+delete, TSIG) and update -> served, vs Knot and BIND
  dnssec    DO=1 CPU per query vs NSD/Knot, decision -> signed answer, time and memory to sign the big zone
See tools/BENCH.md.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import servers  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


class Ctx:
    """What every scenario gets: temp dir, child registry, build dir, output."""

    def __init__(self, args):
        self.args = args
        self.children = servers.Children()
        self.build_dir = os.path.abspath(args.build_dir)
        self.dnsd_skip = None
        if args.tmpdir:
            os.makedirs(args.tmpdir, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="dnsd-bench.", dir=args.tmpdir)
        self.started = time.time()

    def log(self, msg):
        print(msg, flush=True)

    def register(self, proc):
        self.children.add(proc)


def pinning(args):
    """(server_cpu, client_cpu) or (None, None) when pinning is off or not sensible."""
    cpus = sorted(os.sched_getaffinity(0))
    if args.no_pin or len(cpus) < 2 or not shutil.which("taskset"):
        return None, None
    s = args.server_cpu if args.server_cpu is not None else cpus[0]
    c = args.client_cpu if args.client_cpu is not None else cpus[1]
    return s, c


def ensure_dnsd(ctx, targets=("dnsd", "dnsctl")):
    """Builds dnsd's binaries in the build dir unless told not to; sets ctx.dnsd_skip."""
    args = ctx.args
    b = ctx.build_dir
    have = all(os.access(p, os.X_OK) for p in (os.path.join(b, "dnsd", "dnsd"), os.path.join(b, "tools", "dnsctl")))
    if args.no_build:
        if not have:
            ctx.dnsd_skip = f"dnsd binaries not found in {b} and --no-build given (dnsd leg skipped)"
        return
    log = os.path.join(ctx.tmp, "build.log")
    steps = []
    if not os.path.exists(os.path.join(b, "CMakeCache.txt")):
        steps.append(["cmake", "-S", REPO, "-B", b])
    steps.append(["cmake", "--build", b, f"-j{args.jobs}", "--target", *targets])
    ctx.log(f"building dnsd in {b} ({'configure + ' if len(steps) == 2 else ''}targets {' '.join(targets)}) ...")
    with open(log, "w") as f:
        for cmd in steps:
            f.write("$ " + " ".join(cmd) + "\n")
            f.flush()
            try:
                r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
            except FileNotFoundError:
                ctx.dnsd_skip = "cmake not found: install the build dependencies (tools/install-deps); dnsd leg skipped"
                return
            if r.returncode != 0:
                with open(log) as g:
                    tail = "".join(g.readlines()[-12:])
                ctx.dnsd_skip = f"building dnsd failed (dnsd leg skipped); see {log}"
                ctx.log(f"  {' '.join(cmd)} failed; last lines:\n{tail}")
                return


def make_servers(ctx, zone, names, workers):
    out = []
    for key in names:
        cls = servers.ALL.get(key)
        if cls is None:
            raise SystemExit(f"bench: unknown server '{key}' (known: {', '.join(servers.ALL)})")
        s = cls(ctx, zone, workers)
        why = s.missing()
        if why:
            ctx.log(f"SKIP {s.title}: {why}")
            continue
        out.append(s)
    return out


def common_options(p):
    p.add_argument("--servers", default="nsd,knot,dnsd", help="comma list of nsd,knot,dnsd,gdnsd (default %(default)s)")
    p.add_argument("--build-dir", default=os.path.join(REPO, "build"), help="dnsd build dir (default %(default)s)")
    p.add_argument("--no-build", action="store_true", help="never run cmake; skip dnsd if its binaries are missing")
    p.add_argument("--jobs", type=int, default=2, help="cmake --build -j (default %(default)s)")
    p.add_argument("--out", metavar="FILE", help="also write the result as markdown to FILE")
    p.add_argument("--tmpdir", help="parent of the run's temp dir (default $TMPDIR or /tmp)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs, databases)")
    p.add_argument("--no-pin", action="store_true", help="do not pin server and dnsperf to separate CPUs")
    p.add_argument("--server-cpu", type=int, help="CPU for the servers (default: first allowed CPU)")
    p.add_argument("--client-cpu", type=int, help="CPU for dnsperf (default: second allowed CPU)")


def parse(argv):
    ap = argparse.ArgumentParser(
        prog="tools/bench",
        description="Reproducible dnsd benchmark against NSD, Knot (and gdnsd) on 127.0.0.1.",
        epilog="Without a subcommand, 'qps' runs. Details: tools/BENCH.md",
    )
    sub = ap.add_subparsers(dest="cmd")
    import scenario_qps, scenario_load, scenario_failover, scenario_probes, scenario_soak, scenario_secondaries  # noqa: E401
    import scenario_resolver, scenario_vantage, scenario_tcp, scenario_update, scenario_dnssec  # noqa: E401

    for mod in (scenario_qps, scenario_load, scenario_failover, scenario_probes, scenario_soak, scenario_secondaries,
                scenario_resolver, scenario_vantage, scenario_tcp, scenario_update, scenario_dnssec):
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        common_options(p)
        mod.options(p)
        p.set_defaults(run=mod.run)
    if not argv or argv[0] not in sub.choices and argv[0] not in ("-h", "--help"):
        argv = ["qps"] + list(argv)
    return ap.parse_args(argv)


class Abort(Exception):
    pass


def main(argv):
    args = parse(argv)
    ctx = Ctx(args)

    def on_signal(signum, _frame):
        raise Abort(f"stopped by signal {signal.Signals(signum).name}")

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(s, on_signal)
    code = 0
    try:
        args.run(ctx)
    except Abort as e:
        print(f"bench: {e}; stopping all servers", file=sys.stderr)
        code = 130
    except (RuntimeError, OSError) as e:
        print(f"bench: error: {e}", file=sys.stderr)
        code = 1
    finally:
        signal.alarm(0)
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)  # finish the cleanup even on a second ^C
        ctx.children.kill_all()
        if args.keep or code:
            print(f"bench: files kept in {ctx.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
