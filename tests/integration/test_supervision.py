"""Supervision: crashed, hung and request-dropping workers (DEBUG fault injection)."""

import threading
import time
import unittest

from otkv_fixture import SCALE, Client, ReplyError, ServerTest

TIMEOUT_MS = int(300 * SCALE)
ATTEMPTS = 2
BUDGET = TIMEOUT_MS * ATTEMPTS / 1000.0


class SupervisionTest(ServerTest):
    server_args = ("--partitions", "4", "--enable-debug-command", "yes",
                   "--request-timeout-ms", str(TIMEOUT_MS), "--request-attempts", str(ATTEMPTS))

    def setUp(self):
        self.c = self.client()
        self.c.call("FLUSHALL")

    def partition_of(self, key):
        return self.c.call("DEBUG", "PARTITION-OF", key)

    def key_in(self, partition, prefix):
        for i in range(10000):
            key = "%s:%d" % (prefix, i)
            if self.partition_of(key) == partition:
                return key
        raise AssertionError("no key found for partition %d" % partition)

    def partition_info(self, partition):
        info = self.c.call("INFO", "partitions").decode()
        for line in info.splitlines():
            if line.startswith("partition%d:" % partition):
                return dict(kv.split("=") for kv in line.split(":", 1)[1].split(","))
        raise AssertionError(info)

    def test_crash_under_write_load_loses_no_acknowledged_write(self):
        victim = 1
        acked = {}
        errors = []
        stop = threading.Event()

        def writer(n):
            c = Client(self.server.port)
            try:
                i = 0
                while not stop.is_set() and i < 20000:
                    keys = ["w%d:%d" % (n, i + j) for j in range(20)]
                    c.send_raw(b"".join(Client.encode("SET", k, k) for k in keys))
                    for k in keys:
                        r = c.read_reply()
                        if r == "OK":
                            acked[k] = True
                        else:
                            errors.append((k, str(r)))
                    i += 20
            finally:
                c.close()

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        self.assertEqual(self.c.call("DEBUG", "CRASH-PARTITION", victim), "OK")
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(30)
        self.assertGreater(len(acked), 100)
        # Other partitions never saw an error; the victim's requests were resent.
        other_errors = [e for e in errors if self.partition_of(e[0]) != victim]
        self.assertEqual(other_errors, [])
        keys = list(acked)
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            self.assertEqual(self.c.call("MGET", *chunk), [k.encode() for k in chunk])
        self.assertGreaterEqual(int(self.partition_info(victim)["restarts"]), 1)
        self.assertEqual(self.c.call("PING"), "PONG")

    def test_hung_worker_times_out_and_others_keep_serving(self):
        hung = 2
        key = self.key_in(hung, "hang")
        self.assertEqual(self.c.call("SET", key, "before"), "OK")
        others = [self.key_in(p, "other") for p in range(4) if p != hung]
        self.assertEqual(self.c.call("DEBUG", "SLEEP-PARTITION", hung, int(2500 * SCALE)), "OK")
        started = time.monotonic()
        r = self.c.call("GET", key)
        elapsed = time.monotonic() - started
        self.assertIsInstance(r, ReplyError)
        self.assertEqual(str(r), "TIMEOUT request to partition %d timed out after %d attempts"
                         % (hung, ATTEMPTS))
        self.assertLess(elapsed, BUDGET + 1.0 * SCALE)  # never a hang: the budget plus slack
        # Meanwhile the other partitions answer at once.
        other = self.client()
        for k in others:
            t0 = time.monotonic()
            self.assertEqual(other.call("SET", k, "v"), "OK")
            self.assertEqual(other.call("GET", k), b"v")
            self.assertLess(time.monotonic() - t0, BUDGET)
        # After the hang the partition serves again with everything acknowledged.
        deadline = time.monotonic() + 10 * SCALE
        while time.monotonic() < deadline:
            r = self.c.call("GET", key)
            if r == b"before":
                break
            time.sleep(0.1)
        self.assertEqual(r, b"before")
        self.assertEqual(self.c.call("SET", key, "after"), "OK")
        self.assertEqual(self.c.call("GET", key), b"after")
        info = self.partition_info(hung)
        self.assertGreaterEqual(int(info["timeouts"]), 1)
        self.assertGreaterEqual(int(info["restarts"]), 1)

    def incr_from_many_clients(self, key, clients=8, each=50):
        errors = []

        def work():
            c = Client(self.server.port)
            try:
                for _ in range(each):
                    r = c.call("INCR", key)
                    if not isinstance(r, int):
                        errors.append(str(r))
            finally:
                c.close()

        threads = [threading.Thread(target=work) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return errors

    def test_dropped_requests_are_resent_and_incr_stays_exact(self):
        p = 3
        key = self.key_in(p, "counter")
        self.assertEqual(self.c.call("DEBUG", "DROP-PARTITION", p, 5), "OK")
        errors = self.incr_from_many_clients(key)
        self.assertEqual(errors, [])
        self.assertEqual(self.c.call("GET", key), b"400")
        self.assertGreaterEqual(int(self.partition_info(p)["resends"]), 1)

    def test_slow_worker_resend_applies_each_write_once(self):
        # Slower than one attempt, faster than the budget: the batch is resent to a fresh
        # worker while the old one still holds it; each INCR must count once.
        p = 0
        key = self.key_in(p, "slow")
        self.assertEqual(self.c.call("DEBUG", "SLEEP-PARTITION", p, int(TIMEOUT_MS * 1.3)), "OK")
        errors = self.incr_from_many_clients(key)
        self.assertEqual(errors, [])
        self.assertEqual(self.c.call("GET", key), b"400")

    def test_debug_needs_a_valid_partition(self):
        self.assertEqual(str(self.c.call("DEBUG", "CRASH-PARTITION", 99)), "ERR no such partition")
        self.assertEqual(str(self.c.call("DEBUG", "SLEEP-PARTITION", 0, "x")),
                         "ERR value is not an integer or out of range")


class DebugDisabledTest(ServerTest):
    def test_debug_is_off_by_default(self):
        c = self.client()
        r = c.call("DEBUG", "CRASH-PARTITION", 0)
        self.assertIsInstance(r, ReplyError)
        self.assertIn("DEBUG command not allowed", str(r))
        self.assertEqual(c.call("PING"), "PONG")


if __name__ == "__main__":
    unittest.main()
