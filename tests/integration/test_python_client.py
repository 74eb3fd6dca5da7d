"""The Python client (clients/python/otkv.py) against the real server."""

import os
import subprocess
import sys
import unittest

from otkv_fixture import ServerTest

CLIENT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python")
sys.path.insert(0, CLIENT_DIR)
import otkv  # noqa: E402


class PythonClientTest(ServerTest):
    def setUp(self):
        self.c = otkv.Client("127.0.0.1", self.server.port)
        self.addCleanup(self.c.close)
        self.c.execute("FLUSHALL")

    def test_readme_example(self):
        c = self.c
        self.assertEqual(c.set("greeting", "hello"), "OK")
        self.assertEqual(c.get("greeting"), b"hello")
        with c.pipeline() as p:
            p.incr("n")
            p.incr("n")
        self.assertEqual(p.results, [1, 2])

    def test_commands(self):
        c = self.c
        self.assertEqual(c.ping(), "PONG")
        self.assertEqual(c.mset({"a": "1", "b": "2"}), "OK")
        self.assertEqual(c.mget("a", "b", "z"), [b"1", b"2", None])
        self.assertEqual(c.exists("a", "b", "z"), 2)
        self.assertEqual(c.incr("a", 10), 11)
        self.assertEqual(c.expire("a", 100), 1)
        self.assertEqual(c.ttl("a"), 100)
        self.assertEqual(sorted(c.keys("*")), [b"a", b"b"])
        self.assertEqual(sorted(c.scan_iter("a*")), [b"a"])
        self.assertEqual(c.delete("a", "b"), 2)
        self.assertIsNone(c.get("a"))
        self.assertIn("connected_clients", c.info())
        self.assertEqual(c.set("k", "v", nx=True), "OK")
        self.assertIsNone(c.set("k", "w", nx=True))
        self.assertEqual(c.execute("ECHO", b"\x00\xffbin"), b"\x00\xffbin")

    def test_type_commands(self):
        c = self.c
        self.assertEqual(c.hset("h", "a", "1"), 1)
        self.assertEqual(c.hset("h", mapping={"b": "2", "c": "3"}), 2)
        self.assertEqual(c.hget("h", "b"), b"2")
        self.assertEqual(c.hmget("h", "a", "z"), [b"1", None])
        self.assertEqual(c.hgetall("h"), {b"a": b"1", b"b": b"2", b"c": b"3"})
        self.assertEqual(c.hincrby("h", "a", 5), 6)
        self.assertTrue(c.hexists("h", "a"))
        self.assertEqual(sorted(c.hkeys("h")), [b"a", b"b", b"c"])
        self.assertEqual(c.hdel("h", "a", "b"), 2)
        self.assertEqual(c.hlen("h"), 1)
        self.assertEqual(c.rpush("l", "a", "b", "c"), 3)
        self.assertEqual(c.lpush("l", "z"), 4)
        self.assertEqual(c.lrange("l"), [b"z", b"a", b"b", b"c"])
        self.assertEqual(c.lindex("l", -1), b"c")
        self.assertEqual(c.lpop("l"), b"z")
        self.assertEqual(c.rpop("l", 2), [b"c", b"b"])
        self.assertEqual(c.lrem("l", 0, "a"), 1)
        self.assertEqual(c.llen("l"), 0)
        self.assertEqual(c.sadd("s", "1", "2", "3"), 3)
        self.assertEqual(c.sadd("t", "2", "3", "4"), 3)
        self.assertEqual(c.smembers("s"), {b"1", b"2", b"3"})
        self.assertTrue(c.sismember("s", "2"))
        self.assertEqual(c.sinter("s", "t"), {b"2", b"3"})
        self.assertEqual(c.sunion("s", "t"), {b"1", b"2", b"3", b"4"})
        self.assertEqual(c.sdiff("s", "t"), {b"1"})
        self.assertEqual(c.srem("s", "1"), 1)
        self.assertEqual(c.scard("s"), 2)
        self.assertEqual(c.type("s"), "set")
        with self.assertRaises(otkv.ResponseError) as ctx:
            c.lpush("s", "x")
        self.assertIn("WRONGTYPE", str(ctx.exception))

    def test_errors_raise(self):
        with self.assertRaises(otkv.ResponseError) as ctx:
            self.c.execute("NOSUCH")
        self.assertIn("unknown command", str(ctx.exception))
        # In a pipeline an error is one of the results; the others still run.
        p = self.c.pipeline()
        p.set("x", "1").execute("NOSUCH")
        p.get("x")
        results = p.execute()
        self.assertEqual(results[0], "OK")
        self.assertIsInstance(results[1], otkv.ResponseError)
        self.assertEqual(results[2], b"1")

    def test_pipeline_of_many_commands(self):
        p = self.c.pipeline()
        for i in range(5000):
            p.set("p%d" % i, str(i))
        for i in range(5000):
            p.get("p%d" % i)
        results = p.execute()
        self.assertEqual(results[:5000], ["OK"] * 5000)
        self.assertEqual(results[5000:], [str(i).encode() for i in range(5000)])

    def test_reconnects_after_the_connection_drops(self):
        self.assertEqual(self.c.set("r", "1"), "OK")
        self.c.sock.close()  # as if the server had closed it
        self.c.sock = __import__("socket").socket()
        self.c.reader = otkv._Reader(self.c.sock)
        self.assertEqual(self.c.get("r"), b"1")

    def run_cli(self, *args, stdin=None):
        return subprocess.run([sys.executable, os.path.join(CLIENT_DIR, "otkv.py"), "-p",
                               str(self.server.port), *args], input=stdin, capture_output=True,
                              text=True, timeout=60)

    def test_command_line_prints_like_redis_cli(self):
        self.assertEqual(self.run_cli("SET", "cli", "value").stdout, "OK\n")
        self.assertEqual(self.run_cli("GET", "cli").stdout, '"value"\n')
        self.assertEqual(self.run_cli("GET", "none").stdout, "(nil)\n")
        self.assertEqual(self.run_cli("INCR", "cnt").stdout, "(integer) 1\n")
        self.assertEqual(self.run_cli("MGET", "cli", "none").stdout, '1) "value"\n2) (nil)\n')
        r = self.run_cli("NOSUCH")
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stdout.startswith("(error) ERR unknown command"))
        out = self.run_cli(stdin='set "a b" 1\nget "a b"\nquit\n').stdout
        self.assertIn("OK", out)
        self.assertIn('"1"', out)

    def test_bench_subcommand(self):
        r = self.run_cli("bench", "-c", "4", "-d", "0.5", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        result = __import__("json").loads(r.stdout)
        self.assertGreater(result["requests"], 0)
        self.assertEqual(result["errors"], 0)
        self.assertGreater(result["p99_us"], 0)


if __name__ == "__main__":
    unittest.main()
