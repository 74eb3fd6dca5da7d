"""Clusters of real nodes on loopback (docs/cluster.md): forwarded reads and writes from a
plain client through every node, cross-node multi-key commands, Redis Cluster's formats
and -MOVED mode for redis-cli -c and redis-py's RedisCluster, a node killed with -9 and
restarted, node authentication, and tools/create-cluster."""

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from otkv_fixture import SCALE, SERVER, Client, ReplyError, ServerProcess

try:
    import redis
except ImportError:  # Debian's python3-redis, under another Python than Debian's
    sys.path.append("/usr/lib/python3/dist-packages")
    import redis
from redis.cluster import RedisCluster

HERE = os.path.dirname(os.path.abspath(__file__))
CREATE_CLUSTER = os.path.join(HERE, "../../tools/create-cluster")


def port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_base(n):
    """A base port b with b+1 … b+n and their cluster ports (+10000) free, all below the
    ephemeral range (32768 on): a node restarted on its ports must not find one taken by
    some client's outgoing connection meanwhile."""
    for _ in range(200):
        base = random.randrange(12000, 22000)
        ports = list(range(base + 1, base + n + 1))
        if all(port_free(p) and port_free(p + 10000) for p in ports):
            return base
    raise RuntimeError("no free ports")


def assert_error(test, reply, pattern):
    """`reply` is an error reply matching `pattern`."""
    test.assertIsInstance(reply, ReplyError, "expected an error, got %r" % (reply,))
    test.assertRegex(str(reply), pattern)
    return str(reply)


def field(text, name):
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("%s not in %r" % (name, text))


def wait_until(predicate, what, timeout=15.0 * SCALE):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


class Cluster:
    """`n` nodes on loopback, from one cluster file written by --cluster-init; each node's
    data in its own directory (kept across restarts); stop() ends them all."""

    def __init__(self, n=3, args=(), partitions=2, replicas=1):
        # replicas: nodes per replication chain (docs/replication.md); 1: none
        self.base = free_base(n)
        self.ports = [self.base + i + 1 for i in range(n)]
        self.args = list(args)
        self.dir = tempfile.mkdtemp(prefix="otkv-cluster-")
        self.file = os.path.join(self.dir, "cluster.json")
        subprocess.run([SERVER, "--cluster-init",
                        ",".join("127.0.0.1:%d" % p for p in self.ports),
                        "--cluster-config", self.file, "--partitions", str(partitions),
                        "--cluster-replicas", str(replicas - 1)],
                       check=True, stdout=subprocess.DEVNULL, timeout=30)
        self.nodes = [None] * n
        try:
            for i in range(n):
                self.start(i)
            self.wait_ok()
        except BaseException:
            self.stop()
            raise

    def start(self, i, *more, file=None):
        data = os.path.join(self.dir, str(self.ports[i]))
        os.makedirs(data, exist_ok=True)
        self.nodes[i] = ServerProcess("--port", str(self.ports[i]), "--cluster-config",
                                      file or self.file, *self.args, *more, data_dir=data)
        return self.nodes[i]

    def client(self, i):
        c = Client(self.ports[i])
        if "--requirepass" in self.args:
            c.call("AUTH", self.args[self.args.index("--requirepass") + 1])
        return c

    def state(self, i):
        c = self.client(i)
        try:
            return field(c.call("CLUSTER", "INFO").decode(), "cluster_state")
        finally:
            c.close()

    def wait_ok(self):
        for i in range(len(self.nodes)):
            wait_until(lambda: self.state(i) == "ok", "node %d: cluster_state:ok" % i)

    def stop(self):
        """Stops every node still running; each must exit 0 (under a sanitizer: no report)."""
        failed = []
        for node in self.nodes:
            if node is not None and node.proc.poll() is None:
                rc = node.stop()
                if rc != 0:
                    failed.append("node %d exited with %s\n%s" % (node.port, rc, node.log()))
        shutil.rmtree(self.dir, ignore_errors=True)
        assert not failed, "\n".join(failed)


def slot_owners(c):
    """[(first, last, port)] from CLUSTER SLOTS."""
    return [(r[0], r[1], r[2][1]) for r in c.call("CLUSTER", "SLOTS")]


def owner_port(owners, slot):
    for first, last, port in owners:
        if first <= slot <= last:
            return port
    raise AssertionError("slot %d has no owner" % slot)


def scan_all(c):
    keys, cursor, calls = set(), b"0", 0
    while True:
        cursor, batch = c.call("SCAN", cursor, "COUNT", "50")
        keys.update(batch)
        calls += 1
        if cursor == b"0" or calls > 10000:
            return keys


class ForwardingClusterTest(unittest.TestCase):
    """Three nodes that forward: any node serves any key. Two shards each: a shard whose
    actor system is not the node's home system forwards too."""

    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster(3, args=("--threads", "2"))

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def setUp(self):
        self.c = [self.cluster.client(i) for i in range(3)]
        for c in self.c:
            self.addCleanup(c.close)
        self.c[0].call("FLUSHALL")

    def test_every_node_describes_the_cluster(self):
        ids = set()
        for i, c in enumerate(self.c):
            info = c.call("CLUSTER", "INFO").decode()
            self.assertEqual(field(info, "cluster_state"), "ok")
            self.assertEqual(field(info, "cluster_known_nodes"), "3")
            myid = c.call("CLUSTER", "MYID").decode()
            ids.add(myid)
            lines = c.call("CLUSTER", "NODES").decode().splitlines()
            self.assertEqual(len(lines), 3)
            mine = [l for l in lines if "myself" in l]
            self.assertEqual(len(mine), 1)
            self.assertTrue(mine[0].startswith(myid + " 127.0.0.1:%d@%d myself,master"
                                               % (self.cluster.ports[i],
                                                  self.cluster.ports[i] + 10000)))
            owners = slot_owners(c)
            self.assertEqual(sorted(owners)[0][0], 0)
            self.assertEqual(sum(last - first + 1 for first, last, _ in owners), 16384)
            self.assertEqual(sorted(p for _, _, p in owners), self.cluster.ports)
            self.assertIn("cluster_enabled:1", c.call("INFO", "cluster").decode())
        self.assertEqual(len(ids), 3)

    def test_plain_clients_read_and_write_through_every_node(self):
        keys = ["key:%d" % i for i in range(300)]
        for i, k in enumerate(keys):
            self.assertEqual(self.c[i % 3].call("SET", k, "v%d" % i), "OK")
        for c in self.c:
            for i, k in enumerate(keys):
                self.assertEqual(c.call("GET", k), b"v%d" % i)
        # Counters stay exact whichever node each INCR enters through.
        for i in range(30):
            self.c[i % 3].call("INCR", "counter")
        for c in self.c:
            self.assertEqual(c.call("GET", "counter"), b"30")
        # A pipeline through one node: the replies come back in request order.
        conn = self.c[1]
        conn.send_raw(b"".join(Client.encode("GET", k) for k in keys[:100]))
        for i in range(100):
            self.assertEqual(conn.read_reply(), b"v%d" % i)

    def test_each_key_lives_on_its_slot_owner(self):
        keys = ["user:%d" % i for i in range(200)]
        self.c[0].call("MSET", *[x for k in keys for x in (k, "1")])
        owners = slot_owners(self.c[0])
        by_port = {p: self.cluster.client(i) for i, p in enumerate(self.cluster.ports)}
        for c in by_port.values():
            self.addCleanup(c.close)
        for k in keys[:40]:
            slot = self.c[0].call("CLUSTER", "KEYSLOT", k)
            owner = by_port[owner_port(owners, slot)]
            self.assertIn(k.encode(), owner.call("CLUSTER", "GETKEYSINSLOT", slot, 1000))
            for port, other in by_port.items():
                if other is not owner:
                    self.assertNotIn(k.encode(), other.call("CLUSTER", "GETKEYSINSLOT", slot, 1000))
        per_node = [int(field(c.call("INFO", "keyspace").decode(), "db0").split(",")[0][5:])
                    for c in by_port.values()]
        self.assertEqual(sum(per_node), 200)
        self.assertTrue(all(n > 0 for n in per_node))

    def test_multi_key_commands_span_nodes(self):
        keys = ["m:%d" % i for i in range(100)]
        self.assertEqual(self.c[0].call("MSET", *[x for k in keys for x in (k, k)]), "OK")
        self.assertEqual(self.c[2].call("MGET", *keys, "nope"), [k.encode() for k in keys] + [None])
        for c in self.c:
            self.assertEqual(c.call("DBSIZE"), 100)
            self.assertEqual(len(c.call("KEYS", "m:*")), 100)
        self.assertEqual(scan_all(self.c[1]), {k.encode() for k in keys})
        self.assertEqual(self.c[1].call("EXISTS", *keys[:10], "nope"), 10)
        self.assertEqual(self.c[2].call("DEL", *keys[:50]), 50)
        self.assertEqual(self.c[0].call("DBSIZE"), 50)
        self.assertEqual(self.c[1].call("FLUSHALL"), "OK")
        for c in self.c:
            self.assertEqual(c.call("DBSIZE"), 0)

    def test_atomic_multi_key_commands_need_one_slot(self):
        assert_error(self, self.c[0].call("MSETNX", "a", "1", "b", "2"), "CROSSSLOT")
        self.c[0].call("SET", "a", "1")
        assert_error(self, self.c[0].call("RENAME", "a", "b"), "CROSSSLOT")
        self.assertEqual(self.c[1].call("MSETNX", "{t}a", "1", "{t}b", "2"), 1)
        self.assertEqual(self.c[2].call("RENAME", "{t}a", "{t}c"), "OK")
        self.assertEqual(self.c[0].call("MGET", "{t}a", "{t}b", "{t}c"), [None, b"2", b"1"])

    def test_redis_cli_c(self):
        port = str(self.cluster.ports[0])
        for i in range(20):
            out = subprocess.run(["redis-cli", "-c", "-p", port, "SET", "cli:%d" % i, str(i)],
                                 capture_output=True, timeout=30).stdout
            self.assertEqual(out.strip(), b"OK")
        for i in range(20):
            out = subprocess.run(["redis-cli", "-c", "-p", str(self.cluster.ports[2]), "GET",
                                  "cli:%d" % i], capture_output=True, timeout=30).stdout
            self.assertEqual(out.strip(), str(i).encode())

    def test_redis_py_cluster_client(self):
        rc = RedisCluster(host="127.0.0.1", port=self.cluster.ports[1])
        self.addCleanup(rc.close)
        self.assertEqual(sorted(n.port for n in rc.get_nodes()), self.cluster.ports)
        for i in range(200):
            self.assertTrue(rc.set("py:%d" % i, i))
        self.assertEqual([rc.get("py:%d" % i) for i in range(200)],
                         [str(i).encode() for i in range(200)])
        self.assertEqual(self.c[0].call("GET", "py:7"), b"7")


class RedirectClusterTest(unittest.TestCase):
    """Three nodes with --cluster-redirect yes: Redis Cluster's own behaviour."""

    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster(3, args=("--cluster-redirect", "yes"))

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def test_moved_and_crossslot(self):
        c = self.cluster.client(0)
        self.addCleanup(c.close)
        owners = slot_owners(c)
        moved = 0
        for i in range(50):
            k = "r:%d" % i
            slot = c.call("CLUSTER", "KEYSLOT", k)
            port = owner_port(owners, slot)
            if port == self.cluster.ports[0]:
                self.assertEqual(c.call("SET", k, "x"), "OK")
            else:
                self.assertEqual(assert_error(self, c.call("SET", k, "x"), "MOVED"),
                                 "MOVED %d 127.0.0.1:%d" % (slot, port))
                moved += 1
        self.assertGreater(moved, 0)
        assert_error(self, c.call("MGET", "a", "b"), "CROSSSLOT")

    def test_cluster_clients(self):
        rc = RedisCluster(host="127.0.0.1", port=self.cluster.ports[2])
        self.addCleanup(rc.close)
        for i in range(100):
            rc.set("rpy:%d" % i, i)
        self.assertEqual([rc.get("rpy:%d" % i) for i in range(100)],
                         [str(i).encode() for i in range(100)])
        out = subprocess.run(["redis-cli", "-c", "-p", str(self.cluster.ports[0]), "GET", "rpy:5"],
                             capture_output=True, timeout=30).stdout
        self.assertEqual(out.strip(), b"5")
        # Each node counts its own keys, as in Redis Cluster.
        total = 0
        for i in range(3):
            c = self.cluster.client(i)
            total += c.call("DBSIZE")
            c.close()
        self.assertEqual(total, 100)


class SlotMoveTest(unittest.TestCase):
    """CLUSTER MOVESLOTS while 4 clients write through every node: no acknowledged write is
    lost, every node learns the new owner, and the cluster file keeps it."""

    def test_move_slots_while_clients_write(self):
        import threading
        cluster = Cluster(3, args=("--threads", "2"))
        self.addCleanup(cluster.stop)
        admin = cluster.client(0)
        self.addCleanup(admin.close)
        ids = [None] * 3
        for i in range(3):
            c = cluster.client(i)
            ids[i] = c.call("CLUSTER", "MYID").decode()
            c.close()
        first, last = 0, 2000  # node 0's (it serves 0-5460)
        for i in range(300):   # keys in the slots before the move
            admin.call("SET", "pre:%d" % i, i)
        stop = threading.Event()
        acked, errors = [[] for _ in range(4)], [[] for _ in range(4)]
        retries = [0] * 4

        def writer(w):
            c = cluster.client(w % 3)
            try:
                i = 0
                while not stop.is_set():
                    r = c.call("SET", "w%d:%d" % (w, i), i)
                    if r == "OK":
                        acked[w].append(i)
                        i += 1
                    elif isinstance(r, ReplyError) and str(r).startswith("TRYAGAIN"):
                        retries[w] += 1
                        time.sleep(0.01)
                    else:
                        errors[w].append(r)
                        i += 1
            finally:
                c.close()

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)
            started = time.monotonic()
            reply = admin.call("CLUSTER", "MOVESLOTS", first, last, ids[2])
            took = time.monotonic() - started
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertEqual(reply, "OK", admin.call("CLUSTER", "INFO").decode())
        self.assertEqual(errors, [[], [], [], []])
        self.assertGreater(sum(len(a) for a in acked), 100)
        self.assertIn("cluster_move:done: slots 0-2000 to " + ids[2],
                      admin.call("CLUSTER", "INFO").decode())
        # Every node routes the slots to node 2 (the news reaches them asynchronously).
        for i in range(3):
            c = cluster.client(i)
            self.addCleanup(c.close)
            wait_until(lambda: (first, last, cluster.ports[2]) in slot_owners(c),
                       "node %d to learn the move" % i)
        # Every acknowledged write, and every key from before, through every node.
        readers = [cluster.client(i) for i in range(3)]
        for r in readers:
            self.addCleanup(r.close)
        for w in range(4):
            keys = ["w%d:%d" % (w, i) for i in acked[w]]
            for r in readers:
                self.assertEqual(r.call("MGET", *keys), [str(i).encode() for i in acked[w]])
        for r in readers:
            self.assertEqual(r.call("MGET", *["pre:%d" % i for i in range(300)]),
                             [str(i).encode() for i in range(300)])
        # Node 0 kept no copy; node 2 has them.
        moved_slot = next(s for s in (admin.call("CLUSTER", "KEYSLOT", "pre:%d" % i)
                                      for i in range(300)) if first <= s <= last)
        self.assertEqual(admin.call("CLUSTER", "COUNTKEYSINSLOT", moved_slot), 0)
        self.assertGreater(readers[2].call("CLUSTER", "COUNTKEYSINSLOT", moved_slot), 0)
        # The cluster file says so: a restarted node routes the slots to node 2 too.
        cluster.nodes[1].stop()
        cluster.start(1)
        cluster.wait_ok()
        c = cluster.client(1)
        self.addCleanup(c.close)
        self.assertIn((first, last, cluster.ports[2]), slot_owners(c))
        self.assertEqual(c.call("GET", "pre:7"), b"7")
        print("\nslot move: %.1f s, %d acknowledged writes, %d TRYAGAIN retries"
              % (took, sum(len(a) for a in acked), sum(retries)), file=sys.stderr)

    def test_refusals(self):
        cluster = Cluster(2)
        self.addCleanup(cluster.stop)
        c = cluster.client(0)
        self.addCleanup(c.close)
        other = [l.split()[0] for l in c.call("CLUSTER", "NODES").decode().splitlines()
                 if "myself" not in l][0]
        assert_error(self, c.call("CLUSTER", "MOVESLOTS", 10000, 10001, other), "not this node's")
        assert_error(self, c.call("CLUSTER", "MOVESLOTS", 5, 1, other), "Invalid or out of range slot")
        assert_error(self, c.call("CLUSTER", "MOVESLOTS", 0, 1, "nope"), "Unknown node nope")
        assert_error(self, c.call("CLUSTER", "DUMPSLOTS", 0, 1), "unknown subcommand")


class NodeFailureTest(unittest.TestCase):
    """kill -9 of a node: its slots answer -CLUSTERDOWN within the request timeout, the
    other nodes keep serving theirs, and the node rejoins with its data when restarted."""

    def test_kill_and_restart_a_node(self):
        cluster = Cluster(3, args=("--appendfsync", "always"))
        self.addCleanup(cluster.stop)
        c = cluster.client(0)
        self.addCleanup(c.close)
        owners = slot_owners(c)
        victim = cluster.ports[1]
        keys = ["f:%d" % i for i in range(100)]
        for k in keys:
            self.assertEqual(c.call("SET", k, k), "OK")
        on_victim = [k for k in keys if owner_port(owners, c.call("CLUSTER", "KEYSLOT", k)) == victim]
        elsewhere = [k for k in keys if k not in on_victim]
        self.assertTrue(on_victim and elsewhere)
        cluster.nodes[1].kill()
        wait_until(lambda: cluster.state(0) == "fail", "node 0 to see the failure")
        budget = 2.0 + 1.0  # request-timeout-ms × attempts + the forward slack (defaults)
        for k in on_victim[:10]:
            started = time.monotonic()
            assert_error(self, c.call("GET", k), "CLUSTERDOWN|TIMEOUT")
            self.assertLess(time.monotonic() - started, budget * SCALE)
        for k in elsewhere:
            self.assertEqual(c.call("GET", k), k.encode())
        other = cluster.client(2)
        self.addCleanup(other.close)
        self.assertEqual(other.call("GET", elsewhere[0]), elsewhere[0].encode())
        # Restarted on its data directory: it rejoins, its keys are back.
        cluster.start(1)
        cluster.wait_ok()
        for k in keys:
            self.assertEqual(c.call("GET", k), k.encode())


class NodeAuthenticationTest(unittest.TestCase):
    """With --requirepass the nodes present it to each other; a node with another secret,
    or one that is not in the cluster file, is refused."""

    def test_nodes_with_the_password_serve_each_other(self):
        cluster = Cluster(2, args=("--requirepass", "s3cret"))
        self.addCleanup(cluster.stop)
        c = cluster.client(0)
        self.addCleanup(c.close)
        for i in range(50):
            self.assertEqual(c.call("SET", "a:%d" % i, i), "OK")
        self.assertEqual(c.call("DBSIZE"), 50)
        plain = Client(cluster.ports[1])
        self.addCleanup(plain.close)
        assert_error(self, plain.call("GET", "a:1"), "NOAUTH")

    def test_config_set_requirepass_reaches_the_cluster_link(self):
        cluster = Cluster(2, args=("--requirepass", "s3cret"))
        self.addCleanup(cluster.stop)
        c = cluster.client(0)
        self.addCleanup(c.close)
        self.assertEqual(c.call("CONFIG", "SET", "requirepass", "n3w"), "OK")
        # Node 1 comes back with the new password: node 0's gate and link use it too.
        cluster.nodes[1].stop()
        cluster.start(1, "--requirepass", "n3w")
        cluster.args[cluster.args.index("s3cret")] = "n3w"
        cluster.wait_ok()
        for i in range(20):
            self.assertEqual(c.call("SET", "p:%d" % i, i), "OK")
        self.assertEqual(c.call("DBSIZE"), 20)

    def test_a_node_with_another_secret_is_refused(self):
        cluster = Cluster(2, args=("--requirepass", "s3cret"))
        self.addCleanup(cluster.stop)
        cluster.nodes[1].stop()
        cluster.start(1, "--requirepass", "other")
        cluster.nodes[0].wait_for_log("wrong secret")
        time.sleep(0.5)
        self.assertEqual(cluster.state(0), "fail")
        c = cluster.client(0)
        self.addCleanup(c.close)
        owners = slot_owners(c)
        k = next("x:%d" % i for i in range(1000)
                 if owner_port(owners, c.call("CLUSTER", "KEYSLOT", "x:%d" % i)) == cluster.ports[1])
        assert_error(self, c.call("GET", k), "CLUSTERDOWN")

    def test_a_node_not_in_the_cluster_file_is_refused(self):
        cluster = Cluster(2)
        self.addCleanup(cluster.stop)
        cluster.nodes[1].stop()
        # An impostor on node 1's ports, with its own id.
        with open(cluster.file) as f:
            text = f.read()
        c = cluster.client(0)
        self.addCleanup(c.close)
        lines = c.call("CLUSTER", "NODES").decode().splitlines()
        other_id = [l.split()[0] for l in lines if "myself" not in l][0]
        impostor = os.path.join(cluster.dir, "impostor.json")
        with open(impostor, "w") as f:
            f.write(text.replace(other_id, "f" * 40))
        cluster.start(1, file=impostor)
        cluster.nodes[0].wait_for_log("not in the cluster file")
        self.assertEqual(cluster.state(0), "fail")


    def test_a_node_with_another_cluster_file_is_refused(self):
        cluster = Cluster(2)
        self.addCleanup(cluster.stop)
        cluster.nodes[1].stop()
        shutil.rmtree(os.path.join(cluster.dir, str(cluster.ports[1])))
        with open(cluster.file) as f:
            text = f.read()
        other = os.path.join(cluster.dir, "other.json")
        with open(other, "w") as f:
            f.write(text.replace('"partitions": 2', '"partitions": 4'))
        cluster.start(1, file=other)
        cluster.nodes[0].wait_for_log("another cluster file")
        self.assertEqual(cluster.state(0), "fail")


class StartRefusalTest(unittest.TestCase):
    """A node refuses to start, saying why, on a cluster file that does not fit it."""

    def run_server(self, *args):
        return subprocess.run([SERVER, *args], capture_output=True, timeout=30 * SCALE)

    def test_refusals(self):
        d = tempfile.mkdtemp(prefix="otkv-cluster-")
        self.addCleanup(shutil.rmtree, d, True)
        f = os.path.join(d, "c.json")
        self.assertEqual(self.run_server("--cluster-init", "127.0.0.1:7001,127.0.0.1:7002",
                                         "--cluster-config", f, "--partitions", "2").returncode, 0)
        r = self.run_server("--port", "7003", "--cluster-config", f, "--dir", d)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"no node of the cluster file is 127.0.0.1:7003", r.stdout + r.stderr)
        r = self.run_server("--port", "7001", "--cluster-config", f, "--dir", d, "--partitions", "4")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"differs from the cluster file", r.stdout + r.stderr)
        r = self.run_server("--port", "7001", "--cluster-config", os.path.join(d, "none.json"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"cannot read the cluster file", r.stdout + r.stderr)
        r = self.run_server("--cluster-init", "127.0.0.1")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"is not HOST:PORT", r.stderr)


class CreateClusterScriptTest(unittest.TestCase):
    """tools/create-cluster start | stop | clean, as the README uses it."""

    def test_start_stop_clean(self):
        base = free_base(3)
        while not (port_free(base) and port_free(base + 10000)):  # the private etcd's ports
            base = free_base(3)
        d = os.path.join(tempfile.mkdtemp(prefix="otkv-cc-"), "data")
        env = dict(os.environ, PORT=str(base), DIR=d, OTKV_SERVER=SERVER,
                   OTKV_ARGS="--partitions 2")
        run = lambda cmd: subprocess.run([CREATE_CLUSTER, cmd], env=env, capture_output=True,
                                         timeout=60 * SCALE)
        self.addCleanup(lambda: (run("clean"), shutil.rmtree(os.path.dirname(d), True)))
        r = run("start")
        self.assertEqual(r.returncode, 0, r.stderr)
        for i in range(3):
            c = Client(base + 1 + i)
            self.assertEqual(c.call("PING"), "PONG")
            c.call("SET", "cc:%d" % i, i)
            c.close()
            self.assertTrue(os.path.exists(os.path.join(d, "%d.pid" % (base + 1 + i))))
            self.assertTrue(os.path.isdir(os.path.join(d, str(base + 1 + i))))
        pids = []
        for i in range(3):
            with open(os.path.join(d, "%d.pid" % (base + 1 + i))) as f:
                pids.append(int(f.read()))
        self.assertEqual(run("stop").returncode, 0)
        for pid in pids:
            with self.assertRaises(ProcessLookupError):
                os.kill(pid, 0)
        # Started again: same cluster file, same data.
        self.assertEqual(run("start").returncode, 0)
        c = Client(base + 3)
        self.assertEqual(c.call("GET", "cc:0"), b"0")
        c.close()
        self.assertEqual(run("clean").returncode, 0)
        self.assertFalse(os.path.exists(d))
        env["REPLICAS"] = "1"  # 3 nodes do not make chains of 2
        r = run("start")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"do not make chains of REPLICAS+1=2", r.stderr)
        # REPLICAS=2 NODES=3: one chain of three over all slots, head first, its layout
        # in a private etcd on PORT (where etcd is installed).
        env["REPLICAS"] = "2"
        r = run("start")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"1 chains of 3", r.stdout)
        if shutil.which("etcd"):
            self.assertIn(b"layout in etcd 127.0.0.1:%d" % base, r.stdout)
            self.assertTrue(os.path.exists(os.path.join(d, "etcd.pid")))
            c = Client(base + 2)
            self.assertEqual(field(c.call("INFO", "replication").decode(), "chain_epoch"), "0")
            c.close()
        c = Client(base + 3)
        slots = c.call("CLUSTER", "SLOTS")
        self.assertEqual([n[1] for n in slots[0][2:]], [base + 1, base + 2, base + 3])
        self.assertEqual(c.call("SET", "cc", "1"), "OK")
        c.close()
        c = Client(base + 1)
        self.assertEqual(c.call("GET", "cc"), b"1")
        c.close()
        r = run("clean")
        self.assertEqual(r.returncode, 0, r.stderr)
        if shutil.which("etcd"):
            self.assertIn(b"stopped etcd", r.stdout)


if __name__ == "__main__":
    unittest.main()
