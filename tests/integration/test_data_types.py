"""Hashes, lists and sets with the real binary (issue 17): every type survives a restart
(clean stop, kill -9 with the op log, snapshot plus log), WRONGTYPE over the wire, and a
differential fuzz test that sends the same random command sequences to OTKV and to
redis-server and compares the replies (skipped when redis-server is missing)."""

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from otkv_fixture import SCALE, Client, ReplyError, ServerProcess, ServerTest


def fill_every_type(c, big=600):
    """Small and large aggregates of each type, a string, and deadlines."""
    c.call("SET", "str", "plain")
    c.call("HSET", "h:small", "a", "1", "b", "2")
    for i in range(0, big, 50):
        c.call("HSET", "h:big", *sum((["f%d" % j, "v%d" % j] for j in range(i, i + 50)), []))
    c.call("RPUSH", "l:small", "x", "y", "z")
    for i in range(0, big, 50):
        c.call("RPUSH", "l:big", *["item-%d" % j for j in range(i, i + 50)])
    c.call("LPUSH", "l:big", "head")
    c.call("LSET", "l:big", "10", "ten")
    c.call("LREM", "l:big", "1", "item-20")
    c.call("SADD", "s:ints", "1", "2", "3")
    c.call("SADD", "s:small", "a", "b")
    for i in range(0, big, 50):
        c.call("SADD", "s:big", *["m%d" % j for j in range(i, i + 50)])
    c.call("SREM", "s:big", "m7")
    c.call("HDEL", "h:big", "f8")
    c.call("HINCRBY", "h:small", "a", "41")
    c.call("EXPIRE", "h:small", "1000")
    c.call("ZADD", "z:small", "1", "a", "2.5", "b", "-inf", "c")
    for i in range(0, big, 50):
        c.call("ZADD", "z:big", *sum(([str(j % 37), "z%d" % j] for j in range(i, i + 50)), []))
    c.call("ZINCRBY", "z:big", "0.1", "z5")
    c.call("ZREM", "z:big", "z6")
    c.call("SETBIT", "bits", "1000", "1")
    c.call("HSET", "gone", "f", "v")
    c.call("HDEL", "gone", "f")  # emptied: the key is gone


def dump_every_key(c):
    """Every key's type, contents (order-free where the type is) and TTL presence."""
    out = {}
    cursor = b"0"
    keys = []
    while True:
        cursor, batch = c.call("SCAN", cursor, "COUNT", "1000")
        keys += batch
        if cursor == b"0":
            break
    for k in keys:
        t = c.call("TYPE", k)
        if t == "string":
            v = c.call("GET", k)
        elif t == "hash":
            flat = c.call("HGETALL", k)
            v = sorted(zip(flat[::2], flat[1::2]))
        elif t == "list":
            v = c.call("LRANGE", k, "0", "-1")
        elif t == "zset":
            v = c.call("ZRANGE", k, "0", "-1", "WITHSCORES")
        else:
            v = sorted(c.call("SMEMBERS", k))
        out[k] = (t, v, c.call("TTL", k) > 0)
    return out


class RestartTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="otkv-types-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def start(self, *args):
        server = ServerProcess("--partitions", "4", *args, data_dir=self.dir)
        self.addCleanup(lambda: server.proc.poll() is None and server.kill())
        return server

    def check_restart(self, stop, *args, snapshot_first=False):
        s = self.start(*args)
        c = Client(s.port)
        if snapshot_first:
            c.call("HSET", "before", "x", "1")
            self.assertEqual(c.call("SAVE"), "OK")
        fill_every_type(c)
        before = dump_every_key(c)
        self.assertEqual(before[b"h:big"][0], "hash")
        self.assertNotIn(b"gone", before)
        self.assertEqual(c.call("OBJECT", "ENCODING", "h:big"), b"hashtable")
        c.close()
        stop(s)
        s2 = self.start(*args)
        c2 = Client(s2.port)
        self.assertEqual(dump_every_key(c2), before)
        self.assertEqual(c2.call("OBJECT", "ENCODING", "s:ints"), b"intset")
        self.assertEqual(c2.call("OBJECT", "ENCODING", "z:big"), b"skiplist")
        self.assertEqual(c2.call("ZSCORE", "z:big", "z5"), b"5.0999999999999996")
        c2.close()
        self.assertEqual(s2.stop(), 0)

    def test_clean_stop(self):
        self.check_restart(lambda s: self.assertEqual(s.stop(), 0))

    def test_kill_9_replays_the_op_log(self):
        self.check_restart(lambda s: s.kill(), "--appendfsync", "always")

    def test_snapshot_then_log(self):
        self.check_restart(lambda s: s.kill(), "--appendfsync", "always", snapshot_first=True)

    def test_snapshot_alone(self):
        s = self.start("--appendonly", "no")
        c = Client(s.port)
        fill_every_type(c)
        before = dump_every_key(c)
        self.assertEqual(c.call("SAVE"), "OK")
        c.close()
        s.kill()
        s2 = self.start("--appendonly", "no")
        c2 = Client(s2.port)
        self.assertEqual(dump_every_key(c2), before)
        c2.close()
        self.assertEqual(s2.stop(), 0)


class WireTest(ServerTest):
    server_args = ("--partitions", "8", "--threads", "2")

    def test_wrongtype_and_multi_key_sets(self):
        c = self.client()
        c.call("SET", "w:str", "v")
        err = c.call("LPUSH", "w:str", "x")
        self.assertIsInstance(err, ReplyError)
        self.assertTrue(str(err).startswith("WRONGTYPE"))
        for k, members in (("w:a", "1 2 3 4"), ("w:b", "3 4 5"), ("w:c", "4 9")):
            c.call("SADD", k, *members.split())
        self.assertEqual(sorted(c.call("SINTER", "w:a", "w:b", "w:c")), [b"4"])
        self.assertEqual(sorted(c.call("SDIFF", "w:a", "w:b")), [b"1", b"2"])
        self.assertIsInstance(c.call("SUNIONSTORE", "w:d", "w:a", "w:b"), ReplyError)  # CROSSSLOT

    def test_config_set_encoding_limits(self):
        c = self.client()
        self.assertEqual(c.call("CONFIG", "SET", "hash-max-ziplist-entries", "2"), "OK")
        self.assertEqual(c.call("CONFIG", "GET", "hash-max-listpack-entries"),
                         [b"hash-max-listpack-entries", b"2"])
        c.call("HSET", "e:h", "a", "1", "b", "2")
        self.assertEqual(c.call("OBJECT", "ENCODING", "e:h"), b"listpack")
        c.call("HSET", "e:h", "c", "3")
        self.assertEqual(c.call("OBJECT", "ENCODING", "e:h"), b"hashtable")
        self.assertEqual(c.call("CONFIG", "SET", "hash-max-listpack-entries", "128"), "OK")
        self.assertIsInstance(c.call("CONFIG", "SET", "list-max-listpack-size", "-6"), ReplyError)

    def test_pipelined_pushes_keep_order(self):
        c = self.client()
        c.send_raw(b"".join(Client.encode("RPUSH", "p:l", str(i)) for i in range(2000)))
        for i in range(2000):
            self.assertEqual(c.read_reply(), i + 1)
        self.assertEqual(c.call("LRANGE", "p:l", "0", "4"), [b"0", b"1", b"2", b"3", b"4"])
        self.assertEqual(c.call("LINDEX", "p:l", "-1"), b"1999")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# Commands whose reply is a collection in no particular order: compared sorted.
UNORDERED = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "HKEYS", "HVALS"}


def normalise(cmd, reply):
    if isinstance(reply, ReplyError):
        return ("error", str(reply).split(" ")[0])  # the error's code (ERR, WRONGTYPE, …)
    if cmd in UNORDERED and isinstance(reply, list):
        return sorted(reply)
    if cmd == "HGETALL" and isinstance(reply, list):
        return sorted(zip(reply[::2], reply[1::2]))
    return reply


def random_command(rng):
    keys = ["{f}a", "{f}b", "{f}c", "{f}d"]
    z0 = "{f}z0"  # lexicographic ranges assume equal scores: one sorted set keeps them at 0
    k, k2 = rng.choice(keys), rng.choice(keys)
    small = lambda: str(rng.randint(0, 12))  # noqa: E731
    value = lambda: rng.choice([small(), "x" * rng.randint(0, 80), "-3", "1.5"])  # noqa: E731
    n = lambda: str(rng.randint(-4, 6))  # noqa: E731
    many = lambda f: [f() for _ in range(rng.randint(1, 4))]  # noqa: E731
    score = lambda: rng.choice([str(rng.randint(-3, 5)), "1.5", "-0.25", "inf", "-inf", "1e3",  # noqa: E731
                                "0.1", "x"])
    bound = lambda: rng.choice(["-inf", "+inf", "(1", "2", "(-1.5", "0", "5", "(inf", "x"])  # noqa: E731
    lex = lambda: rng.choice(["-", "+", "[1", "(2", "[5", "(", "[", "x"])  # noqa: E731
    choices = [
        ["HSET", k] + sum(([small(), value()] for _ in range(rng.randint(1, 3))), []),
        ["HSETNX", k, small(), value()], ["HGET", k, small()], ["HMGET", k] + many(small),
        ["HDEL", k] + many(small), ["HLEN", k], ["HEXISTS", k, small()], ["HSTRLEN", k, small()],
        ["HINCRBY", k, small(), n()], ["HGETALL", k], ["HKEYS", k], ["HVALS", k],
        ["LPUSH", k] + many(value), ["RPUSH", k] + many(value), ["LPUSHX", k, value()],
        ["RPUSHX", k, value()], ["LPOP", k], ["RPOP", k, str(rng.randint(0, 3))], ["LLEN", k],
        ["LINDEX", k, n()], ["LRANGE", k, n(), n()], ["LSET", k, n(), value()],
        ["LINSERT", k, rng.choice(["BEFORE", "AFTER"]), small(), value()],
        ["LREM", k, n(), small()], ["LTRIM", k, n(), n()], ["LPOS", k, small()],
        ["LPOS", k, small(), "RANK", rng.choice(["1", "-1", "2"]), "COUNT", str(rng.randint(0, 2))],
        ["LMOVE", k, k2, rng.choice(["LEFT", "RIGHT"]), rng.choice(["LEFT", "RIGHT"])],
        ["RPOPLPUSH", k, k2],
        ["SADD", k] + many(small), ["SREM", k] + many(small), ["SMEMBERS", k],
        ["SISMEMBER", k, small()], ["SMISMEMBER", k] + many(small), ["SCARD", k],
        ["SMOVE", k, k2, small()], ["SINTER", k, k2], ["SUNION", k, k2], ["SDIFF", k, k2],
        ["SINTERSTORE", k, k2, rng.choice(keys)], ["SUNIONSTORE", k, k2, rng.choice(keys)],
        ["SDIFFSTORE", k, k2, rng.choice(keys)], ["SINTERCARD", "2", k, k2],
        ["SET", k, value()], ["GET", k], ["APPEND", k, value()], ["INCR", k], ["STRLEN", k],
        ["TYPE", k], ["DEL", k], ["EXISTS", k], ["COPY", k, k2, "REPLACE"], ["RENAME", k, k2],
        ["MGET", k, k2],
        ["SETBIT", k, str(rng.randint(0, 100)), rng.choice(["0", "1"])],
        ["GETBIT", k, str(rng.randint(0, 120))], ["BITCOUNT", k],
        ["BITCOUNT", k, n(), n(), rng.choice(["BIT", "BYTE"])],
        ["BITPOS", k, rng.choice(["0", "1"])], ["BITPOS", k, rng.choice(["0", "1"]), n()],
        ["BITPOS", k, rng.choice(["0", "1"]), n(), n(), rng.choice(["BIT", "BYTE"])],
        ["BITOP", rng.choice(["AND", "OR", "XOR"]), k, k2, rng.choice(keys)],
        ["BITOP", "NOT", k, k2],
        ["BITFIELD", k, "OVERFLOW", rng.choice(["WRAP", "SAT", "FAIL"]),
         rng.choice(["SET", "INCRBY"]), rng.choice(["i5", "u4", "i64", "u63", "i1"]),
         rng.choice(["0", "3", "#2", "17"]), str(rng.randint(-40, 40)),
         "GET", rng.choice(["u8", "i8"]), rng.choice(["0", "#1", "9"])],
        ["BITFIELD_RO", k, "GET", "u16", str(rng.randint(0, 40))],
        ["LCS", k, k2], ["LCS", k, k2, "LEN"], ["LCS", k, k2, "IDX", "WITHMATCHLEN"],
        ["LCS", k, k2, "IDX", "MINMATCHLEN", str(rng.randint(0, 3))],
        ["APPEND", k, rng.choice(["ohmytext", "mynewtext", "abc", "\x00\xff"])],
        ["ZADD", k] + rng.choice([[], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["XX", "CH"],
                                  ["INCR"]]) + sum(([score(), small()] for _ in range(
                                      rng.randint(1, 1 if rng.random() < 0.3 else 3))), []),
        ["ZADD", z0, "0", small()],
        ["ZADD", z0, "0", small(), "0", small()], ["ZREM", z0, small()],
        ["ZINCRBY", k, score(), small()], ["ZREM", k] + many(small), ["ZSCORE", k, small()],
        ["ZMSCORE", k] + many(small), ["ZCARD", k], ["ZRANK", k, small()],
        ["ZREVRANK", k, small()], ["ZCOUNT", k, bound(), bound()],
        ["ZLEXCOUNT", z0, lex(), lex()],
        ["ZRANGE", k, n(), n()] + rng.choice([[], ["WITHSCORES"], ["REV"], ["REV", "WITHSCORES"]]),
        ["ZRANGE", k, bound(), bound(), "BYSCORE"] + rng.choice([[], ["REV"], ["WITHSCORES"],
                                                                 ["LIMIT", n(), n()]]),
        ["ZRANGE", z0, lex(), lex(), "BYLEX"] + rng.choice([[], ["REV"], ["LIMIT", n(), n()]]),
        ["ZRANGEBYSCORE", k, bound(), bound()] + rng.choice([[], ["WITHSCORES"],
                                                             ["LIMIT", n(), n()]]),
        ["ZREVRANGEBYSCORE", k, bound(), bound(), "WITHSCORES"],
        ["ZRANGEBYLEX", z0, lex(), lex()], ["ZREVRANGEBYLEX", z0, lex(), lex(), "LIMIT", "0", "2"],
        ["ZREVRANGE", k, n(), n(), "WITHSCORES"], ["ZREMRANGEBYSCORE", k, bound(), bound()],
        ["ZREMRANGEBYRANK", k, n(), n()], ["ZREMRANGEBYLEX", z0, lex(), lex()],
        ["ZPOPMIN", k], ["ZPOPMAX", k, str(rng.randint(0, 3))],
        ["ZRANGESTORE", k, k2, n(), n()], ["ZRANGESTORE", k, k2, bound(), bound(), "BYSCORE"],
        [rng.choice(["ZUNION", "ZINTER", "ZDIFF"]), "2", k, k2]
        + rng.choice([[], ["WITHSCORES"], ["WEIGHTS", score(), "2"],
                      ["AGGREGATE", rng.choice(["MIN", "MAX", "SUM", "x"]), "WITHSCORES"]]),
        [rng.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]), rng.choice(keys),
         rng.choice(["2", "0", "x"]), k, k2]
        + rng.choice([[], ["WEIGHTS", "1", score()], ["AGGREGATE", rng.choice(["MIN", "MAX"])]]),
        ["ZINTERCARD", rng.choice(["1", "2"]), k, k2] + rng.choice([[], ["LIMIT", n()]]),
        ["ZMPOP", "2", k, k2, rng.choice(["MIN", "MAX", "x"])]
        + rng.choice([[], ["COUNT", n()], ["COUNT", "2", "COUNT", "1"]]),
        ["LMPOP", rng.choice(["2", "0", "x"]), k, k2, rng.choice(["LEFT", "RIGHT"])]
        + rng.choice([[], ["COUNT", n()]]),
    ]
    return rng.choice(choices)


@unittest.skipUnless(shutil.which("redis-server"), "redis-server not installed")
class DifferentialFuzzTest(unittest.TestCase):
    """The same random sequences against OTKV and redis-server: the same replies."""

    def setUp(self):
        self.otkv = ServerProcess("--partitions", "4")
        self.addCleanup(self.otkv.stop)
        port = free_port()
        self.redis_dir = tempfile.mkdtemp(prefix="otkv-redis-")
        self.addCleanup(shutil.rmtree, self.redis_dir, True)
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.redis_dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(self.redis.wait)
        self.addCleanup(self.redis.terminate)
        deadline = time.monotonic() + 10 * SCALE
        while True:
            try:
                self.r = Client(port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.addCleanup(self.r.close)
        self.o = Client(self.otkv.port)
        self.addCleanup(self.o.close)

    def test_random_sequences_match_redis(self):
        seed = int(os.environ.get("OTKV_FUZZ_SEED", "17"))
        rng = random.Random(seed)
        steps = int(os.environ.get("OTKV_FUZZ_STEPS", "6000"))
        for step in range(steps):
            if step == steps // 2:  # the second half: tiny packed forms, so the large ones run
                for name, value in (("hash-max-ziplist-entries", "4"),
                                     ("set-max-intset-entries", "4"),
                                     ("zset-max-ziplist-entries", "4"),
                                     ("list-max-ziplist-size", "3")):
                    self.assertEqual(self.o.call("CONFIG", "SET", name, value), "OK")
                    self.assertEqual(self.r.call("CONFIG", "SET", name, value), "OK")
            if step % 500 == 0:  # fresh keys now and then: more creations and emptyings
                self.assertEqual(self.o.call("FLUSHALL"), "OK")
                self.assertEqual(self.r.call("FLUSHALL"), "OK")
            cmd = random_command(rng)
            want = normalise(cmd[0], self.r.call(*cmd))
            got = normalise(cmd[0], self.o.call(*cmd))
            self.assertEqual(got, want, "seed %d step %d: %r" % (seed, step, cmd))


if __name__ == "__main__":
    unittest.main()
