"""Blocking commands over the wire (docs/data-types.md, "Blocking commands"): a BLPOP that
finds nothing waits in its partition's worker and is served by a later push from another
client, oldest waiter first; it times out with a null array; a closed client's wait takes
nothing; EXEC and EVAL wake waiters; served pops survive a kill -9; many waiters at once; a
shutdown does not wait for them."""

import socket
import time
import unittest

from otkv_fixture import SCALE, Client, ServerProcess, ServerTest


def wait_until(predicate, timeout=10.0 * SCALE):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in %.1f s" % timeout)
        time.sleep(0.01)


def blocked_clients(c):
    info = c.call("INFO", "clients").decode()
    for line in info.splitlines():
        if line.startswith("blocked_clients:"):
            return int(line.split(":")[1])
    raise AssertionError("no blocked_clients in INFO")


class BlockingTest(ServerTest):
    # Two shards: waiters and the writers that serve them often sit on different ones.
    server_args = ("--partitions", "4", "--threads", "2")

    def setUp(self):
        self.c = self.client()
        self.c.call("FLUSHALL")

    def send(self, c, *args):
        c.send_raw(Client.encode(*args))

    def test_waiters_are_served_oldest_first_by_a_later_push(self):
        waiters = [self.client() for _ in range(3)]
        for i, w in enumerate(waiters):
            self.send(w, "BLPOP", "{q}none", "{q}list", "0")
            wait_until(lambda: blocked_clients(self.c) == i + 1)
        self.assertEqual(self.c.call("RPUSH", "{q}list", "a", "b"), 2)
        self.assertEqual(waiters[0].read_reply(), [b"{q}list", b"a"])
        self.assertEqual(waiters[1].read_reply(), [b"{q}list", b"b"])
        self.assertEqual(blocked_clients(self.c), 1)
        self.assertEqual(self.c.call("LPUSH", "{q}list", "c"), 1)
        self.assertEqual(waiters[2].read_reply(), [b"{q}list", b"c"])
        self.assertEqual(self.c.call("EXISTS", "{q}list"), 0)
        self.assertEqual(blocked_clients(self.c), 0)

    def test_timeout_answers_a_null_array_and_the_connection_goes_on(self):
        w = self.client()
        started = time.monotonic()
        self.assertIsNone(w.call("BZPOPMIN", "nothing", "0.2"))
        self.assertGreaterEqual(time.monotonic() - started, 0.19)
        self.assertEqual(w.call("PING"), "PONG")
        self.assertEqual(w.call("BLPOP", "nothing", "-1").args[0], "ERR timeout is negative")

    def test_a_closed_waiter_takes_nothing(self):
        w = Client(self.server.port)
        self.send(w, "BRPOP", "gone", "0")
        wait_until(lambda: blocked_clients(self.c) == 1)
        w.close()
        wait_until(lambda: blocked_clients(self.c) == 0)
        self.assertEqual(self.c.call("RPUSH", "gone", "kept"), 1)
        time.sleep(0.05)  # had the wait survived, it would have taken the item by now
        self.assertEqual(self.c.call("LRANGE", "gone", "0", "-1"), [b"kept"])

    def test_exec_and_blmove_chains_wake_waiters(self):
        pop = self.client()
        move = self.client()
        self.send(pop, "BZPOPMAX", "{z}a", "{z}b", "0")
        self.send(move, "BLMOVE", "{z}src", "{z}dst", "LEFT", "RIGHT", "0")
        wait_until(lambda: blocked_clients(self.c) == 2)
        self.assertEqual(self.c.call("MULTI"), "OK")
        self.c.call("ZADD", "{z}b", "1", "x", "5", "y")
        self.c.call("RPUSH", "{z}src", "item")
        self.assertEqual(self.c.call("EXEC"), [2, 1])
        self.assertEqual(pop.read_reply(), [b"{z}b", b"y", b"5"])
        self.assertEqual(move.read_reply(), b"item")
        self.assertEqual(self.c.call("LRANGE", "{z}dst", "0", "-1"), [b"item"])
        # Inside MULTI a blocking pop does not wait: its timeout's answer at once.
        self.c.call("MULTI")
        self.c.call("BLPOP", "{z}empty", "0")
        self.assertEqual(self.c.call("EXEC"), [None])

    def test_a_script_push_wakes_a_waiter(self):
        w = self.client()
        self.send(w, "BLPOP", "{s}list", "0")
        wait_until(lambda: blocked_clients(self.c) == 1)
        self.assertEqual(self.c.call("EVAL", "return redis.call('RPUSH', KEYS[1], 'x')", "1",
                                     "{s}list"), 1)
        self.assertEqual(w.read_reply(), [b"{s}list", b"x"])

    def test_many_waiters_on_many_keys(self):
        n = 200
        waiters = [self.client() for _ in range(n)]
        for i, w in enumerate(waiters):
            self.send(w, "BLPOP", "k%d" % i, "0")
        wait_until(lambda: blocked_clients(self.c) == n)
        for i in range(n):
            self.c.call("RPUSH", "k%d" % i, "v%d" % i)
        for i, w in enumerate(waiters):
            self.assertEqual(w.read_reply(), [b"k%d" % i, b"v%d" % i])
        self.assertEqual(blocked_clients(self.c), 0)
        self.assertEqual(self.c.call("DBSIZE"), 0)


class BlockingDurabilityTest(unittest.TestCase):
    def test_a_served_pop_survives_kill_9_and_shutdown_does_not_wait(self):
        s = ServerProcess("--partitions", "4", "--appendfsync", "always")
        try:
            c = Client(s.port)
            w = Client(s.port)
            w.send_raw(Client.encode("BLPOP", "jobs", "0"))
            wait_until(lambda: blocked_clients(c) == 1)
            c.call("RPUSH", "jobs", "j1", "j2")
            self.assertEqual(w.read_reply(), [b"jobs", b"j1"])
            s.kill()
            s2 = ServerProcess("--partitions", "4", data_dir=s.data_dir)
            try:
                c2 = Client(s2.port)
                self.assertEqual(c2.call("LRANGE", "jobs", "0", "-1"), [b"j2"])
                # A waiting client does not hold up a shutdown.
                w2 = Client(s2.port)
                w2.send_raw(Client.encode("BLPOP", "never", "0"))
                wait_until(lambda: blocked_clients(c2) == 1)
                c2.send_raw(Client.encode("SHUTDOWN", "NOSAVE"))
                self.assertEqual(s2.proc.wait(timeout=10 * SCALE), 0)
            finally:
                s2.stop()
        finally:
            s.stop()


if __name__ == "__main__":
    unittest.main()
