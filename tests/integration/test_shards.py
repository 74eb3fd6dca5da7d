"""Shards (--threads N): connections spread over the I/O shards, and what is server-wide
stays server-wide: keys, INFO and CLIENT LIST totals, the slow log, CONFIG SET,
maxclients, SHUTDOWN, and supervision of a worker that several shards use."""

import re
import time
import unittest

from otkv_fixture import SCALE, Client, ReplyError, ServerProcess, ServerTest

SHARDS = 4


def client_lines(c):
    text = c.call("CLIENT", "LIST").decode()
    return [dict(kv.split("=", 1) for kv in line.split(" ")) for line in text.splitlines()]


def info_field(c, section, name):
    for line in c.call("INFO", section).decode().splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    raise AssertionError("%s not in INFO %s" % (name, section))


def open_on_every_shard(test, port, n=SHARDS):
    """`n` clients; the acceptor hands connections to the shards in turn, so n
    consecutive ones land on n different shards. Returns them by shard."""
    clients = [Client(port) for _ in range(n)]
    for c in clients:
        test.addCleanup(c.close)
    by_shard = {}
    for c in clients:
        c.call("CLIENT", "SETNAME", "probe%d" % id(c))
    lines = {l["name"]: l for l in client_lines(clients[0])}
    for c in clients:
        by_shard[int(lines["probe%d" % id(c)]["io-thread"])] = c
    return by_shard


class ShardsTest(ServerTest):
    server_args = ("--threads", str(SHARDS), "--partitions", "8")

    def setUp(self):
        self.c = self.client()
        self.c.call("FLUSHALL")

    def test_connections_spread_over_every_shard(self):
        clients = [self.client() for _ in range(2 * SHARDS)]
        for i, c in enumerate(clients):
            self.assertEqual(c.call("CLIENT", "SETNAME", "spread%d" % i), "OK")
        # CLIENT LIST on any shard lists the clients of all of them.
        for c in (clients[0], clients[-1]):
            lines = [l for l in client_lines(c) if l["name"].startswith("spread")]
            self.assertEqual(len(lines), 2 * SHARDS)
            per_shard = {}
            for l in lines:
                per_shard[l["io-thread"]] = per_shard.get(l["io-thread"], 0) + 1
            self.assertEqual(sorted(per_shard), [str(i) for i in range(SHARDS)])
            self.assertEqual(set(per_shard.values()), {2})
        # Client ids are unique server-wide.
        ids = [c.call("CLIENT", "ID") for c in clients]
        self.assertEqual(len(set(ids)), len(ids))

    def test_keys_written_on_one_shard_are_read_on_every_other(self):
        shards = open_on_every_shard(self, self.server.port)
        for w, writer in shards.items():
            self.assertEqual(writer.call("SET", "k%d" % w, "from%d" % w), "OK")
        for r, reader in shards.items():
            for w in shards:
                self.assertEqual(reader.call("GET", "k%d" % w), b"from%d" % w)
        # Multi-key commands split over partitions from any shard.
        keys = ["m%d" % i for i in range(40)]
        pairs = [x for k in keys for x in (k, "v" + k)]
        self.assertEqual(shards[1].call("MSET", *pairs), "OK")
        self.assertEqual(shards[2].call("MGET", *keys), [b"v" + k.encode() for k in keys])
        self.assertEqual(shards[3].call("DBSIZE"), 40 + len(shards))
        self.assertEqual(len(shards[0].call("KEYS", "m*")), 40)
        self.assertEqual(shards[0].call("DEL", *keys[:10]), 10)
        self.assertEqual(shards[3].call("EXISTS", *keys), 30)
        self.assertEqual(shards[2].call("FLUSHALL"), "OK")
        self.assertEqual(shards[1].call("DBSIZE"), 0)

    def test_info_sums_every_shard(self):
        shards = open_on_every_shard(self, self.server.port)
        self.assertEqual(self.c.call("CONFIG", "RESETSTAT"), "OK")
        for s, c in shards.items():
            for i in range(s + 1):  # 1, 2, 3 and 4 SETs: 10 in all
                self.assertEqual(c.call("SET", "x%d" % s, i), "OK")
        for c in shards.values():
            stats = info_field(c, "commandstats", "cmdstat_set")
            self.assertEqual(re.match(r"calls=(\d+)", stats).group(1), "10")
            self.assertGreaterEqual(int(info_field(c, "clients", "connected_clients")),
                                    SHARDS + 1)
        # CONFIG RESETSTAT on one shard resets them all.
        self.assertEqual(shards[2].call("CONFIG", "RESETSTAT"), "OK")
        self.assertEqual(shards[0].call("SET", "y", 1), "OK")
        for c in shards.values():
            stats = info_field(c, "commandstats", "cmdstat_set")
            self.assertEqual(re.match(r"calls=(\d+)", stats).group(1), "1")

    def test_slowlog_is_server_wide(self):
        shards = open_on_every_shard(self, self.server.port)
        self.addCleanup(self.c.call, "CONFIG", "SET", "slowlog-log-slower-than", "10000")
        self.assertEqual(shards[0].call("CONFIG", "SET", "slowlog-log-slower-than", "0"), "OK")
        self.assertEqual(shards[0].call("SLOWLOG", "RESET"), "OK")
        for s, c in shards.items():
            self.assertEqual(c.call("SET", "slow%d" % s, "v"), "OK")
        for c in shards.values():
            entries = c.call("SLOWLOG", "GET", "-1")
            logged = {e[3][1] for e in entries if e[3][0] == b"SET"}
            self.assertEqual(logged, {b"slow%d" % s for s in shards})
            ids = [e[0] for e in entries]
            self.assertEqual(ids, sorted(set(ids), reverse=True))  # unique, newest first
        self.assertEqual(shards[3].call("SLOWLOG", "RESET"), "OK")
        for c in shards.values():
            entries = c.call("SLOWLOG", "GET", "-1")
            self.assertFalse([e for e in entries if e[3][0] == b"SET"])

    def test_config_set_reaches_every_shard(self):
        shards = open_on_every_shard(self, self.server.port)
        self.addCleanup(self.c.call, "CONFIG", "SET", "maxclients", "10000")
        self.assertEqual(shards[1].call("CONFIG", "SET", "request-timeout-ms", "777"), "OK")
        for c in shards.values():
            self.assertEqual(c.call("CONFIG", "GET", "request-timeout-ms"),
                             [b"request-timeout-ms", b"777"])
        # maxclients counts the clients of every shard: with 5 connected (self.c and
        # the 4 probes), a limit of 6 admits one more, on whichever shard, and no other.
        deadline = time.monotonic() + 5 * SCALE
        while int(info_field(self.c, "clients", "connected_clients")) != 5:
            self.assertLess(time.monotonic(), deadline, "earlier clients still counted")
            time.sleep(0.05)
        self.assertEqual(shards[3].call("CONFIG", "SET", "maxclients", "6"), "OK")
        admitted = Client(self.server.port)
        self.addCleanup(admitted.close)
        self.assertEqual(admitted.call("PING"), "PONG")
        for _ in range(SHARDS):  # one on each shard
            refused = Client(self.server.port)
            self.addCleanup(refused.close)
            self.assertIn("max number of clients", str(refused.read_reply()))
            self.assertTrue(refused.read_closed())


class ShardsShutdownTest(unittest.TestCase):
    def test_shutdown_on_any_shard_stops_every_shard(self):
        server = ServerProcess("--threads", "3")
        try:
            shards = open_on_every_shard(self, server.port, 3)
            self.assertEqual(shards[0].call("SET", "k", "v"), "OK")
            shards[2].send_raw(Client.encode("SHUTDOWN"))
            for c in shards.values():
                self.assertTrue(c.read_closed(timeout=10 * SCALE))
            server.proc.wait(10 * SCALE)
            self.assertEqual(server.proc.returncode, 0)
            self.assertIn("OTKV stopped", server.log())
        finally:
            server.stop()

    def test_one_shard_serves_like_many(self):
        server = ServerProcess("--threads", "1")
        try:
            a, b = Client(server.port), Client(server.port)
            self.assertEqual(a.call("SET", "k", "v"), "OK")
            self.assertEqual(b.call("GET", "k"), b"v")
            self.assertEqual({l["io-thread"] for l in client_lines(a)}, {"0"})
            a.close()
            b.close()
        finally:
            self.assertEqual(server.stop(), 0)


class ShardsDescriptorTest(unittest.TestCase):
    def test_maxclients_fits_the_descriptor_limit_with_every_shard(self):
        import resource
        import socket

        def low_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

        # 32 descriptors kept as with one shard, and 3 (epoll, pipe) per further shard.
        server = ServerProcess("--threads", "4", preexec_fn=low_limit)
        self.addCleanup(lambda: server.proc.poll() is None and server.kill())
        self.assertIn("maxclients has been reduced to 215", server.log())
        socks, served, refused = [], 0, 0
        try:
            for _ in range(260):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=5 * SCALE)
                socks.append(s)
                s.sendall(b"PING\r\n")
                reply = s.recv(100)
                if reply == b"+PONG\r\n":
                    served += 1
                else:
                    self.assertEqual(reply, b"-ERR max number of clients reached\r\n")
                    refused += 1
            self.assertEqual((served, refused), (215, 45))
        finally:
            for s in socks:
                s.close()
        self.assertEqual(server.stop(), 0)


class RunHereTest(unittest.TestCase):
    """A broker runs a batch itself only when its partition is free; else the batch goes
    to the partition's worker. Either way each connection's requests keep their order
    and every write is applied once."""

    def test_busy_partition_falls_back_to_its_worker_in_order(self):
        server = ServerProcess("--threads", "2", "--partitions", "1", "--appendonly", "no")
        try:
            loader = Client(server.port)
            for start in range(0, 60000, 1000):
                loader.send_raw(b"".join(Client.encode("SET", "fill:%d" % i, "x")
                                         for i in range(start, start + 1000)))
                for _ in range(1000):
                    loader.read_reply()
            a, b = Client(server.port), Client(server.port)  # one on each shard
            errors = []

            def incr_loop():
                c = Client(server.port)
                try:
                    for _ in range(300):
                        if not isinstance(c.call("INCR", "n"), int):
                            errors.append("INCR")
                finally:
                    c.close()

            import threading
            t = threading.Thread(target=incr_loop)
            t.start()
            seen = []
            for _ in range(20):
                # KEYS walks the partition on the worker, holding it: the INCRs and the
                # GET around it, pipelined, run wherever the partition is free.
                a.send_raw(Client.encode("INCR", "n") + Client.encode("KEYS", "fill:1234*")
                           + Client.encode("INCR", "n") + Client.encode("GET", "n"))
                first = a.read_reply()
                keys = a.read_reply()
                second = a.read_reply()
                got = int(a.read_reply())
                self.assertEqual(len(keys), 11)
                self.assertGreater(second, first)
                self.assertGreaterEqual(got, second)
                seen.append(second)
                self.assertIsInstance(b.call("INCR", "n"), int)
            t.join(60)
            self.assertFalse(errors)
            self.assertEqual(int(a.call("GET", "n")), 300 + 20 * 3)
            for c in (loader, a, b):
                c.close()
        finally:
            self.assertEqual(server.stop(), 0)


TIMEOUT_MS = int(300 * SCALE)


class ShardsSupervisionTest(ServerTest):
    server_args = ("--threads", "3", "--partitions", "4", "--enable-debug-command", "yes",
                   "--request-timeout-ms", str(TIMEOUT_MS), "--request-attempts", "2")

    def key_in(self, c, partition, prefix):
        for i in range(10000):
            key = "%s:%d" % (prefix, i)
            if c.call("DEBUG", "PARTITION-OF", key) == partition:
                return key
        raise AssertionError("no key for partition %d" % partition)

    def test_a_crash_and_a_hang_seen_from_every_shard(self):
        shards = open_on_every_shard(self, self.server.port, 3)
        c = shards[0]
        hung, crashed = 1, 2
        hkey = self.key_in(c, hung, "h")
        ckey = self.key_in(c, crashed, "c")
        okey = self.key_in(c, 3, "o")
        for s, sc in shards.items():
            self.assertEqual(sc.call("INCR", hkey), s + 1)
            self.assertEqual(sc.call("INCR", ckey), s + 1)
        # A crash: every shard goes on with the fresh worker and nothing is lost.
        self.assertEqual(c.call("DEBUG", "CRASH-PARTITION", crashed), "OK")
        for sc in shards.values():
            deadline = time.monotonic() + 10 * SCALE
            while True:
                r = sc.call("GET", ckey)
                if r == b"3" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(r, b"3")
        # A hang: each shard's request gets -TIMEOUT within the budget, or its answer
        # once the partition is served again; the other partitions answer at once.
        others = open_on_every_shard(self, self.server.port, 3)
        self.assertEqual(c.call("DEBUG", "SLEEP-PARTITION", hung, int(2000 * SCALE)), "OK")
        for sc in shards.values():
            sc.send_raw(Client.encode("INCR", hkey))
        for sc in others.values():
            t0 = time.monotonic()
            self.assertEqual(sc.call("SET", okey, "v"), "OK")
            self.assertLess(time.monotonic() - t0, 0.5 * SCALE)
        started = time.monotonic()
        replies = [sc.read_reply() for sc in shards.values()]
        self.assertLess(time.monotonic() - started, 2 * TIMEOUT_MS / 1000.0 + 1.5 * SCALE)
        for r in replies:
            if isinstance(r, ReplyError):
                self.assertTrue(str(r).startswith("TIMEOUT"), str(r))
            else:
                self.assertIn(r, (4, 5, 6))
        # Afterwards: each INCR applied at most once (a timed-out one may still apply).
        deadline = time.monotonic() + 10 * SCALE
        while True:
            r = c.call("GET", hkey)
            if not isinstance(r, ReplyError) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertIn(r, (b"3", b"4", b"5", b"6"))
        answered = sum(1 for r in replies if not isinstance(r, ReplyError))
        self.assertGreaterEqual(int(r), 3 + answered)
        info = c.call("INFO", "partitions").decode()
        line = [l for l in info.splitlines() if l.startswith("partition%d:" % crashed)][0]
        # Every shard saw the one replacement: it counts once.
        self.assertIn("restarts=1", line)


if __name__ == "__main__":
    unittest.main()
