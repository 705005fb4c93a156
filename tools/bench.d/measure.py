"""Measurement primitives: server CPU from /proc, dnsperf runs and their parsed results.

CPU time: utime+stime from /proc/PID/stat, which for a process covers all of its threads
(live and exited). A server is the process tree under the pid we started (NSD forks a
main, an xfrd and server children), so the tree is summed; children that exit during a
measurement would lose their share, which does not happen in a steady-state benchmark.
Resolution is one clock tick (normally 10 ms), small against the seconds of CPU a run
accumulates; the report prints the tick.
"""

import os
import re
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # comm may contain spaces and parentheses: split after the last ')'
    rest = data[data.rindex(")") + 2 :].split()
    return rest  # rest[0] is field 3 (state)


def tree(root):
    """Pids of root and all its descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            ppid = int(_stat(d)[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


class CpuSample:
    def __init__(self, ticks, procs, threads, at, user=0, sys=0):
        self.ticks = ticks
        self.procs = procs
        self.threads = threads
        self.at = at
        self.user = user  # utime ticks (the server's own code, libc)
        self.sys = sys  # stime ticks (system calls, and the softirqs run inside them)


def cpu_sample(root):
    """utime+stime (ticks) summed over the process tree, with process/thread counts."""
    user = sys_ = procs = threads = 0
    for pid in tree(root):
        try:
            f = _stat(pid)
        except (OSError, ValueError):
            continue
        user += int(f[11])  # field 14 utime
        sys_ += int(f[12])  # field 15 stime
        threads += int(f[17])  # field 20 num_threads
        procs += 1
    return CpuSample(user + sys_, procs, threads, time.monotonic(), user, sys_)


def cpu_seconds(a, b):
    return (b.ticks - a.ticks) / CLK_TCK


def peak_rss_kb(root):
    """VmHWM summed over the tree (peak resident set of each process)."""
    total = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def rss_kb(root):
    total = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class DnsperfResult:
    def __init__(self):
        self.sent = self.completed = self.lost = 0
        self.qps = 0.0
        self.runtime = 0.0
        self.rcodes = {}
        self.avg_latency = None
        self.latencies = []  # seconds, answered queries only (-v runs)
        self.server_cpu = 0.0  # seconds, filled by the caller
        self.server_user = 0.0  # the user-mode part of server_cpu
        self.server_sys = 0.0  # the kernel-mode part
        self.cmd = []

    def percentile(self, p):
        if not self.latencies:
            return None
        s = self.latencies
        k = min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))
        return s[k]

    def cpu_us_per_query(self):
        return self.server_cpu * 1e6 / self.completed if self.completed else None

    def user_us_per_query(self):
        return self.server_user * 1e6 / self.completed if self.completed else None

    def sys_us_per_query(self):
        return self.server_sys * 1e6 / self.completed if self.completed else None


_NUM = r"([0-9.]+)"


def parse_dnsperf(text, verbose_file=None):
    r = DnsperfResult()
    m = re.search(r"Queries sent:\s+(\d+)", text)
    if not m:
        raise RuntimeError("dnsperf printed no statistics:\n" + text[-2000:])
    r.sent = int(m.group(1))
    r.completed = int(re.search(r"Queries completed:\s+(\d+)", text).group(1))
    r.lost = int(re.search(r"Queries lost:\s+(\d+)", text).group(1))
    r.runtime = float(re.search(r"Run time \(s\):\s+" + _NUM, text).group(1))
    r.qps = float(re.search(r"Queries per second:\s+" + _NUM, text).group(1))
    m = re.search(r"Response codes:\s+(.*)", text)
    if m:
        for code, n in re.findall(r"([A-Z]+) (\d+) \(", m.group(1)):
            r.rcodes[code] = int(n)
    m = re.search(r"Average Latency \(s\):\s+" + _NUM, text)
    if m:
        r.avg_latency = float(m.group(1))
    if verbose_file:
        lat = []
        with open(verbose_file) as f:
            for line in f:
                # "> NOERROR name TYPE 0.000123": one line per answered query
                if line.startswith("> "):
                    try:
                        lat.append(float(line.rsplit(None, 1)[1]))
                    except ValueError:
                        pass
        lat.sort()
        r.latencies = lat
    return r


class Dnsperf:
    """Runs dnsperf against one loopback port, optionally pinned with taskset."""

    def __init__(self, clients, threads, outstanding, cpu=None, transport="udp", workdir="/tmp"):
        self.clients = clients
        self.threads = threads
        self.outstanding = outstanding
        self.cpu = cpu
        self.transport = transport
        self.workdir = workdir
        self.runs = 0

    def command(self, port, qfile, seconds, rate=None, verbose=False):
        cmd = []
        if self.cpu is not None:
            cmd += ["taskset", "-c", str(self.cpu)]
        cmd += ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile, "-l", str(seconds)]
        cmd += ["-m", self.transport, "-c", str(self.clients), "-T", str(self.threads)]
        cmd += ["-q", str(self.outstanding), "-t", "1"]
        if rate:
            cmd += ["-Q", str(rate)]
        if verbose:
            cmd += ["-v"]
        return cmd

    def run(self, port, qfile, seconds, rate=None, verbose=False, cpu_of=None, register=None):
        """One dnsperf run; server CPU of the tree under cpu_of is sampled around it."""
        self.runs += 1
        cmd = self.command(port, qfile, seconds, rate, verbose)
        out_path = os.path.join(self.workdir, f"dnsperf-{self.runs}.out")
        before = cpu_sample(cpu_of) if cpu_of else None
        with open(out_path, "w") as out:
            p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            if register:
                register(p)
            try:
                p.wait(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                raise RuntimeError(f"dnsperf did not stop: {' '.join(cmd)}")
        after = cpu_sample(cpu_of) if cpu_of else None
        with open(out_path) as f:
            # with -v the statistics are at the end; keep the tail only to spare memory
            f.seek(max(0, os.path.getsize(out_path) - 8192))
            tail = f.read()
        if p.returncode != 0:
            raise RuntimeError(f"dnsperf failed ({p.returncode}): {' '.join(cmd)}\n{tail[-1500:]}")
        r = parse_dnsperf(tail, out_path if verbose else None)
        r.cmd = cmd
        if before and after:
            r.server_cpu = cpu_seconds(before, after)
            r.server_user = (after.user - before.user) / CLK_TCK
            r.server_sys = (after.sys - before.sys) / CLK_TCK
            r.server_wall = after.at - before.at
            r.procs, r.threads = after.procs, after.threads
        if verbose:
            os.unlink(out_path)  # can be tens of MB
        return r
