"""A chain of three nodes with one cut off the network for a while. Run by
test_replication.py inside a private network namespace (`unshare -rn`): the nodes listen on
127.0.0.1, 127.0.0.2 and 127.0.0.3, and the cut is a pair of blackhole routing rules for
one of those addresses (no packet to or from it), removed after CUT seconds. Concurrent
clients run throughout; the history must be linearizable, no acknowledged write lost, and
the chain whole again afterwards. Exits 0 when every check passes."""

import os
import subprocess
import sys
import tempfile
import time

from chain_workload import Workload
from otkv_fixture import SCALE, SERVER, Client, ServerProcess

HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
PORT = 7001
CUT = 2.0


def ip(*args):
    subprocess.run(["ip", *args], check=True)


def field(client, section, name):
    for line in client.call("INFO", section).decode().splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    raise AssertionError(name)


def wait(predicate, what, timeout=30.0 * SCALE):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def main(victim):
    ip("link", "set", "lo", "up")
    work_dir = tempfile.mkdtemp(prefix="otkv-netns-")
    config = os.path.join(work_dir, "cluster.json")
    addresses = [(h, PORT + i) for i, h in enumerate(HOSTS)]
    subprocess.run([SERVER, "--cluster-init", ",".join("%s:%d" % a for a in addresses),
                    "--cluster-replicas", "2", "--cluster-config", config, "--partitions", "2"],
                   check=True, stdout=subprocess.DEVNULL)
    nodes = []
    try:
        for host, port in addresses:
            data = os.path.join(work_dir, str(port))
            nodes.append(ServerProcess("--bind", host, "--port", str(port), "--cluster-config",
                                       config, "--request-timeout-ms", "300", data_dir=data))

        def state(field_name, section="replication"):
            out = []
            for host, port in addresses:
                c = Client(port, host=host)
                try:
                    out.append(field(c, section, field_name))
                finally:
                    c.close()
            return out

        wait(lambda: state("cluster_state", "cluster") == ["ok"] * 3, "the chain to form")
        work = Workload(addresses)
        work.start()
        time.sleep(1.0)
        cut = HOSTS[victim]
        ip("rule", "add", "pref", "10", "to", cut, "blackhole")
        ip("rule", "add", "pref", "11", "from", cut, "blackhole")
        time.sleep(CUT)
        ip("rule", "del", "pref", "10")
        ip("rule", "del", "pref", "11")
        time.sleep(1.0)
        work.stop()

        def caught_up():
            applied = state("chain_applied_records")
            return (state("cluster_state", "cluster") == ["ok"] * 3 and len(set(applied)) == 1
                    and state("chain_committed_records") == applied)
        wait(caught_up, "the chain to be whole again")
        check(True, "the chain is whole again after %s was cut off" % cut)
        work.final_reads()
        counts, failures = work.summary()
        print("counts:", counts)
        check(counts["writes_acknowledged"] > 20, "writes were acknowledged")
        check(failures == [], "the history is linearizable, no acknowledged write lost")
    finally:
        for n in nodes:
            n.stop()


if __name__ == "__main__":
    # The node to cut off: 0 head, 1 middle, 2 tail (default: the middle).
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
