#!/usr/bin/env python3
"""`make bench-cluster`: an OTKV cluster next to a Redis Cluster of the same size.

For each node count in --nodes (default 1,2,3), on loopback:
  - an OTKV cluster started with tools/create-cluster, nodes answering -MOVED
    (--cluster-redirect yes), and a Redis Cluster of as many redis-server masters
    (no persistence either side), each loaded by `redis-benchmark --cluster -t set,get`
    (plain redis-benchmark for one node, which --cluster refuses): requests/s, p50 and p99
    latency, and the OTKV/Redis ratio;
  - forwarding cost: a 3-node OTKV cluster that forwards requests for other nodes' slots
    (no --cluster-redirect), loaded by plain redis-benchmark on its first node (about 2/3 of
    the random keys live on another node), next to a single plain OTKV node.
Keys are random (-r 100000), so they spread over every slot. Prints Markdown tables and
writes bench/results/cluster-<timestamp>.json.

redis-benchmark --cluster runs one thread per node and (7.0) ends a run on its 250 ms
progress tick, so its requests/s is N / (k * 0.25 s): with --quick (N=20000) every run
under 0.25 s reads ~80000. Latencies are not affected; for rps use a large --requests.
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from run_bench import RESULTS, SERVER, free_port, wait_port  # noqa: E402

CREATE_CLUSTER = os.path.join(ROOT, "tools", "create-cluster")
TESTS = ("SET", "GET")
KEYSPACE = "100000"
NAN = float("nan")


def ports_free(ports):
    for p in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def free_base(n):
    """A base port B with B+1..B+n and their cluster bus ports (+10000) all free."""
    for _ in range(200):
        base = random.randrange(20000, 45000)
        wanted = [base + i for i in range(1, n + 1)]
        if ports_free(wanted + [p + 10000 for p in wanted]):
            return base
    sys.exit("no free port range found")


def cli(port, *args, timeout=10):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                          text=True, timeout=timeout).stdout


def redis_benchmark(port, o, cluster):
    """{test: {rps, p50_ms, p99_ms}}, or raises RuntimeError with what redis-benchmark said."""
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", "set,get",
           "-n", str(o.requests), "-c", str(o.clients), "-P", str(o.pipeline),
           "-r", KEYSPACE, "-q", "--csv"]
    if cluster:
        cmd.insert(1, "--cluster")
    try:
        out = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=60 + o.requests // 1000)
    except subprocess.TimeoutExpired:
        raise RuntimeError("redis-benchmark timed out: " + " ".join(cmd))
    header, result = None, {}
    for line in out.stdout.splitlines():
        cells = [c.strip('"') for c in line.strip().split(",")]
        if cells[0] == "test":
            header = cells
        elif header and len(cells) == len(header) and cells[0] in TESTS:
            row = dict(zip(header, cells))
            result[cells[0]] = {"rps": float(row["rps"]),
                                "p50_ms": float(row.get("p50_latency_ms", NAN)),
                                "p99_ms": float(row.get("p99_latency_ms", NAN))}
    if out.returncode != 0 or set(result) != set(TESTS):
        text = (out.stdout + out.stderr).strip().splitlines()
        raise RuntimeError("redis-benchmark exit %d: %s" % (out.returncode, " | ".join(text[-5:])))
    return result


def with_otkv_cluster(n, redirect, run):
    """Starts an n-node OTKV cluster, returns run(first port), cleans it up in any case."""
    base = free_base(n)
    data = tempfile.mkdtemp(prefix="otkv-cluster-")
    env = dict(os.environ, NODES=str(n), PORT=str(base), DIR=os.path.join(data, "c"),
               OTKV_SERVER=SERVER, TIMEOUT="30",
               OTKV_ARGS=("--cluster-redirect yes " if redirect else "")
               + "--appendonly no --save-interval 0 --loglevel warn")
    try:
        out = subprocess.run([CREATE_CLUSTER, "start"], env=env, capture_output=True,
                             text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError("create-cluster start: " + (out.stdout + out.stderr).strip())
        return run(base + 1)
    finally:
        subprocess.run([CREATE_CLUSTER, "clean"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def stop_all(procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_cluster_ok(ports, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all("cluster_state:ok" in cli(p, "CLUSTER", "INFO") for p in ports):
            return
        time.sleep(0.1)
    raise RuntimeError("redis cluster not ok after %ds" % timeout)


def with_redis_cluster(n, run):
    """Starts an n-master Redis Cluster, returns run(first port), stops it in any case."""
    base = free_base(n)
    ports = [base + i for i in range(1, n + 1)]
    data = tempfile.mkdtemp(prefix="redis-cluster-")
    procs = []
    try:
        for p in ports:
            procs.append(subprocess.Popen(
                ["redis-server", "--port", str(p), "--bind", "127.0.0.1",
                 "--cluster-enabled", "yes",
                 "--cluster-config-file", os.path.join(data, "nodes-%d.conf" % p),
                 "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", data],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for p, proc in zip(ports, procs):
            if not wait_port(p, proc):
                raise RuntimeError("redis-server on port %d did not start" % p)
        if n >= 3:
            out = subprocess.run(["redis-cli", "--cluster", "create",
                                  *["127.0.0.1:%d" % p for p in ports], "--cluster-yes"],
                                 capture_output=True, text=True, timeout=60)
            if out.returncode != 0:
                raise RuntimeError("redis-cli --cluster create: " + out.stdout[-300:])
        else:
            # redis-cli wants 3 masters at least: split the slots by hand.
            step = 16384 // n
            for i, p in enumerate(ports):
                last = 16383 if i == n - 1 else (i + 1) * step - 1
                cli(p, "CLUSTER", "ADDSLOTSRANGE", str(i * step), str(last))
            for p in ports[1:]:
                cli(p, "CLUSTER", "MEET", "127.0.0.1", str(ports[0]))
        wait_cluster_ok(ports)
        return run(ports[0])
    finally:
        stop_all(procs)
        shutil.rmtree(data, ignore_errors=True)


def with_plain_otkv(run):
    data = tempfile.mkdtemp(prefix="otkv-single-")
    procs = []
    try:
        port = free_port()
        procs.append(subprocess.Popen([SERVER, "--port", str(port), "--appendonly", "no",
                                       "--save-interval", "0", "--dir", data,
                                       "--loglevel", "warn"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if not wait_port(port, procs[0]):
            raise RuntimeError("otkv-server on port %d did not start" % port)
        return run(port)
    finally:
        stop_all(procs)
        shutil.rmtree(data, ignore_errors=True)


def measure(name, errors, start):
    """start() -> result; on failure records the error and returns None."""
    print("  %s ..." % name, file=sys.stderr, flush=True)
    try:
        return start()
    except (RuntimeError, subprocess.SubprocessError) as e:
        errors.append("%s: %s" % (name, e))
        print("    failed: %s" % e, file=sys.stderr)
        return None


def get(result, test, field):
    return result[test][field] if result else NAN


def ratio(a, b):
    return a / b if b == b and b and a == a else NAN


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", default="1,2,3", help="node counts, comma separated")
    ap.add_argument("--requests", type=int, default=100000, help="requests per test (-n)")
    ap.add_argument("--clients", type=int, default=50, help="connections (-c)")
    ap.add_argument("--pipeline", type=int, default=1, help="pipeline depth (-P)")
    ap.add_argument("--quick", action="store_true", help="20000 requests per test")
    o = ap.parse_args()
    if o.quick:
        o.requests = 20000
    nodes = [int(x) for x in o.nodes.split(",") if x]
    for tool in (SERVER, "redis-server", "redis-cli", "redis-benchmark"):
        if not shutil.which(tool):
            sys.exit("missing %s (make build / make deps)" % tool)
    # Let `kill` run the finally blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    os.makedirs(RESULTS, exist_ok=True)

    errors, cluster = [], {}
    for n in nodes:
        print("%d node(s)" % n, file=sys.stderr)
        # redis-benchmark --cluster refuses a cluster of one node ("Invalid cluster: 1
        # node(s)"): that node holds every slot, so plain redis-benchmark is the same load.
        bench = lambda port: redis_benchmark(port, o, cluster=n > 1)  # noqa: E731
        cluster[n] = {
            "otkv": measure("otkv cluster", errors,
                            lambda: with_otkv_cluster(n, True, bench)),
            "redis": measure("redis cluster", errors, lambda: with_redis_cluster(n, bench)),
        }
    print("forwarding", file=sys.stderr)
    plain = lambda port: redis_benchmark(port, o, cluster=False)  # noqa: E731
    forwarding = {
        "single": measure("otkv single node", errors, lambda: with_plain_otkv(plain)),
        "forwarding3": measure("otkv 3 nodes forwarding", errors,
                               lambda: with_otkv_cluster(3, False, plain)),
    }

    print("\nredis-benchmark --cluster -t set,get -n %d -c %d -P %d -r %s (p50/p99 in ms;\n"
          "1 node: without --cluster, which redis-benchmark refuses for one node)\n"
          % (o.requests, o.clients, o.pipeline, KEYSPACE))
    print("| nodes | test | OTKV rps | Redis rps | OTKV/Redis | OTKV p50 | Redis p50 "
          "| OTKV p99 | Redis p99 |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in nodes:
        r = cluster[n]
        for t in TESTS:
            ot, rd = get(r["otkv"], t, "rps"), get(r["redis"], t, "rps")
            print("| %d | %s | %.0f | %.0f | %.2fx | %.3f | %.3f | %.3f | %.3f |" % (
                n, t, ot, rd, ratio(ot, rd), get(r["otkv"], t, "p50_ms"),
                get(r["redis"], t, "p50_ms"), get(r["otkv"], t, "p99_ms"),
                get(r["redis"], t, "p99_ms")))
    if any(n > 1 for n in nodes):
        print("\nrps with --cluster is N / (k * 0.25 s) (redis-benchmark stops on a 250 ms "
              "tick): %.0f, %.0f, %.0f, ... only"
              % tuple(o.requests / (k * 0.25) for k in (1, 2, 3)))
    print("\nforwarding: plain redis-benchmark on node 1 of 3 forwarding OTKV nodes, "
          "next to one plain OTKV node\n")
    print("| test | single rps | 3-node fwd rps | fwd/single | single p50 | fwd p50 "
          "| fwd/single p50 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for t in TESTS:
        s, f = forwarding["single"], forwarding["forwarding3"]
        print("| %s | %.0f | %.0f | %.2fx | %.3f | %.3f | %.2fx |" % (
            t, get(s, t, "rps"), get(f, t, "rps"), ratio(get(f, t, "rps"), get(s, t, "rps")),
            get(s, t, "p50_ms"), get(f, t, "p50_ms"),
            ratio(get(f, t, "p50_ms"), get(s, t, "p50_ms"))))
    for e in errors:
        print("\nERROR " + e)

    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = os.path.join(RESULTS, "cluster-%s.json" % stamp)
    out = {"machine": "%d cores, %s" % (os.cpu_count(), os.uname().release),
           "time": time.strftime("%Y-%m-%d %H:%M:%S"), "requests": o.requests,
           "clients": o.clients, "pipeline": o.pipeline, "keyspace": int(KEYSPACE),
           "cluster": {str(n): r for n, r in cluster.items()}, "forwarding": forwarding,
           "errors": errors}
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
    print("\nwrote %s" % os.path.relpath(path, ROOT))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
