"""Replication chains on loopback (docs/replication.md): one chain of three real nodes over
all slots. Writes through any node are acknowledged once the tail applied them, and then
read back from every node; the chain shows in CLUSTER SLOTS/NODES/SHARDS and INFO
replication; a node killed with -9 or paused with SIGSTOP, and a node whose data was
wiped, catch up when back; and concurrent clients' histories stay linearizable with no
acknowledged write lost while nodes are killed and restarted."""

import os
import shutil
import signal
import time
import unittest

from chain_workload import Workload, chain_caught_up, chain_info
from otkv_fixture import ReplyError, run_in_namespace
from test_cluster import Cluster, assert_error, wait_until

HEAD, MIDDLE, TAIL = 0, 1, 2


def chain(test, args=("--appendfsync", "always"), partitions=2):
    """A chain of 3 nodes (head, middle, tail), stopped at the test's end."""
    cluster = Cluster(3, args=args, partitions=partitions, replicas=3)
    test.addCleanup(cluster.stop)
    return cluster


def info(cluster, i, name):
    return chain_info(cluster, i, name)


def wait_caught_up(cluster):
    """Until every node has every record and knows it committed (and every node is up)."""
    cluster.wait_ok()
    wait_until(lambda: chain_caught_up(cluster), "the chain to catch up")


def wait_down(cluster, i, j):
    """Until node i sees node j down."""
    def down():
        c = cluster.client(i)
        try:
            return " disconnected" in c.call("CLUSTER", "NODES").decode().splitlines()[j]
        finally:
            c.close()
    wait_until(down, "node %d to see node %d down" % (i, j))


class ChainTest(unittest.TestCase):
    def test_the_chain_in_redis_cluster_formats(self):
        cluster = chain(self)
        c = cluster.client(MIDDLE)
        self.addCleanup(c.close)
        ids = []
        for i in range(3):
            other = cluster.client(i)
            ids.append(other.call("CLUSTER", "MYID").decode())
            other.close()
        # CLUSTER SLOTS: the head first, then the rest of the chain in order.
        slots = c.call("CLUSTER", "SLOTS")
        self.assertEqual(len(slots), 1)
        self.assertEqual(slots[0][:2], [0, 16383])
        self.assertEqual([n[1] for n in slots[0][2:]], cluster.ports)
        self.assertEqual([n[2].decode() for n in slots[0][2:]], ids)
        # CLUSTER NODES: the head is the master, the others its replicas.
        lines = c.call("CLUSTER", "NODES").decode().splitlines()
        self.assertRegex(lines[0], r"^%s \S+ master - .* connected 0-16383$" % ids[0])
        self.assertRegex(lines[1], r"^%s \S+ myself,slave %s " % (ids[1], ids[0]))
        self.assertRegex(lines[2], r"^%s \S+ slave %s .* connected$" % (ids[2], ids[0]))
        # CLUSTER SHARDS: one shard, three nodes.
        shards = c.call("CLUSTER", "SHARDS")
        self.assertEqual(len(shards), 1)
        nodes = shards[0][3]
        self.assertEqual([dict(zip(n[::2], n[1::2]))[b"role"] for n in nodes],
                         [b"master", b"replica", b"replica"])
        # INFO replication: each node's place.
        self.assertEqual([info(cluster, i, "role") for i in range(3)], ["master", "slave", "slave"])
        self.assertEqual([info(cluster, i, "chain_role") for i in range(3)],
                         ["head", "middle", "tail"])
        self.assertEqual(info(cluster, TAIL, "master_port"), str(cluster.ports[HEAD]))
        self.assertEqual(info(cluster, MIDDLE, "chain_next"), "127.0.0.1:%d" % cluster.ports[TAIL])

    def test_writes_through_any_node_are_read_back_from_every_node(self):
        cluster = chain(self)
        clients = [cluster.client(i) for i in range(3)]
        for c in clients:
            self.addCleanup(c.close)
        for n in range(60):
            writer = clients[n % 3]
            self.assertEqual(writer.call("SET", "k%d" % n, "v%d" % n), "OK")
            # Acknowledged: the tail has it, so every node answers it at once.
            for reader in clients:
                self.assertEqual(reader.call("GET", "k%d" % n), b"v%d" % n)
        for n in range(30):
            self.assertEqual(clients[n % 3].call("INCR", "counter"), n + 1)
        for c in clients:
            self.assertEqual(c.call("GET", "counter"), b"30")
            # Every key once, not once per node of the chain.
            self.assertEqual(c.call("DBSIZE"), 61)
            self.assertEqual(len(c.call("KEYS", "*")), 61)
            keys, cursor = set(), b"0"
            while True:
                cursor, batch = c.call("SCAN", cursor, "COUNT", "7")
                keys.update(batch)
                if cursor == b"0":
                    break
            self.assertEqual(len(keys), 61)
            self.assertEqual(c.call("MGET", "k1", "k2", "nope"), [b"v1", b"v2", None])
        # A pipelined write then read on one connection: the read sees the write.
        for c in clients:
            c.send_raw(c.encode("SET", "rw", "x") + c.encode("GET", "rw")
                       + c.encode("APPEND", "rw", "y") + c.encode("GET", "rw"))
            self.assertEqual([c.read_reply() for _ in range(4)], ["OK", b"x", 2, b"xy"])
        self.assertEqual(clients[TAIL].call("FLUSHALL"), "OK")
        for c in clients:
            self.assertEqual(c.call("DBSIZE"), 0)
        wait_caught_up(cluster)

    def test_every_type_replicates_as_element_changes(self):
        cluster = chain(self)
        clients = [cluster.client(i) for i in range(3)]
        for c in clients:
            self.addCleanup(c.close)
        head, tail = clients[HEAD], clients[TAIL]
        self.assertEqual(head.call("HSET", "h", "a", "1", "b", "2"), 2)
        self.assertEqual(head.call("RPUSH", "l", "x", "y", "z"), 3)
        self.assertEqual(head.call("LPOP", "l"), b"x")
        self.assertEqual(head.call("SADD", "s", *["m%d" % i for i in range(200)]), 200)
        self.assertEqual(head.call("SREM", "s", "m7"), 1)
        self.assertEqual(head.call("ZADD", "z", "1", "a", "2", "b"), 2)
        self.assertEqual(head.call("ZINCRBY", "z", "5", "a"), b"6")
        self.assertEqual(head.call("SETBIT", "bits", "77", "1"), 0)
        self.assertEqual(head.call("HDEL", "h", "a", "b"), 2)  # emptied: gone everywhere
        for c in clients:
            self.assertEqual(c.call("EXISTS", "h"), 0)
            self.assertEqual(c.call("LRANGE", "l", "0", "-1"), [b"y", b"z"])
            self.assertEqual(c.call("SCARD", "s"), 199)
            self.assertEqual(c.call("SISMEMBER", "s", "m7"), 0)
            self.assertEqual(c.call("ZRANGE", "z", "0", "-1", "WITHSCORES"),
                             [b"b", b"2", b"a", b"6"])
            self.assertEqual(c.call("GETBIT", "bits", "77"), 1)
        # A write through the tail goes to the head and back down the chain.
        self.assertEqual(tail.call("LPUSH", "l", "w"), 3)
        self.assertEqual(head.call("LINDEX", "l", "0"), b"w")
        wait_caught_up(cluster)

    def test_expiry_reaches_the_replicas(self):
        cluster = chain(self)
        head, tail = cluster.client(HEAD), cluster.client(TAIL)
        self.addCleanup(head.close)
        self.addCleanup(tail.close)
        self.assertEqual(head.call("SET", "short", "v", "PX", "200"), "OK")
        self.assertEqual(tail.call("GET", "short"), b"v")
        self.assertGreater(tail.call("PTTL", "short"), 0)
        time.sleep(0.4)
        self.assertIsNone(tail.call("GET", "short"))
        # The head's sweep removes it and tells the chain (an erase record).
        wait_until(lambda: tail.call("DBSIZE") == 0, "the expired key to leave the tail")
        wait_caught_up(cluster)

    def test_a_node_down_refuses_writes_serves_reads_then_catches_up(self):
        cluster = chain(self, args=("--appendfsync", "everysec"))
        head = cluster.client(HEAD)
        self.addCleanup(head.close)
        for n in range(50):
            head.call("SET", "k%d" % n, "v%d" % n)
        cluster.nodes[TAIL].kill()
        wait_down(cluster, HEAD, TAIL)
        wait_down(cluster, MIDDLE, TAIL)
        # A write cannot commit: refused at once, through any node.
        assert_error(self, head.call("SET", "k1", "new"), "^CLUSTERDOWN")
        middle = cluster.client(MIDDLE)
        self.addCleanup(middle.close)
        assert_error(self, middle.call("SET", "k1", "new"), "^CLUSTERDOWN")
        # Reads of committed keys are still answered.
        self.assertEqual(head.call("GET", "k1"), b"v1")
        self.assertEqual(middle.call("GET", "k2"), b"v2")
        cluster.start(TAIL)
        cluster.wait_ok()
        self.assertEqual(head.call("SET", "k1", "new"), "OK")
        tail = cluster.client(TAIL)
        self.addCleanup(tail.close)
        self.assertEqual(tail.call("GET", "k1"), b"new")
        self.assertEqual(tail.call("DBSIZE"), 50)
        wait_caught_up(cluster)

    def test_a_restarted_head_and_middle_catch_up(self):
        cluster = chain(self, args=("--appendfsync", "everysec"))
        for victim in (HEAD, MIDDLE):
            c = cluster.client(TAIL)
            for n in range(40):
                self.assertEqual(c.call("SET", "k%d" % n, "%d-%d" % (victim, n)), "OK")
            c.close()
            cluster.nodes[victim].kill()
            wait_down(cluster, TAIL, victim)
            c = cluster.client(TAIL)
            self.assertEqual(c.call("GET", "k3"), b"%d-3" % victim)  # still readable
            assert_error(self, c.call("SET", "k3", "x"), "^CLUSTERDOWN")
            c.close()
            cluster.start(victim)
            wait_caught_up(cluster)
            for i in range(3):
                c = cluster.client(i)
                self.assertEqual(c.call("MGET", "k0", "k39"),
                                 [b"%d-0" % victim, b"%d-39" % victim])
                c.close()

    def test_a_wiped_node_gets_a_full_copy(self):
        cluster = chain(self)
        head = cluster.client(HEAD)
        self.addCleanup(head.close)
        for n in range(300):
            head.call("SET", "k%d" % n, "v%d" % n)
        head.call("SET", "big", "x" * 100000)
        head.call("ZADD", "z", "1", "a", "2", "b")  # an aggregate travels in the full copy too
        node = cluster.nodes[TAIL]
        self.assertEqual(node.stop(), 0)
        shutil.rmtree(os.path.join(cluster.dir, str(cluster.ports[TAIL])))
        cluster.start(TAIL)
        wait_caught_up(cluster)
        self.assertIn("full copy", cluster.nodes[MIDDLE].log())
        tail = cluster.client(TAIL)
        self.addCleanup(tail.close)
        self.assertEqual(tail.call("DBSIZE"), 302)
        self.assertEqual(tail.call("GET", "k299"), b"v299")
        self.assertEqual(tail.call("ZRANGE", "z", "0", "-1"), [b"a", b"b"])
        self.assertEqual(tail.call("STRLEN", "big"), 100000)
        # And it keeps up afterwards, and has it all after its own restart.
        self.assertEqual(head.call("SET", "after", "1"), "OK")
        self.assertEqual(tail.call("GET", "after"), b"1")
        tail.close()
        self.assertEqual(cluster.nodes[TAIL].stop(), 0)
        cluster.start(TAIL)
        wait_caught_up(cluster)
        tail = cluster.client(TAIL)
        self.addCleanup(tail.close)
        self.assertEqual(tail.call("DBSIZE"), 303)

    def test_records_kept_for_a_stuck_node_are_bounded(self):
        # The middle is paused: its connection stays up, so writes are admitted, and their
        # records wait in the head's Sent list, which keeps at most 32 MiB per partition.
        # A long request timeout: the head runs every write before its -TIMEOUT.
        cluster = chain(self, args=("--appendfsync", "everysec", "--request-timeout-ms", "3000"),
                        partitions=1)
        head = cluster.client(HEAD)
        self.addCleanup(head.close)
        head.call("SET", "before", "1")
        middle = cluster.nodes[MIDDLE]
        middle.proc.send_signal(signal.SIGSTOP)
        self.addCleanup(lambda: middle.proc.send_signal(signal.SIGCONT))
        value = "x" * (1 << 20)
        n = 48
        head.send_raw(b"".join(head.encode("SET", "big%d" % i, value) for i in range(n)))
        replies = [head.read_reply() for _ in range(n)]
        for r in replies:  # not acknowledged: the chain did not commit them
            assert_error(self, r, "^(TIMEOUT|CLUSTERDOWN)")
        def lag():
            try:
                return int(info(cluster, HEAD, "chain_lag_bytes"))
            except ReplyError:  # the head's workers are busy (a sanitizer build): again
                return 0
        wait_until(lambda: lag() > 16 << 20, "the records to pile up")
        self.assertLessEqual(lag(), 32 << 20)
        middle.proc.send_signal(signal.SIGCONT)
        wait_caught_up(cluster)
        self.assertIn("full copy", cluster.nodes[HEAD].log())
        # Writes of unknown outcome took effect or not (a slow head may not have run the
        # last ones before their -TIMEOUT), but the same on every node.
        keys = []
        for i in range(3):
            c = cluster.client(i)
            keys.append(sorted(c.call("KEYS", "big*")))
            for k in keys[-1]:
                self.assertEqual(c.call("STRLEN", k), 1 << 20)
            c.close()
        self.assertEqual(keys[0], keys[1])
        self.assertEqual(keys[0], keys[2])
        self.assertGreater(len(keys[0]) * (1 << 20), 32 << 20)  # more than the bound kept
        self.assertEqual(info(cluster, HEAD, "chain_lag_bytes"), "0")

    def test_readonly_reads_the_newest_local_version(self):
        cluster = chain(self)
        tail = cluster.nodes[TAIL]
        tail.proc.send_signal(signal.SIGSTOP)  # nothing commits, but the tail stays "up"
        self.addCleanup(lambda: tail.proc.send_signal(signal.SIGCONT))
        head = cluster.client(HEAD)
        self.addCleanup(head.close)
        head.send_raw(head.encode("SET", "k", "new"))  # applied by head and middle, held
        stale = cluster.client(MIDDLE)
        self.addCleanup(stale.close)
        self.assertEqual(stale.call("READONLY"), "OK")
        # READONLY: the middle's newest version at once, though not committed.
        wait_until(lambda: stale.call("GET", "k") == b"new", "the middle to have the write")
        # Without it, the read waits for the commit: -TIMEOUT while the tail is paused.
        self.assertEqual(stale.call("READWRITE"), "OK")
        assert_error(self, stale.call("GET", "k"), "^TIMEOUT")
        assert_error(self, head.read_reply(), "^TIMEOUT")  # the SET: outcome unknown
        tail.proc.send_signal(signal.SIGCONT)
        wait_caught_up(cluster)
        self.assertEqual(stale.call("GET", "k"), b"new")

    def test_slots_do_not_move_between_chains(self):
        cluster = chain(self)
        c = cluster.client(HEAD)
        self.addCleanup(c.close)
        other = c.call("CLUSTER", "NODES").decode().splitlines()[1].split()[0]
        assert_error(self, c.call("CLUSTER", "MOVESLOTS", "0", "10", other), "replication chains")


class ChainHistoryTest(unittest.TestCase):
    """4 clients on a chain of 3 (appendfsync everysec), 6 keys, reads and writes through
    every node; the fault happens while they run. Every history must be linearizable, a
    final read at every node must see the last acknowledged write, and the chain must be
    whole again (every node has every record) afterwards."""

    def run_with(self, fault, seconds=4.0):
        cluster = chain(self, args=("--appendfsync", "everysec", "--request-timeout-ms", "300"))
        work = Workload(cluster.ports)
        work.start()
        try:
            fault(cluster)
            time.sleep(seconds / 4)
        finally:
            work.stop()
        wait_caught_up(cluster)
        work.final_reads()  # at every node, after every client stopped
        counts, failures = work.summary()
        self.assertGreater(counts["writes_acknowledged"], 30)
        self.assertEqual(failures, [])
        return counts["writes_unknown"]

    def kill_and_restart(self, victim):
        def fault(cluster):
            time.sleep(1.0)
            cluster.nodes[victim].kill()
            time.sleep(1.0)
            cluster.start(victim)
            cluster.wait_ok()
        self.assertGreater(self.run_with(fault), 0)  # the kill made some outcomes unknown

    def test_kill_the_head(self):
        self.kill_and_restart(HEAD)

    def test_kill_the_middle(self):
        self.kill_and_restart(MIDDLE)

    def test_kill_the_tail(self):
        self.kill_and_restart(TAIL)

    def test_cut_the_middle_off_the_network(self):
        # netns_chain_cut.py, in a private network namespace (skipped where there is none).
        output = run_in_namespace(self, "n", "netns_chain_cut.py")
        self.assertIn("ok: the history is linearizable, no acknowledged write lost", output)

    def test_pause_the_middle_past_the_request_timeout(self):
        def fault(cluster):
            time.sleep(1.0)
            cluster.nodes[MIDDLE].proc.send_signal(signal.SIGSTOP)
            time.sleep(1.5)
            cluster.nodes[MIDDLE].proc.send_signal(signal.SIGCONT)
        self.run_with(fault)


if __name__ == "__main__":
    unittest.main()
