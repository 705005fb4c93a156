"""bench dnssec, part "sign": time and peak memory to sign the big zone (bench load's generator).

One signer at a time, each alone on the machine (as far as this bench is concerned), in this
order: dnsd, knotd (next to dnsd, so the two see the nearest machine load), dnsd unsigned,
ldns-signzone, kzonesign.
  dnsd       `dnsctl dnssec enable` on the imported zone, then dnsd started until it answers
             the apex SOA and the last name of the zone with a DO=1 answer whose RRSIG
             verifies (it signs at snapshot build, on all CPUs); then one `dnsctl record add`
             and the time until the new name is served with a valid RRSIG (the re-sign,
             which reuses the signatures of unchanged RRsets). Its import (`dnsctl init` +
             `zone import`) is reported apart: the same for a signed zone or not.
  dnsd unsigned  the same database before `dnssec enable`, started until it serves the
             zone: the part of dnsd's time that is not signing (--no-unsigned skips it).
  ldns-signzone  the zone file with a KSK and a ZSK from ldns-keygen (ECDSA P-256), NSEC;
             one thread (ldns has no parallel signing).
  kzonesign  Knot's offline signer, policy ECDSA P-256 KSK + ZSK, NSEC, signing-threads =
             CPUs; keys made by Knot on the first run (kzonesign itself; timed apart).
  knotd      Knot started on the unsigned zone with automatic signing until it answers the
             SOA and the last name with valid RRSIGs (Knot's own load + sign, as dnsd's).
time = wall clock; CPU = user+system of the process (and its threads); peak RSS = the
process's VmHWM (servers) or wait4's ru_maxrss (one-shot tools).
Aim (issue 13): dnsd's signing no slower than Knot's.
"""

import os
import shutil
import signal
import subprocess
import time

import dnssec_wire
import measure
import report
import scenario_dnssec as sd
import scenario_load
import servers
import zonegen


def timed(ctx, cmd, cwd, log_name, timeout):
    """Runs cmd to its end; (wall s, CPU s, peak RSS KB, output tail)."""
    log = os.path.join(cwd, log_name)
    t0 = time.monotonic()
    with open(log, "w") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)
        ctx.register(p)
        end = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() > end:
                p.kill()
                p.wait()
                raise RuntimeError(f"{' '.join(cmd)} did not finish within {timeout} s")
            time.sleep(0.05)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    with open(log, errors="replace") as f:
        tail = f.read()[-1500:]
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}); {log}:\n{tail}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, tail


def last_host(zone_path):
    """The owner of the zone file's last record (signed last in no particular order, but a
    name far from the apex: its valid RRSIG means the whole zone went through the signer)."""
    with open(zone_path, "rb") as f:
        f.seek(-4096, os.SEEK_END)
        lines = f.read().decode().splitlines()
    return lines[-1].split()[0]


def wait_verified(server, name, rtype, keys_of, deadline, origin):
    """Seconds until server answers name/rtype (DO=1) with an RRSIG that verifies."""
    t0 = time.monotonic()
    keys = {}
    while time.monotonic() - t0 < deadline:
        if server.proc and server.proc.poll() is not None:
            raise RuntimeError(f"{server.title} exited; log {server.log_path}:\n{server.log_tail()}")
        m = dnssec_wire.query(server.port, name, rtype, timeout=0.5)
        if m is not None and m.rcode == 0 and m.count(dnssec_wire.T_RRSIG, 0):
            if not keys:
                keys = keys_of(server.port, origin)
            ok, why = dnssec_wire.check_answer(m, keys)
            if ok:
                return time.monotonic() - t0
            keys = {}  # maybe a key we have not seen yet: fetch again
        time.sleep(0.02)
    raise RuntimeError(f"{server.title}: {name} {rtype} not served with a valid RRSIG within {deadline} s")


def server_row(s, total, extra=None):
    pid = s.pid()
    row = {"wall": total, "cpu": measure.cpu_sample(pid).ticks / measure.CLK_TCK,
           "rss": scenario_load.max_hwm_kb(pid), "load": os.getloadavg()[0]}
    row.update(extra or {})
    return row


def run(ctx):
    args = ctx.args
    signal.alarm(int(args.sign_timeout * 6 + 600))
    ncpu = len(os.sched_getaffinity(0))
    zpath = os.path.join(ctx.tmp, "big.zone")
    t0 = time.monotonic()
    zone = zonegen.generate_large(zpath, args.records)
    ctx.log(f"generated {zone.origin} with {zone.records:,} records ({zonegen.file_size_mb(zpath):.0f} MB) "
            f"in {time.monotonic() - t0:.1f} s")
    last = f"{last_host(zpath)}.{zone.origin}"
    rows, notes, order = {}, [], []

    # dnsd: import once, keep an unsigned copy, enable, start until signed, re-sign
    d = scenario_load.TimedDnsd(ctx, zone, 1)
    d.dir = os.path.join(ctx.tmp, "sign-dnsd")
    d.ctl_runs = []
    os.makedirs(d.dir, exist_ok=True)
    d.prepare()
    import_s = sum(sec for _, sec, _ in d.ctl_runs)
    ctx.log(f"dnsd: dnsctl init + zone import {import_s:.1f} s")
    unsigned_dir = os.path.join(ctx.tmp, "sign-dnsd-unsigned")
    if not args.no_unsigned:
        os.makedirs(unsigned_dir, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(d.db + suffix):
                shutil.copyfile(d.db + suffix, os.path.join(unsigned_dir, "dnsd.db" + suffix))
    d.ctl_runs = []
    d.dnsctl("dnssec", "enable", zone.origin)
    enable_s = d.ctl_runs[-1][1]
    t = time.monotonic()
    d.start(ready_timeout=args.sign_timeout)
    wait_verified(d, zone.origin, "SOA", dnssec_wire.dnskeys, args.sign_timeout, zone.origin)
    wait_verified(d, last, "A", dnssec_wire.dnskeys, args.sign_timeout, zone.origin)
    total = time.monotonic() - t
    row = server_row(d, total, {"ctl": enable_s})
    cpu_before = row["cpu"]
    # the re-sign: one new record, until it is served with a valid signature
    name = f"bench-resign.{zone.origin}"
    t = time.monotonic()
    d.dnsctl("record", "add", zone.origin, f"{name} 300 IN A 192.0.2.77")
    wait_verified(d, name, "A", dnssec_wire.dnskeys, args.sign_timeout, zone.origin)
    row["resign"] = time.monotonic() - t
    row["resign_cpu"] = measure.cpu_sample(d.pid()).ticks / measure.CLK_TCK - cpu_before
    row["rss"] = scenario_load.max_hwm_kb(d.pid())
    rows["dnsd"] = row
    order.append("dnsd")
    ctx.log(f"dnsd: dnssec enable {enable_s:.2f} s; start -> signed zone served {total:.1f} s, CPU {row['cpu']:.1f} s, "
            f"peak RSS {row['rss'] / 1024:.0f} MB; one-record change served signed in {row['resign']:.2f} s "
            f"(dnsd CPU {row['resign_cpu']:.1f} s)")
    d.stop()

    # knotd with automatic signing, right after dnsd: the nearest machine load to dnsd's
    if shutil.which("knotd"):
        k = sd.SignedKnot(ctx, zone, 1)
        k.dir = os.path.join(ctx.tmp, "sign-knotd")
        k.signing_threads = ncpu
        t = time.monotonic()
        k.start(ready_timeout=args.sign_timeout)
        wait_verified(k, zone.origin, "SOA", dnssec_wire.dnskeys, args.sign_timeout, zone.origin)
        wait_verified(k, last, "A", dnssec_wire.dnskeys, args.sign_timeout, zone.origin)
        total = time.monotonic() - t
        rows["knotd"] = server_row(k, total)
        order.append("knotd")
        ctx.log(f"knotd: start -> signed zone served {total:.1f} s, CPU {rows['knotd']['cpu']:.1f} s, "
                f"peak RSS {rows['knotd']['rss'] / 1024:.0f} MB")
        k.stop()
    if not args.no_unsigned:
        u = scenario_load.TimedDnsd(ctx, zone, 1)
        u.dir = unsigned_dir
        u.ctl_runs = []
        t = time.monotonic()
        u.start(ready_timeout=args.sign_timeout)
        ok = dnssec_wire.query(u.port, last, "A", timeout=1.0)
        total = time.monotonic() - t
        if ok is None or ok.rcode != 0:
            notes.append(f"dnsd unsigned: {last} not answered after the SOA")
        rows["dnsd unsigned"] = server_row(u, total)
        order.append("dnsd unsigned")
        ctx.log(f"dnsd unsigned: start -> zone served {total:.1f} s, CPU {rows['dnsd unsigned']['cpu']:.1f} s, "
                f"peak RSS {rows['dnsd unsigned']['rss'] / 1024:.0f} MB")
        u.stop()

    # ldns-signzone
    if shutil.which("ldns-signzone") and shutil.which("ldns-keygen"):
        ld = os.path.join(ctx.tmp, "sign-ldns")
        os.makedirs(ld, exist_ok=True)
        ksk = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone.origin], cwd=ld, capture_output=True,
                             text=True, check=True).stdout.strip()
        zsk = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", zone.origin], cwd=ld, capture_output=True,
                             text=True, check=True).stdout.strip()
        out = os.path.join(ld, "big.zone.signed")
        wall, cpu, rss, _ = timed(ctx, ["ldns-signzone", "-o", zone.origin, "-f", out, zpath, ksk, zsk], ld,
                                  "ldns-signzone.log", args.sign_timeout)
        rows["ldns-signzone"] = {"wall": wall, "cpu": cpu, "rss": rss, "load": os.getloadavg()[0]}
        order.append("ldns-signzone")
        ctx.log(f"ldns-signzone: {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss / 1024:.0f} MB "
                f"({os.path.getsize(out) / 1e6:.0f} MB signed zone)")
        os.unlink(out)
    else:
        notes.append("ldns-signzone/ldns-keygen not installed (ldnsutils): skipped")

    # kzonesign
    if shutil.which("kzonesign"):
        kd = os.path.join(ctx.tmp, "sign-kzonesign")
        os.makedirs(os.path.join(kd, "out"), exist_ok=True)
        k = sd.SignedKnot(ctx, zone, 1)
        k.dir = kd
        k.port = servers.free_port()
        k.signing_threads = ncpu
        k.setup()
        # first run: Knot makes its keys (and signs); timed apart; the second run is the figure
        try:
            w1, _, _, _ = timed(ctx, ["kzonesign", "-c", k.conf, "-o", os.path.join(kd, "out"), zone.origin], kd,
                                "kzonesign-1.log", args.sign_timeout)
            wall, cpu, rss, _ = timed(ctx, ["kzonesign", "-c", k.conf, "-o", os.path.join(kd, "out"), zone.origin], kd,
                                      "kzonesign-2.log", args.sign_timeout)
            rows["kzonesign"] = {"wall": wall, "cpu": cpu, "rss": rss, "first": w1, "load": os.getloadavg()[0]}
            order.append("kzonesign")
            ctx.log(f"kzonesign: {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss / 1024:.0f} MB (first run, with key "
                    f"generation: {w1:.1f} s)")
        except RuntimeError as e:
            notes.append(f"kzonesign failed: {str(e)[:300]}")
            ctx.log(f"kzonesign failed: {e}")
        shutil.rmtree(os.path.join(kd, "out"), ignore_errors=True)
    else:
        notes.append("kzonesign not installed (knot-dnssecutils): skipped")

    return render(args, zone, zpath, rows, order, import_s, notes, ncpu)


LABELS = {
    "dnsd": "dnsd: start -> signed zone served",
    "dnsd unsigned": "dnsd, same db unsigned: start -> served",
    "ldns-signzone": "ldns-signzone (1 thread)",
    "kzonesign": "kzonesign (signing-threads = CPUs)",
    "knotd": "knotd: start -> signed zone served",
}


def render(args, zone, zpath, rows, order, import_s, notes, ncpu):
    t = report.Table([("wall s", "s"), ("CPU s", "f1"), ("CPU/wall", "pct0"), ("load avg", "f1"), ("peak RSS", "mb"),
                      ("dnssec enable s", "s"), ("re-sign s", "s"), ("re-sign CPU s", "f1")])
    for k in order:
        r = rows[k]
        t.add(LABELS[k], [r["wall"], r["cpu"], r["cpu"] / r["wall"] * 100 if r["wall"] else None, r.get("load"), r["rss"],
                          r.get("ctl"), r.get("resign"), r.get("resign_cpu")])
    aims = []
    for peer in ("knotd", "kzonesign"):
        if "dnsd" in rows and peer in rows:
            for what, unit in (("wall", "s"), ("cpu", "CPU s")):
                a, b = rows["dnsd"][what], rows[peer][what]
                aims.append(f"signing the big zone no slower than Knot ({peer}, {what}): dnsd {a:.1f} {unit} vs "
                            f"{b:.1f} {unit} = {a / b:.2f}x: {'PASS' if a <= b else 'FAIL'}")
    head = [
        f"zone {zone.origin}: {zone.records:,} records (bench load's generator: A, every 4th name also AAAA), "
        f"{zonegen.file_size_mb(zpath):.0f} MB; ECDSA P-256 KSK + ZSK, NSEC, for every signer; {ncpu} CPUs",
        f"dnsd's import (dnsctl init + zone import, not in the table: the same signed or not): {import_s:.1f} s",
        "dnsd/knotd: from starting the server to a DO=1 answer for the apex SOA and for the zone's last name whose "
        "RRSIG verifies; CPU and peak RSS (VmHWM) of the server process at that point; dnssec enable = `dnsctl dnssec "
        "enable` before the start (key generation); re-sign = `dnsctl record add` "
        "of one name until it is served with a valid RRSIG, and dnsd's CPU for it",
        "ldns-signzone/kzonesign: the tool's run to its end (wall, user+system CPU, ru_maxrss); kzonesign: its second "
        "run (the first makes the keys)" + (f", first run {rows['kzonesign']['first']:.1f} s" if "kzonesign" in rows else ""),
        "load avg: the 1-minute load average when the signer finished; CPU/wall below 200% on this 2-CPU machine means "
        "the signer waited for CPUs taken by other work (other helpers' builds): compare CPU s where the loads differ",
    ] + aims + notes
    text = "== sign: the big zone\n" + "\n".join(head) + "\n\n" + t.text()
    md = "### Signing the big zone\n\n" + "\n".join(f"- {h}" for h in head) + "\n\n" + t.markdown()
    return text, md
