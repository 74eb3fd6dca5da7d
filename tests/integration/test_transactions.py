"""MULTI / EXEC / DISCARD / WATCH over TCP (docs/transactions.md): Redis's replies, a
pipelined transaction behind earlier requests, redis-py's transactional pipeline, and
atomicity across partitions: clients moving amounts between 100 accounts in transactions
(or by WATCH-guarded check-and-set, or by a Lua script: docs/scripts.md) while others read
every balance in transactions (and in a script), on 8 partitions and 2 I/O threads; the
total never changes in any read, is exact at the end, and still exact after kill -9 and a
restart."""

import hashlib
import random
import shutil
import sys
import tempfile
import threading
import time
import unittest

from otkv_fixture import SCALE, Client, ReplyError, ServerProcess

ACCOUNTS = 100
START = 100


class TransactionCommandsTest(unittest.TestCase):
    def setUp(self):
        self.server = ServerProcess("--partitions", "8")
        self.addCleanup(lambda: self.assertEqual(self.server.stop(), 0))

    def client(self):
        c = Client(self.server.port)
        self.addCleanup(c.close)
        return c

    def test_replies_as_redis(self):
        c = self.client()
        self.assertEqual(c.call("MULTI"), "OK")
        self.assertEqual(c.call("SET", "a", "1"), "QUEUED")
        self.assertEqual(c.call("INCR", "a"), "QUEUED")
        self.assertEqual(c.call("MGET", "a", "b", "c"), "QUEUED")
        self.assertEqual(c.call("EXEC"), ["OK", 2, [b"2", None, None]])
        # A queue-time error aborts; a run-time error answers in its place.
        self.assertEqual(c.call("MULTI"), "OK")
        self.assertIsInstance(c.call("NOSUCH"), ReplyError)
        self.assertRegex(str(c.call("EXEC")), "^EXECABORT")
        self.assertEqual(c.call("SET", "s", "text"), "OK")
        self.assertEqual(c.call("MULTI"), "OK")
        c.call("INCR", "s")
        c.call("SET", "after", "yes")
        reply = c.call("EXEC")
        self.assertIsInstance(reply[0], ReplyError)
        self.assertEqual(reply[1], "OK")
        self.assertEqual(c.call("GET", "after"), b"yes")
        self.assertEqual(str(c.call("EXEC")), "ERR EXEC without MULTI")
        self.assertEqual(str(c.call("DISCARD")), "ERR DISCARD without MULTI")

    def test_a_pipelined_transaction_keeps_the_connection_order(self):
        # The SET before MULTI is still running when EXEC arrives: EXEC waits for it, and
        # the GET after EXEC waits for EXEC.
        c = self.client()
        for _ in range(20):
            c.send_raw(Client.encode("SET", "n", "1") + Client.encode("MULTI")
                       + Client.encode("INCR", "n") + Client.encode("INCR", "n")
                       + Client.encode("EXEC") + Client.encode("GET", "n"))
            self.assertEqual([c.read_reply() for _ in range(6)],
                             ["OK", "OK", "QUEUED", "QUEUED", [2, 3], b"3"])

    def test_redis_py_transactional_pipeline(self):
        sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-redis
        try:
            import redis
        except ImportError:
            self.skipTest("python3-redis is not installed")
        r = redis.Redis(port=self.server.port)
        self.addCleanup(r.close)
        with r.pipeline(transaction=True) as p:
            p.set("x", 5).incrby("x", 10).get("x")
            self.assertEqual(p.execute(), [True, 15, b"15"])


def seed(c):
    c.call("MSET", *[v for i in range(ACCOUNTS) for v in ("acct:%d" % i, START)])


# A transfer as a script: read both balances, write both (a lost update, or another
# client seeing half of it, would change the total).
LUA_TRANSFER = """
local a = tonumber(redis.call('get', KEYS[1]))
local b = tonumber(redis.call('get', KEYS[2]))
redis.call('set', KEYS[1], a - ARGV[1])
redis.call('set', KEYS[2], b + ARGV[1])
return a - ARGV[1]
"""
# The sum of every balance, read by a script that declares no key (so it reserves every
# partition).
LUA_TOTAL = """
local s = 0
for i = 0, %d do s = s + tonumber(redis.call('get', 'acct:' .. i)) end
return s
""" % (ACCOUNTS - 1)


def total(c):
    """The sum of every balance, read in one transaction."""
    c.call("MULTI")
    c.call("MGET", *["acct:%d" % i for i in range(ACCOUNTS)])
    reply = c.call("EXEC")
    if isinstance(reply, ReplyError):
        raise reply
    return sum(int(v) for v in reply[0])


class Transfers:
    """`movers` clients moving random amounts between random accounts in transactions,
    `auditors` clients summing every balance in transactions, until stop()."""

    def __init__(self, port, movers=6, auditors=2, cas=False, lua=False):
        """`lua`: every other mover transfers by script, every other auditor sums by
        script."""
        self.port = port
        self.stop_flag = threading.Event()
        self.audits = []
        self.moved = 0
        self.retries = 0
        self.errors = []
        self.lock = threading.Lock()
        # With lua, every other mover and auditor uses scripts, the others MULTI.
        step = self.cas_transfer if cas else self.transfer
        audit = self.lua_audit if lua else self.audit
        self.threads = [threading.Thread(target=self.client_loop,
                                         args=(self.lua_transfer if lua and n % 2 else step, n),
                                         daemon=True) for n in range(movers)]
        self.threads += [threading.Thread(target=self.client_loop,
                                          args=(audit if n % 2 else self.audit, n),
                                          daemon=True) for n in range(auditors)]
        for t in self.threads:
            t.start()

    def client_loop(self, step, n):
        """Runs step(client, rng) on one connection until stop() or the server dies."""
        rng = random.Random(n)
        try:
            c = Client(self.port, timeout=10 * SCALE)
        except OSError:
            return
        try:
            while not self.stop_flag.is_set():
                step(c, rng)
        except (ConnectionError, OSError):
            pass  # the server was killed
        finally:
            c.close()

    def transfer(self, c, rng):
        a, b = rng.sample(range(ACCOUNTS), 2)
        amount = rng.randrange(1, 20)
        c.send_raw(Client.encode("MULTI") + Client.encode("DECRBY", "acct:%d" % a, amount)
                   + Client.encode("INCRBY", "acct:%d" % b, amount) + Client.encode("EXEC"))
        replies = [c.read_reply() for _ in range(4)]
        with self.lock:
            if isinstance(replies[3], list):
                self.moved += 1
            elif not isinstance(replies[3], ReplyError):
                self.errors.append(replies)

    def cas_transfer(self, c, rng):
        """By check-and-set: WATCH both, read them, write both in MULTI; a nil EXEC
        (another client changed one) is retried by the next round."""
        a, b = rng.sample(range(ACCOUNTS), 2)
        ka, kb = "acct:%d" % a, "acct:%d" % b
        amount = rng.randrange(1, 20)
        c.call("WATCH", ka, kb)
        va, vb = int(c.call("GET", ka)), int(c.call("GET", kb))
        c.send_raw(Client.encode("MULTI") + Client.encode("SET", ka, va - amount)
                   + Client.encode("SET", kb, vb + amount) + Client.encode("EXEC"))
        replies = [c.read_reply() for _ in range(4)]
        with self.lock:
            if replies[3] is None:
                self.retries += 1
            elif replies[3] == ["OK", "OK"]:
                self.moved += 1
            else:
                self.errors.append(replies)

    def lua_transfer(self, c, rng):
        """By script: EVAL, or EVALSHA of the same script (the cache, from any thread)."""
        a, b = rng.sample(range(ACCOUNTS), 2)
        amount = rng.randrange(1, 20)
        keys = ("acct:%d" % a, "acct:%d" % b)
        if rng.random() < 0.5:
            reply = c.call("EVAL", LUA_TRANSFER, 2, *keys, amount)
        else:
            reply = c.call("EVALSHA", hashlib.sha1(LUA_TRANSFER.encode()).hexdigest(), 2,
                           *keys, amount)
            if isinstance(reply, ReplyError) and str(reply).startswith("NOSCRIPT"):
                reply = c.call("EVAL", LUA_TRANSFER, 2, *keys, amount)
        with self.lock:
            if isinstance(reply, int):
                self.moved += 1
            else:
                self.errors.append(reply)

    def lua_audit(self, c, rng):
        s = c.call("EVAL_RO", LUA_TOTAL, 0)
        if isinstance(s, ReplyError):
            return
        with self.lock:
            self.audits.append(s)

    def audit(self, c, rng):
        try:
            s = total(c)
        except ReplyError:
            return
        with self.lock:
            self.audits.append(s)

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(30)


class AtomicityTest(unittest.TestCase):
    """Transfers between 100 accounts on 8 partitions and 2 I/O threads."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="otkv-tx-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def start(self, *more):
        server = ServerProcess("--partitions", "8", "--threads", "2", "--appendfsync",
                               "everysec", *more, data_dir=self.dir)
        return server

    def transfer_for_3_seconds(self, **modes):
        """Transfers (Transfers(**modes)) for 3 s: no error, every audit and the total
        exact."""
        server = self.start()
        try:
            c = Client(server.port)
            seed(c)
            work = Transfers(server.port, **modes)
            time.sleep(3)
            work.stop()
            self.assertEqual(work.errors, [])
            self.assertGreater(work.moved, 100)
            self.assertGreater(len(work.audits), 20)
            self.assertEqual(set(work.audits), {ACCOUNTS * START})
            self.assertEqual(total(c), ACCOUNTS * START)
            c.close()
            return work
        finally:
            self.assertEqual(server.stop(), 0)

    def test_the_total_never_changes(self):
        self.transfer_for_3_seconds()

    def test_check_and_set_with_watch(self):
        # Transfers read outside the transaction and written in it, guarded by WATCH:
        # a lost update would change the total.
        work = self.transfer_for_3_seconds(cas=True)
        self.assertGreater(work.retries, 0)  # they did collide

    def test_lua_transfers(self):
        # Transfers by script and in MULTI, audits by script and in MULTI.
        self.transfer_for_3_seconds(lua=True)

    def test_the_total_is_exact_after_kill_9(self):
        for lua in (False, True):
            with self.subTest(lua=lua):
                self.kill_9_during_transfers(lua)

    def kill_9_during_transfers(self, lua):
        server = self.start()
        c = Client(server.port)
        seed(c)
        c.close()
        work = Transfers(server.port, auditors=1, lua=lua)
        time.sleep(1.5)
        server.kill()
        work.stop()
        self.assertGreater(work.moved, 50)
        self.assertEqual(set(work.audits), {ACCOUNTS * START})
        server = self.start()
        try:
            c = Client(server.port)
            self.assertEqual(total(c), ACCOUNTS * START)  # each transfer whole or not at all
            c.close()
        finally:
            self.assertEqual(server.stop(), 0)

    def test_appendfsync_always(self):
        server = self.start("--appendfsync", "always")
        try:
            c = Client(server.port)
            seed(c)
            work = Transfers(server.port, movers=2, auditors=2, lua=True)
            time.sleep(1)
            work.stop()
            self.assertGreater(work.moved, 10)
            self.assertEqual(set(work.audits), {ACCOUNTS * START})
            c.close()
        finally:
            self.assertEqual(server.stop(), 0)
        server = self.start()
        try:
            c = Client(server.port)
            self.assertEqual(total(c), ACCOUNTS * START)
            c.close()
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
