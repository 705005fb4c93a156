"""Benchmark zone and query-file generation (deterministic for a given seed).

The generated zone is small and plain on purpose: the comparison is about the cost of the
answer path, not about exotic data. The query mix covers the main answer shapes an
authoritative server produces: positive answers (A, AAAA, MX with additional data, CNAME
chased inside the zone), NXDOMAIN and NODATA (both with the SOA in authority). Pool names
(issue 4) are static A RRsets for NSD/Knot and pools for dnsd/gdnsd, with the same data.
"""

import os
import random
import subprocess

ORIGIN = "bench.example."

# (kind, weight) of the static mix; the pool mix replaces half of it with pool names.
STATIC_MIX = [
    ("a", 50),
    ("aaaa", 10),
    ("cname", 5),
    ("mx", 5),
    ("nxdomain", 15),
    ("nodata", 15),
]


class Zone:
    """A zone file on disk plus what the bench needs to know about it."""

    def __init__(self, path, origin, hosts, pools=None):
        self.path = path
        self.origin = origin if origin.endswith(".") else origin + "."
        self.hosts = hosts  # owner names (relative) having an A record
        self.pools = pools or {}  # relative owner -> list of member addresses
        # how pool members are checked: None = always up; else a dict with port,
        # interval_ms, timeout_ms, rise, fall (dnsd) and gdnsd_* equivalents
        self.probe = None
        self.records = 0


def host_addr(i):
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def generate(path, hosts=1000, origin=ORIGIN, pools=0, pool_members=2):
    """Writes a zone with `hosts` A names (every 4th also AAAA) and returns a Zone.

    `pools` names pool0..poolN-1 are written as ordinary A RRsets with pool_members
    addresses each; servers with a failover feature replace them by pools.
    """
    lines = [
        f"$ORIGIN {origin}",
        "$TTL 300",
        "@ IN SOA ns1 hostmaster 2024010101 3600 600 864000 300",
        "@ IN NS ns1",
        "@ IN NS ns2",
        "@ IN MX 10 mail",
        "ns1 IN A 127.0.0.1",
        "ns2 IN A 127.0.0.2",
        "mail IN A 10.255.0.1",
        "www IN CNAME h0",
    ]
    count = 10
    for i in range(hosts):
        lines.append(f"h{i} IN A {host_addr(i)}")
        count += 1
        if i % 4 == 0:
            lines.append(f"h{i} IN AAAA 2001:db8::{i >> 16:x}:{i & 0xFFFF:x}")
            count += 1
    pool_map = {}
    for p in range(pools):
        members = [f"10.200.{p % 256}.{m + 1}" for m in range(pool_members)]
        pool_map[f"pool{p}"] = members
        for m in members:
            lines.append(f"pool{p} 30 IN A {m}")
            count += 1
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    z = Zone(path, origin, [f"h{i}" for i in range(hosts)], pool_map)
    z.records = count
    return z


def without_pools(zone, dst, extra_lines=()):
    """Copies the zone file without the static RRsets of its pool names (servers with a
    failover feature serve those names from pools instead), adding extra_lines."""
    with open(zone.path) as f:
        lines = [ln for ln in f if ln.split(" ", 1)[0] not in zone.pools]
    with open(dst, "w") as f:
        f.write("".join(lines) + "".join(x + "\n" for x in extra_lines))
    return dst


def generate_large(path, records, origin=ORIGIN):
    """Streams a zone of about `records` A/AAAA records (zone load benchmark)."""
    with open(path, "w") as f:
        f.write(f"$ORIGIN {origin}\n$TTL 300\n")
        f.write("@ IN SOA ns1 hostmaster 2024010101 3600 600 864000 300\n")
        f.write("@ IN NS ns1\n@ IN NS ns2\nns1 IN A 127.0.0.1\nns2 IN A 127.0.0.2\n")
        n = 4
        i = 0
        while n < records:
            f.write(f"h{i} IN A {host_addr(i)}\n")
            n += 1
            if i % 4 == 0 and n < records:
                f.write(f"h{i} IN AAAA 2001:db8::{i >> 16:x}:{i & 0xFFFF:x}\n")
                n += 1
            i += 1
    z = Zone(path, origin, [])
    z.records = n
    return z


def from_file(path, origin):
    """Reads a user zone through ldns-read-zone to learn its owners and types."""
    origin = origin if origin.endswith(".") else origin + "."
    try:
        out = subprocess.run(
            ["ldns-read-zone", "-o", origin, path], capture_output=True, text=True, check=True
        ).stdout
    except FileNotFoundError:
        raise SystemExit("bench: ldns-read-zone (package ldnsutils) is needed for --zone")
    except subprocess.CalledProcessError as e:
        raise SystemExit(f"bench: {path}: {e.stderr.strip()}")
    types = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and not line.startswith(";"):
            types.setdefault(parts[0].lower(), set()).add(parts[3].upper())
    z = Zone(path, origin, [])
    z.types = types
    z.records = sum(1 for line in out.splitlines() if line and not line.startswith(";"))
    return z


def write_queries(path, zone, count=20000, seed=1, pool_share=0.0):
    """Writes a dnsperf query file ("name TYPE" per line) in a shuffled, seeded order.

    Returns {kind: share} of what was written, for the report.
    """
    rnd = random.Random(seed)
    o = zone.origin
    lines = []
    kinds = {}
    if hasattr(zone, "types"):  # user zone: derive from its contents
        pairs = [(n, t) for n, ts in zone.types.items() for t in ts if t in ("A", "AAAA", "MX", "CNAME", "TXT", "NS")]
        owners = list(zone.types)
        if not pairs:
            raise SystemExit(f"bench: {zone.path}: no A/AAAA/MX/CNAME/TXT/NS records to query")
        for _ in range(count):
            r = rnd.random()
            if r < 0.70:
                n, t = rnd.choice(pairs)
                kind = "exists"
            elif r < 0.85:
                n, t, kind = f"nx{rnd.randrange(1 << 30)}.{o}", "A", "nxdomain"
                # (a wildcard in the zone would make these positive answers; that is fine)
            else:
                n = rnd.choice(owners)
                free = [t for t in ("TXT", "SRV", "CAA", "AAAA") if t not in zone.types[n]]
                t, kind = (free[0] if free else "NULL"), "nodata"
            lines.append(f"{n} {t}")
            kinds[kind] = kinds.get(kind, 0) + 1
    else:
        hosts = zone.hosts
        pools = sorted(zone.pools)
        mix = list(STATIC_MIX)
        total = sum(w for _, w in mix)
        for _ in range(count):
            if pools and rnd.random() < pool_share:
                kind = "pool"
            else:
                r = rnd.uniform(0, total)
                for kind, w in mix:
                    r -= w
                    if r <= 0:
                        break
            if kind == "a":
                q = f"{rnd.choice(hosts)}.{o} A"
            elif kind == "aaaa":
                i = rnd.randrange(0, len(hosts), 4)
                q = f"{hosts[i]}.{o} AAAA"
            elif kind == "cname":
                q = f"www.{o} A"
            elif kind == "mx":
                q = f"{o} MX"
            elif kind == "nxdomain":
                q = f"nx{rnd.randrange(1 << 30)}.{o} A"
            elif kind == "nodata":
                q = f"{rnd.choice(hosts)}.{o} TXT"
            else:
                q = f"{rnd.choice(pools)}.{o} A"
            lines.append(q)
            kinds[kind] = kinds.get(kind, 0) + 1
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return {k: v / count for k, v in sorted(kinds.items())}


def expected_rcodes(shares):
    """NOERROR/NXDOMAIN shares a correct server returns for a generated mix."""
    nx = shares.get("nxdomain", 0.0)
    return {"NOERROR": 1.0 - nx, "NXDOMAIN": nx}


def file_size_mb(path):
    return os.path.getsize(path) / 1e6
