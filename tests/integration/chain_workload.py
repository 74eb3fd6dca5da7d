"""Concurrent clients reading and writing a few keys through every node of a cluster, each
operation recorded for the linearizability checker (history.py). Shared by the fault runs
of test_history.py and test_replication.py, the network-cut run (netns_chain_cut.py) and
`make test-jepsen` (jepsen_chain.py)."""

import random
import threading
import time

from history import UNKNOWN, Recorder, check
from otkv_fixture import SCALE, Client, ReplyError


def replication_field(client, name):
    """Field `name` of INFO replication, from an open Client (ReplyError when INFO got an
    error reply: a busy node under a sanitizer may answer -TIMEOUT)."""
    reply = client.call("INFO", "replication")
    if isinstance(reply, ReplyError):
        raise reply
    for line in reply.decode().splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("%s not in INFO replication" % name)


def chain_info(cluster, i, name):
    """Field `name` of node i's INFO replication (`cluster`: test_cluster.Cluster)."""
    c = cluster.client(i)
    try:
        return replication_field(c, name)
    finally:
        c.close()


def chain_caught_up(cluster):
    """Whether every node of the chain has every record, all committed (False while a node
    answers INFO with an error)."""
    nodes = range(len(cluster.nodes))
    try:
        applied = [chain_info(cluster, i, "chain_applied_records") for i in nodes]
        committed = [chain_info(cluster, i, "chain_committed_records") for i in nodes]
    except ReplyError:
        return False
    return len(set(applied)) == 1 and committed == applied


def chain_whole(cluster):
    """Whether every node of `cluster` serves in its chain again: each reports a chain of
    all the cluster's nodes, in sync (False while one does not answer, or answers an
    error: a node restarting itself to rejoin)."""
    n = str(len(cluster.nodes))
    try:
        return all(chain_info(cluster, i, "chain_length") == n
                   and chain_info(cluster, i, "chain_synced") == "yes"
                   for i in range(len(cluster.nodes)))
    except (ReplyError, OSError):
        return False


class Workload:
    """`ports`: the nodes' client ports on 127.0.0.1, or (host, port) pairs. `clients`
    threads, client n starting at node n mod len(ports) and moving to the next
    node when its connection breaks; each operation a GET or (with `write_ratio`) a SET of
    a value never written before, of one of `keys` keys; `pause` seconds between a
    client's operations."""

    def __init__(self, ports, clients=4, keys=6, write_ratio=0.5, timeout=5.0, pause=0.0):
        self.ports = list(ports)
        self.keys = ["h:%d" % i for i in range(keys)]
        self.write_ratio = write_ratio
        self.pause = pause  # seconds each client waits between operations
        self.timeout = timeout * SCALE
        self.rec = Recorder()
        self._stop = threading.Event()
        self._counter = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, args=(n,), daemon=True)
                         for n in range(clients)]

    def start(self):
        for t in self._threads:
            t.start()

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(60)

    def _value(self, n):
        with self._lock:
            self._counter += 1
            return "%d-%d" % (n, self._counter)

    def _open(self, address):
        host, port = address if isinstance(address, tuple) else ("127.0.0.1", address)
        return Client(port, timeout=self.timeout, host=host)

    def _connect(self, node):
        try:
            return self._open(self.ports[node])
        except OSError:
            return None

    def _client(self, n):
        rng = random.Random(n)
        node = n % len(self.ports)
        c = self._connect(node)
        try:
            while not self._stop.is_set():
                if c is None:  # its node is unreachable: try the next one
                    time.sleep(0.05)
                    node = (node + 1) % len(self.ports)
                    c = self._connect(node)
                    continue
                key = rng.choice(self.keys)
                write = rng.random() < self.write_ratio
                value = self._value(n) if write else None
                invoked = self.rec.now()
                try:
                    reply = c.call("SET", key, value) if write else c.call("GET", key)
                except (ConnectionError, OSError):
                    reply = ReplyError("connection lost")
                    c.close()
                    c = None
                if write:
                    self.rec.write(key, value, invoked, reply == "OK")
                else:
                    ok = not isinstance(reply, ReplyError)
                    self.rec.read(key, reply.decode() if isinstance(reply, bytes) else reply,
                                  invoked, ok)
                if isinstance(reply, ReplyError):
                    time.sleep(0.01)
                elif self.pause:
                    time.sleep(self.pause)
        finally:
            if c is not None:
                c.close()

    def final_reads(self, ports=None):
        """Reads every key at every node (after stop()): each must see the last
        acknowledged write."""
        for address in ports or self.ports:
            c = self._open(address)
            try:
                for key in self.keys:
                    invoked = self.rec.now()
                    value = c.call("GET", key)
                    self.rec.read(key, value.decode() if value is not None else None,
                                  invoked, True)
            finally:
                c.close()

    def summary(self):
        """Counts of the history and the checker's verdict: (dict, failures)."""
        writes = [o for o in self.rec.ops if o.kind == "w"]
        acked = [o for o in writes if o.completed != UNKNOWN]
        reads = [o for o in self.rec.ops if o.kind == "r"]
        failures = check(self.rec.ops)
        return {
            "operations": len(self.rec.ops) + self.rec.failed_reads,
            "writes": len(writes),
            "writes_acknowledged": len(acked),
            "writes_unknown": len(writes) - len(acked),
            "reads": len(reads),
            "reads_failed": self.rec.failed_reads,
            "keys_not_linearizable": len(failures),
        }, failures
