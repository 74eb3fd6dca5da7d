#!/usr/bin/env python3
"""`make bench`: OTKV and redis-server side by side, same client, same run.

Starts redis-server (--save '' --appendonly no) and OTKV on loopback, runs the same
otkv-bench workloads against both, alternating, for several rounds, and prints the
medians with the OTKV/Redis ratio per workload. Also runs redis-benchmark against both,
and measures bytes per key at 1M keys from RSS. Writes bench/results/latest.json and,
when gnuplot is installed, bench/results/latest.png.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD_DIR", os.path.join(ROOT, "build"))
SERVER = os.path.join(BUILD, "otkv-server")
BENCH = os.path.join(BUILD, "bench", "otkv-bench")
RESULTS = os.path.join(ROOT, "bench", "results")

WORKLOADS = [
    # name, otkv-bench args
    ("set c50 p1", ["--set-percent", "100", "--pipeline", "1"]),
    ("get c50 p1", ["--set-percent", "0", "--pipeline", "1"]),
    ("set c50 p16", ["--set-percent", "100", "--pipeline", "16"]),
    ("get c50 p16", ["--set-percent", "0", "--pipeline", "16"]),
    ("mix90/10 zipf c50 p1", ["--set-percent", "10", "--distribution", "zipf", "--pipeline", "1"]),
]


def free_port():
    # redis-server cannot report a port it picked itself (port 0 turns TCP off), so a free
    # port is found first; start() retries if another process takes it meanwhile.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    def __init__(self, name, proc, port):
        self.name, self.proc, self.port = name, proc, port

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    data_dir = None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def start_redis():
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--daemonize", "no"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if wait_port(port, proc):
            return Server("redis", proc, port)
        proc.kill()
        proc.wait()
    sys.exit("could not start redis-server")


def start_otkv(extra, name="otkv"):
    data_dir = tempfile.mkdtemp(prefix="otkv-bench-")
    proc = subprocess.Popen([SERVER, "--port", "0", "--dir", data_dir, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = re.search(r"OTKV listening on 127\.0\.0\.1:(\d+)", line)
        if m:
            # Let the log drain to /dev/null from here on.
            subprocess.Popen(["cat"], stdin=proc.stdout, stdout=subprocess.DEVNULL)
            server = Server(name, proc, int(m.group(1)))
            server.data_dir = data_dir
            return server
    proc.kill()
    sys.exit("could not start otkv-server")


def run_bench(port, args, duration, warmup):
    out = subprocess.run([BENCH, "--port", str(port), "--duration", str(duration), "--warmup",
                          str(warmup), "--json", *args], capture_output=True, text=True,
                         timeout=duration + warmup + 60)
    if out.returncode != 0:
        sys.exit("otkv-bench failed: %s %s" % (out.stdout, out.stderr))
    return json.loads(out.stdout)


def redis_benchmark(port, test, pipeline, requests):
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-n", str(requests),
                          "-P", str(pipeline), "-t", test, "-r", "100000", "--csv"],
                         capture_output=True, text=True, timeout=300)
    for line in out.stdout.splitlines():
        cells = [c.strip('"') for c in line.split(",")]
        if cells and cells[0].upper() == test.upper():
            return float(cells[1])
    return float("nan")


def bytes_per_key(server, keys):
    before = server.rss_kib()
    run = subprocess.run([BENCH, "--port", str(server.port), "--requests", str(keys),
                          "--distribution", "sequential", "--keyspace", str(keys),
                          "--set-percent", "100", "--value-size", "32", "--pipeline", "64",
                          "--json"], capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        sys.exit("loading failed: " + run.stderr)
    time.sleep(0.5)
    return (server.rss_kib() - before) * 1024.0 / keys


def plot(results, path):
    if not shutil.which("gnuplot"):
        print("gnuplot not installed: no plot")
        return
    data = path + ".dat"
    with open(data, "w") as f:
        for name, r in results.items():
            f.write('"%s" %.0f %.0f\n' % (name, r["redis"]["ops_per_sec"], r["otkv"]["ops_per_sec"]))
    script = """set terminal png size 1000,500
set output '%s'
set style data histograms
set style histogram cluster gap 1
set style fill solid border -1
set ylabel 'ops/s (median)'
set xtics rotate by -20
set key top left
plot '%s' using 2:xtic(1) title 'redis-server', '' using 3 title 'OTKV'
""" % (path, data)
    subprocess.run(["gnuplot"], input=script, text=True, check=False)
    os.remove(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=4.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--memory-keys", type=int, default=1000000)
    ap.add_argument("--otkv-args", default="--loglevel warn")
    ap.add_argument("--quick", action="store_true", help="one round, short runs, 100k keys")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.duration, args.warmup, args.memory_keys = 1, 1.0, 0.3, 100000
    for tool in (SERVER, BENCH):
        if not os.path.exists(tool):
            sys.exit("missing %s: run make build" % tool)
    os.makedirs(RESULTS, exist_ok=True)
    otkv_args = args.otkv_args.split()
    machine = "%d cores, %s" % (os.cpu_count(), os.uname().release)
    print("machine: %s; otkv args: %s; %d rounds of %.1fs" % (machine, args.otkv_args, args.rounds,
                                                             args.duration))

    kinds = ("redis", "otkv", "otkv-aof")
    samples = {name: {k: [] for k in kinds} for name, _ in WORKLOADS}
    redis = start_redis()
    otkv = start_otkv(otkv_args + ["--appendonly", "no"], "otkv")
    otkv_aof = start_otkv(otkv_args + ["--appendfsync", "everysec"], "otkv-aof")
    try:
        for rnd in range(args.rounds):
            for name, wargs in WORKLOADS:
                order = [redis, otkv, otkv_aof]
                order = order[rnd % 3:] + order[:rnd % 3]
                for server in order:
                    samples[name][server.name].append(
                        run_bench(server.port, wargs, args.duration, args.warmup))
            print("round %d done" % (rnd + 1), flush=True)
        rb = {}
        for test, pipeline in (("set", 1), ("get", 1), ("set", 16), ("get", 16)):
            n = 200000 if pipeline == 1 else 1000000
            if args.quick:
                n //= 10
            rb["%s p%d" % (test, pipeline)] = {s.name: redis_benchmark(s.port, test, pipeline, n)
                                               for s in (redis, otkv)}
    finally:
        redis.stop()
        otkv.stop()
        otkv_aof.stop()

    memory = {}
    for starter in (start_redis, lambda: start_otkv(otkv_args + ["--appendonly", "no"])):
        server = starter()
        try:
            memory[server.name] = bytes_per_key(server, args.memory_keys)
        finally:
            server.stop()

    def median(rows, field):
        return statistics.median(r[field] for r in rows)

    results = {}
    print()
    print("OTKV without op log (otkv) and with --appendfsync everysec (otkv-aof); redis without persistence")
    print("%-22s %11s %11s %6s %11s %6s %9s %9s %9s" % (
        "workload (otkv-bench)", "redis ops/s", "otkv ops/s", "ratio", "aof ops/s", "ratio",
        "redis p99", "otkv p99", "aof p99"))
    for name, _ in WORKLOADS:
        r = {s: {f: median(samples[name][s], f) for f in ("ops_per_sec", "p50_us", "p99_us", "p999_us")}
             for s in kinds}
        r["ratio"] = r["otkv"]["ops_per_sec"] / r["redis"]["ops_per_sec"]
        r["ratio_aof"] = r["otkv-aof"]["ops_per_sec"] / r["redis"]["ops_per_sec"]
        results[name] = r
        print("%-22s %11.0f %11.0f %5.2fx %11.0f %5.2fx %7.0fus %7.0fus %7.0fus" % (
            name, r["redis"]["ops_per_sec"], r["otkv"]["ops_per_sec"], r["ratio"],
            r["otkv-aof"]["ops_per_sec"], r["ratio_aof"], r["redis"]["p99_us"],
            r["otkv"]["p99_us"], r["otkv-aof"]["p99_us"]))
    print()
    print("%-22s %12s %12s %7s" % ("redis-benchmark -c 50", "redis rps", "otkv rps", "ratio"))
    for name, r in rb.items():
        print("%-22s %12.0f %12.0f %6.2fx" % (name, r["redis"], r["otkv"], r["otkv"] / r["redis"]))
    print()
    print("memory at %d keys (16-byte keys, 32-byte values): redis %.0f B/key, otkv %.0f B/key (%.2fx)"
          % (args.memory_keys, memory["redis"], memory["otkv"], memory["otkv"] / memory["redis"]))
    out = {"machine": machine, "otkv_args": args.otkv_args, "rounds": args.rounds,
           "duration_s": args.duration, "workloads": results, "redis_benchmark": rb,
           "bytes_per_key": memory, "time": time.strftime("%Y-%m-%d %H:%M:%S")}
    with open(os.path.join(RESULTS, "latest.json"), "w") as f:
        json.dump(out, f, indent=2)
    plot(results, os.path.join(RESULTS, "latest.png"))
    print("wrote bench/results/latest.json")


if __name__ == "__main__":
    main()
