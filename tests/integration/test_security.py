"""Authentication, pre-authentication limits and the client limit, over real sockets."""

import time
import unittest

from otkv_fixture import SCALE, Client, ReplyError, ServerProcess, ServerTest, run_in_namespace


class AuthTest(ServerTest):
    server_args = ("--requirepass", "hunter2")

    def test_unauthenticated_access_is_denied(self):
        c = self.client()
        r = c.call("SET", "k", "v")
        self.assertIsInstance(r, ReplyError)
        self.assertEqual(str(r), "NOAUTH Authentication required.")
        self.assertEqual(str(c.call("AUTH", "nope")),
                         "WRONGPASS invalid username-password pair or user is disabled.")
        self.assertEqual(c.call("AUTH", "hunter2"), "OK")
        self.assertEqual(c.call("SET", "k", "v"), "OK")
        self.server.wait_for_log("failed AUTH")
        other = self.client()
        self.assertEqual(other.call("HELLO", "2", "AUTH", "default", "hunter2")[:2],
                         [b"server", b"otkv"])
        self.assertEqual(other.call("GET", "k"), b"v")

    def test_pre_auth_limits_close_big_requests(self):
        c = self.client()
        c.send_raw(Client.encode("AUTH", *(["x"] * 11)))  # 12 elements > 10
        self.assertTrue(c.read_closed())
        self.assertEqual(c.buf, b"-ERR Protocol error: invalid multibulk length\r\n")
        c = self.client()
        c.send_raw(Client.encode("AUTH", "x" * 20000))  # a 20 KB bulk > 16 KiB
        self.assertTrue(c.read_closed())
        self.assertEqual(c.buf, b"-ERR Protocol error: invalid bulk length\r\n")
        # Once authenticated, the full limits apply.
        c = self.client()
        self.assertEqual(c.call("AUTH", "hunter2"), "OK")
        self.assertEqual(c.call("SET", "big", "y" * 100000), "OK")
        self.assertEqual(c.call("STRLEN", "big"), 100000)


class MaxClientsTest(unittest.TestCase):
    def test_connections_beyond_maxclients_are_refused(self):
        server = ServerProcess("--maxclients", "3")
        clients = [Client(server.port) for _ in range(3)]
        try:
            for c in clients:
                self.assertEqual(c.call("PING"), "PONG")
            extra = Client(server.port)
            self.assertTrue(extra.read_closed())
            self.assertEqual(extra.buf, b"-ERR max number of clients reached\r\n")
            extra.close()
            clients.pop().close()
            # A slot is free again once a client leaves.
            r = None
            for _ in range(50):
                again = Client(server.port)
                try:
                    r = again.call("PING")
                except ConnectionError:
                    time.sleep(0.05)  # the server has not seen the close yet
                finally:
                    again.close()
                if r == "PONG":
                    break
            self.assertEqual(r, "PONG")
        finally:
            for c in clients:
                c.close()
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()


class BadClientsTest(ServerTest):
    server_args = ("--client-output-limit", "4000000", "--maxclients", "2000")

    def test_a_client_that_never_reads_is_dropped(self):
        c = self.client()
        self.assertEqual(c.call("SET", "big", "x" * 1000000), "OK")
        # 40 MB of replies asked for (far beyond the kernel's socket buffers), none read.
        c.send_raw(Client.encode("GET", "big") * 40)
        deadline = time.monotonic() + 20 * SCALE
        while "unread replies exceed the output limit" not in self.server.log():
            self.assertLess(time.monotonic(), deadline, "the slow reader was not dropped")
            time.sleep(0.1)
        other = self.client()
        self.assertEqual(other.call("PING"), "PONG")
        self.assertEqual(len(other.call("GET", "big")), 1000000)

    def test_random_garbage_gets_an_error_and_others_keep_working(self):
        import random
        rnd = random.Random(7)
        for n in range(20):
            c = self.client()
            junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 4000)))
            if n % 4 < 2:  # a line end somewhere, so the server has a whole line to judge
                cut = rnd.randrange(1, len(junk) + 1)
                junk = junk[:cut] + b"\r\n" + junk[cut:]
            multibulk = n % 2 == 1
            c.send_raw(b"*" + junk if multibulk else junk)
            closed = c.read_closed(timeout=1)
            replies = c.buf.split(b"\r\n")[:-1]
            # Whatever the bytes, every answer is an error (no random input is a command).
            for line in replies:
                self.assertTrue(line.startswith(b"-"), (n, line))
            if multibulk and b"\r\n" in junk and not junk[:1].isdigit() and junk[:1] != b"-":
                # A bad multibulk length: Redis's protocol error, then the close (without
                # a line end, the server waits for one, as Redis does).
                self.assertTrue(closed, n)
                self.assertEqual(replies[-1], b"-ERR Protocol error: invalid multibulk length")
            if closed and not multibulk:
                self.assertTrue(replies[-1].startswith(b"-ERR Protocol error"), (n, replies))
        c = self.client()
        self.assertEqual(c.call("PING"), "PONG")

    def test_slowloris_does_not_block_others(self):
        slow = self.client()
        request = Client.encode("SET", "slow", "v" * 50)
        fast = self.client()
        for i, b in enumerate(request):
            slow.send_raw(bytes([b]))
            if i % 10 == 0:
                self.assertEqual(fast.call("PING"), "PONG")
        self.assertEqual(slow.read_reply(), "OK")

    def test_a_thousand_idle_connections(self):
        idle = [Client(self.server.port) for _ in range(1000)]
        try:
            c = self.client()
            self.assertEqual(c.call("PING"), "PONG")
            info = c.call("INFO", "clients").decode()
            connected = int(info.split("connected_clients:")[1].split()[0])
            self.assertGreaterEqual(connected, 1001)  # 1000 idle + ours
            for s in idle[::100]:
                self.assertEqual(s.call("PING"), "PONG")
        finally:
            for s in idle:
                s.close()


class LimitsTest(ServerTest):
    server_args = ("--proto-max-bulk-len", "1mb", "--client-query-buffer-limit", "4mb",
                   "--proto-max-multibulk-len", "100", "--proto-inline-max-size", "2kb")

    def rss_bytes(self):
        with open("/proc/%d/status" % self.server.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def expect_refused(self, payload, message):
        c = self.client()
        c.send_raw(payload)
        self.assertTrue(c.read_closed(), payload[:40])
        self.assertEqual(c.buf, b"-ERR Protocol error: " + message + b"\r\n")

    def test_each_limit_answers_an_error_and_closes(self):
        self.expect_refused(b"*2\r\n$4\r\nECHO\r\n$1048577\r\n", b"invalid bulk length")
        self.expect_refused(b"*5\r\n" + b"$1000000\r\n" + b"x" * 1000000 + b"\r\n"
                            + b"$1000000\r\n" + b"x" * 1000000 + b"\r\n"
                            + b"$1000000\r\n" + b"x" * 1000000 + b"\r\n"
                            + b"$1000000\r\n" + b"x" * 1000000 + b"\r\n"
                            + b"$1000000\r\n", b"query buffer limit exceeded")
        self.expect_refused(b"*101\r\n", b"invalid multibulk length")
        self.expect_refused(b"PING " + b"x" * 3000, b"too big inline request")
        # Just inside every limit: served.
        c = self.client()
        self.assertEqual(c.call("SET", "big", "x" * 1048576), "OK")
        self.assertEqual(c.call("STRLEN", "big"), 1048576)
        self.assertEqual(c.call("DEL", *["k%d" % i for i in range(99)]), 0)
        # CONFIG SET changes the limit for connections made afterwards.
        self.assertEqual(c.call("CONFIG", "SET", "proto-max-bulk-len", "2mb"), "OK")
        self.assertEqual(self.client().call("SET", "bigger", "x" * 2000000), "OK")
        self.assertEqual(c.call("CONFIG", "SET", "proto-max-bulk-len", "1mb"), "OK")

    def test_a_huge_declared_bulk_does_not_allocate_up_front(self):
        self.assertEqual(self.client().call("CONFIG", "SET", "proto-max-bulk-len", "512mb",
                                            "client-query-buffer-limit", "1gb"), "OK")
        before = self.rss_bytes()
        stats = self.client().call("INFO", "stats").decode()
        before_input = int(stats.split("total_net_input_bytes:")[1].split()[0])
        hogs = []
        for _ in range(8):  # 8 clients each declaring a 512 MiB value, sending 64 KiB of it
            c = self.client()
            c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n" + b"x" * 65536)
            hogs.append(c)
        probe = self.client()
        deadline = time.monotonic() + 10 * SCALE
        while True:  # wait until the server has read every byte the hogs sent
            stats = probe.call("INFO", "stats").decode()
            read = int(stats.split("total_net_input_bytes:")[1].split()[0])
            if read >= before_input + 8 * 65536:
                break
            self.assertLess(time.monotonic(), deadline, "the hogs' bytes were not read")
            time.sleep(0.05)
        grown = self.rss_bytes() - before
        self.assertLess(grown, 64 * 1024 * 1024, "8 x 512 MiB declared grew RSS by %d" % grown)
        for c in hogs:
            c.close()
        self.assertEqual(self.client().call("PING"), "PONG")
        self.client().call("CONFIG", "SET", "proto-max-bulk-len", "1mb",
                           "client-query-buffer-limit", "4mb")


class IdleTimeoutTest(ServerTest):
    server_args = ("--timeout", "1")

    def test_idle_clients_are_closed(self):
        c = self.client()
        self.assertEqual(c.call("PING"), "PONG")
        started = time.monotonic()
        self.assertTrue(c.read_closed(timeout=10))
        self.assertGreater(time.monotonic() - started, 0.9)
        busy = self.client()
        for _ in range(6):  # active clients stay
            self.assertEqual(busy.call("PING"), "PONG")
            time.sleep(0.3)


class ProtectedModeTest(unittest.TestCase):
    """Protected mode against a real non-loopback peer: netns_protected_mode.py runs in a
    private network namespace (nothing in it is reachable from outside)."""

    def test_non_loopback_clients_are_refused_without_a_password(self):
        output = run_in_namespace(self, "n", "netns_protected_mode.py")
        self.assertIn("ok: a non-loopback client gets the protected-mode error", output)
        self.assertIn("ok: bound to 0.0.0.0, a non-loopback client is refused", output)


class ConfigSetTest(ServerTest):
    def test_runtime_settings_change_and_paths_do_not(self):
        c = self.client()
        self.assertEqual(c.call("CONFIG", "SET", "maxclients", "500", "timeout", "0"), "OK")
        self.assertEqual(c.call("CONFIG", "GET", "maxclients"), [b"maxclients", b"500"])
        r = c.call("CONFIG", "SET", "dir", "/tmp")
        self.assertIsInstance(r, ReplyError)
        self.assertEqual(str(r), "ERR Unknown option or number of arguments for CONFIG SET - 'dir'")
        r = c.call("CONFIG", "SET", "maxclients", "lots")
        self.assertIn("CONFIG SET failed (possibly related to argument 'maxclients')", str(r))
        self.assertEqual(c.call("CONFIG", "GET", "maxclients"), [b"maxclients", b"500"])
        self.assertIn("wrong number of arguments", str(c.call("CONFIG", "SET", "timeout")))
        # A password set at run time applies to new connections.
        self.assertEqual(c.call("CONFIG", "SET", "requirepass", "pw"), "OK")
        other = self.client()
        self.assertEqual(str(other.call("GET", "k")), "NOAUTH Authentication required.")
        self.assertEqual(other.call("AUTH", "pw"), "OK")
        self.assertEqual(c.call("PING"), "PONG")  # the existing connection stays authenticated
        self.assertEqual(c.call("CONFIG", "SET", "requirepass", ""), "OK")
