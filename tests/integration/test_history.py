"""The linearizability checker (history.py) on histories made by hand, then on real ones:
concurrent clients reading and writing a few keys through every node of a 3-node cluster, with
one node killed (-9) and restarted during the run. Every history must be linearizable, and a
final read of every key must see the last acknowledged write."""

import time
import unittest

from chain_workload import Workload
from history import UNKNOWN, Op, check, check_key
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

    def test_history_is_linearizable_across_a_kill_and_restart(self):
        cluster = Cluster(3, args=("--appendfsync", "always"))
        self.addCleanup(cluster.stop)
        work = Workload(cluster.ports)
        work.start()
        try:
            time.sleep(1.0)
            cluster.nodes[1].kill()
            time.sleep(1.0)
            cluster.start(1)
            cluster.wait_ok()
            time.sleep(1.0)
        finally:
            work.stop()
        # The final read of every key, after every client stopped.
        work.final_reads([cluster.ports[0]])
        counts, failures = work.summary()
        self.assertGreater(counts["writes_acknowledged"], 50)
        self.assertGreater(counts["writes_unknown"], 0)  # the kill made some outcomes unknown
        self.assertEqual(failures, [])


if __name__ == "__main__":
    unittest.main()
