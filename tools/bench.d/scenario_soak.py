"""soak: a bounded run at a fixed query rate with pool decisions flipping every second (issue 5).

Real dnsd and dnsd-probe on a real SQLite database (dnsctl init / zone import / pool
create). One pool, soak.bench.example A, of three members: 127.0.0.31 and .32 (tier 1) and
.33 (tier 2, the backup), each checked by one tcp probe (--probe-ms interval, fall 1,
rise 1) against a TCP listener the soak opens and closes itself. Failback is auto with
no hold-down. Every --flip-ms one tier-1 backend changes state along a six-step cycle, so
every flip makes exactly one decision and the cycle covers member down/up, failover to
the backup tier and failback:
    {31,32} -> {32} -> {33} (failover) -> {31} (failback) -> {31,32} -> {31} -> ...
For the whole run:
  - dnsperf sends --rate q/s (static names of the benchmark zone plus the pool name);
  - a checker in this process asks the pool name --check-rate times a second and keeps
    (t_send, t_recv, rcode, answer set, TTL) with wall-clock times;
  - a poller reads pool_decisions (read-only) every 10 ms;
  - VmRSS/VmHWM of dnsd and dnsd-probe are sampled every --mem-every seconds.
Afterwards every checker answer must equal (as a set, with the same TTL) the served set of
a decision that was current at some moment in [t_send, t_recv], a decision being current
from its time to the next decision's time + --allowance-ms. The decision timeline comes
from the events table (see SOAK.md for why that is exact). See tools/SOAK.md.
"""

import bisect
import datetime
import json
import os
import select
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import threading
import time

import bench
import dnswire
import measure
import report
import scenario_failover
import servers
import zonegen

NAME = "soak"
HELP = "bounded soak: fixed query rate, pool decisions flipping every second, consistency and memory checks"

POOL = "soak"
TIER1 = ["127.0.0.31", "127.0.0.32"]
BACKUP = "127.0.0.33"
# (tier-1 backend 0 open, tier-1 backend 1 open) per step; each step changes one of them
CYCLE = [(1, 1), (0, 1), (0, 0), (1, 0), (1, 1), (1, 0)]


def options(p):
    p.set_defaults(servers="dnsd")
    p.add_argument("--seconds", type=int, default=600, help="length of the loaded run (default %(default)s)")
    p.add_argument("--rate", type=int, default=20000, help="dnsperf queries per second (default %(default)s)")
    p.add_argument("--pool-share", type=float, default=0.3, help="share of dnsperf queries for the pool name")
    p.add_argument("--check-rate", type=int, default=300, help="checker queries per second (default %(default)s)")
    p.add_argument("--flip-ms", type=int, default=1000, help="time between backend flips (default %(default)s)")
    p.add_argument("--probe-ms", type=int, default=100, help="tcp probe interval (default %(default)s)")
    p.add_argument("--allowance-ms", type=int, default=100,
                   help="a decision stays acceptable this long after the next one (default %(default)s)")
    p.add_argument("--max-answers", type=int, default=0, help="pool max-answers (0 = all; default %(default)s)")
    p.add_argument("--udp-threads", type=int, default=os.cpu_count() or 1, help="dnsd --udp-threads")
    p.add_argument("--keep-observations", type=int, default=120,
                   help="dnsd-probe --keep-observations, s (default %(default)s, so the database reaches"
                   " its steady size within the run)")
    p.add_argument("--mem-every", type=float, default=5.0, help="memory sample period, s (default %(default)s)")
    p.add_argument("--mem-tolerance-kb", type=int, default=1024,
                   help="allowed RSS growth after warm-up, KB (default %(default)s, or 2%% of RSS if larger)")
    p.add_argument("--max-lost-pct", type=float, default=0.01,
                   help="allowed lost queries, %% of sent (default %(default)s)")
    p.add_argument("--json", metavar="FILE", help="write a machine-readable summary to FILE")


# --- the processes ----------------------------------------------------------------------

class SoakDnsd(servers.Dnsd):
    """servers.Dnsd with the soak's pool (tiers, fall/rise 1, no hold-down), dnsd-probe with
    the soak's options, and both HTTP endpoints off (no fixed ports to collide on)."""

    def __init__(self, ctx, zone, workers, backend_port):
        super().__init__(ctx, zone, workers)
        self.backend_port = backend_port

    def setup_pools(self):
        a = self.ctx.args
        self.dnsctl("probe", "add", "soak-tcp", "--type", "tcp", "--port", str(self.backend_port),
                    "--interval", f"{a.probe_ms}ms", "--timeout", f"{max(50, a.probe_ms * 4 // 5)}ms",
                    "--rise", "1", "--fall", "1")
        self.dnsctl("pool", "create", POOL, "--zone", self.zone.origin, "--name", POOL, "--type", "A",
                    "--ttl", "30", "--failback", "auto", "--hold-down", "0s",
                    "--max-answers", str(a.max_answers))
        for addr in TIER1:
            self.dnsctl("member", "add", POOL, addr, "--priority", "1", "--probe", "soak-tcp")
        self.dnsctl("member", "add", POOL, BACKUP, "--priority", "2", "--probe", "soak-tcp")

    def start_probe(self, deadline=60):
        self.probe_log = os.path.join(self.dir, "probe.log")
        log = open(self.probe_log, "a")
        cmd = [self.probe_bin(), "--db", self.db, "--http", "none",
               "--keep-observations", str(self.ctx.args.keep_observations)]
        self.probe_proc = self.ctx.children.add(subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=self.dir, start_new_session=True, preexec_fn=servers._die_with_parent))
        log.close()
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.probe_proc.poll() is not None:
                raise RuntimeError(f"dnsd-probe exited ({self.probe_proc.returncode}); log {self.probe_log}")
            if set(current_decision(self.db)[0]) == set(TIER1):
                return
            time.sleep(0.05)
        raise RuntimeError(f"dnsd-probe did not decide {' '.join(TIER1)} within {deadline} s; log {self.probe_log}")

    def command(self):
        return super().command() + ["--http", "none"]


def current_decision(db):
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
        row = c.execute("SELECT d.served, d.ttl, d.decided_at FROM pool_decisions d JOIN pools p"
                        " ON p.id = d.pool_id WHERE p.name = ?", (POOL,)).fetchone()
    return (row[0].split(), row[1], row[2]) if row else ([], None, None)


def expected_set(state):
    up = {a for a, s in zip(TIER1, state) if s}
    return frozenset(up or {BACKUP})


# --- background threads -----------------------------------------------------------------

class Loop(threading.Thread):
    """A daemon thread calling step() every period seconds (absolute schedule) until stop()."""

    def __init__(self, period):
        super().__init__(daemon=True)
        self.period = period
        self.stopping = threading.Event()
        self.error = None

    def run(self):
        nxt = time.monotonic()
        try:
            while not self.stopping.is_set():
                self.step()
                nxt += self.period
                self.stopping.wait(max(0.0, nxt - time.monotonic()))
        except Exception as e:  # reported in the verdict, never silently lost
            self.error = f"{type(e).__name__}: {e}"

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)


class Flipper(Loop):
    def __init__(self, backends, period):
        super().__init__(period)
        self.backends = backends
        self.state = (1, 1)
        self.flips = []  # (wall ms, state after)
        self.k = 0

    def step(self):
        if self.k > 0:
            new = CYCLE[self.k % len(CYCLE)]
            t = time.time() * 1000
            for b, old, now in zip(self.backends, self.state, new):
                if old and not now:
                    b.close()
                elif now and not old:
                    b.open()
            self.state = new
            self.flips.append((t, new))
        self.k += 1


class Poller(Loop):
    """Reads pool_decisions every 10 ms; keeps each distinct row with when it was first seen."""

    def __init__(self, db):
        super().__init__(0.01)
        self.conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1, check_same_thread=False)
        self.rows = []  # (seen wall ms, decided_at, served frozenset, ttl)
        self.reads = 0

    def step(self):
        r = self.conn.execute("SELECT d.served, d.ttl, d.decided_at FROM pool_decisions d JOIN pools p"
                              " ON p.id = d.pool_id WHERE p.name = ?", (POOL,)).fetchone()
        self.reads += 1
        if r and (not self.rows or self.rows[-1][1] != r[2]):
            self.rows.append((time.time() * 1000, r[2], frozenset(r[0].split()), r[1]))

    def stop(self):
        super().stop()
        self.conn.close()


def pressure():
    """Pressure stall totals (/proc/pressure, µs): {"cpu some": ..., "io some": ..., "io full": ...}."""
    out = {}
    for res in ("cpu", "io"):
        try:
            with open(f"/proc/pressure/{res}") as f:
                for line in f:
                    kind, *fields = line.split()
                    out[f"{res} {kind}"] = int(dict(x.split("=") for x in fields)["total"])
        except (OSError, KeyError, ValueError):
            pass
    return out


class MemSampler(Loop):
    """VmRSS/VmHWM of the daemons, and the machine's CPU/IO pressure, every period."""

    def __init__(self, pids, period):
        super().__init__(period)
        self.pids = pids  # label -> pid
        self.samples = []  # (monotonic s, {label: (rss kb, hwm kb)})
        self.pressure = []  # (monotonic s, pressure())

    def step(self):
        self.samples.append((time.monotonic(), {k: (measure.rss_kb(p), measure.peak_rss_kb(p))
                                                for k, p in self.pids.items()}))
        self.pressure.append((time.monotonic(), pressure()))

    def pressure_summary(self):
        """% of the run some (all) tasks waited for CPU or IO, overall and worst sample period."""
        if len(self.pressure) < 2:
            return {}
        out = {}
        (ta, a), (tb, b) = self.pressure[0], self.pressure[-1]
        for k in a:
            if k not in b or (b[k] == a[k] == 0 and k == "cpu full"):
                continue
            worst = max(((q[1].get(k, 0) - p[1].get(k, 0)) / 1e4 / (q[0] - p[0])
                         for p, q in zip(self.pressure, self.pressure[1:]) if q[0] > p[0]), default=0)
            out[k] = {"pct": (b[k] - a[k]) / 1e4 / (tb - ta), "worst_pct": worst}
        return out


def parse_answer(msg, qid):
    """(rcode, frozenset of A addresses, set of their TTLs) or None if not our response."""
    if len(msg) < 12:
        return None
    rid, flags, qd, an, _ns, _ar = struct.unpack_from("!HHHHHH", msg, 0)
    if rid != qid or not flags & 0x8000:
        return None
    pos = 12
    for _ in range(qd):
        pos = dnswire.skip_name(msg, pos) + 4
    addrs, ttls = set(), set()
    for _ in range(an):
        pos = dnswire.skip_name(msg, pos)
        rtype, _cls, ttl, rdlen = struct.unpack_from("!HHIH", msg, pos)
        pos += 10
        if rtype == 1 and rdlen == 4:
            addrs.add(socket.inet_ntop(socket.AF_INET, msg[pos : pos + 4]))
            ttls.add(ttl)
        pos += rdlen
    return flags & 0xF, frozenset(addrs), ttls


class Checker(threading.Thread):
    """Asks the pool name at a steady rate and keeps every answer.

    Four sockets (four source ports) are used in turn, so the queries spread over dnsd's
    SO_REUSEPORT workers like dnsperf's four clients do, and a stalled worker shows up here
    with wall-clock times (lost_at, latencies) instead of only in dnsperf's totals.
    """

    TIMEOUT = 2.0
    SOCKETS = 4

    def __init__(self, port, qname, rate):
        super().__init__(daemon=True)
        self.port, self.rate = port, rate
        self.question = dnswire.encode_name(qname) + struct.pack("!HH", 1, 1)
        self.stopping = threading.Event()
        self.samples = []  # (t_send ms, t_recv ms, rcode, addrs, ttls)
        self.sent = self.lost = self.garbage = 0
        self.lost_at = []  # t_send ms of the first lost queries
        self.error = None

    def run(self):
        try:
            self._run()
        except Exception as e:
            self.error = f"{type(e).__name__}: {e}"

    def _lose(self, t_send):
        self.lost += 1
        if len(self.lost_at) < 100:
            self.lost_at.append(t_send)

    def _run(self):
        socks = []
        for _ in range(self.SOCKETS):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.connect(("127.0.0.1", self.port))
            s.setblocking(False)
            socks.append(s)
        pending = {}  # qid -> t_send ms, oldest first
        period = 1.0 / self.rate
        nxt = time.monotonic()
        seq = 0
        draining_until = None
        while True:
            now = time.monotonic()
            if draining_until is None and self.stopping.is_set():
                draining_until = now + self.TIMEOUT
            if draining_until is not None and (now >= draining_until or not pending):
                break
            if draining_until is None and now >= nxt:
                qid = seq & 0xFFFF
                msg = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + self.question
                pending[qid] = time.time() * 1000
                try:
                    socks[seq % len(socks)].send(msg)
                except BlockingIOError:
                    pass  # counted as lost when it times out
                seq += 1
                self.sent += 1
                nxt += period
                if nxt < now - 1:  # after a long stall of this process: no burst to catch up
                    nxt = now
                continue
            wait = max(0.0, min(nxt - now, 0.05)) if draining_until is None else 0.05
            ready, _, _ = select.select(socks, [], [], wait)
            for s in ready:
                while True:
                    try:
                        data = s.recv(4096)
                    except BlockingIOError:
                        break
                    t_recv = time.time() * 1000
                    qid = struct.unpack_from("!H", data, 0)[0] if len(data) >= 2 else None
                    t_send = pending.pop(qid, None)
                    try:
                        a = parse_answer(data, qid) if t_send is not None else None
                    except (ValueError, IndexError, struct.error):
                        a = None
                    if a is None:
                        self.garbage += 1
                        continue
                    self.samples.append((t_send, t_recv, a[0], a[1], a[2]))
            cutoff = time.time() * 1000 - self.TIMEOUT * 1000
            if pending and next(iter(pending.values())) < cutoff:
                for q in [q for q, t in pending.items() if t < cutoff]:
                    self._lose(pending.pop(q))
        for t in pending.values():
            self._lose(t)
        for s in socks:
            s.close()

    def stop(self):
        self.stopping.set()
        self.join(timeout=self.TIMEOUT + 10)


# --- analysis ---------------------------------------------------------------------------

class Decision:
    def __init__(self, at, served, ttl, kind):
        self.at, self.served, self.ttl, self.kind = at, served, ttl, kind
        self.seen = None  # wall ms the 10 ms poller first saw its pool_decisions row (commit + poll)
        self.published = None  # wall ms of dnsd's "published state" log line for it


def read_timeline(db):
    """Every decision of the pool, from the events table (one event per decision written)."""
    out = []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
        for at, kind, details in c.execute("SELECT at, kind, details FROM events WHERE pool = ? ORDER BY id",
                                           (POOL,)):
            try:
                d = json.loads(details)
            except ValueError:
                continue
            if "served" not in d:
                continue  # member-up/-down and admin events: not a decision
            out.append(Decision(at, frozenset(d["served"].split()), d.get("ttl"), kind))
    out.sort(key=lambda d: d.at)
    return out


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))]


def matches(addrs, ttls, d, max_answers):
    if ttls and ttls != {d.ttl}:
        return False
    if max_answers and len(d.served) > max_answers:
        return addrs <= d.served and len(addrs) == max_answers
    return addrs == d.served


def check_consistency(samples, timeline, allowance, max_answers):
    """Each answer against the decisions current at some moment in [t_send, t_recv]."""
    starts = [d.at for d in timeline]
    n = len(timeline)
    bad = []
    stale = []  # ms an answer was sent after the decision it shows was replaced
    used = [0] * n
    for t_send, t_recv, rcode, addrs, ttls in samples:
        i = bisect.bisect_right(starts, t_recv) - 1
        hit = None
        if rcode == 0 and addrs:
            j = i
            while j >= 0:
                end = starts[j + 1] + allowance if j + 1 < n else float("inf")
                if end < t_send:
                    break
                if matches(addrs, ttls, timeline[j], max_answers):
                    hit = j
                    break
                j -= 1
        if hit is None:
            bad.append((t_send, t_recv, rcode, addrs, ttls, i))
        else:
            used[hit] += 1
            if hit + 1 < n:
                stale.append(max(0.0, t_send - starts[hit + 1]))
    return bad, stale, used


CAUSES = {
    "late-commit": "showed the previous decision; the new one reached the database late (the poller and dnsd"
                   " both saw it > allowance after decided_at): dnsd-probe's commit was late",
    "late-publish": "showed the previous decision; the poller saw the new one in time but dnsd published it late",
    "after-publish": "showed an older decision after dnsd had published a newer one (dnsd bug)",
    "no-decision": "matches no decision at all (wrong set, TTL or rcode: dnsd bug)",
}


def classify(bad, timeline, allowance, max_answers):
    """Why each inconsistent answer is inconsistent (keys of CAUSES); needs seen/published."""
    out = []
    for t_send, t_recv, rcode, addrs, ttls, i in bad:
        k = i - 1
        while k >= 0 and not (rcode == 0 and matches(addrs, ttls, timeline[k], max_answers)):
            k -= 1
        if k < 0:
            out.append("no-decision")
            continue
        newer = timeline[k + 1]
        if newer.published is not None and t_send > newer.published + 1:  # +1: log ms rounding
            out.append("after-publish")
        elif newer.seen is not None and newer.seen - newer.at <= allowance:
            out.append("late-publish")
        else:
            out.append("late-commit")
    return out


def decision_lags(samples, timeline, t0, t1, max_answers):
    """decided_at -> t_recv of the first answer sent after the decision that shows it."""
    by_send = sorted(samples, key=lambda s: s[0])
    sends = [s[0] for s in by_send]
    lags, unseen = [], 0
    for j, d in enumerate(timeline):
        if not t0 <= d.at <= t1 or (j > 0 and timeline[j - 1].served == d.served and timeline[j - 1].ttl == d.ttl):
            continue
        nxt = timeline[j + 1].at if j + 1 < len(timeline) else float("inf")
        k = bisect.bisect_left(sends, d.at)
        lag = None
        while k < len(by_send) and by_send[k][0] < nxt:
            t_send, t_recv, rcode, addrs, ttls = by_send[k]
            if rcode == 0 and matches(addrs, ttls, d, max_answers):
                lag = t_recv - d.at
                break
            k += 1
        if lag is None:
            unseen += 1
        else:
            lags.append(lag)
    return lags, unseen


def flip_latencies(flips, timeline, flip_ms):
    """For each flip, the time until the decision serving what the backends now allow."""
    starts = [d.at for d in timeline]
    lat, missing = [], 0
    for t, state in flips:
        want = expected_set(state)
        k = bisect.bisect_left(starts, t)
        got = None
        while k < len(timeline) and timeline[k].at < t + flip_ms:
            if timeline[k].served == want:
                got = timeline[k].at - t
                break
            k += 1
        if got is None:
            missing += 1
        else:
            lat.append(got)
    return lat, missing


def off_schedule(flips, timeline, t0, t1):
    """Decisions in the run whose served set is not what the backends' state implies (e.g. a
    probe timing out on a loaded machine): not an error of dnsd, shown as information."""
    times = [t for t, _ in flips]
    n = 0
    for d in timeline:
        if not t0 <= d.at <= t1:
            continue
        k = bisect.bisect_right(times, d.at) - 1
        state = flips[k][1] if k >= 0 else (1, 1)
        if d.served != expected_set(state):
            n += 1
    return n


def poller_crosscheck(rows, timeline):
    """Every row the poller saw must be one of the event timeline's decisions."""
    by_served = {}
    for d in timeline:
        by_served.setdefault((d.served, d.ttl), []).append(d.at)
    by_at = {d.at: d for d in timeline}
    matched, skew, publish = 0, [], []
    for seen, decided_at, served, ttl in rows:
        ats = [a for a in by_served.get((served, ttl), []) if 0 <= a - decided_at <= 5]
        if ats:
            matched += 1
            skew.append(min(ats) - decided_at)
            by_at[min(ats)].seen = seen
        publish.append(seen - decided_at)
    return matched, skew, publish


def annotate_published(timeline, log_path):
    """Sets each decision's published time from dnsd's log ("published state N" lines, ms
    timestamps): the first publication at or after the decision and before the next one.
    Only pool decisions change during the soak, so every publication is one of them."""
    times = []
    try:
        with open(log_path, errors="replace") as f:
            for line in f:
                if 'msg="published state' in line and line.startswith("ts="):
                    ts = line[3:].split(" ", 1)[0]
                    dt = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")
                    times.append(dt.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
    except (OSError, ValueError):
        return
    for j, d in enumerate(timeline):
        k = bisect.bisect_left(times, d.at)
        nxt = timeline[j + 1].at if j + 1 < len(timeline) else float("inf")
        if k < len(times) and times[k] < nxt:
            d.published = times[k]


def slope_per_min(points):
    """Least-squares slope of (s, kb) points, in KB per minute."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in points) / sxx * 60.0


def memory_summary(samples, warmup_s, tol_kb):
    if not samples:
        return {}
    t0 = samples[0][0]
    after = [s for s in samples if s[0] - t0 >= warmup_s] or samples[-1:]
    out = {}
    for label in samples[0][1]:
        pts = [(t - t0, v[label][0]) for t, v in after]
        start, end = pts[0][1], pts[-1][1]
        minutes = (pts[-1][0] - pts[0][0]) / 60.0
        slope = slope_per_min(pts)
        tol = max(tol_kb, start * 0.02)
        growth = end - start
        fitted = (slope or 0.0) * minutes
        out[label] = {"rss_first_kb": samples[0][1][label][0], "rss_start_kb": start, "rss_end_kb": end,
                      "rss_max_kb": max(v[label][0] for _, v in after), "hwm_end_kb": samples[-1][1][label][1],
                      "slope_kb_per_min": slope, "growth_kb": growth, "tolerance_kb": tol,
                      "samples": len(pts), "window_s": pts[-1][0] - pts[0][0],
                      "ok": growth <= tol and fitted <= tol}
    return out


def udp_counters():
    """The kernel's UDP counters for this network namespace (/proc/net/snmp)."""
    try:
        with open("/proc/net/snmp") as f:
            rows = [line.split() for line in f if line.startswith("Udp:")]
        return {k: int(v) for k, v in zip(rows[0][1:], rows[1][1:])}
    except (OSError, IndexError, ValueError):
        return {}


def db_sizes(db):
    def size(p):
        try:
            return os.path.getsize(p)
        except OSError:
            return 0
    return {"db": size(db), "wal": size(db + "-wal")}


# The transitions the soak causes on purpose are event lines (member-down, failover at
# level=warn, the others at info); they are counted apart from real warnings and errors.
EXPECTED_PROBE_ERRORS = ("msg=\"member-down: ", "msg=\"served: ", "msg=\"failover: ", "msg=\"failback: ",
                         "msg=\"member-up: ", "msg=\"all-down: ", "msg=\"failover-pending: ")


def log_errors(path, expected=()):
    unexpected, known = [], 0
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if "level=error" not in line and "level=warn" not in line:
                    continue
                if any(e in line for e in expected):
                    known += 1
                else:
                    unexpected.append(line.rstrip())
    except OSError as e:
        unexpected.append(f"cannot read {path}: {e}")
    return known, unexpected


# --- the run ----------------------------------------------------------------------------

def run(ctx):
    args = ctx.args
    if args.seconds < 5 or args.rate < 1 or args.check_rate < 1 or args.flip_ms < 200:
        raise SystemExit("bench: soak needs --seconds >= 5, --rate >= 1, --check-rate >= 1, --flip-ms >= 200")
    if not shutil.which("dnsperf"):
        raise RuntimeError("dnsperf not found (Debian package dnsperf; tools/bench installs it unless --no-install)")
    bench.ensure_dnsd(ctx, ("dnsd", "dnsctl", "dnsd-probe"))
    if ctx.dnsd_skip:
        raise RuntimeError(ctx.dnsd_skip)
    signal.alarm(args.seconds + 240)  # setup and analysis take seconds; never hang

    port = scenario_failover.free_backend_port(TIER1 + [BACKUP])
    backends = [scenario_failover.Backend(a, port) for a in TIER1 + [BACKUP]]
    for b in backends:
        b.open()
    zone = zonegen.generate(os.path.join(ctx.tmp, "soak.zone"), hosts=1000)
    zone.pools = {POOL: TIER1 + [BACKUP]}
    qfile = os.path.join(ctx.tmp, "queries.txt")
    shares = zonegen.write_queries(qfile, zone, count=20000, seed=5, pool_share=args.pool_share)
    qname = f"{POOL}.{zone.origin}"
    dnsd = SoakDnsd(ctx, zone, args.udp_threads, port)
    why = dnsd.missing()
    if why:
        raise RuntimeError(why)
    threads = []
    try:
        dnsd.start()
        ctx.log(f"dnsd on 127.0.0.1:{dnsd.port} (--udp-threads {args.udp_threads}), dnsd-probe, db {dnsd.db}")
        ctx.log(f"pool {qname}: {TIER1[0]} {TIER1[1]} (tier 1), {BACKUP} (tier 2); tcp probes every"
                f" {args.probe_ms} ms on port {port}, fall 1 rise 1, failback auto, no hold-down")
        size0 = db_sizes(dnsd.db)
        warmup = max(3.0, min(60.0, args.seconds * 0.1))
        mem = MemSampler({"dnsd": dnsd.pid(), "dnsd-probe": dnsd.probe_proc.pid},
                         min(args.mem_every, max(1.0, args.seconds / 20)))
        poller = Poller(dnsd.db)
        checker = Checker(dnsd.port, qname, args.check_rate)
        flipper = Flipper(backends[:2], args.flip_ms / 1000.0)
        threads = [mem, poller, checker, flipper]
        udp0 = udp_counters()
        t0 = time.time() * 1000
        for t in threads:
            t.start()
        ctx.log(f"soak: {args.seconds} s at {args.rate} q/s (dnsperf), checker {args.check_rate} q/s,"
                f" a flip every {args.flip_ms} ms ...")
        perf = measure.Dnsperf(4, 1, 500, workdir=ctx.tmp)
        dp = perf.run(dnsd.port, qfile, args.seconds, rate=args.rate, register=ctx.register)
        t1 = time.time() * 1000
        udp1 = udp_counters()
        flipper.stop()
        time.sleep(0.5)  # the checker goes on until the last flip's decision is served
        checker.stop()
        poller.stop()
        mem.step()
        mem.stop()
        alive = {"dnsd": dnsd.proc.poll() is None, "dnsd-probe": dnsd.probe_proc.poll() is None}
        size1 = db_sizes(dnsd.db)
        timeline = read_timeline(dnsd.db)
    finally:
        for t in threads:
            t.stopping.set()
        for b in backends:
            b.close()

    summary = analyse(ctx, args, dnsd, dp, shares, checker, poller, flipper, mem, timeline, t0, t1,
                      warmup, alive, size0, size1)
    summary["kernel_udp"] = {k: udp1.get(k, 0) - v for k, v in udp0.items()
                             if k in ("InErrors", "RcvbufErrors", "SndbufErrors", "MemErrors")}
    print_report(ctx, args, summary, qname, port, dp)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1, sort_keys=True, default=sorted)
        ctx.log(f"summary written to {args.json}")
    failed = [k for k, c in summary["criteria"].items() if not c["pass"]]
    if failed:
        raise RuntimeError(f"soak FAILED: {', '.join(failed)}")
    ctx.log("soak: PASS")


def analyse(ctx, args, dnsd, dp, shares, checker, poller, flipper, mem, timeline, t0, t1, warmup, alive,
            size0, size1):
    allowance = args.allowance_ms
    samples = checker.samples
    rtt = [r - t for t, r, *_ in samples]
    bad, stale, _used = check_consistency(samples, timeline, allowance, args.max_answers)
    lags, unseen = decision_lags(samples, timeline, t0, t1, args.max_answers)
    flat, fmissing = flip_latencies(flipper.flips, timeline, args.flip_ms)
    in_run = [d for d in timeline if t0 <= d.at <= t1 + args.flip_ms]  # the last flip's decision too
    matched, skew, publish = poller_crosscheck(poller.rows, timeline)
    annotate_published(timeline, dnsd.log_path)
    causes = classify(bad, timeline, allowance, args.max_answers)
    pub = [d.published - d.at for d in in_run if d.published is not None]
    seen = [d.seen - d.at for d in in_run if d.seen is not None]
    memsum = memory_summary(mem.samples, warmup, args.mem_tolerance_kb)
    probe_known, probe_bad = log_errors(dnsd.probe_log, EXPECTED_PROBE_ERRORS)
    _, dnsd_bad = log_errors(dnsd.log_path)

    expected = zonegen.expected_rcodes(shares)
    total = sum(dp.rcodes.values()) or 1
    rcode_problems = []
    for code, n in sorted(dp.rcodes.items()):
        if code not in expected:
            rcode_problems.append(f"{code} {n}")
    for code, share in expected.items():
        got = dp.rcodes.get(code, 0) / total
        if abs(got - share) > 0.02:
            rcode_problems.append(f"{code} {got * 100:.1f}% (expected {share * 100:.1f}%)")
    lost_pct = dp.lost * 100.0 / dp.sent if dp.sent else 100.0
    planned = args.rate * args.seconds
    checker_lost_pct = checker.lost * 100.0 / checker.sent if checker.sent else 100.0
    seconds = (t1 - t0) / 1000.0
    min_checked = int(0.5 * args.check_rate * args.seconds)
    thread_errors = [f"{type(t).__name__}: {t.error}" for t in (mem, poller, checker, flipper) if t.error]

    crit = {}

    def c(name, ok, figure, limit):
        crit[name] = {"pass": bool(ok), "figure": figure, "limit": limit}

    c("flips", len(in_run) >= 0.9 * len(flipper.flips) and fmissing <= max(1, 0.02 * len(flipper.flips)),
      f"{len(flipper.flips)} flips, {len(in_run)} decisions ({len(in_run) / seconds:.2f}/s), {fmissing} flips"
      " without their decision", ">= 0.9 decisions per flip, <= 2% flips without their decision")
    c("consistency", not bad and len(samples) >= min_checked,
      f"{len(samples)} checked, {len(samples) - len(bad)} consistent, {len(bad)} inconsistent",
      f"0 inconsistent, >= {min_checked} checked")
    c("timeline", matched == len(poller.rows),
      f"{matched}/{len(poller.rows)} polled pool_decisions rows found in the events",
      "all")
    c("load lost", lost_pct <= args.max_lost_pct and checker_lost_pct <= args.max_lost_pct,
      f"dnsperf {dp.lost} of {dp.sent} ({lost_pct:.4f}%), checker {checker.lost} of {checker.sent}"
      f" ({checker_lost_pct:.4f}%)", f"<= {args.max_lost_pct}% each")
    c("load rate", dp.sent >= 0.95 * planned, f"{dp.sent} sent of {planned} planned ({dp.qps:.0f} q/s answered)",
      ">= 95% of rate x seconds")
    c("rcodes", not rcode_problems, ", ".join(rcode_problems) or
      " ".join(f"{k} {v}" for k, v in sorted(dp.rcodes.items())), "NOERROR/NXDOMAIN only, each within 2 pp")
    c("logs", not probe_bad and not dnsd_bad and not thread_errors,
      f"dnsd {len(dnsd_bad)}, dnsd-probe {len(probe_bad)} unexpected error/warn lines"
      f" ({probe_known} expected transition lines at warn/error), soak threads {len(thread_errors)} errors", "0")
    c("alive", all(alive.values()), ", ".join(f"{k} {'running' if v else 'EXITED'}" for k, v in alive.items()),
      "both running")
    for label, m in memsum.items():
        c(f"memory {label}", m["ok"],
          f"RSS {m['rss_start_kb']} -> {m['rss_end_kb']} KB ({m['growth_kb']:+d} KB), slope "
          + (f"{m['slope_kb_per_min']:+.1f} KB/min" if m["slope_kb_per_min"] is not None else "-"),
          f"growth and slope x {m['window_s'] / 60:.1f} min <= {m['tolerance_kb']:.0f} KB")

    return {
        "seconds": seconds, "rate": args.rate, "check_rate": args.check_rate, "flip_ms": args.flip_ms,
        "probe_ms": args.probe_ms, "allowance_ms": allowance, "max_answers": args.max_answers,
        "flips": len(flipper.flips), "decisions": len(in_run), "decisions_total": len(timeline),
        "decisions_per_s": len(in_run) / seconds if seconds else 0,
        "decisions_off_schedule": off_schedule(flipper.flips, timeline, t0, t1 + args.flip_ms),
        "flips_without_decision": fmissing,
        "flip_to_decision_ms": {"median": pct(flat, 50), "p99": pct(flat, 99), "max": max(flat) if flat else None},
        "checked": len(samples), "consistent": len(samples) - len(bad), "inconsistent": len(bad),
        "inconsistent_causes": {k: causes.count(k) for k in CAUSES if k in causes},
        "inconsistent_samples": [
            {"cause": c, "t_send": s[0], "t_recv": s[1], "rcode": s[2], "answer": sorted(s[3]), "ttl": sorted(s[4]),
             "current": ({"at": timeline[s[5]].at, "served": sorted(timeline[s[5]].served), "ttl": timeline[s[5]].ttl,
                          "poller_seen": timeline[s[5]].seen, "dnsd_published": timeline[s[5]].published}
                         if s[5] >= 0 else None)} for s, c in zip(bad[:10], causes)],
        "checker": {"sent": checker.sent, "answered": len(samples), "lost": checker.lost, "garbage": checker.garbage,
                    "lost_at": checker.lost_at[:20],
                    "latency_ms": {"median": pct(rtt, 50), "p99": pct(rtt, 99), "max": max(rtt) if rtt else None},
                    "slowest": [{"t_send": x[0], "ms": x[1] - x[0]}
                                for x in sorted(samples, key=lambda x: x[0] - x[1])[:5]]},
        "lag_ms": {"median": pct(lags, 50), "p99": pct(lags, 99), "max": max(lags) if lags else None,
                   "decisions_measured": len(lags), "decisions_unseen": unseen},
        "stale_ms_max": max(stale) if stale else 0,
        "poller": {"reads": poller.reads, "rows": len(poller.rows), "matched": matched,
                   "event_minus_decided_max_ms": max(skew) if skew else None,
                   "decided_to_seen_ms": {"median": pct(publish, 50), "max": max(publish) if publish else None}},
        "dnsperf": {"sent": dp.sent, "completed": dp.completed, "lost": dp.lost, "qps": dp.qps,
                    "rcodes": dp.rcodes, "planned": planned, "avg_latency_ms":
                    dp.avg_latency * 1000 if dp.avg_latency is not None else None, "query_mix": shares,
                    "command": " ".join(dp.cmd)},
        "decided_to_published_ms": {"median": pct(pub, 50), "p99": pct(pub, 99), "max": max(pub) if pub else None,
                                    "n": len(pub)},
        "decided_to_poller_seen_ms": {"median": pct(seen, 50), "p99": pct(seen, 99),
                                      "max": max(seen) if seen else None, "n": len(seen)},
        # per decision of the run: wall ms, served, ttl, ms until the poller saw it, ms until dnsd published it
        "timeline": [[d.at, " ".join(sorted(d.served)), d.ttl,
                      None if d.seen is None else round(d.seen - d.at, 1),
                      None if d.published is None else round(d.published - d.at, 1)] for d in in_run],
        "memory": memsum, "warmup_s": warmup,
        "pressure": mem.pressure_summary(),
        # (s since start, dnsd VmRSS KB, dnsd-probe VmRSS KB) for every sample
        "memory_samples": [[round(t - mem.samples[0][0], 1)] + [v[k][0] for k in sorted(v)]
                           for t, v in mem.samples],
        "db_bytes": {"start": size0, "end": size1},
        "logs": {"dnsd_unexpected": dnsd_bad[:10], "probe_unexpected": probe_bad[:10],
                 "probe_transition_lines_at_error": probe_known, "thread_errors": thread_errors},
        "alive": alive,
        "criteria": crit,
        "pass": all(v["pass"] for v in crit.values()),
    }


def clock(ms):
    return time.strftime("%H:%M:%S", time.localtime(ms / 1000.0)) + f".{int(ms) % 1000:03d}"


def fmt_ms(v):
    return "-" if v is None else f"{v:.1f}"


def print_report(ctx, args, s, qname, port, dp):
    when = time.strftime("%Y-%m-%d %H:%M:%S")
    head = [
        f"dnsd soak, {when}: {s['seconds']:.0f} s at {args.rate} q/s, decisions flipping every {args.flip_ms} ms",
        f"command: tools/bench {' '.join(os.sys.argv[1:])}",
        f"dnsperf: {s['dnsperf']['command']}",
        f"pool {qname}: tier 1 {' '.join(TIER1)}, tier 2 {BACKUP}; tcp probe every {args.probe_ms} ms, fall 1,"
        " rise 1; failback auto, hold-down 0",
        f"consistency: an answer must equal a decision current in [t_send, t_recv]; a decision is current"
        f" from its time to the next one's + {args.allowance_ms} ms (allowance)",
    ]
    t = report.Table([("figure", "str"), ("limit", "str"), ("verdict", "str")])
    for name, c in s["criteria"].items():
        t.add(name, [c["figure"], c["limit"], "PASS" if c["pass"] else "FAIL"])
    d = report.Table([("value", "str")])
    d.add("decisions in run / per s", [f"{s['decisions']} / {s['decisions_per_s']:.2f}"
                                       f" ({s['decisions_off_schedule']} not matching the backends' state)"])
    f = s["flip_to_decision_ms"]
    d.add("flip -> decision ms", [f"median {fmt_ms(f['median'])}, p99 {fmt_ms(f['p99'])}, max {fmt_ms(f['max'])}"])
    lg = s["lag_ms"]
    d.add("decision -> first answer ms", [f"median {fmt_ms(lg['median'])}, p99 {fmt_ms(lg['p99'])}, max"
                                          f" {fmt_ms(lg['max'])} ({lg['decisions_measured']} decisions,"
                                          f" {lg['decisions_unseen']} never seen)"])
    for key, label in (("decided_to_poller_seen_ms", "decision -> seen by poller ms"),
                       ("decided_to_published_ms", "decision -> dnsd published ms")):
        v = s[key]
        d.add(label, [f"median {fmt_ms(v['median'])}, p99 {fmt_ms(v['p99'])}, max {fmt_ms(v['max'])}"
                      f" ({v['n']} decisions)"])
    d.add("stale answer max ms", [f"{s['stale_ms_max']:.1f} (sent after the decision it shows was replaced)"])
    p = s["poller"]
    d.add("pool_decisions poller", [f"{p['reads']} reads, {p['rows']} rows; events at - decided_at max"
                                    f" {p['event_minus_decided_max_ms']} ms; decided -> seen median"
                                    f" {fmt_ms(p['decided_to_seen_ms']['median'])} ms"])
    c = s["checker"]
    d.add("checker", [f"{c['sent']} sent, {c['answered']} answered, {c['lost']} lost, {c['garbage']} garbage;"
                      f" latency median {fmt_ms(c['latency_ms']['median'])}, p99 {fmt_ms(c['latency_ms']['p99'])},"
                      f" max {fmt_ms(c['latency_ms']['max'])} ms"])
    q = s["dnsperf"]
    d.add("dnsperf", [f"{q['sent']} sent, {q['completed']} completed, {q['lost']} lost, {q['qps']:.0f} q/s, avg"
                      f" {fmt_ms(q['avg_latency_ms'])} ms; rcodes "
                      + " ".join(f"{k} {v}" for k, v in sorted(q['rcodes'].items()))])
    for label, m in s["memory"].items():
        d.add(f"{label} memory", [f"RSS {m['rss_first_kb']} KB at start, {m['rss_start_kb']} after"
                                  f" {s['warmup_s']:.0f} s warm-up, {m['rss_end_kb']} at end (max {m['rss_max_kb']});"
                                  f" VmHWM {m['hwm_end_kb']} KB; {m['samples']} samples"])
    pr = s.get("pressure", {})
    if pr:
        d.add("machine pressure", ["; ".join(f"{k} {v['pct']:.0f}% (worst {v['worst_pct']:.0f}%)" for k, v in pr.items())
                                   + " of the time (/proc/pressure, whole machine, the soak included)"])
    k = s.get("kernel_udp", {})
    d.add("kernel UDP drops", [f"RcvbufErrors +{k.get('RcvbufErrors', '?')}, InErrors +{k.get('InErrors', '?')},"
                               f" SndbufErrors +{k.get('SndbufErrors', '?')} during the load (whole machine)"])
    b = s["db_bytes"]
    d.add("database bytes", [f"db {b['start']['db']:,} -> {b['end']['db']:,}, wal {b['start']['wal']:,} ->"
                             f" {b['end']['wal']:,} (observations kept {args.keep_observations} s)"])
    text = "\n".join(head) + "\n\n" + t.text() + "\n\n" + d.text()
    if s["inconsistent_samples"]:
        lines = []
        for x in s["inconsistent_samples"][:5]:
            cur = x["current"]
            now = (f"decision current at t_recv: {' '.join(cur['served'])} ttl {cur['ttl']} since {clock(cur['at'])}"
                   f" (poller saw it at {clock(cur['poller_seen']) if cur['poller_seen'] else '-'},"
                   f" dnsd published it at {clock(cur['dnsd_published']) if cur['dnsd_published'] else '-'})"
                   if cur else "no decision yet")
            lines.append(f"  sent {clock(x['t_send'])}, answered after {x['t_recv'] - x['t_send']:.1f} ms: rcode"
                         f" {x['rcode']} {' '.join(x['answer']) or '(no A)'} ttl {x['ttl']}; {now}")
        text += "\n\nfirst inconsistent answers:\n" + "\n".join(lines)
        text += "\n\ninconsistent answers by cause:\n" + "\n".join(
            f"  {n:6d} {k}: {CAUSES[k]}" for k, n in s["inconsistent_causes"].items())
    for key in ("dnsd_unexpected", "probe_unexpected", "thread_errors"):
        if s["logs"][key]:
            text += f"\n\n{key}:\n" + "\n".join("  " + x for x in s["logs"][key][:5])
    text += f"\n\nverdict: {'PASS' if s['pass'] else 'FAIL'}"
    print("\n" + text, flush=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write("## dnsd soak\n\n```\n" + text + "\n```\n")
        ctx.log(f"markdown written to {args.out}")
