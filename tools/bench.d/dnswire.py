"""Minimal DNS wire client for the benchmark's own checks (readiness, failover polling).

Only what the bench needs: one UDP query, rcode/flags, and the A/AAAA/CNAME data in the
answer section. dnsperf does the load; this never sends more than a few queries per second
per server, and only to 127.0.0.1.
"""

import os
import socket
import struct
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def skip_name(msg, pos):
    while True:
        if pos >= len(msg):
            raise ValueError("truncated name")
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            return pos + 2
        if n == 0:
            return pos + 1
        pos += 1 + n


def read_name(msg, pos, depth=0):
    labels = []
    while True:
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            if depth > 20:
                raise ValueError("compression loop")
            ptr = struct.unpack_from("!H", msg, pos)[0] & 0x3FFF
            labels.append(read_name(msg, ptr, depth + 1))
            break
        if n == 0:
            break
        labels.append(msg[pos + 1 : pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    return ".".join(x for x in labels if x)


class Answer:
    def __init__(self, rcode, aa, tc, records, ttl=None):
        self.rcode = rcode
        self.aa = aa
        self.tc = tc
        self.records = records  # list of (type_number, text)
        self.ttl = ttl  # smallest TTL in the answer section (None when it is empty)

    def values(self, rtype):
        return sorted(v for t, v in self.records if t == rtype)


def parse(msg, qid):
    if len(msg) < 12:
        raise ValueError("short response")
    rid, flags, qd, an, _ns, _ar = struct.unpack_from("!HHHHHH", msg, 0)
    if rid != qid or not flags & 0x8000:
        raise ValueError("not our response")
    pos = 12
    for _ in range(qd):
        pos = skip_name(msg, pos) + 4
    records = []
    min_ttl = None
    for _ in range(an):
        pos = skip_name(msg, pos)
        rtype, _cls, ttl, rdlen = struct.unpack_from("!HHIH", msg, pos)
        min_ttl = ttl if min_ttl is None else min(min_ttl, ttl)
        pos += 10
        rdata = msg[pos : pos + rdlen]
        if rtype == 1 and rdlen == 4:
            records.append((1, socket.inet_ntop(socket.AF_INET, rdata)))
        elif rtype == 28 and rdlen == 16:
            records.append((28, socket.inet_ntop(socket.AF_INET6, rdata)))
        elif rtype == 5:
            records.append((5, read_name(msg, pos)))
        else:
            records.append((rtype, rdata.hex()))
        pos += rdlen
    return Answer(flags & 0xF, bool(flags & 0x0400), bool(flags & 0x0200), records, min_ttl)


def query(port, name, rtype="A", timeout=0.5, host="127.0.0.1", rd=False):
    """One UDP query to host:port; returns Answer or None on timeout/garbage.

    rd=True asks for recursion (for a resolver; authoritative servers get RD clear)."""
    assert host.startswith("127."), "the benchmark only talks to loopback"
    qid = struct.unpack("!H", os.urandom(2))[0]
    msg = struct.pack("!HHHHHH", qid, 0x0100 if rd else 0, 1, 0, 0, 0)
    msg += encode_name(name) + struct.pack("!HH", TYPES.get(rtype, rtype), 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(msg, (host, port))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                data, _ = s.recvfrom(65535)
                try:
                    return parse(data, qid)
                except (ValueError, IndexError, struct.error):
                    continue
        except (socket.timeout, OSError):
            return None
    return None


def wait_authoritative(port, origin, deadline_s, alive=lambda: True, failed=lambda: None):
    """Polls SOA at the apex until an authoritative NOERROR arrives (zone loaded).

    failed() returns a reason when the server has given up on the zone (read from its
    log), so a broken zone fails at once instead of after the whole deadline.
    """
    end = time.monotonic() + deadline_s
    last = "no response"
    while time.monotonic() < end:
        if not alive():
            return False, "process exited"
        why = failed()
        if why:
            return False, why
        a = query(port, origin, "SOA", timeout=0.2)
        if a is not None:
            if a.rcode == 0 and a.aa and a.values(6):
                return True, ""
            last = f"rcode {a.rcode}, aa={a.aa}"
        time.sleep(0.05)
    return False, f"no authoritative SOA for {origin} within {deadline_s:.0f}s ({last})"
