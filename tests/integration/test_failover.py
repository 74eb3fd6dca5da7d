"""Failover of replication chains through etcd (docs/replication.md, "Failover"): one
chain of three real nodes on loopback with a private etcd. A killed head, middle or tail is
removed from the chain once its lease expires, and the two others go on taking writes; it
rejoins at the tail, empty, when it comes back. A node paused past its lease stops serving
(its read lease lapsed), is removed, and rejoins when it wakes. Concurrent clients'
histories stay linearizable with no acknowledged write lost, and the chain is whole again
afterwards."""

import json
import os
import signal
import time
import unittest

from chain_workload import Workload, chain_caught_up, chain_info, chain_whole
from etcd_fixture import Etcd
from otkv_fixture import ReplyError
from test_cluster import Cluster, wait_until

HEAD, MIDDLE, TAIL = 0, 1, 2


def chain_order(cluster, i):
    """The chain as node i's CLUSTER SLOTS lists it: client ports, head first."""
    c = cluster.client(i)
    try:
        return [n[1] for n in c.call("CLUSTER", "SLOTS")[0][2:]]
    finally:
        c.close()


def write_through(cluster, i, key, value):
    """Whether node i acknowledges SET key value now."""
    try:
        c = cluster.client(i)
    except OSError:
        return False
    try:
        return c.call("SET", key, value) == "OK"
    finally:
        c.close()


class FailoverTest(unittest.TestCase):
    def setUp(self):
        self.etcd = Etcd()
        self.addCleanup(self.etcd.stop)

    def chain(self):
        cluster = Cluster(3, args=("--cluster-etcd", self.etcd.address, "--appendfsync",
                                   "everysec", "--request-timeout-ms", "300"),
                          partitions=2, replicas=3)
        self.addCleanup(cluster.stop)
        with open(cluster.file) as f:
            self.ids = [n["id"] for n in json.load(f)["nodes"]]
        return cluster

    def wait_whole(self, cluster, order=None):
        """Until the chain has all three nodes again (in `order`, if given), every node in
        sync with every record committed."""
        wait_until(lambda: chain_whole(cluster), "the chain to be whole again", timeout=30)
        wait_until(lambda: chain_caught_up(cluster), "the chain to catch up")
        if order is not None:
            self.assertEqual(chain_order(cluster, order[0]), [cluster.ports[i] for i in order])

    def test_a_failed_head_is_replaced_and_rejoins_at_the_tail(self):
        cluster = self.chain()
        self.assertEqual(self.etcd.layout(), {"epoch": 0, "chains": [self.ids]})
        def nodes():  # each node's key says it is in sync (published within a round)
            return {k.rsplit("/", 1)[1]: json.loads(v)
                    for k, v in self.etcd.range("/otkv/").items() if "/nodes/" in k}
        wait_until(lambda: nodes() == {i: {"synced": True} for i in self.ids},
                   "every node's key to say it is in sync")
        self.assertTrue(write_through(cluster, TAIL, "before", "1"))
        cluster.nodes[HEAD].kill()
        # The lease runs out (2 s), then the middle is the head and the chain takes writes.
        wait_until(lambda: write_through(cluster, TAIL, "during", "2"), "writes to resume")
        self.assertEqual(self.etcd.layout(), {"epoch": 1, "chains": [self.ids[1:]]})
        self.assertEqual(chain_order(cluster, TAIL), cluster.ports[1:])
        self.assertEqual(chain_info(cluster, MIDDLE, "chain_role"), "head")
        self.assertEqual(chain_info(cluster, MIDDLE, "role"), "master")
        # Back, it sets its old files aside, joins at the tail and is copied the data.
        cluster.start(HEAD)
        self.wait_whole(cluster, order=[MIDDLE, TAIL, HEAD])
        self.assertEqual(self.etcd.layout(), {"epoch": 2, "chains": [self.ids[1:] + self.ids[:1]]})
        self.assertTrue(os.path.isdir(os.path.join(cluster.nodes[HEAD].data_dir, "left-chain")))
        c = cluster.client(HEAD)
        try:
            self.assertEqual(c.call("GET", "before"), b"1")
            self.assertEqual(c.call("GET", "during"), b"2")
            self.assertEqual(chain_info(cluster, HEAD, "chain_role"), "tail")
        finally:
            c.close()

    def test_a_paused_removed_node_never_answers_from_its_old_copy(self):
        # The read is sent to the paused tail after a newer value was acknowledged
        # without it: answering "old" when it wakes would be a stale read. Its lease has
        # lapsed by its own clock, so it refuses until it has rejoined.
        cluster = self.chain()
        self.assertTrue(write_through(cluster, HEAD, "k", "old"))
        reader = cluster.client(TAIL)
        self.addCleanup(reader.close)
        self.assertEqual(reader.call("GET", "k"), b"old")
        cluster.nodes[TAIL].proc.send_signal(signal.SIGSTOP)
        try:
            wait_until(lambda: write_through(cluster, HEAD, "k", "new"), "writes without it")
            reader.send_raw(reader.encode("GET", "k"))  # waits in its socket
        finally:
            cluster.nodes[TAIL].proc.send_signal(signal.SIGCONT)
        try:
            reply = reader.read_reply()
        except (ConnectionError, OSError):  # it restarted (to rejoin) before answering
            reply = ReplyError("CLUSTERDOWN this node is not serving (it restarted)")
        self.assertIsInstance(reply, ReplyError, "a stale read: %r" % (reply,))
        self.assertRegex(str(reply), "^CLUSTERDOWN this node is not serving")
        self.wait_whole(cluster, order=[HEAD, MIDDLE, TAIL])
        c = cluster.client(TAIL)
        try:
            self.assertEqual(c.call("GET", "k"), b"new")
        finally:
            c.close()

    def test_the_last_node_serves_alone_then_the_others_rejoin(self):
        cluster = self.chain()
        self.assertTrue(write_through(cluster, HEAD, "k", "1"))
        cluster.nodes[MIDDLE].kill()
        cluster.nodes[TAIL].kill()
        wait_until(lambda: write_through(cluster, HEAD, "k", "2"), "the head alone to commit")
        self.assertEqual(chain_info(cluster, HEAD, "chain_length"), "1")
        cluster.start(TAIL)
        cluster.start(MIDDLE)
        self.wait_whole(cluster)
        for i in range(3):
            c = cluster.client(i)
            try:
                self.assertEqual(c.call("GET", "k"), b"2")
            finally:
                c.close()


class FailoverHistoryTest(unittest.TestCase):
    """4 clients read and write 6 keys through every node while a node fails; the other
    two must take writes again before it is back. Every history must be linearizable, a
    final read at every node must see the last acknowledged write, and the chain must be
    whole again afterwards."""

    def setUp(self):
        self.etcd = Etcd()
        self.addCleanup(self.etcd.stop)

    def run_with(self, fault):
        cluster = Cluster(3, args=("--cluster-etcd", self.etcd.address, "--appendfsync",
                                   "everysec", "--request-timeout-ms", "300"),
                          partitions=2, replicas=3)
        self.addCleanup(cluster.stop)
        work = Workload(cluster.ports)
        work.start()
        try:
            fault(cluster)
            time.sleep(0.5)
        finally:
            work.stop()
        FailoverTest.wait_whole(self, cluster)
        work.final_reads()
        counts, failures = work.summary()
        self.assertGreater(counts["writes_acknowledged"], 30)
        self.assertEqual(failures, [])

    def fail_over(self, victim, stop, resume):
        """`stop` the victim, wait until another node takes writes, then `resume` it."""
        def fault(cluster):
            time.sleep(1.0)
            stop(cluster.nodes[victim])
            other = (victim + 1) % 3
            wait_until(lambda: write_through(cluster, other, "failover", str(victim)),
                       "the others to take writes")
            resume(cluster, victim)
        self.run_with(fault)

    def kill_and_restart(self, victim):
        self.fail_over(victim, lambda node: node.kill(), lambda cluster, i: cluster.start(i))

    def test_kill_the_head(self):
        self.kill_and_restart(HEAD)

    def test_kill_the_middle(self):
        self.kill_and_restart(MIDDLE)

    def test_kill_the_tail(self):
        self.kill_and_restart(TAIL)

    def test_pause_the_tail_past_its_lease(self):
        # Removed while it sleeps; awake, it stops serving (its lease lapsed), finds itself
        # removed, starts again empty and rejoins.
        self.fail_over(TAIL, lambda node: node.proc.send_signal(signal.SIGSTOP),
                       lambda cluster, i: cluster.nodes[i].proc.send_signal(signal.SIGCONT))

    def test_pause_the_head_past_its_lease(self):
        self.fail_over(HEAD, lambda node: node.proc.send_signal(signal.SIGSTOP),
                       lambda cluster, i: cluster.nodes[i].proc.send_signal(signal.SIGCONT))


if __name__ == "__main__":
    unittest.main()
