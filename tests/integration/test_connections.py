"""Connections: inline sessions, pipelining, many clients, redis-cli, bad clients, shutdown."""

import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest

from otkv_fixture import Client, ReplyError, ServerProcess, ServerTest


class ConnectionTest(ServerTest):
    server_args = ("--partitions", "4")

    def test_inline_session_as_typed_in_telnet(self):
        c = self.client()
        for line, expected in [
            (b"PING\r\n", b"+PONG\r\n"),
            (b"set greeting \"hello world\"\r\n", b"+OK\r\n"),
            (b"GET greeting\r\n", b"$11\r\nhello world\r\n"),
            (b"ECHO 'it\\'s'\n", b"$4\r\nit's\r\n"),
            (b"\r\n", None),  # an empty line is ignored
            (b"get\r\n", b"-ERR wrong number of arguments for 'get' command\r\n"),
            (b"foo\r\n", b"-ERR unknown command 'foo', with args beginning with: \r\n"),
        ]:
            c.send_raw(line)
            if expected is not None:
                got = b""
                while len(got) < len(expected):
                    got += c.sock.recv(1024)
                self.assertEqual(got, expected, line)
        # A telnet user typing one character at a time.
        for ch in b"ECHO slow\r\n":
            c.send_raw(bytes([ch]))
        self.assertEqual(c.read_reply(), b"slow")
        c.send_raw(b"QUIT\r\n")
        self.assertEqual(c.read_reply(), "OK")
        self.assertTrue(c.read_closed())

    def test_ten_thousand_pipelined_commands_answer_in_order(self):
        c = self.client()
        n = 10000
        batch = []
        for i in range(n):
            key = "pipe:%d" % i
            batch.append(Client.encode("SET", key, str(i)) if i % 2 == 0 else Client.encode("GET", "pipe:%d" % (i - 1)))
        c.send_raw(b"".join(batch))
        for i in range(n):
            r = c.read_reply()
            if i % 2 == 0:
                self.assertEqual(r, "OK")
            else:
                self.assertEqual(r, str(i - 1).encode(), "reply %d out of order" % i)
        # Mixed single- and multi-partition commands keep their order too.
        mixed = []
        for i in range(500):
            mixed.append(Client.encode("MGET", "pipe:0", "pipe:2", "pipe:%d" % (2 * i)))
            mixed.append(Client.encode("PING", str(i)))
        c.send_raw(b"".join(mixed))
        for i in range(500):
            self.assertEqual(c.read_reply(), [b"0", b"2", str(2 * i).encode()])
            self.assertEqual(c.read_reply(), str(i).encode())

    def test_two_hundred_concurrent_clients(self):
        errors = []
        rounds = 20

        def work(n):
            try:
                c = Client(self.server.port)
                try:
                    for r in range(rounds):
                        key = "client:%d:%d" % (n, r)
                        payload = Client.encode("SET", key, key) + Client.encode("GET", key)
                        c.send_raw(payload)
                        if c.read_reply() != "OK" or c.read_reply() != key.encode():
                            errors.append("client %d round %d: wrong reply" % (n, r))
                            return
                finally:
                    c.close()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append("client %d: %r" % (n, e))

        threads = [threading.Thread(target=work, args=(n,)) for n in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        c = self.client()
        self.assertEqual(c.call("EXISTS", *["client:%d:%d" % (n, rounds - 1) for n in range(200)]), 200)

    @unittest.skipUnless(shutil.which("redis-cli"), "redis-cli not installed")
    def test_redis_cli_session(self):
        def cli(*args, stdin=None):
            return subprocess.run(["redis-cli", "-p", str(self.server.port), *args], input=stdin,
                                  capture_output=True, timeout=20, check=True).stdout.decode()

        self.assertEqual(cli("PING"), "PONG\n")
        self.assertEqual(cli("SET", "cli:key", "some value"), "OK\n")
        self.assertEqual(cli("GET", "cli:key"), "some value\n")
        self.assertEqual(cli("GET", "cli:none"), "\n")
        self.assertEqual(cli("--no-raw", "GET", "cli:none"), "(nil)\n")
        self.assertEqual(cli("MSET", "cli:a", "1", "cli:b", "2"), "OK\n")
        self.assertEqual(cli("--no-raw", "MGET", "cli:a", "cli:b", "cli:c"), '1) "1"\n2) "2"\n3) (nil)\n')
        self.assertEqual(cli("--no-raw", "EXPIRE", "cli:a", "100"), "(integer) 1\n")
        self.assertIn("ERR unknown command 'BOGUS'", cli("BOGUS"))
        # An interactive-style session through stdin, as a person would type it.
        out = cli(stdin=b"SET cli:x 10\nGET cli:x\nDEL cli:x\nEXISTS cli:x\n")
        self.assertEqual(out, "OK\n10\n1\n0\n")
        self.assertIn("redis_version", cli("INFO", "server"))
        # redis-cli --scan walks the SCAN cursor across every partition.
        cli(stdin=("".join("SET scan:%d v\n" % i for i in range(300))).encode())
        scanned = cli("--scan", "--pattern", "scan:*").split()
        self.assertEqual(sorted(scanned), sorted("scan:%d" % i for i in range(300)))

    def test_client_disconnecting_mid_request(self):
        # Half a bulk, then gone.
        c = Client(self.server.port)
        c.send_raw(b"*3\r\n$3\r\nSET\r\n$4\r\ngone\r\n$100\r\npartial")
        c.close()
        # A full request whose reply nobody reads.
        c = Client(self.server.port)
        c.send_raw(Client.encode("SET", "gone2", "x") * 100)
        c.close()
        # The server keeps serving others, and completed requests took effect.
        c = self.client()
        self.assertEqual(c.call("PING"), "PONG")
        self.assertIsNone(c.call("GET", "gone"))
        deadline = time.monotonic() + 5
        while c.call("EXISTS", "gone2") != 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(c.call("GET", "gone2"), b"x")

    def test_half_closed_client_still_gets_its_replies(self):
        # As in: printf 'SET k v\r\nGET k\r\n' | nc -q1 127.0.0.1 PORT
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        try:
            s.sendall(b"SET half v\r\nGET half\r\nMGET half nope\r\n")
            s.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            self.assertEqual(data, b"+OK\r\n$1\r\nv\r\n*2\r\n$1\r\nv\r\n$-1\r\n")
        finally:
            s.close()

    def test_protocol_error_replies_then_closes(self):
        for payload, message in [
            (b"*1\r\n$x\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
            (b"*2\r\n$3\r\nGET\r\n+k\r\n", b"-ERR Protocol error: expected '$', got '+'\r\n"),
            (b"SET \"open\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
        ]:
            c = self.client()
            c.send_raw(Client.encode("PING") + payload)
            self.assertTrue(c.read_closed(), payload)
            self.assertEqual(c.buf, b"+PONG\r\n" + message)

    def test_http_request_closes_without_reply(self):
        c = self.client()
        c.send_raw(b"POST / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertTrue(c.read_closed())
        self.assertEqual(c.buf, b"")

    def test_oversized_inline_request(self):
        c = self.client()
        c.send_raw(b"SET k " + b"x" * (70 * 1024))
        self.assertTrue(c.read_closed())
        self.assertEqual(c.buf, b"-ERR Protocol error: too big inline request\r\n")


class ShutdownTest(unittest.TestCase):
    def test_sigterm_stops_cleanly(self):
        server = ServerProcess()
        c = Client(server.port)
        self.assertEqual(c.call("SET", "k", "v"), "OK")
        self.assertEqual(server.stop(signal.SIGTERM), 0)
        self.assertIn("OTKV stopped", server.log())
        c.close()

    def test_sigint_stops_cleanly(self):
        server = ServerProcess()
        self.assertEqual(server.stop(signal.SIGINT), 0)

    def test_shutdown_command_answers_in_flight_then_exits(self):
        server = ServerProcess()
        other = Client(server.port)
        c = Client(server.port)
        # Pipelined requests the server has read on another connection are answered. Two
        # connections have no order between them, so SHUTDOWN goes once the first reply
        # shows that the server read the batch (50 small requests: one segment, one read).
        other.send_raw(Client.encode("SET", "a", "1") * 50)
        self.assertEqual(other.read_reply(), "OK")
        c.send_raw(Client.encode("SHUTDOWN"))
        for _ in range(49):
            self.assertEqual(other.read_reply(), "OK")
        self.assertTrue(c.read_closed())
        server.proc.wait(10)
        self.assertEqual(server.proc.returncode, 0)
        # Nobody is listening any more.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2)
        other.close()
        c.close()

    def test_bad_flag_exits_with_message(self):
        from otkv_fixture import SERVER
        r = subprocess.run([SERVER, "--port", "99999", "--dir", "/nonexistent"], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"invalid value '99999' for port", r.stderr)
        r = subprocess.run([SERVER, "--help"], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"--partitions", r.stdout)

    def test_port_in_use_fails_to_start(self):
        from otkv_fixture import SERVER
        first = ServerProcess()
        try:
            r = subprocess.run([SERVER, "--port", str(first.port), "--dir", first.data_dir,
                                "--appendonly", "no"], capture_output=True, timeout=10)
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"cannot listen", r.stdout + r.stderr)
        finally:
            first.stop()


if __name__ == "__main__":
    unittest.main()
