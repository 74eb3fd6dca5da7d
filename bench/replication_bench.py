#!/usr/bin/env python3
"""Read scaling and write latency of OTKV replication chains (CRAQ, docs/replication.md).

For each chain length R in --lengths (default 1,2,3), on loopback: R OTKV nodes forming one
chain over all slots (otkv-server --cluster-init ... --cluster-replicas R-1), no persistence.
  - read-mostly load: keys are preloaded through the head, then at once one
    `redis-benchmark -t get -c C` against every node of the chain (CRAQ: every node answers
    reads) and one `redis-benchmark -t set -c S` against the head, with about 5% as many
    SETs as requests in all. Reports GET rps summed over the nodes, SET rps, the share of
    SETs actually seen, and the total GET rps over R=1's.
  - write and read latency, for the lengths in --latency-lengths (default 1,3):
    `redis-benchmark -t set -c 1` against the head and `-t get -c 1` against the tail:
    rps, p50 and p99.
With --compare-redis: the same against one redis-server with R-1 replicas (--replicaof,
asynchronous replication), reads spread over the master and its replicas, as a reference.

Every node and every redis-benchmark share this machine's cores. On a 2-core machine three
nodes and four load generators fight for two cores, so the scaling with chain length only
means something on a machine with many cores. redis-benchmark has no duration option: each
run reports rps over its own run, the runs start together but need not end together (the
"GET s"/"SET s" columns say how long each took, "SET %" how far the mix drifted from 5%).
Prints Markdown tables and writes bench/results/replication-<timestamp>.json.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from run_bench import RESULTS, SERVER, wait_port  # noqa: E402
from cluster_bench import NAN, free_base, measure, ratio, stop_all  # noqa: E402

SET_SHARE = 0.05  # SETs as a share of all requests in the read-mostly load
READY_TIMEOUT = 30  # seconds for nodes to start, join and (Redis) sync


# --- small helpers ------------------------------------------------------------------------

def cli(port, *args, timeout=5):
    """redis-cli's answer, or "" when it does not come in time."""
    try:
        return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
                              capture_output=True, text=True, timeout=timeout).stdout
    except subprocess.TimeoutExpired:
        return ""


def info_fields(port, section):
    """INFO <section> as a dict."""
    fields = {}
    for line in cli(port, "INFO", section).splitlines():
        key, sep, value = line.strip().partition(":")
        if sep:
            fields[key] = value
    return fields


def log_tail(path, lines=5):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_until(what, ready, procs, logs, timeout=READY_TIMEOUT):
    """Polls ready() until it holds; raises if a server stops or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc, log in zip(procs, logs):
            if proc.poll() is not None:
                raise RuntimeError("%s: a server stopped (exit %d): %s"
                                   % (what, proc.returncode, log_tail(log)))
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError("%s: not ready after %ds" % (what, timeout))


def start_server(argv, log):
    with open(log, "w") as f:
        return subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT)


# --- the servers --------------------------------------------------------------------------

@contextlib.contextmanager
def otkv_chain(r, o):
    """Yields the ports of an R-node OTKV chain, head first; stops every node in any case."""
    base = free_base(r)
    ports = [base + i for i in range(1, r + 1)]
    data = tempfile.mkdtemp(prefix="otkv-chain-")
    conf = os.path.join(data, "cluster.json")
    procs, logs = [], []
    try:
        init = subprocess.run(
            [SERVER, "--cluster-init", ",".join("127.0.0.1:%d" % p for p in ports),
             "--cluster-replicas", str(r - 1), "--cluster-config", conf,
             "--partitions", str(o.partitions)],
            capture_output=True, text=True, timeout=30)
        if init.returncode != 0:
            raise RuntimeError("--cluster-init: " + (init.stdout + init.stderr).strip())
        for p in ports:
            node_dir = os.path.join(data, str(p))
            os.mkdir(node_dir)
            logs.append(os.path.join(data, "%d.log" % p))
            procs.append(start_server(
                [SERVER, "--port", str(p), "--cluster-config", conf, "--dir", node_dir,
                 "--partitions", str(o.partitions), *o.otkv_args.split()], logs[-1]))

        def ready():
            return all(cli(p, "PING", timeout=2).strip() == "PONG"
                       and "cluster_state:ok" in cli(p, "CLUSTER", "INFO", timeout=2)
                       for p in ports)
        wait_until("otkv chain of %d" % r, ready, procs, logs)
        yield ports
    finally:
        stop_all(procs)
        shutil.rmtree(data, ignore_errors=True)


@contextlib.contextmanager
def redis_group(r):
    """Yields the ports of one redis-server and its R-1 replicas, master first."""
    base = free_base(r)
    ports = [base + i for i in range(1, r + 1)]
    data = tempfile.mkdtemp(prefix="redis-repl-")
    procs, logs = [], []
    try:
        for i, p in enumerate(ports):
            node_dir = os.path.join(data, str(p))
            os.mkdir(node_dir)
            logs.append(os.path.join(data, "%d.log" % p))
            argv = ["redis-server", "--port", str(p), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--daemonize", "no", "--dir", node_dir]
            if i:
                argv += ["--replicaof", "127.0.0.1", str(ports[0])]
            procs.append(start_server(argv, logs[-1]))
        for p, proc in zip(ports, procs):
            if not wait_port(p, proc):
                raise RuntimeError("redis-server on port %d did not start" % p)

        def linked():
            return (int(info_fields(ports[0], "replication").get("connected_slaves", -1))
                    == r - 1 and all(info_fields(p, "replication").get("master_link_status")
                                     == "up" for p in ports[1:]))
        wait_until("redis with %d replicas" % (r - 1), linked, procs, logs)
        yield ports
    finally:
        stop_all(procs)
        shutil.rmtree(data, ignore_errors=True)


def wait_synced(ports):
    """Waits until every Redis replica has the master's replication offset."""
    def synced():
        master = info_fields(ports[0], "replication")
        offset = master.get("master_repl_offset")
        return offset is not None and all(
            info_fields(p, "replication").get("slave_repl_offset") == offset
            for p in ports[1:])
    deadline = time.monotonic() + READY_TIMEOUT
    while not synced():
        if time.monotonic() > deadline:
            raise RuntimeError("redis replicas not in sync after %ds" % READY_TIMEOUT)
        time.sleep(0.1)


# --- redis-benchmark ----------------------------------------------------------------------

def bench_cmd(port, test, requests, clients, o, pipeline=1):
    return ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", test,
            "-n", str(requests), "-c", str(clients), "-P", str(pipeline),
            "-r", str(o.keyspace), "-q", "--csv"]


def parse_csv(cmd, returncode, stdout, stderr):
    """{rps, p50_ms, p99_ms, seconds} of the one test in cmd; raises RuntimeError otherwise."""
    test = cmd[cmd.index("-t") + 1].upper()
    requests = int(cmd[cmd.index("-n") + 1])
    header = None
    for line in stdout.splitlines():
        cells = [c.strip('"') for c in line.strip().split(",")]
        if cells[0] == "test":
            header = cells
        elif header and len(cells) == len(header) and cells[0] == test and returncode == 0:
            row = dict(zip(header, cells))
            rps = float(row["rps"])
            return {"rps": rps, "p50_ms": float(row.get("p50_latency_ms", NAN)),
                    "p99_ms": float(row.get("p99_latency_ms", NAN)),
                    "seconds": requests / rps if rps else NAN}
    text = (stdout + stderr).strip().splitlines()
    raise RuntimeError("redis-benchmark -p %s -t %s exit %d: %s"
                       % (cmd[cmd.index("-p") + 1], test, returncode, " | ".join(text[-5:])))


def run_together(cmds):
    """Starts every redis-benchmark at once, returns their results in order."""
    timeout = 60 + max(int(c[c.index("-n") + 1]) for c in cmds) // 1000
    procs = []
    try:
        for c in cmds:
            procs.append(subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True))
        deadline = time.monotonic() + timeout
        results = []
        for c, p in zip(cmds, procs):
            try:
                out, err = p.communicate(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise RuntimeError("redis-benchmark timed out: " + " ".join(c))
            results.append(parse_csv(c, p.returncode, out, err))
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def run_one(cmd):
    return run_together([cmd])[0]


# --- the measurements ---------------------------------------------------------------------

def preload(head, o):
    """SETs about 95% of the keyspace through the head."""
    run_one(bench_cmd(head, "set", 3 * o.keyspace, 50, o, pipeline=16))


def read_mostly(ports, o):
    """GETs against every node and SETs against the head (ports[0]), at once."""
    r = len(ports)
    sets = max(1, round(r * o.requests * SET_SHARE / (1 - SET_SHARE)))
    cmds = [bench_cmd(p, "get", o.requests, o.clients, o) for p in ports]
    cmds.append(bench_cmd(ports[0], "set", sets, o.set_clients, o))
    *gets, set_ = run_together(cmds)
    get_rps = sum(g["rps"] for g in gets)
    return {"get_rps": get_rps, "get_rps_per_node": [g["rps"] for g in gets],
            "get_seconds": max(g["seconds"] for g in gets), "set_rps": set_["rps"],
            "set_seconds": set_["seconds"], "set_requests": sets,
            "set_share": set_["rps"] / (set_["rps"] + get_rps),
            "get": gets, "set": set_}


def latency(ports, o):
    """One connection: SET against the head, GET against the tail."""
    return {"set_head": run_one(bench_cmd(ports[0], "set", o.latency_requests, 1, o)),
            "get_tail": run_one(bench_cmd(ports[-1], "get", o.latency_requests, 1, o))}


def measure_otkv(r, o):
    with otkv_chain(r, o) as ports:
        preload(ports[0], o)
        result = {"read_mostly": read_mostly(ports, o)}
        if r in o.latency_lengths:
            result["latency"] = latency(ports, o)
        return result


def measure_redis(r, o):
    with redis_group(r) as ports:
        preload(ports[0], o)
        wait_synced(ports)
        result = {"read_mostly": read_mostly(ports, o)}
        if r in o.latency_lengths:
            result["latency"] = latency(ports, o)
        return result


# --- output -------------------------------------------------------------------------------

def field(result, *path):
    """result[path[0]][path[1]]..., or NaN where a measurement failed."""
    for key in path:
        if not isinstance(result, dict) or key not in result:
            return NAN
        result = result[key]
    return result


def print_read_table(results, o):
    print("\nread-mostly: redis-benchmark -t get -n %d -c %d -r %d on every node, at once with "
          "-t set -c %d on the head (~%d%% SETs)\n"
          % (o.requests, o.clients, o.keyspace, o.set_clients, SET_SHARE * 100))
    print("| system | R | GET rps (sum) | GET rps per node | SET rps | SET % | GET s | SET s "
          "| GET vs R=1 |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|")
    for system, by_len in results.items():
        base = field(by_len.get(1), "read_mostly", "get_rps")
        for r, res in by_len.items():
            rm = field(res, "read_mostly")
            nodes = field(rm, "get_rps_per_node")
            per_node = " / ".join("%.0f" % x for x in nodes) if isinstance(nodes, list) else "-"
            print("| %s | %d | %.0f | %s | %.0f | %.1f | %.2f | %.2f | %.2fx |" % (
                system, r, field(rm, "get_rps"), per_node, field(rm, "set_rps"),
                field(rm, "set_share") * 100, field(rm, "get_seconds"),
                field(rm, "set_seconds"), ratio(field(rm, "get_rps"), base)))


def print_latency_table(results, o):
    print("\nlatency: one connection (-c 1 -n %d), SET on the head, GET on the tail "
          "(ms)\n" % o.latency_requests)
    print("| system | R | test | rps | p50 | p99 |")
    print("|---|---:|---|---:|---:|---:|")
    for system, by_len in results.items():
        for r, res in by_len.items():
            if r not in o.latency_lengths:
                continue
            for name, key in (("SET head", "set_head"), ("GET tail", "get_tail")):
                lat = field(res, "latency", key)
                print("| %s | %d | %s | %.0f | %.3f | %.3f |" % (
                    system, r, name, field(lat, "rps"), field(lat, "p50_ms"),
                    field(lat, "p99_ms")))


def ints(text):
    return [int(x) for x in text.split(",") if x]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", type=ints, default=[1, 2, 3], help="chain lengths")
    ap.add_argument("--latency-lengths", type=ints, default=[1, 3],
                    help="chain lengths for the one-connection latency runs")
    ap.add_argument("--requests", type=int, default=100000, help="GET requests per node (-n)")
    ap.add_argument("--clients", type=int, default=50, help="GET connections per node (-c)")
    ap.add_argument("--set-clients", type=int, default=4, help="SET connections (-c)")
    ap.add_argument("--latency-requests", type=int, default=20000,
                    help="requests per latency run")
    ap.add_argument("--keyspace", type=int, default=10000, help="random keys (-r)")
    ap.add_argument("--partitions", type=int, default=os.cpu_count() or 2,
                    help="partitions of every OTKV node")
    ap.add_argument("--otkv-args", default="--appendonly no --save-interval 0 --loglevel warn",
                    help="more otkv-server flags for every node")
    ap.add_argument("--compare-redis", action="store_true",
                    help="also redis-server with R-1 replicas")
    ap.add_argument("--quick", action="store_true",
                    help="20000 GETs per node, 2000 per latency run")
    o = ap.parse_args()
    if o.quick:
        o.requests, o.latency_requests = 20000, 2000
    for tool in (SERVER, "redis-cli", "redis-benchmark"):
        if not shutil.which(tool):
            sys.exit("missing %s (make build / make deps)" % tool)
    if o.compare_redis and not shutil.which("redis-server"):
        print("no redis-server on PATH: skipping --compare-redis", file=sys.stderr)
        o.compare_redis = False
    # Let `kill` run the finally blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    os.makedirs(RESULTS, exist_ok=True)

    errors, results = [], {"OTKV": {}}
    if o.compare_redis:
        results["Redis"] = {}
    for r in o.lengths:
        print("chain of %d" % r, file=sys.stderr)
        results["OTKV"][r] = measure("otkv chain", errors, lambda: measure_otkv(r, o))
        if o.compare_redis:
            results["Redis"][r] = measure("redis + %d replicas" % (r - 1), errors,
                                          lambda: measure_redis(r, o))

    print_read_table(results, o)
    if set(o.lengths) & set(o.latency_lengths):
        print_latency_table(results, o)
    print("\n%d cores: every node and every redis-benchmark share them." % os.cpu_count())
    for e in errors:
        print("\nERROR " + e)

    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = os.path.join(RESULTS, "replication-%s.json" % stamp)
    out = {"machine": "%d cores, %s" % (os.cpu_count(), os.uname().release),
           "time": time.strftime("%Y-%m-%d %H:%M:%S"), "requests": o.requests,
           "clients": o.clients, "set_clients": o.set_clients, "set_share": SET_SHARE,
           "latency_requests": o.latency_requests, "keyspace": o.keyspace,
           "partitions": o.partitions, "otkv_args": o.otkv_args,
           "results": {s: {str(r): res for r, res in by_len.items()}
                       for s, by_len in results.items()},
           "errors": errors}
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
    print("\nwrote %s" % os.path.relpath(path, ROOT))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
