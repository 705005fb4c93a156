"""kxdpgun (Knot DNS, AF_XDP) runs from the load namespace, with server and machine CPU.

kxdpgun reads "name TYPE [flag]" lines (flag E: EDNS, D: EDNS with DO=1), which is the
dnsperf query format plus the flag, so the generated query files serve both tools. It
sends for exactly -t seconds at about -Q q/s and counts replies (it does not match them
to queries). One thread per queue of the interface: the bench's veth has one queue, so
one thread, pinned with -F to the client CPU.
"""

import os
import time
import re
import subprocess

import measure


def machine_busy():
    """(busy, total) jiffies of the whole machine from /proc/stat's cpu line."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
    total = sum(v[:8])  # guest time is already inside user
    return total - idle, total


class KxResult:
    def __init__(self):
        self.target = 0  # -Q
        self.seconds = 0.0
        self.sent = self.answered = 0
        self.rcodes = {}
        self.server_cpu = self.server_user = self.server_sys = 0.0
        self.machine_cpu = 0.0  # busy CPU-seconds of the whole machine over the run
        self.gen_cpu = 0.0  # kxdpgun's own utime+stime
        self.cmd = []

    @property
    def offered(self):
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def qps(self):
        """Answered per second."""
        return self.answered / self.seconds if self.seconds else 0.0

    def answered_share(self):
        return self.answered / self.sent if self.sent else None

    def per_answer(self, cpu_s):
        return cpu_s * 1e6 / self.answered if self.answered else None


def parse(text):
    r = KxResult()
    m = re.search(r"total queries:\s+(\d+)", text)
    if not m:
        raise RuntimeError("kxdpgun printed no statistics:\n" + text[-2000:])
    r.sent = int(m.group(1))
    m = re.search(r"total replies:\s+(\d+)", text)
    r.answered = int(m.group(1)) if m else 0
    for code, n in re.findall(r"responded (\S+):\s+(\d+)", text):
        r.rcodes[code] = int(n)
    return r


class Kxdpgun:
    def __init__(self, ns, cpu=None, batch=None, workdir="/tmp"):
        self.ns = ns  # netns.NsPair
        self.cpu = cpu
        self.batch = batch
        self.workdir = workdir
        self.runs = 0

    def command(self, port, qfile, seconds, rate):
        ns = self.ns
        cmd = ["kxdpgun", "-t", str(seconds), "-Q", str(rate), "-p", str(port), "-i", qfile,
               "-I", ns.gen_dev, "-l", "127.202.0.2", "-L", ns.gen_mac, "-R", ns.srv_mac]
        if self.cpu is not None:
            cmd += ["-F", str(self.cpu)]
        if self.batch:
            cmd += ["-b", str(self.batch)]
        return ns.gen_command(cmd + ["127.0.0.1"])

    def run(self, port, qfile, seconds, rate, cpu_of=None, register=None):
        # The kernel frees the previous run's AF_XDP socket asynchronously; when it has not
        # yet, binding the queue again fails with EBUSY (seen right after a run against
        # dnsd-xdp, whose program sits on the peer). Waiting a moment is enough.
        for attempt in range(10):
            try:
                return self._run(port, qfile, seconds, rate, cpu_of, register)
            except Busy:
                time.sleep(0.5)
        return self._run(port, qfile, seconds, rate, cpu_of, register)

    def _run(self, port, qfile, seconds, rate, cpu_of, register):
        self.runs += 1
        cmd = self.command(port, qfile, seconds, rate)
        out_path = os.path.join(self.workdir, f"kxdpgun-{self.runs}.out")
        before = measure.cpu_sample(cpu_of) if cpu_of else None
        m0 = machine_busy()
        with open(out_path, "w") as out:
            p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            if register:
                register(p)
            # `ip netns exec` execs kxdpgun in place: wait4 on this pid is kxdpgun's rusage
            try:
                _, status, ru = _wait4(p, seconds + 30)
            except TimeoutError:
                p.kill()
                p.wait()
                raise RuntimeError(f"kxdpgun did not stop: {' '.join(cmd)}")
        m1 = machine_busy()
        after = measure.cpu_sample(cpu_of) if cpu_of else None
        with open(out_path) as f:
            text = f.read()
        if "resource is busy" in text and "total replies" not in text:
            raise Busy(text)
        if status != 0:
            raise RuntimeError(f"kxdpgun failed (status {status}): {' '.join(cmd)}\n{text[-1500:]}")
        r = parse(text)
        r.cmd, r.target, r.seconds = cmd, rate, float(seconds)
        r.gen_cpu = ru.ru_utime + ru.ru_stime
        r.machine_cpu = (m1[0] - m0[0]) / measure.CLK_TCK
        if before and after:
            r.server_cpu = measure.cpu_seconds(before, after)
            r.server_user = (after.user - before.user) / measure.CLK_TCK
            r.server_sys = (after.sys - before.sys) / measure.CLK_TCK
        return r


class Busy(RuntimeError):
    pass


def _wait4(p, timeout):
    """os.wait4 with a deadline (polling: Popen.wait would reap without the rusage)."""
    import time

    end = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return pid, p.returncode, ru
        if time.monotonic() > end:
            raise TimeoutError
        time.sleep(0.05)
