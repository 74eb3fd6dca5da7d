#!/usr/bin/env python3
"""`make bench-types`: hashes, lists and sets in OTKV beside redis-server, same run.

1. Memory per element: one hash, one set and one sorted set of 1M elements (field `f<i>`,
   value `v<i>`; member `m<i>`; score i), loaded by pipelined HSET / SADD of 100 elements a command, measured as the
   server's RSS growth per element.
2. Throughput: redis-benchmark's HSET, LPUSH, SADD, ZADD (one key each, as redis-benchmark
   does) and ZRANGE of 10 members of a 100-member sorted set, at -P 1 and -P 16 with 50 clients, alternating servers for --rounds rounds; medians and the
   OTKV/Redis ratio.

On a machine of two or more CPUs the throughput runs are pinned (unless --no-pin): both
servers on the last CPU, redis-benchmark on the others, so each server has one core (OTKV's
threads share it, as Redis's one thread has it) and neither competes with the client.
"""

import argparse
import os
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import subprocess  # noqa: E402

from run_bench import redis_benchmark, start_otkv, start_redis  # noqa: E402


def zrange_benchmark(port, pipeline, requests):
    """redis-benchmark of ZRANGE bench:zrange 0 9 (requests/s)."""
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-n", str(requests),
                          "-P", str(pipeline), "--csv", "ZRANGE", "bench:zrange", "0", "9"],
                         capture_output=True, text=True, timeout=300)
    for line in out.stdout.splitlines():
        cells = [c.strip('"') for c in line.split(",")]
        if cells and cells[0].upper().startswith("ZRANGE"):
            return float(cells[1])
    return float("nan")


def load(port, command, key, n, pair):
    """Sends n elements to `key` as pipelined commands of 100 elements; waits for the replies."""
    s = socket.create_connection(("127.0.0.1", port))
    pending = 0
    buf = []

    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    for start in range(0, n, 100):
        args = [command, key]
        for i in range(start, min(n, start + 100)):
            if command == "ZADD":
                args += [str(i), "m%d" % i]
            else:
                args += ["f%d" % i, "v%d" % i] if pair else ["m%d" % i]
        buf.append(encode(args))
        pending += 1
        if len(buf) == 64:
            s.sendall(b"".join(buf))
            buf = []
    if buf:
        s.sendall(b"".join(buf))
    got = b""
    while got.count(b"\r\n") < pending:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        got += chunk
    s.close()


def bytes_per_element(server, command, key, n, pair):
    before = server.rss_kib()
    load(server.port, command, key, n, pair)
    time.sleep(0.5)
    return (server.rss_kib() - before) * 1024.0 / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elements", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--otkv-args", default="", help="extra otkv-server flags")
    ap.add_argument("--no-pin", dest="pin", action="store_false",
                    help="do not pin the servers and the client to separate CPUs")
    args = ap.parse_args()
    extra = ["--appendonly", "no", "--save-interval", "0"] + args.otkv_args.split()

    print("memory per element at %d elements (RSS growth), bytes:" % args.elements)
    for command, key, pair in (("HSET", "bench:hash", True), ("SADD", "bench:set", False),
                               ("ZADD", "bench:zset", False)):
        row = {}
        for start in (start_redis, lambda: start_otkv(extra)):
            server = start()
            try:
                row[server.name] = bytes_per_element(server, command, key, args.elements, pair)
            finally:
                server.stop()
        print("  %-5s redis %6.1f  otkv %6.1f  otkv/redis %.2f"
              % (command, row["redis"], row["otkv"], row["otkv"] / row["redis"]))

    cpus = sorted(os.sched_getaffinity(0))
    pin = args.pin and len(cpus) >= 2
    print("throughput (redis-benchmark, 50 clients, %d requests), requests/s, median of %d%s:"
          % (args.requests, args.rounds,
             ", servers on CPU %d, client on the others" % cpus[-1] if pin else ""))
    if pin:  # the servers inherit this process's CPU set; redis-benchmark the one set after
        os.sched_setaffinity(0, {cpus[-1]})
    redis, otkv = start_redis(), start_otkv(extra)
    if pin:
        os.sched_setaffinity(0, set(cpus[:-1]))
    try:
        for server in (redis, otkv):  # ZRANGE reads a 100-member sorted set
            load(server.port, "ZADD", "bench:zrange", 100, False)
        for test in ("hset", "lpush", "sadd", "zadd", "zrange"):
            for pipeline in (1, 16):
                runs = {"redis": [], "otkv": []}
                for _ in range(args.rounds):
                    for server in (redis, otkv):
                        runs[server.name].append(
                            zrange_benchmark(server.port, pipeline, args.requests)
                            if test == "zrange"
                            else redis_benchmark(server.port, test, pipeline, args.requests))
                r, o = statistics.median(runs["redis"]), statistics.median(runs["otkv"])
                print("  %-5s P%-2d redis %9.0f  otkv %9.0f  otkv/redis %.2f"
                      % (test.upper(), pipeline, r, o, o / r))
    finally:
        redis.stop()
        otkv.stop()


if __name__ == "__main__":
    main()
