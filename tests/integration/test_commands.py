"""Core commands over a real socket: Redis semantics and error texts."""

import time
import unittest

from otkv_fixture import ReplyError, ServerTest


class CommandTest(ServerTest):
    server_args = ("--partitions", "8")

    def setUp(self):
        self.c = self.client()
        self.assertEqual(self.c.call("FLUSHALL"), "OK")

    def test_set_get_del(self):
        c = self.c
        self.assertEqual(c.call("SET", "k", "v"), "OK")
        self.assertEqual(c.call("GET", "k"), b"v")
        self.assertEqual(c.call("DEL", "k", "nope"), 1)
        self.assertIsNone(c.call("GET", "k"))

    def test_multi_key_commands_span_partitions(self):
        c = self.c
        args = []
        for i in range(100):
            args += ["key%d" % i, "val%d" % i]
        self.assertEqual(c.call("MSET", *args), "OK")
        keys = ["key%d" % i for i in range(100)] + ["missing"]
        values = c.call("MGET", *keys)
        self.assertEqual(values, [b"val%d" % i for i in range(100)] + [None])
        self.assertEqual(c.call("EXISTS", *keys), 100)
        self.assertEqual(c.call("DBSIZE"), 100)
        self.assertEqual(sorted(c.call("KEYS", "key1?")), sorted(b"key1%d" % i for i in range(10)))
        self.assertEqual(c.call("DEL", *keys[:50]), 50)
        self.assertEqual(c.call("DBSIZE"), 50)

    def test_errors_read_like_redis(self):
        c = self.c
        r = c.call("NOSUCH", "a")
        self.assertIsInstance(r, ReplyError)
        self.assertEqual(str(r), "ERR unknown command 'NOSUCH', with args beginning with: 'a' ")
        self.assertEqual(str(c.call("GET")), "ERR wrong number of arguments for 'get' command")
        self.assertEqual(str(c.call("SET", "k", "v", "EX", "0")),
                         "ERR invalid expire time in 'set' command")
        self.assertEqual(str(c.call("SELECT", "3")), "ERR DB index is out of range")
        self.assertEqual(str(c.call("HELLO", "3")),
                         "NOPROTO sorry, this protocol version is not supported.")
        # The connection stays usable after command errors.
        self.assertEqual(c.call("PING"), "PONG")

    def test_expiry_lazy_and_active(self):
        c = self.c
        self.assertEqual(c.call("SET", "short", "v", "PX", "100"), "OK")
        self.assertEqual(c.call("SET", "long", "v", "EX", "100"), "OK")
        self.assertGreater(c.call("PTTL", "short"), 0)
        self.assertEqual(c.call("TTL", "long"), 100)
        # The active sweep reclaims the key without any access to it.
        deadline = time.monotonic() + 5
        while c.call("DBSIZE") != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(c.call("DBSIZE"), 1)
        self.assertEqual(c.call("PERSIST", "long"), 1)
        self.assertEqual(c.call("TTL", "long"), -1)

    def test_handshake_commands(self):
        c = self.c
        self.assertEqual(c.call("HELLO", "2")[:2], [b"server", b"otkv"])
        self.assertEqual(c.call("CLIENT", "SETNAME", "tester"), "OK")
        self.assertEqual(c.call("CLIENT", "SETINFO", "LIB-NAME", "otkv-tests"), "OK")
        self.assertIn(b"name=tester", c.call("CLIENT", "LIST"))
        self.assertEqual(c.call("SELECT", "0"), "OK")
        self.assertEqual(c.call("CONFIG", "GET", "appendonly"), [b"appendonly", b"yes"])
        self.assertGreater(c.call("COMMAND", "COUNT"), 20)
        info = c.call("INFO").decode()
        self.assertIn("redis_version:", info)
        self.assertIn("connected_clients:", info)
        self.assertIn("tcp_port:%d" % self.server.port, info)


if __name__ == "__main__":
    unittest.main()
