#!/usr/bin/env python3
"""Shards on this machine: redis-benchmark -c 50 (SET/GET, -P 1 and -P 16) against
redis-server and several otkv-server setups side by side, alternating the order each round
(medians, ratio to Redis, p99); then, for each OTKV setup, what one request costs the
server under otkv-bench load: CPU time and context switches per request, and each thread's
share of the server's CPU (from /proc/PID/task).

    python3 bench/shards_bench.py                       # --threads 1 and 2, this build
    python3 bench/shards_bench.py --setup before=/tmp/before/build/otkv-server \\
        --setup "t2=build/otkv-server --threads 2"

A setup is NAME=BINARY [FLAGS…]. Ratios compare runs of one invocation only.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from run_bench import BENCH, SERVER, free_port, wait_port  # noqa: E402

TESTS = [("set", 1), ("get", 1), ("set", 16), ("get", 16)]


def start(cmd, data_dir):
    port = free_port()
    if os.path.basename(cmd[0]) == "redis-server":
        full = cmd + ["--port", str(port), "--save", "", "--appendonly", "no", "--dir", data_dir]
    else:
        full = cmd + ["--port", str(port), "--dir", data_dir, "--appendonly", "no",
                      "--save-interval", "0", "--loglevel", "warn"]
    proc = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_port(port, proc):
        proc.kill()
        sys.exit("%s did not start" % " ".join(cmd))
    return proc, port


def redis_benchmark(port, test, pipeline):
    n = 200000 if pipeline == 1 else 2000000
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-n", str(n), "-P",
                          str(pipeline), "-t", test, "-r", "100000", "--csv"],
                         capture_output=True, text=True, timeout=300).stdout
    for line in out.splitlines():
        cells = [c.strip('"') for c in line.split(",")]
        if cells and cells[0].upper() == test.upper():
            return float(cells[1]), float(cells[6])  # requests/s, p99 ms
    return float("nan"), float("nan")


def thread_times(pid):
    """{thread id: (name, CPU ticks, context switches)}"""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            name = open(base + "comm").read().strip()
            fields = open(base + "stat").read().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])
            switches = sum(int(l.split()[1]) for l in open(base + "status")
                           if "ctxt_switches" in l)
        except OSError:
            continue
        out[tid] = (name, ticks, switches)
    return out


def profile(cmd, pipeline, requests):
    """CPU µs and context switches per request, and thread shares, under otkv-bench."""
    with tempfile.TemporaryDirectory() as d:
        proc, port = start(cmd, d)
        try:
            args = [BENCH, "--port", str(port), "--pipeline", str(pipeline), "--warmup", "0"]
            subprocess.run(args + ["--requests", "100000"], capture_output=True, check=True)
            before = thread_times(proc.pid)
            t0 = time.monotonic()
            subprocess.run(args + ["--requests", str(requests)], capture_output=True, check=True)
            elapsed = time.monotonic() - t0
            after = thread_times(proc.pid)
        finally:
            proc.kill()
            proc.wait()
    hz = os.sysconf("SC_CLK_TCK")
    used = {t: (after[t][0], after[t][1] - before.get(t, (0, 0, 0))[1]) for t in after}
    total = sum(v for _, v in used.values()) or 1
    switches = sum(after[t][2] - before.get(t, (0, 0, 0))[2] for t in after)
    shares = sorted(((v / total, n) for n, v in used.values() if v > 0), reverse=True)
    return {"cpu_us": total / hz * 1e6 / requests, "switches": switches / requests,
            "ops": requests / elapsed,
            "shares": ", ".join("%s %.0f%%" % (n, 100 * s) for s, n in shares[:5])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--setup", action="append", default=[],
                    help="NAME=BINARY [FLAGS…] (repeatable; default: this build, 1 and 2 shards)")
    ap.add_argument("--rounds", type=int, default=3)
    o = ap.parse_args()
    setups = [("redis", ["redis-server"])]
    for s in o.setup or ["t1=%s --threads 1" % SERVER, "t2=%s --threads 2" % SERVER]:
        name, cmd = s.split("=", 1)
        setups.append((name, cmd.split()))
    runs = {(n, t, p): [] for n, _ in setups for t, p in TESTS}
    for r in range(o.rounds):
        for name, cmd in (setups if r % 2 == 0 else setups[::-1]):
            with tempfile.TemporaryDirectory() as d:
                proc, port = start(cmd, d)
                try:
                    for t, p in TESTS:
                        runs[(name, t, p)].append(redis_benchmark(port, t, p))
                finally:
                    proc.kill()
                    proc.wait()
        print("round %d of %d done" % (r + 1, o.rounds), file=sys.stderr)
    print("redis-benchmark -c 50, %d rounds, medians (requests/s, ratio to redis, p99 ms)"
          % o.rounds)
    print("| test | " + " | ".join(n for n, _ in setups) + " |")
    print("|---|" + "---:|" * len(setups))
    for t, p in TESTS:
        redis = statistics.median(x[0] for x in runs[("redis", t, p)])
        cells = []
        for n, _ in setups:
            ops = statistics.median(x[0] for x in runs[(n, t, p)])
            p99 = statistics.median(x[1] for x in runs[(n, t, p)])
            cells.append("%.0fk %.2fx, p99 %.2f" % (ops / 1000, ops / redis, p99))
        print("| %s -P %d | %s |" % (t.upper(), p, " | ".join(cells)))
    print("\notkv-bench (50 connections, 2 client threads, 50/50 SET/GET): what a request costs"
          " the server")
    print("| setup | pipeline | ops/s | CPU µs/request | context switches/request | busiest threads |")
    print("|---|---:|---:|---:|---:|---|")
    for name, cmd in setups[1:]:
        for p, n in ((1, 400000), (16, 2000000)):
            r = profile(cmd, p, n)
            print("| %s | %d | %.0fk | %.2f | %.2f | %s |"
                  % (name, p, r["ops"] / 1000, r["cpu_us"], r["switches"], r["shares"]))


if __name__ == "__main__":
    main()
