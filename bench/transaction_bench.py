#!/usr/bin/env python3
"""Transaction and script throughput (docs/transactions.md, docs/scripts.md): OTKV beside
redis-server in one run.

Both servers start on loopback without persistence (redis-server --save '' --appendonly
no; otkv-server --appendonly no --partitions 8). --procs client processes each keep one
connection and send one transaction at a time (MULTI, the commands, EXEC, pipelined as
redis-py's transactional pipeline does), for --seconds per workload:
  - MULTI of 2 and of 10 SETs whose keys are in 1 partition, in 2 partitions, and (10
    SETs) spread over the 8 partitions;
  - EVALSHA of a script SETting its 1, 2 or 10 declared keys (1 partition, 2 partitions,
    the 8 partitions), loaded with SCRIPT LOAD on both servers first;
  - plain single SETs, one per round trip, as the reference.
Keys are placed with hash tags; which OTKV partition a tag lands in is read from INFO
partitions. Redis runs the same requests. Reports transactions/s of each and the ratio.
Prints a Markdown table and writes bench/results/transactions-<timestamp>.json.
"""

import argparse
import hashlib
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_bench import RESULTS, SERVER, free_port, wait_port  # noqa: E402


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def call(port, *args):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(encode(*args))
    data = b""
    s.settimeout(5)
    while not data.endswith(b"\r\n") or data.count(b"\r\n") < 1:
        data += s.recv(1 << 20)
    time.sleep(0.05)
    s.setblocking(False)
    try:
        data += s.recv(1 << 20)
    except BlockingIOError:
        pass
    s.close()
    return data.decode()


def partition_of_tag(port, tag):
    """The OTKV partition a hash tag's keys are in (INFO partitions' request counts)."""
    def counts():
        lines = call(port, "INFO", "partitions").splitlines()
        return [int(l.split("requests=")[1].split(",")[0]) for l in lines if "requests=" in l]
    before = counts()
    call(port, "GET", tag + "probe")
    after = counts()
    moved = [i for i, (a, b) in enumerate(zip(before, after)) if b - a == 2]  # INFO + GET
    return moved[0] if len(moved) == 1 else None


# The scripts' workload: SET every declared key.
SET_KEYS = "for _, k in ipairs(KEYS) do redis.call('set', k, ARGV[1]) end return #KEYS"


def workloads(port):
    """{name: (request bytes, expected reply bytes)} of each workload."""
    tags = {}
    for i in range(200):
        p = partition_of_tag(port, "{t%d}" % i)
        if p is not None and p not in tags:
            tags[p] = "{t%d}" % i
        if len(tags) == 8:
            break
    first, second = sorted(tags)[:2]

    def tx(keys):
        req = encode("MULTI") + b"".join(encode("SET", k, "v") for k in keys) + encode("EXEC")
        rep = b"+OK\r\n" + b"+QUEUED\r\n" * len(keys) + b"*%d\r\n" % len(keys) \
            + b"+OK\r\n" * len(keys)
        return req, rep

    one = lambda n: ["%sk%d" % (tags[first], i) for i in range(n)]
    two = lambda n: ["%sk%d" % (tags[(first, second)[i % 2]], i) for i in range(n)]
    spread = ["%sk%d" % (tags[sorted(tags)[i % len(tags)]], i) for i in range(10)]
    sha = hashlib.sha1(SET_KEYS.encode()).hexdigest()

    def script(keys):
        return encode("EVALSHA", sha, str(len(keys)), *keys, "v"), b":%d\r\n" % len(keys)

    return {
        "SET (no MULTI)": (encode("SET", "plain", "v"), b"+OK\r\n"),
        "EVALSHA 1 SET": script(one(1)),
        "EVALSHA 2 SETs, 2 partitions": script(two(2)),
        "EVALSHA 10 SETs, 8 partitions": script(spread),
        "MULTI 2 SETs, 1 partition": tx(one(2)),
        "MULTI 2 SETs, 2 partitions": tx(two(2)),
        "MULTI 10 SETs, 1 partition": tx(one(10)),
        "MULTI 10 SETs, 2 partitions": tx(two(10)),
        "MULTI 10 SETs, 8 partitions": tx(spread),
    }


def client(port, request, reply, seconds, out):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        s.sendall(request)
        got = b""
        while len(got) < len(reply):
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            got += chunk
        if got != reply:
            raise AssertionError("unexpected reply %r" % got[:200])
        n += 1
    s.close()
    out.put(n)


def measure(port, request, reply, procs, seconds):
    out = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=client, args=(port, request, reply, seconds, out))
          for _ in range(procs)]
    for p in ps:
        p.start()
    total = sum(out.get(timeout=seconds + 30) for _ in ps)
    for p in ps:
        p.join()
    return total / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rport, oport = free_port(), free_port()
    data = tempfile.mkdtemp(prefix="otkv-txbench-")
    redis = subprocess.Popen(["redis-server", "--port", str(rport), "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL)
    otkv = subprocess.Popen([SERVER, "--port", str(oport), "--dir", data, "--appendonly", "no",
                             "--partitions", "8", "--loglevel", "warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    rows = []
    try:
        wait_port(rport, redis)
        wait_port(oport, otkv)
        for port in (rport, oport):
            call(port, "SCRIPT", "LOAD", SET_KEYS)
        loads = workloads(oport)
        for name, (request, reply) in loads.items():
            otkv_rates, redis_rates = [], []
            for r in range(args.rounds):  # alternating which goes first
                pair = [(otkv_rates, oport), (redis_rates, rport)]
                for rates, port in pair if r % 2 == 0 else reversed(pair):
                    rates.append(measure(port, request, reply, args.procs, args.seconds))
            o, d = sorted(otkv_rates)[len(otkv_rates) // 2], sorted(redis_rates)[len(redis_rates) // 2]
            rows.append({"workload": name, "otkv": o, "redis": d, "ratio": o / d})
            print("%-30s OTKV %9.0f/s  Redis %9.0f/s  %.2fx" % (name, o, d, o / d), flush=True)
    finally:
        for p in (otkv, redis):
            p.terminate()
            p.wait()
    print("\n%d client processes, one transaction in flight each, medians of %d rounds of "
          "%.0f s\n" % (args.procs, args.rounds, args.seconds))
    print("| workload | OTKV tx/s | Redis tx/s | OTKV/Redis |\n|---|---:|---:|---:|")
    for row in rows:
        print("| %s | %.0f | %.0f | %.2fx |" % (row["workload"], row["otkv"], row["redis"],
                                              row["ratio"]))
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, "transactions-%s.json" % time.strftime("%Y%m%d-%H%M%S"))
    with open(path, "w") as f:
        json.dump({"procs": args.procs, "seconds": args.seconds, "rows": rows}, f, indent=1)
    print("\nwrote %s" % path)


if __name__ == "__main__":
    main()
