"""Authentication, pre-authentication limits and the client limit, over real sockets."""

import time
import unittest

from otkv_fixture import Client, ReplyError, ServerProcess, ServerTest


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
        self.assertIn("failed AUTH", self.server.log())
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
