"""DO=1 queries and RRSIG checks for `bench dnssec` (Python standard library only).

dnswire.py reads the answer section of plain queries; the DNSSEC bench also needs EDNS with
the DO bit, every section, and a check that an RRSIG really signs what was served: the
decision bench counts an answer as served only when its RRSIG verifies against the zone's
DNSKEY. The check follows RFC 4034 3.1.8.1 (signed data = RRSIG RDATA without the signature,
then the RRset in canonical form and order) and verifies ECDSA P-256 with SHA-256
(algorithm 13, dnsd's default) with plain integer arithmetic: slow (some ms per signature),
so the bench keeps the raw answers while it times and verifies them afterwards.
Other algorithms are reported as "not checked", never as valid.
"""

import hashlib
import os
import socket
import struct
import time

import dnswire

T_A, T_NS, T_CNAME, T_SOA, T_MX, T_RRSIG, T_NSEC, T_DNSKEY = 1, 2, 5, 6, 15, 46, 47, 48
TYPES = dict(dnswire.TYPES, RRSIG=T_RRSIG, NSEC=T_NSEC, DNSKEY=T_DNSKEY)
# types whose RDATA holds names a server may compress (RFC 3597 4): decompressed on parse
_NAME_RDATA = {T_NS: "n", T_CNAME: "n", 12: "n", T_SOA: "nn", T_MX: "2n"}


def _read_wire_name(msg, pos, depth=0):
    """(uncompressed wire name in lower case, position after the name in msg)."""
    out = b""
    end = None
    while True:
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            if depth > 30:
                raise ValueError("compression loop")
            if end is None:
                end = pos + 2
            pos = struct.unpack_from("!H", msg, pos)[0] & 0x3FFF
            depth += 1
            continue
        if n == 0:
            return out + b"\0", (end if end is not None else pos + 1)
        out += bytes([n]) + msg[pos + 1 : pos + 1 + n].lower()
        pos += 1 + n


def name_text(wire):
    labels, pos = [], 0
    while wire[pos]:
        labels.append(wire[pos + 1 : pos + 1 + wire[pos]].decode("ascii", "replace"))
        pos += 1 + wire[pos]
    return ".".join(labels) + "."


class RR:
    __slots__ = ("owner", "type", "cls", "ttl", "rdata")

    def __init__(self, owner, rtype, cls, ttl, rdata):
        self.owner, self.type, self.cls, self.ttl, self.rdata = owner, rtype, cls, ttl, rdata

    def covered(self):
        return struct.unpack_from("!H", self.rdata, 0)[0] if self.type == T_RRSIG else None


class Message:
    def __init__(self, raw, rcode, flags, sections, do):
        self.raw = raw
        self.rcode = rcode
        self.flags = flags
        self.sections = sections  # [answer, authority, additional], lists of RR (OPT left out)
        self.do = do  # the DO bit of the response's OPT

    @property
    def answer(self):
        return self.sections[0]

    def a_set(self):
        return frozenset(socket.inet_ntoa(r.rdata) for r in self.answer if r.type == T_A and len(r.rdata) == 4)

    def count(self, rtype, section=None):
        secs = self.sections if section is None else [self.sections[section]]
        return sum(1 for s in secs for r in s if r.type == rtype)


def parse(raw, qid=None):
    rid, flags, qd, an, ns, ar = struct.unpack_from("!HHHHHH", raw, 0)
    if (qid is not None and rid != qid) or not flags & 0x8000:
        raise ValueError("not our response")
    pos = 12
    for _ in range(qd):
        pos = dnswire.skip_name(raw, pos) + 4
    sections, do = [], False
    for count in (an, ns, ar):
        rrs = []
        for _ in range(count):
            owner, pos = _read_wire_name(raw, pos)
            rtype, cls, ttl, rdlen = struct.unpack_from("!HHIH", raw, pos)
            pos += 10
            rdata = raw[pos : pos + rdlen]
            if rtype == 41:  # OPT: the DO bit is the top bit of the TTL's flags half
                do = bool(ttl & 0x8000)
            else:
                if rtype in _NAME_RDATA:
                    rdata = _canonical_rdata(raw, pos, rdlen, _NAME_RDATA[rtype])
                rrs.append(RR(owner, rtype, cls, ttl, rdata))
            pos += rdlen
        sections.append(rrs)
    return Message(raw, flags & 0xF, flags, sections, do)


def _canonical_rdata(msg, pos, rdlen, shape):
    out, p, end = b"", pos, pos + rdlen
    for part in shape:
        if part == "n":
            name, p = _read_wire_name(msg, p)
            out += name
        else:
            out += msg[p : p + int(part)]
            p += int(part)
    return out + msg[p:end]


def query(port, name, rtype="A", do=True, timeout=0.5, host="127.0.0.1", bufsize=4096, sock=None):
    """One UDP query with EDNS (DO as asked); Message or None on timeout/garbage."""
    assert host.startswith("127."), "the benchmark only talks to loopback"
    qid = struct.unpack("!H", os.urandom(2))[0]
    msg = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 1)
    msg += dnswire.encode_name(name) + struct.pack("!HH", TYPES.get(rtype, rtype), 1)
    msg += b"\0" + struct.pack("!HHIH", 41, bufsize, 0x8000 if do else 0, 0)
    own = sock is None
    s = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
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
    finally:
        if own:
            s.close()
    return None


# --- keys and signatures -------------------------------------------------------------------

def key_tag(rdata):
    """RFC 4034 appendix B."""
    ac = 0
    for i, b in enumerate(rdata):
        ac += b if i & 1 else b << 8
    ac += (ac >> 16) & 0xFFFF
    return ac & 0xFFFF


def dnskeys(port, origin):
    """{tag: (algorithm, public key bytes)} of the zone's DNSKEY RRset as served."""
    m = query(port, origin, "DNSKEY", timeout=2.0)
    if m is None:
        return {}
    return {key_tag(r.rdata): (r.rdata[3], r.rdata[4:]) for r in m.answer if r.type == T_DNSKEY}


def _labels(wire):
    n, pos = 0, 0
    while wire[pos]:
        n += 1
        pos += 1 + wire[pos]
    return n


def signed_data(rrsig, rrset):
    """RFC 4034 3.1.8.1: what the signature covers (names are already lower case)."""
    rd = rrsig.rdata
    labels, orig_ttl = rd[3], struct.unpack_from("!I", rd, 4)[0]
    signer, sig_at = _read_wire_name(rd, 18)
    head = rd[:18] + signer
    owner = rrset[0].owner
    if _labels(owner) > labels:  # wildcard expansion: sign over "*." + the rightmost labels
        pos = 0
        for _ in range(_labels(owner) - labels):
            pos += 1 + owner[pos]
        owner = b"\x01*" + owner[pos:]
    rtype, cls = rrset[0].type, rrset[0].cls
    body = b"".join(owner + struct.pack("!HHIH", rtype, cls, orig_ttl, len(r)) + r
                    for r in sorted({r.rdata for r in rrset}))
    return head + body, rd[sig_at:]


def verify(rrsig, rrset, keys, now=None):
    """(True, "") when rrsig is a valid signature of rrset by one of keys ({tag: (alg, pub)}),
    in its validity window; else (False, why) or (None, why) for an algorithm not checked."""
    rd = rrsig.rdata
    covered, alg = struct.unpack_from("!HB", rd, 0)
    if covered != rrset[0].type:
        return False, f"RRSIG covers type {covered}, not {rrset[0].type}"
    expiration, inception, tag = struct.unpack_from("!IIH", rd, 8)
    now = int(time.time()) if now is None else now
    if not inception <= now <= expiration:
        return False, f"outside its validity window ({inception}..{expiration}, now {now})"
    if tag not in keys or keys[tag][0] != alg:
        return False, f"key tag {tag} (algorithm {alg}) is not in the DNSKEY RRset"
    data, sig = signed_data(rrsig, rrset)
    if alg != 13:
        return None, f"algorithm {alg} not checked by the bench"
    ok = _p256_verify(keys[tag][1], hashlib.sha256(data).digest(), sig)
    return (True, "") if ok else (False, "ECDSA P-256 signature does not verify")


def check_answer(msg, keys):
    """(ok, why) for the answer section of msg: every RRset is covered by a valid RRSIG."""
    sets = {}
    sigs = []
    for r in msg.answer:
        if r.type == T_RRSIG:
            sigs.append(r)
        else:
            sets.setdefault((r.owner, r.type), []).append(r)
    if not sets:
        return False, "empty answer"
    for (owner, rtype), rrset in sets.items():
        mine = [s for s in sigs if s.owner == owner and s.covered() == rtype]
        if not mine:
            return False, f"no RRSIG over {name_text(owner)} type {rtype}"
        results = [verify(s, rrset, keys) for s in mine]
        if not any(ok for ok, _ in results):
            return results[0]
    return True, ""


# --- ECDSA P-256 (FIPS 186-4), verification only --------------------------------------------

_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_A = _P - 3
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
      0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def _jadd(p, q):
    """Point addition in Jacobian coordinates; None is the point at infinity."""
    if p is None:
        return q
    if q is None:
        return p
    x1, y1, z1 = p
    x2, y2, z2 = q
    z1s, z2s = z1 * z1 % _P, z2 * z2 % _P
    u1, u2 = x1 * z2s % _P, x2 * z1s % _P
    s1, s2 = y1 * z2s * z2 % _P, y2 * z1s * z1 % _P
    if u1 == u2:
        return _jdouble(p) if s1 == s2 else None
    h, r = (u2 - u1) % _P, (s2 - s1) % _P
    h2 = h * h % _P
    h3 = h2 * h % _P
    x3 = (r * r - h3 - 2 * u1 * h2) % _P
    return x3, (r * (u1 * h2 - x3) - s1 * h3) % _P, h * z1 * z2 % _P


def _jdouble(p):
    if p is None:
        return None
    x, y, z = p
    if y == 0:
        return None
    y2 = y * y % _P
    s = 4 * x * y2 % _P
    z2 = z * z % _P
    m = (3 * x * x + _A * z2 * z2) % _P
    x3 = (m * m - 2 * s) % _P
    return x3, (m * (s - x3) - 8 * y2 * y2) % _P, 2 * y * z % _P


def _jmul(k, point):
    acc, add = None, (point[0], point[1], 1)
    while k:
        if k & 1:
            acc = _jadd(acc, add)
        add = _jdouble(add)
        k >>= 1
    return acc


def _p256_verify(pub, digest, sig):
    if len(pub) != 64 or len(sig) != 64:
        return False
    q = (int.from_bytes(pub[:32], "big"), int.from_bytes(pub[32:], "big"))
    if (q[1] * q[1] - q[0] ** 3 - _A * q[0] - _B) % _P:
        return False  # not on the curve
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not (0 < r < _N and 0 < s < _N):
        return False
    e = int.from_bytes(digest, "big")
    w = pow(s, -1, _N)
    pt = _jadd(_jmul(e * w % _N, _G), _jmul(r * w % _N, q))
    if pt is None:
        return False
    x, _, z = pt
    zi = pow(z, -1, _P)
    return x * zi * zi % _P % _N == r
