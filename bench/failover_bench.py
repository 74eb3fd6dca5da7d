#!/usr/bin/env python3
"""How long failover takes (docs/replication.md, "Failover"): one chain of three OTKV nodes
on loopback with a private etcd (--cluster-etcd), --keys keys of --value-size bytes
loaded through the head. Each of --rounds rounds kills the chain's head with SIGKILL and
measures:
  - write outage: from the kill until a SET through another node is acknowledged (polled
    every 10 ms): the lease's TTL (2 s), the removal's grace (0.5 s), and a layout round;
  - rejoin: from the restart of the killed node until every node reports a chain of three
    in sync: start-up, the join transaction, and a full copy of the data.
Prints a Markdown table (each round, then the medians) and writes
bench/results/failover-<timestamp>.json.
"""

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
sys.path.insert(0, HERE)
from run_bench import RESULTS, SERVER  # noqa: E402

os.environ.setdefault("OTKV_SERVER", SERVER)
from chain_workload import chain_whole  # noqa: E402
from etcd_fixture import Etcd  # noqa: E402
from otkv_fixture import Client  # noqa: E402
from test_cluster import Cluster, wait_until  # noqa: E402


def acknowledged(port, key):
    try:
        c = Client(port, timeout=1)
    except OSError:
        return False
    try:
        return c.call("SET", key, "x") == "OK"
    except OSError:
        return False
    finally:
        c.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keys", type=int, default=100000)
    parser.add_argument("--value-size", type=int, default=100)
    args = parser.parse_args()
    etcd = Etcd()
    cluster = None
    rows = []
    try:
        cluster = Cluster(3, args=("--cluster-etcd", etcd.address), partitions=8, replicas=3)
        c = Client(cluster.ports[0])
        value = "v" * args.value_size
        for first in range(0, args.keys, 1000):
            batch = range(first, min(first + 1000, args.keys))
            c.send_raw(b"".join(Client.encode("SET", "key:%d" % k, value) for k in batch))
            for _ in batch:
                c.read_reply()
        c.close()
        for r in range(args.rounds):
            c = Client(cluster.ports[0])  # every node is up: the chain is whole
            head_port = c.call("CLUSTER", "SLOTS")[0][2][1]
            c.close()
            head = cluster.ports.index(head_port)
            other = cluster.ports[(head + 1) % 3]
            killed = time.monotonic()
            cluster.nodes[head].kill()
            while not acknowledged(other, "probe:%d" % r):
                time.sleep(0.01)
            outage = time.monotonic() - killed
            restarted = time.monotonic()
            cluster.start(head)
            wait_until(lambda: chain_whole(cluster), "the chain to be whole again", timeout=120)
            rejoin = time.monotonic() - restarted
            rows.append({"round": r + 1, "write_outage_s": outage, "rejoin_s": rejoin})
            print("round %d: write outage %.2f s, rejoin %.2f s" % (r + 1, outage, rejoin),
                  flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
        etcd.stop()
    print("\n%d keys of %d bytes, 8 partitions, lease TTL 2 s\n" % (args.keys, args.value_size))
    print("| round | write outage (s) | rejoin with a full copy (s) |\n|---:|---:|---:|")
    for row in rows:
        print("| %d | %.2f | %.2f |" % (row["round"], row["write_outage_s"], row["rejoin_s"]))
    print("| median | %.2f | %.2f |" % (statistics.median(r["write_outage_s"] for r in rows),
                                        statistics.median(r["rejoin_s"] for r in rows)))
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, "failover-%s.json" % time.strftime("%Y%m%d-%H%M%S"))
    with open(path, "w") as out:
        json.dump({"keys": args.keys, "value_size": args.value_size, "rounds": rows}, out,
                  indent=1)
    print("\nwrote %s" % path)


if __name__ == "__main__":
    main()
