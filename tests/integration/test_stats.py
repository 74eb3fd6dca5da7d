"""INFO commandstats / latencystats and SLOWLOG against the real server."""

import re
import unittest

from otkv_fixture import ReplyError, ServerTest


def info_fields(text, prefix):
    """{name: {field: value}} of the INFO lines `prefix<name>:f=v,f=v`."""
    out = {}
    for line in text.decode().splitlines():
        if line.startswith(prefix):
            name, _, rest = line[len(prefix):].partition(":")
            out[name] = dict(kv.split("=", 1) for kv in rest.split(","))
    return out


class StatsTest(ServerTest):
    server_args = ("--partitions", "4", "--appendonly", "no")

    def setUp(self):
        self.c = self.client()
        self.c.call("CLIENT", "SETNAME", "stats-test")
        self.assertEqual(self.c.call("CONFIG", "RESETSTAT"), "OK")
        self.assertEqual(self.c.call("SLOWLOG", "RESET"), "OK")
        self.addCleanup(self.c.call, "CONFIG", "SET", "slowlog-log-slower-than", "10000")

    def test_commandstats_count_every_client_and_partition(self):
        clients = [self.client() for _ in range(4)]
        for n, c in enumerate(clients):
            for i in range(25):
                c.call("SET", "key:%d:%d" % (n, i), "v")
                c.call("GET", "key:%d:%d" % (n, i))
        self.assertEqual(self.c.call("MGET", *["key:0:%d" % i for i in range(25)])[0], b"v")
        self.assertIsInstance(self.c.call("GET"), ReplyError)  # arity: rejected
        self.c.call("SET", "text", "abc")
        self.assertIsInstance(self.c.call("INCR", "text"), ReplyError)  # runs and fails
        stats = info_fields(self.c.call("INFO", "commandstats"), "cmdstat_")
        self.assertEqual(stats["set"]["calls"], "101")
        self.assertEqual(stats["get"]["calls"], "100")
        self.assertEqual(stats["get"]["rejected_calls"], "1")
        self.assertEqual(stats["mget"]["calls"], "1")  # split over 4 partitions, one call
        self.assertEqual(stats["incr"]["failed_calls"], "1")
        self.assertGreater(float(stats["get"]["usec_per_call"]), 0)
        latency = info_fields(self.c.call("INFO", "latencystats"), "latency_percentiles_usec_")
        p = {k: float(v) for k, v in latency["get"].items()}
        self.assertGreater(p["p50"], 0)
        self.assertLessEqual(p["p50"], p["p99"])
        self.assertLessEqual(p["p99"], p["p99.9"])
        self.assertNotIn(b"# Commandstats", self.c.call("INFO"))

    def test_worker_time_is_measured(self):
        # KEYS over 20 000 keys does real work on every partition: its time shows.
        for base in range(0, 20000, 1000):
            self.c.call("MSET", *sum([["w%d" % i, "x"] for i in range(base, base + 1000)], []))
        self.assertEqual(len(self.c.call("KEYS", "w1*")), 11111)
        stats = info_fields(self.c.call("INFO", "commandstats"), "cmdstat_")
        self.assertGreater(int(stats["keys"]["usec"]), 0)

    def test_slowlog_records_commands_over_the_threshold(self):
        c = self.c
        self.assertEqual(c.call("CONFIG", "SET", "slowlog-log-slower-than", "0"), "OK")
        c.call("SET", "slow:key", "x" * 300)
        c.call("GET", "slow:key")
        entries = c.call("SLOWLOG", "GET", "-1")
        names = [e[3][0].upper() for e in entries]
        self.assertIn(b"SET", names)
        get = entries[names.index(b"GET")]
        set_ = entries[names.index(b"SET")]
        self.assertGreater(get[0], set_[0])  # newer entries first, higher ids
        self.assertEqual(get[3], [b"GET", b"slow:key"])
        self.assertEqual(set_[3][2], b"x" * 128 + b"... (172 more bytes)")
        self.assertTrue(re.match(rb"127\.0\.0\.1:\d+$", get[4]))
        self.assertEqual(get[5], b"stats-test")
        self.assertGreaterEqual(c.call("SLOWLOG", "LEN"), 3)

        self.assertEqual(c.call("CONFIG", "SET", "slowlog-max-len", "2"), "OK")
        self.assertEqual(c.call("SLOWLOG", "LEN"), 2)
        self.assertEqual(c.call("CONFIG", "SET", "slowlog-max-len", "128"), "OK")
        self.assertEqual(c.call("CONFIG", "SET", "slowlog-log-slower-than", "-1"), "OK")
        self.assertEqual(c.call("SLOWLOG", "RESET"), "OK")
        c.call("GET", "slow:key")
        self.assertEqual(c.call("SLOWLOG", "LEN"), 0)
        self.assertEqual(c.call("CONFIG", "GET", "slowlog-log-slower-than"),
                         [b"slowlog-log-slower-than", b"-1"])
        self.assertIsInstance(c.call("CONFIG", "SET", "slowlog-log-slower-than", "-5"), ReplyError)


if __name__ == "__main__":
    unittest.main()
