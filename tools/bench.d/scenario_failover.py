"""failover: time from killing a backend to the first answer without it (issue 3).

Two TCP backends listen on 127.0.0.11 and 127.0.0.12 (opened by the bench itself). One
name, fo.bench.example, is a failover pool of both (one tier, active-active):
  dnsd   dnsctl pool + tcp probe (interval/timeout/rise/fall per --configs), dnsd-probe
  gdnsd  DYNA multifo, tcp_connect at its smallest interval (2 s; timeout 1 s,
         down_thresh = --gdnsd-down, up/ok_thresh 2)
Each repetition: wait a random fraction of the probe interval (so the kill lands at a
random probe phase), close one backend's listening socket (connects are then refused,
as when the process dies), and query each server every ~2 ms until its answer no
longer holds that address; then reopen the backend and wait until it is served again.
Both servers watch the same kill, so they are measured side by side.
For dnsd the time is also split at the decision's decided_at (from `dnsctl status`):
kill -> decision written by dnsd-probe, and decision -> first answer from dnsd.
Aim (issue 3): at most interval x fall + 100 ms, and well under gdnsd.
"""

import os
import random
import select
import signal
import socket
import threading
import time

import bench
import dnswire
import report
import servers
import zonegen

NAME = "failover"
HELP = "time from killing a backend to the first answer without it (dnsd vs gdnsd)"

ADDRS = ["127.0.0.11", "127.0.0.12"]
POOL = "fo"


def options(p):
    p.set_defaults(servers="dnsd,gdnsd")
    p.add_argument("--configs", default="1000:2,200:2",
                   help="dnsd probe settings INTERVAL_MS:FALL, comma separated (default %(default)s)")
    p.add_argument("--repeat", type=int, default=5, help="kills per setting (default %(default)s)")
    p.add_argument("--gdnsd-interval", type=int, default=2, help="gdnsd tcp_connect interval, s (its minimum: 2)")
    p.add_argument("--gdnsd-down", type=int, default=2, help="gdnsd down_thresh (default %(default)s, = fall)")
    p.add_argument("--deadline", type=float, default=60.0, help="give up waiting for one failover after this many s")


class Backend:
    """A TCP listener on one loopback address that accepts and closes connections."""

    def __init__(self, addr, port):
        self.addr, self.port = addr, port
        self.sock = None
        self.thread = None

    def open(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.addr, self.port))
        s.listen(256)
        s.setblocking(False)
        self.sock = s
        self.thread = threading.Thread(target=self._loop, args=(s,), daemon=True)
        self.thread.start()

    def _loop(self, s):
        while self.sock is s:
            try:
                r, _, _ = select.select([s], [], [], 0.05)
                if r:
                    c, _ = s.accept()
                    c.close()
            except (OSError, ValueError):
                return

    def close(self):
        s, self.sock = self.sock, None
        if s:
            s.close()  # pending and new connects are refused from here on
        if self.thread:
            self.thread.join()


def free_backend_port(addrs=ADDRS):
    """A TCP port free on every one of `addrs` at once."""
    for _ in range(100):
        port = servers.free_port()
        try:
            for a in addrs:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                    t.bind((a, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no port free on every backend address")


def served(server, name):
    a = dnswire.query(server.port, name, "A", timeout=0.1)
    if a is None or a.rcode != 0:
        return None
    return set(a.values(1))


def wait_served(running, name, want, deadline):
    """Waits until every server's answer contains all addresses in want."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if all((served(s, name) or set()) >= want for s in running):
            return True
        time.sleep(0.02)
    return False


def parse_configs(text):
    out = []
    for part in text.split(","):
        try:
            interval, fall = part.split(":")
            out.append((int(interval), int(fall)))
        except ValueError:
            raise SystemExit(f"bench: --configs: '{part}' is not INTERVAL_MS:FALL")
    return out


def run(ctx):
    args = ctx.args
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    if "dnsd" in names:
        bench.ensure_dnsd(ctx, ("dnsd", "dnsctl", "dnsd-probe"))
    configs = parse_configs(args.configs)
    signal.alarm(int(len(configs) * (args.repeat * (2 * args.deadline + 10) + 120) + 120))
    port = free_backend_port()
    backends = [Backend(a, port) for a in ADDRS]
    for b in backends:
        b.open()
    ctx.log(f"backends: tcp listeners on {', '.join(f'{a}:{port}' for a in ADDRS)}")
    qname = f"{POOL}.{zonegen.ORIGIN}"
    rows = {}  # label -> list of dicts
    labels = {}
    try:
        for interval, fall in configs:
            zone = zonegen.generate(os.path.join(ctx.tmp, f"fo-{interval}-{fall}.zone"), hosts=10)
            zone.pools = {POOL: list(ADDRS)}
            zone.probe = {"port": port, "interval_ms": interval, "timeout_ms": min(500, interval // 2),
                          "rise": 2, "fall": fall, "gdnsd_interval": args.gdnsd_interval,
                          "gdnsd_timeout": max(1, args.gdnsd_interval // 2), "gdnsd_down": args.gdnsd_down}
            running = []
            for key in names:
                s = servers.ALL[key](ctx, zone, 1)
                if key not in ("dnsd", "gdnsd"):
                    raise SystemExit(f"bench: failover compares dnsd and gdnsd only, not {key}")
                why = s.missing()
                if why:
                    ctx.log(f"SKIP {s.title}: {why}")
                    continue
                s.dir = os.path.join(ctx.tmp, f"{key}-{interval}-{fall}")
                s.start()
                running.append(s)
                if key == "dnsd":
                    labels[s] = f"dnsd tcp {interval} ms x fall {fall}"
                else:
                    labels[s] = f"gdnsd tcp_connect {args.gdnsd_interval} s x down {args.gdnsd_down}"
                ctx.log(f"started {labels[s]} on 127.0.0.1:{s.port}")
            if not running:
                raise RuntimeError("no server to measure")
            if not wait_served(running, qname, set(ADDRS), 60):
                raise RuntimeError(f"{qname} is not served with both backends within 60 s")
            slowest = max(interval / 1000.0, args.gdnsd_interval if "gdnsd" in names else 0)
            for rep in range(args.repeat):
                victim = backends[rep % 2]
                time.sleep(random.uniform(0, slowest))
                one = kill_and_watch(running, victim, backends, qname, args.deadline)
                for s, res in one.items():
                    rows.setdefault(labels[s], []).append(res)
                    extra = ""
                    if res.get("decided") is not None:
                        extra = f" (decision after {res['decided']:.3f} s, served {res['publish'] * 1000:.0f} ms later)"
                    t = res["t"]
                    ctx.log(f"{labels[s]:32} kill {rep + 1}/{args.repeat} of {victim.addr}: "
                            + (f"{t:.3f} s{extra}" if t is not None else f"still served after {args.deadline:.0f} s"))
                victim.open()
                if not wait_served(running, qname, set(ADDRS), args.deadline + 30):
                    raise RuntimeError(f"{victim.addr} did not come back into the answers")
            for s in running:
                s.stop()
    finally:
        for b in backends:
            b.close()

    t = report.Table([("n", "int"), ("median s", "f3"), ("min s", "f3"), ("max s", "f3"),
                      ("aim s", "f3"), ("kill->decision s", "f3"), ("decision->answer ms", "f1")])
    for label, rs in sorted(rows.items(), key=lambda kv: kv[0].startswith("gdnsd")):
        ts = [r["t"] for r in rs if r["t"] is not None]
        aim = None
        if label.startswith("dnsd"):
            iv, fall = label.split()[2], label.split()[-1]
            aim = int(iv) / 1000.0 * int(fall) + 0.1
        t.add(label, [len(rs), report.median(ts), min(ts) if ts else None, max(ts) if ts else None, aim,
                      report.median([r.get("decided") for r in rs]),
                      report.median([r["publish"] * 1000 if r.get("publish") is not None else None for r in rs])])
    head = [
        f"dnsd benchmark (failover), {time.strftime('%Y-%m-%d %H:%M:%S')}",
        f"command: tools/bench {' '.join(os.sys.argv[1:])}",
        f"pool {qname}: {ADDRS[0]} and {ADDRS[1]} (one tier); backends are TCP listeners closed by the bench",
        "time = from closing one backend's listening socket to the first answer without its address"
        f" (polled every ~2 ms); {args.repeat} kills per setting, at random probe phases",
        "aim = interval x fall + 100 ms",
    ]
    text = "\n".join(head) + "\n\n" + t.text()
    print("\n" + text)
    if args.out:
        with open(args.out, "w") as f:
            f.write("## dnsd benchmark: failover\n\n" + "\n".join(f"- {h}" for h in head) + "\n\n" + t.markdown() + "\n")
        ctx.log(f"\nmarkdown written to {args.out}")


def kill_and_watch(running, victim, backends, qname, deadline):
    """Closes victim and polls every server until it stops answering with it."""
    t0_wall = time.time()
    t0 = time.monotonic()
    victim.close()
    todo = set(running)
    out = {s: {"t": None} for s in running}
    while todo and time.monotonic() - t0 < deadline:
        for s in list(todo):
            got = served(s, qname)
            if got and victim.addr not in got:
                out[s]["t"] = time.monotonic() - t0
                out[s]["wall"] = t0_wall + out[s]["t"]
                todo.discard(s)
        time.sleep(0.002)
    for s in running:
        if s.key == "dnsd" and out[s]["t"] is not None:
            d = decided_at(s, victim.addr)
            if d is not None:
                out[s]["decided"] = d / 1000.0 - t0_wall
                out[s]["publish"] = out[s]["wall"] - d / 1000.0
    return out


def decided_at(s, addr):
    try:
        for p in s.status().get("pools", []):
            dec = p.get("decision") or {}
            if p.get("name") == POOL and addr not in dec.get("served", [addr]):
                return dec.get("decided_at")
    except (RuntimeError, ValueError):
        return None
    return None
