"""bench dnssec, part "decision": decision -> signed answer served, signed zone vs unsigned.

Two dnsd, each with its own database, dnsd-probe and the same pool fo.bench.example (one
tier: 127.0.0.11 and 127.0.0.12, TCP probes every --probe-ms ms, fall 1, rise 1, no
hold-down); one zone signed (dnsctl dnssec enable), the other not. The bench opens the two
backends itself (bench failover's TCP listeners) and flips them: close one (failover
decision), reopen it (failback decision), so every flip makes one decision in each
database. After each flip it queries both dnsd about every 0.5 ms (the signed one with
DO=1) until each serves the new set, and keeps that first answer and when it arrived.
Per decision: decided_at (ms, the pool_decisions row dnsd-probe wrote, read afterwards) ->
the first answer with the new set. The signed answers are then checked (RRSIG over the A
RRset, verified against the zone's DNSKEY, in its validity window): an answer with the new
set and no valid signature counts as a failure, not as served.
Aim (issue 13): the signed median and p99 within 10 ms of the unsigned ones.
"""

import os
import signal
import sqlite3
import time

import dnssec_wire
import report
import scenario_failover as fo
import servers
import zonegen

POOL = "fo"
AIM_MS = 10.0


class DecisionDnsd(servers.Dnsd):
    signed = False

    def setup_pools(self):
        a = self.ctx.args
        self.dnsctl("probe", "add", "bench-tcp", "--type", "tcp", "--port", str(self.zone.probe["port"]),
                    "--interval", f"{a.probe_ms}ms", "--timeout", f"{max(20, a.probe_ms // 2)}ms",
                    "--rise", "1", "--fall", "1")
        self.dnsctl("pool", "create", POOL, "--zone", self.zone.origin, "--name", POOL, "--type", "A",
                    "--ttl", "30", "--hold-down", "0s")
        for m in fo.ADDRS:
            self.dnsctl("member", "add", POOL, m, "--probe", "bench-tcp")

    def prepare(self):
        fresh = not os.path.exists(os.path.join(self.dir, "dnsd.db"))
        super().prepare()
        if fresh and self.signed:
            self.dnsctl("dnssec", "enable", self.zone.origin)

    def decision(self):
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5) as c:
            row = c.execute("SELECT d.served, d.decided_at FROM pool_decisions d JOIN pools p ON p.id = d.pool_id"
                            " WHERE p.name = ?", (POOL,)).fetchone()
        return (frozenset(row[0].split()), row[1]) if row else (frozenset(), None)


def pct(values, p):
    return report.percentile(values, p)


def run(ctx):
    args = ctx.args
    signal.alarm(int(args.decisions * 30 + 600))
    port = fo.free_backend_port()
    backends = [fo.Backend(a, port) for a in fo.ADDRS]
    for b in backends:
        b.open()
    zone = zonegen.generate(os.path.join(ctx.tmp, "decision.zone"), hosts=100)
    zone.pools = {POOL: list(fo.ADDRS)}
    zone.probe = {"port": port}
    qname = f"{POOL}.{zone.origin}"
    both = frozenset(fo.ADDRS)
    running = []
    samples = {}  # title -> list of (decided_at ms, t_recv ms, raw msg, want)
    problems = []
    load0 = os.getloadavg()[0]
    try:
        taken = set()
        for signed in (True, False):
            s = DecisionDnsd(ctx, zone, 1)
            s.signed = signed
            s.title = "dnsd signed" if signed else "dnsd unsigned"
            s.dir = os.path.join(ctx.tmp, "decision-signed" if signed else "decision-unsigned")
            s.start(taken=taken)
            running.append(s)
            samples[s.title] = []
            ctx.log(f"started {s.title} on 127.0.0.1:{s.port}")
        signed_srv = running[0]
        import scenario_dnssec

        scenario_dnssec.wait_signed(signed_srv, zone.origin, 60)
        if not wait_all(running, qname, both, 30):
            raise RuntimeError(f"{qname} is not served with both backends within 30 s")
        keys = dnssec_wire.dnskeys(signed_srv.port, zone.origin)
        t_start = time.monotonic()
        for k in range(args.decisions):
            victim = backends[(k // 2) % 2]
            if k % 2 == 0:
                victim.close()
                want = both - {victim.addr}
            else:
                victim.open()
                want = both
            seen = watch(running, qname, want, 20.0)
            for s in running:
                got = seen.get(s)
                if got is None:
                    problems.append(f"{s.title}: decision {k + 1} ({' '.join(sorted(want))}) not served within 20 s")
                    continue
                dec_set, decided = s.decision()
                if dec_set != want:
                    problems.append(f"{s.title}: decision {k + 1}: pool_decisions holds {sorted(dec_set)}, "
                                    f"not {sorted(want)}")
                    continue
                samples[s.title].append((decided, got[0], got[1], want))
            ctx.log(f"decision {k + 1}/{args.decisions} ({' '.join(sorted(want))}): " + ", ".join(
                f"{s.title} {samples[s.title][-1][1] - samples[s.title][-1][0]:.1f} ms" for s in running
                if samples[s.title] and samples[s.title][-1][3] == want))
            time.sleep(args.probe_ms / 1000.0)  # a probe round on the new state before the next flip
        elapsed = time.monotonic() - t_start
    finally:
        for s in running:
            s.stop()
        for b in backends:
            b.close()

    # signatures, checked after timing (pure-Python ECDSA is slow)
    bad = []
    for decided, recv, raw, want in samples[signed_srv.title]:
        m = dnssec_wire.parse(raw)
        ok, why = dnssec_wire.check_answer(m, keys)
        if not ok:
            bad.append(f"answer {sorted(want)} at {recv:.0f}: {why}")
    problems += [f"dnsd signed: first answer with the new set without a valid signature: {b}" for b in bad]
    return render(args, running, samples, keys, bad, problems, elapsed, load0)


def wait_all(running, qname, want, deadline):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if all(served(s, qname) == want for s in running):
            return True
        time.sleep(0.02)
    return False


def served(s, qname):
    m = dnssec_wire.query(s.port, qname, "A", do=s.signed, timeout=0.1)
    return m.a_set() if m is not None and m.rcode == 0 else None


def watch(running, qname, want, deadline):
    """{server: (wall ms of the first answer with want, its raw bytes)}, polling every ~0.5 ms."""
    out = {}
    end = time.monotonic() + deadline
    while len(out) < len(running) and time.monotonic() < end:
        for s in running:
            if s in out:
                continue
            m = dnssec_wire.query(s.port, qname, "A", do=s.signed, timeout=0.1)
            if m is not None and m.rcode == 0 and m.a_set() == want:
                out[s] = (time.time() * 1000.0, m.raw)
        time.sleep(0.0005)
    return out


def render(args, running, samples, keys, bad, problems, elapsed, load0):
    cols = [("n", "int"), ("median ms", "f1"), ("p90 ms", "f1"), ("p99 ms", "f1"), ("max ms", "f1"), ("min ms", "f1")]
    t = report.Table(cols)
    rows = {}
    for s in running:
        lags = [recv - decided for decided, recv, _, _ in samples[s.title]]
        rows[s.title] = [len(lags), report.median(lags), pct(lags, 90), pct(lags, 99),
                         max(lags) if lags else None, min(lags) if lags else None]
        t.add(s.title, rows[s.title])
    sg, us = rows.get("dnsd signed"), rows.get("dnsd unsigned")
    aims = []
    if sg and us and sg[1] is not None and us[1] is not None:
        t.add("signed - unsigned", [None] + [a - b if a is not None and b is not None else None
                                            for a, b in zip(sg[1:], us[1:])])
        for label, i in (("median", 1), ("p99", 3)):
            d = sg[i] - us[i]
            aims.append(f"decision -> signed answer {label} within {AIM_MS:.0f} ms of unsigned: {sg[i]:.1f} - "
                        f"{us[i]:.1f} = {d:+.1f} ms: {'PASS' if d <= AIM_MS else 'FAIL'}")
    nsig = len(samples.get("dnsd signed", []))
    head = [
        f"pool fo: {', '.join(fo.ADDRS)}, TCP probe every {args.probe_ms} ms, fall 1, rise 1, hold-down 0 s; "
        f"{args.decisions} decisions (failover and failback alternately), {elapsed:.0f} s",
        "time = decided_at of the pool_decisions row -> the first answer with the new set (queried every ~0.5 ms; "
        "signed: DO=1)",
        f"signatures: {nsig - len(bad)}/{nsig} first signed answers carry a valid RRSIG (ECDSA P-256 verified "
        f"against DNSKEY tags {', '.join(str(k) for k in sorted(keys))})",
        f"load average {load0:.2f} at start, {os.getloadavg()[0]:.2f} at end",
    ] + aims + [f"WARNING {p}" for p in problems[:20]]
    text = "== decision -> answer served, signed vs unsigned\n" + "\n".join(head) + "\n\n" + t.text()
    md = "### Decision -> answer served, signed vs unsigned\n\n" + "\n".join(f"- {h}" for h in head) + "\n\n" + t.markdown()
    return text, md
