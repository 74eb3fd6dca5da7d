#!/usr/bin/env python3
"""A/B of two otkv-server binaries in one run: each round starts A then B (then B then A,
alternating) on loopback, drives each with the same otkv-bench workload and reports the
median ops/s and p99 of each, and B/A. Use it to show a change is no slower than before:

    git worktree add /tmp/before <commit> && (cd /tmp/before && make build)
    python3 bench/ab_bench.py /tmp/before/build/otkv-server build/otkv-server

On a shared 2-core machine rounds vary by several percent; read the median, and run more
rounds (--rounds) when the difference is small.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from run_bench import free_port, wait_port  # noqa: E402  (the same helpers as make bench)

WORKLOADS = {
    "SET P1": ["--set-percent", "100", "--pipeline", "1"],
    "GET P1": ["--set-percent", "0", "--pipeline", "1"],
    "SET P16": ["--set-percent", "100", "--pipeline", "16"],
    "GET P16": ["--set-percent", "0", "--pipeline", "16"],
}


def measure(server, bench, args, extra, duration):
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.Popen(
            [server, "--port", str(port), "--dir", d, "--appendonly", "no",
             "--save-interval", "0", "--loglevel", "warn"] + extra,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not wait_port(port, proc):
                raise RuntimeError(f"{server} did not start")
            out = subprocess.run(
                [bench, "--port", str(port), "--duration", str(duration), "--warmup", "1",
                 "--json"] + args, check=True, capture_output=True, text=True, timeout=120)
            result = json.loads(out.stdout)
            return result["ops_per_sec"], result.get("p99_us", 0)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", help="the 'before' otkv-server")
    p.add_argument("b", help="the 'after' otkv-server")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--duration", type=int, default=4)
    p.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "otkv-bench"))
    p.add_argument("--server-args", default="", help="extra flags for both servers")
    p.add_argument("--only", default="", help="comma-separated workload names")
    o = p.parse_args()
    extra = o.server_args.split()
    names = [n for n in WORKLOADS if not o.only or n in o.only.split(",")]
    print(f"A = {o.a}\nB = {o.b}\n{o.rounds} rounds of {o.duration} s, alternating order")
    print("| workload | A ops/s | B ops/s | B/A | A p99 µs | B p99 µs |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        runs = {"a": [], "b": []}
        for r in range(o.rounds):
            order = ("a", "b") if r % 2 == 0 else ("b", "a")
            for which in order:
                server = o.a if which == "a" else o.b
                runs[which].append(measure(server, o.bench, WORKLOADS[name], extra, o.duration))
        a_ops = statistics.median(x[0] for x in runs["a"])
        b_ops = statistics.median(x[0] for x in runs["b"])
        a_p99 = statistics.median(x[1] for x in runs["a"])
        b_p99 = statistics.median(x[1] for x in runs["b"])
        print(f"| {name} | {a_ops:,.0f} | {b_ops:,.0f} | {b_ops / a_ops:.2f}x "
              f"| {a_p99:,.0f} | {b_p99:,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
