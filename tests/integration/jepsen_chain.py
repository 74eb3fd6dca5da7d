"""`make test-jepsen`: the long form of the replication fault runs. A chain of three nodes
(appendfsync everysec) takes concurrent reads and writes through every node for SECONDS
while faults are injected at random, one at a time, every 2-5 s:

- kill -9 a node and restart it;
- pause a node with SIGSTOP past the request timeout, then resume it;
- stop a node, delete its data directory and restart it (it gets a full copy).

With etcd (the default where it is installed; --static: without), the chain fails over
(docs/replication.md, "Failover"): a node down or paused for longer than its lease (up
to 4 s here) is removed, the others go on, and it rejoins at the tail.

At the end: the chain must be whole again (every node has every record, all committed),
every history linearizable (history.py), and no acknowledged write lost. Prints what was
done and found; exits 1 on any failure.

    python3 jepsen_chain.py [--seconds 180] [--clients 8] [--keys 256] [--seed N] [--static]
"""

import argparse
import json
import os
import random
import shutil
import signal
import sys
import time

from chain_workload import Workload, chain_caught_up, chain_whole
from etcd_fixture import ETCD, Etcd
from history import UNKNOWN
from test_cluster import Cluster, wait_until


def lost_writes(ops):
    """Keys whose final reads (the last read of each key at each node, made after every
    client stopped) do not see the last acknowledged write or a write not older than it."""
    lost = 0
    by_key = {}
    for o in ops:
        by_key.setdefault(o.key, []).append(o)
    for key, key_ops in by_key.items():
        writes = {o.value: o for o in key_ops if o.kind == "w"}
        acked = [o for o in writes.values() if o.completed != UNKNOWN]
        if not acked:
            continue
        last = max(acked, key=lambda o: o.completed)
        final = sorted((o for o in key_ops if o.kind == "r"), key=lambda o: o.invoked)[-3:]
        for read in final:
            seen = writes.get(read.value)
            if seen is None or (seen is not last and seen.completed < last.invoked):
                lost += 1
                break
    return lost


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--keys", type=int, default=256,
                        help="keys written and read (more keys: shorter histories to check)")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--history", help="write the history (JSON) to this file")
    parser.add_argument("--static", action="store_true",
                        help="static chains (no etcd, no failover)")
    args = parser.parse_args()
    etcd = None if args.static or ETCD is None else Etcd()
    try:
        return run(args, etcd)
    finally:
        if etcd is not None:
            etcd.stop()


def run(args, etcd):
    rng = random.Random(args.seed)
    print("seed %d, %d clients, %.0f s, %s" % (args.seed, args.clients, args.seconds,
          "failover through etcd" if etcd else "static chain"), flush=True)
    more = ("--cluster-etcd", etcd.address) if etcd else ()
    # With failover, a fault may outlast the lease (2 s): the node is removed and rejoins.
    longest = 4.0 if etcd else 2.0
    cluster = Cluster(3, args=("--appendfsync", "everysec", "--request-timeout-ms", "300")
                      + more, replicas=3)
    faults = {"kill -9 + restart": 0, "SIGSTOP + SIGCONT": 0, "wipe + restart": 0}
    try:
        # A little pause between operations: the checker's time grows faster than the
        # history, and a few thousand operations a second find as much.
        work = Workload(cluster.ports, clients=args.clients, keys=args.keys, pause=0.002)
        work.start()
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            time.sleep(rng.uniform(2, 5))
            victim = rng.randrange(3)
            kind = rng.choice(list(faults))
            print("%7.1f s: %s on node %d" % (args.seconds - (end - time.monotonic()), kind,
                                             victim), flush=True)
            node = cluster.nodes[victim]
            if kind == "kill -9 + restart":
                node.kill()
                time.sleep(rng.uniform(0.2, longest))
                cluster.start(victim)
            elif kind == "SIGSTOP + SIGCONT":
                node.proc.send_signal(signal.SIGSTOP)
                time.sleep(rng.uniform(0.5, longest))
                node.proc.send_signal(signal.SIGCONT)
            else:
                if node.stop() != 0:
                    raise AssertionError("node %d did not exit 0:\n%s" % (victim, node.log()))
                shutil.rmtree(os.path.join(cluster.dir, str(cluster.ports[victim])))
                time.sleep(rng.uniform(0.2, 1))
                cluster.start(victim)
            faults[kind] += 1
            if etcd:  # a node removed while paused restarts itself: no wait_ok meanwhile
                wait_until(lambda: chain_whole(cluster), "the chain to be whole again", timeout=30)
            cluster.wait_ok()
        work.stop()
        wait_until(lambda: chain_caught_up(cluster), "the chain to be whole again", timeout=60)
        work.final_reads()
        if args.history:
            with open(args.history, "w") as out:
                json.dump([list(o) for o in work.rec.ops], out)
        started = time.monotonic()
        counts, failures = work.summary()
        print("checked in %.1f s" % (time.monotonic() - started), flush=True)
        counts["writes_lost"] = lost_writes(work.rec.ops)
        print("\n| | |\n|---|---:|")
        for name, n in faults.items():
            print("| faults: %s | %d |" % (name, n))
        if etcd:  # each removal and each rejoin is one epoch
            print("| chain layout changes (removals, rejoins) | %d |" % etcd.layout()["epoch"])
        for name, n in counts.items():
            print("| %s | %d |" % (name.replace("_", " "), n))
        for key, why in failures:
            print("NOT LINEARIZABLE: %s: %s" % (key, why))
        ok = not failures and counts["writes_lost"] == 0
        print("\n%s: chain whole again, %s" % ("PASS" if ok else "FAIL",
              "every history linearizable, no acknowledged write lost" if ok
              else "see above"))
        return 0 if ok else 1
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
