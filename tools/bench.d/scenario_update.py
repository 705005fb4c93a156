"""update: RFC 2136 UPDATE throughput and update -> served time (issue 14).

Each server alone, on the same generated zone (--records, default 1,000,000) with a TSIG key
allowed to change TXT records under _acme-challenge:
  dnsd   dnsctl tsig add + update-policy add ZONE --key bench --name '_acme-challenge.*' --type TXT
  Knot   key + acl (action update) on the zone, journal-content changes, zonefile-sync -1
  BIND   key + update-policy { grant bench. subdomain ZONE TXT; } (BIND's wildcard rule cannot
         say "_acme-challenge and anything below the zone before it")
Then:
  updates/s  --pairs iterations of one TXT add then one TXT delete (each its own UPDATE,
             hmac-sha256 signed), --window UPDATEs in flight over UDP from one socket;
             UPDATEs answered NOERROR per second (2 per pair), and the share not NOERROR.
  served     --samples times: send one UPDATE adding a new TXT, then ask for it over UDP
             every millisecond until it is answered; the time from sending the UPDATE to
             its NOERROR (answered, median) and to that answer (served: median, p99).
             dnsd's aim: served within 100 ms.
The TSIG signing here is RFC 8945 written out with hmac/hashlib (responses are not
verified: only their RCODE is counted).
"""

import base64
import hashlib
import hmac
import os
import random
import select
import shutil
import signal
import socket
import struct
import time

import bench
import dnswire
import report
import servers
import zonegen

NAME = "update"
HELP = "RFC 2136 UPDATE: updates/s (TXT add+delete, TSIG) and update -> served, dnsd vs Knot and BIND"

KEY = "bench."
SECRET = base64.b64encode(b"dnsd-bench-update-secret-32bytes").decode()


def options(p):
    p.set_defaults(servers="dnsd,knot,bind")
    p.add_argument("--records", type=int, default=1000000, help="records in the zone (default %(default)s)")
    p.add_argument("--pairs", type=int, default=2000, help="TXT add+delete pairs for the rate (default %(default)s)")
    p.add_argument("--window", type=int, default=16, help="UPDATEs in flight (default %(default)s)")
    p.add_argument("--samples", type=int, default=200, help="update -> served samples (default %(default)s)")
    p.add_argument("--timeout", type=int, default=900, help="seconds a server may take to load (default %(default)s)")


# --- RFC 2136 messages with RFC 8945 TSIG -------------------------------------------------

def rr(owner, rtype, rclass, ttl, rdata):
    return dnswire.encode_name(owner) + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def txt(s):
    b = s.encode()
    return bytes([len(b)]) + b


def sign(msg, qid):
    """Appends a TSIG (hmac-sha256, this key, now) to an unsigned request."""
    key = base64.b64decode(SECRET)
    alg = dnswire.encode_name("hmac-sha256.")
    name = dnswire.encode_name(KEY)
    now = int(time.time())
    timers = struct.pack("!HIH", now >> 32, now & 0xFFFFFFFF, 300)
    variables = name + struct.pack("!HI", 255, 0) + alg + timers + struct.pack("!HH", 0, 0)
    mac = hmac.new(key, msg + variables, hashlib.sha256).digest()
    rdata = alg + timers + struct.pack("!H", len(mac)) + mac + struct.pack("!HHH", qid, 0, 0)
    ar = struct.unpack_from("!H", msg, 10)[0] + 1
    return msg[:10] + struct.pack("!H", ar) + msg[12:] + name + struct.pack("!HHIH", 250, 255, 0, len(rdata)) + rdata


def update_msg(qid, zone, updates):
    head = struct.pack("!HHHHHH", qid, 5 << 11, 1, 0, len(updates), 0)
    return sign(head + dnswire.encode_name(zone) + struct.pack("!HH", 6, 1) + b"".join(updates), qid)


def add_txt(name, value):
    return rr(name, 16, 1, 60, txt(value))


def del_txt(name, value):
    return rr(name, 16, 254, 0, txt(value))


class Updater:
    """One UDP socket; UPDATEs with distinct IDs, a window of them in flight."""

    def __init__(self, port):
        self.addr = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.next_id = random.randrange(65536)

    def qid(self):
        self.next_id = (self.next_id + 1) & 0xFFFF
        return self.next_id

    def run(self, messages, window, timeout=2.0):
        """Sends each (build) in order with `window` outstanding; returns (rcodes, lost, seconds)."""
        rcodes, lost = {}, 0
        pending = {}  # id -> sent at
        it = iter(messages)
        done = False
        t0 = time.monotonic()
        while not done or pending:
            while not done and len(pending) < window:
                build = next(it, None)
                if build is None:
                    done = True
                    break
                q = self.qid()
                self.sock.sendto(build(q), self.addr)
                pending[q] = time.monotonic()
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if r:
                data = self.sock.recv(65535)
                if len(data) >= 4:
                    q = struct.unpack_from("!H", data)[0]
                    if pending.pop(q, None) is not None:
                        rc = data[3] & 15
                        rcodes[rc] = rcodes.get(rc, 0) + 1
            now = time.monotonic()
            for q in [q for q, at in pending.items() if now - at > timeout]:
                del pending[q]
                lost += 1
        return rcodes, lost, time.monotonic() - t0

    def one(self, build, timeout=2.0):
        rcodes, lost, _ = self.run([build], 1, timeout)
        return next(iter(rcodes), None)


# --- servers --------------------------------------------------------------------------------

class UpdDnsd(servers.Dnsd):
    def prepare(self):
        fresh = not os.path.exists(os.path.join(self.dir, "dnsd.db"))
        super().prepare()
        if fresh:
            self.dnsctl("tsig", "add", KEY, "--secret", SECRET)
            self.dnsctl("update-policy", "add", self.zone.origin, "--key", KEY, "--name", "_acme-challenge.*",
                        "--type", "TXT")

    def command(self):
        return super().command() + ["--http", "none"]


class UpdKnot(servers.Knot):
    def setup(self):
        super().setup()
        with open(self.conf) as f:
            text = f.read()
        text = text.replace("journal-content: none", "journal-content: changes")
        text = (f"key:\n  - id: {KEY}\n    algorithm: hmac-sha256\n    secret: {SECRET}\n"
                f"acl:\n  - id: update\n    key: {KEY}\n    action: update\n" + text)
        text = text.replace(f'  - domain: "{self.zone.origin}"\n', f'  - domain: "{self.zone.origin}"\n    acl: update\n')
        with open(self.conf, "w") as f:
            f.write(text)


class Bind(servers.Server):
    key = "bind"
    title = "BIND"

    def missing(self):
        return None if shutil.which("named") else "named not installed (apt-get install bind9)"

    def version(self):
        return servers._first_line(["named", "-v"])

    def worker_desc(self):
        return "-n 1"

    def setup(self):
        d = self.dir
        zf = self.copy_zone("zone")
        self.conf = os.path.join(d, "named.conf")
        o = self.zone.origin
        with open(self.conf, "w") as f:
            f.write(f'''options {{
    directory "{d}";
    listen-on port {self.port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    managed-keys-directory "{d}";
    recursion no;
    dnssec-validation no;
    notify no;
    rate-limit {{ responses-per-second 0; }};
}};
controls {{ }};
key "{KEY}" {{ algorithm hmac-sha256; secret "{SECRET}"; }};
zone "{o}" {{
    type primary;
    file "{zf}";
    update-policy {{ grant {KEY} subdomain {o} TXT; }};
}};
''')

    def command(self):
        return ["named", "-g", "-n", "1", "-c", self.conf]


CLASSES = {"dnsd": UpdDnsd, "knot": UpdKnot, "bind": Bind}


# --- the measurements -------------------------------------------------------------------------

def rate(s, zone, args):
    u = Updater(s.port)
    msgs = []
    for i in range(args.pairs):
        name = f"_acme-challenge.r{i}.{zone.origin}"
        value = f"token-{i}"
        msgs.append(lambda q, n=name, v=value: update_msg(q, zone.origin, [add_txt(n, v)]))
        msgs.append(lambda q, n=name, v=value: update_msg(q, zone.origin, [del_txt(n, v)]))
    rcodes, lost, seconds = u.run(msgs, args.window)
    ok = rcodes.get(0, 0)
    total = len(msgs)
    return ok / seconds, (total - ok) / total * 100, rcodes, lost


def served(s, zone, args):
    """(ms from sending to the NOERROR answer, ms from sending to the record being served)."""
    u = Updater(s.port)
    answered, times = [], []
    for i in range(args.samples):
        name = f"_acme-challenge.s{i}.{zone.origin}"
        t0 = time.monotonic()
        rc = u.one(lambda q: update_msg(q, zone.origin, [add_txt(name, "served")]))
        if rc != 0:
            continue
        answered.append((time.monotonic() - t0) * 1000)
        deadline = t0 + 10
        while time.monotonic() < deadline:
            a = dnswire.query(s.port, name, "TXT", timeout=0.2)
            if a is not None and a.rcode == 0 and a.records:
                times.append((time.monotonic() - t0) * 1000)
                break
            time.sleep(0.001)
    return answered, times


def run(ctx):
    args = ctx.args
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    if "dnsd" in names:
        bench.ensure_dnsd(ctx)
    zpath = os.path.join(ctx.tmp, "large.zone")
    zone = zonegen.generate_large(zpath, args.records)
    ctx.log(f"generated {zone.origin} with {zone.records:,} records ({zonegen.file_size_mb(zpath):.0f} MB)")
    server_cpu, _ = bench.pinning(args)
    signal.alarm(int(len(names) * (args.timeout + 600) + 300))
    t = report.Table([("updates/s", "int"), ("not NOERROR", "pct0"), ("answered median ms", "f1"),
                      ("served median ms", "f1"),
                      ("served p99 ms", "f1"), ("load s", "s")])
    lines, versions = [], []
    for key in names:
        cls = CLASSES.get(key)
        if cls is None:
            raise SystemExit(f"bench: unknown server '{key}' (dnsd, knot, bind)")
        s = cls(ctx, zone, 1)
        why = s.missing()
        if why:
            ctx.log(f"SKIP {s.title}: {why}")
            continue
        t0 = time.monotonic()
        s.start(cpu=server_cpu, ready_timeout=args.timeout)
        load = time.monotonic() - t0
        ctx.log(f"{s.title}: serving after {load:.1f} s")
        per_s, bad, rcodes, lost = rate(s, zone, args)
        ctx.log(f"{s.title}: {per_s:,.0f} UPDATEs/s answered NOERROR, rcodes {rcodes}, {lost} lost")
        answered, times = served(s, zone, args)
        med, p99 = report.median(times), report.percentile(times, 99)
        ans = report.median(answered)
        ctx.log(f"{s.title}: update -> answered median {ans or 0:.1f} ms, -> served median {med or 0:.1f} ms,"
                f" p99 {p99 or 0:.1f} ms ({len(times)} samples)")
        t.add(s.title, [per_s, bad, ans, med, p99, load])
        versions.append(f"{s.title}: {s.version()}")
        s.stop()
    load1 = os.getloadavg()[0]
    head = [
        f"dnsd benchmark (RFC 2136 UPDATE), {time.strftime('%Y-%m-%d %H:%M:%S')}, load average {load1:.1f} at the end",
        f"command: tools/bench {' '.join(os.sys.argv[1:])}",
        f"zone: {zone.origin} {zone.records:,} records; key {KEY} hmac-sha256, may change TXT at _acme-challenge.*",
        f"updates/s: {args.pairs} pairs of one TXT add + one TXT delete, each its own signed UPDATE, {args.window} in flight over UDP",
        f"served: {args.samples} times an UPDATE adding a TXT, then a query every ms until it is answered; answered = the"
        " UPDATE's NOERROR, served = the record in an answer, both from sending the UPDATE",
        "servers: " + "; ".join(versions),
    ]
    text = "\n".join(head) + "\n\n" + t.text()
    print("\n" + text)
    if args.out:
        with open(args.out, "w") as f:
            f.write("## dnsd benchmark: RFC 2136 UPDATE\n\n" + "\n".join(f"- {h}" for h in head) + "\n\n" + t.markdown() + "\n")
        ctx.log(f"\nmarkdown written to {args.out}")
