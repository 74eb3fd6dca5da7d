"""The linearizability checker (history.py) on histories made by hand, then on real ones:
concurrent clients reading and writing a few keys through every node of a 3-node cluster, with
one node killed (-9) and restarted during the run. Every history must be linearizable, and a
final read of every key must see the last acknowledged write."""

import random
import threading
import time
import unittest

from history import UNKNOWN, Op, Recorder, check, check_key
from otkv_fixture import SCALE, Client, ReplyError
from test_cluster import Cluster


def w(value, invoked, completed, key="k"):
    return Op(key, "w", value, invoked, completed)


def r(value, invoked, completed, key="k"):
    return Op(key, "r", value, invoked, completed)


class CheckerTest(unittest.TestCase):
    def test_sequential_history(self):
        self.assertTrue(check_key([r(None, 0, 1), w(1, 2, 3), r(1, 4, 5), w(2, 6, 7), r(2, 8, 9)])[0])

    def test_stale_read_is_not_linearizable(self):
        ok, why = check_key([w(1, 0, 1), w(2, 2, 3), r(1, 4, 5)])
        self.assertFalse(ok)
        self.assertIn("linearize", why)

    def test_read_of_a_value_never_written(self):
        self.assertFalse(check_key([w(1, 0, 1), r(7, 2, 3)])[0])

    def test_concurrent_write_may_be_seen_or_not(self):
        # The write overlaps both reads: old then new is fine ...
        self.assertTrue(check_key([w(1, 0, 1), w(2, 2, 10), r(1, 3, 4), r(2, 5, 6)])[0])
        # ... new then old is not: once a read saw 2, the write had taken effect.
        self.assertFalse(check_key([w(1, 0, 1), w(2, 2, 10), r(2, 3, 4), r(1, 5, 6)])[0])

    def test_write_of_unknown_outcome(self):
        # It may take effect late (seen after its client gave up) or never.
        self.assertTrue(check_key([w(1, 0, 1), w(2, 2, UNKNOWN), r(1, 5, 6), r(2, 7, 8)])[0])
        self.assertTrue(check_key([w(1, 0, 1), w(2, 2, UNKNOWN), r(1, 5, 6), r(1, 7, 8)])[0])
        # But not before it was invoked.
        self.assertFalse(check_key([w(1, 0, 1), r(2, 1.5, 1.8), w(2, 2, UNKNOWN)])[0])

    def test_a_lost_acknowledged_write_fails_the_final_read(self):
        self.assertFalse(check_key([w(1, 0, 1), w(2, 2, 3), r(1, 10, 11)])[0])

    def test_keys_are_checked_apart(self):
        ops = [w(1, 0, 1, "a"), w(1, 0, 1, "b"), r(1, 2, 3, "a"), r(None, 2, 3, "b")]
        self.assertEqual([key for key, _ in check(ops)], ["b"])

    def test_a_long_concurrent_history_is_checked_quickly(self):
        # 4 clients, 400 operations each on one key, each overlapping the others.
        ops, value, t = [], 0, 0.0
        for i in range(1600):
            if i % 3 == 0:
                value += 1
                ops.append(w(value, t, t + 0.35))
            else:
                ops.append(r(value, t + 0.36, t + 0.4))
            t += 0.1
        started = time.monotonic()
        self.assertTrue(check_key(ops)[0])
        self.assertLess(time.monotonic() - started, 30)


class ClusterHistoryTest(unittest.TestCase):
    """4 clients on 3 forwarding nodes (appendfsync always), 6 keys, reads and writes, about
    4 seconds; node 1 is killed with -9 after 1 s and restarted after 2 s."""

    KEYS = ["h:%d" % i for i in range(6)]

    def test_history_is_linearizable_across_a_kill_and_restart(self):
        cluster = Cluster(3, args=("--appendfsync", "always"))
        self.addCleanup(cluster.stop)
        rec = Recorder()
        stop = threading.Event()
        counter = [0]
        counter_lock = threading.Lock()

        def client(n):
            rng = random.Random(n)
            node = n % 3
            c = Client(cluster.ports[node], timeout=5 * SCALE)
            try:
                while not stop.is_set():
                    key = rng.choice(self.KEYS)
                    invoked = rec.now()
                    write = rng.random() < 0.5
                    if write:
                        with counter_lock:
                            counter[0] += 1
                            value = "%d-%d" % (n, counter[0])
                    try:
                        reply = c.call("SET", key, value) if write else c.call("GET", key)
                    except (ConnectionError, OSError):  # its node was killed: go to the next
                        reply = ReplyError("connection lost")
                        c.close()
                        node = (node + 1) % 3
                        c = Client(cluster.ports[node], timeout=5 * SCALE)
                    if write:
                        rec.write(key, value, invoked, reply == "OK")
                    else:
                        ok = not isinstance(reply, ReplyError)
                        rec.read(key, reply.decode() if isinstance(reply, bytes) else reply,
                                 invoked, ok)
            finally:
                c.close()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            cluster.nodes[1].kill()
            time.sleep(1.0)
            cluster.start(1)
            cluster.wait_ok()
            time.sleep(1.0)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        # The final read of every key, after every client stopped.
        c = cluster.client(0)
        self.addCleanup(c.close)
        for key in self.KEYS:
            invoked = rec.now()
            value = c.call("GET", key)
            rec.read(key, value.decode() if value is not None else None, invoked, True)
        writes = [o for o in rec.ops if o.kind == "w"]
        acked = [o for o in writes if o.completed != UNKNOWN]
        self.assertGreater(len(acked), 50)
        self.assertLess(len(acked), len(writes))  # the kill made some outcomes unknown
        self.assertEqual(check(rec.ops), [])


if __name__ == "__main__":
    unittest.main()
