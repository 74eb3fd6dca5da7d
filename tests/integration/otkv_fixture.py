"""Starts the real otkv-server on 127.0.0.1 port 0 and talks RESP to it (stdlib only)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

SERVER = os.environ.get("OTKV_SERVER", os.path.join(os.path.dirname(__file__), "../../build/otkv-server"))
LISTEN_RE = re.compile(rb"OTKV listening on \S+:(\d+)")
# Sanitizer builds run slower: they scale every time bound by OTKV_TIMING_SCALE.
SCALE = float(os.environ.get("OTKV_TIMING_SCALE", "1"))
START_TIMEOUT = 10.0 * SCALE
IO_TIMEOUT = 10.0 * SCALE


class ServerProcess:
    """One otkv-server process; `port` is the port it reported. Its data directory is
    `data_dir` (a new temporary one unless given; removed by cleanup()). `preexec_fn` runs
    in the child before the server starts (e.g. to lower a resource limit); `env` replaces
    its environment."""

    def __init__(self, *args, data_dir=None, preexec_fn=None, env=None):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="otkv-test-")
        self.proc = subprocess.Popen([SERVER, "--port", "0", "--dir", self.data_dir, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     preexec_fn=preexec_fn, env=env)
        self.lines = []
        self.port = None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            m = LISTEN_RE.search(line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("server did not start: %r" % b"".join(self.lines))
        # Keep draining the log so the server never blocks on a full pipe.
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def log(self):
        return b"".join(self.lines).decode(errors="replace")

    def wait_for_log(self, text, timeout=10.0 * SCALE):
        """The log once it contains `text` (the server writes it asynchronously); fails
        after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline:
                raise AssertionError("%r not in the server log:\n%s" % (text, self.log()))
            time.sleep(0.02)
        return self.log()

    def stop(self, sig=signal.SIGTERM, timeout=10.0 * SCALE):
        """Stops the server with `sig`; returns its exit code (kills it if it hangs)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("server did not stop within %.0fs" % timeout)
        self._reader.join(timeout=2)
        self.proc.stdout.close()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        return self.proc.returncode

    def kill(self):
        """kill -9: no chance to flush anything; the data directory stays."""
        self.own_dir = False
        self.proc.kill()
        self.proc.wait()
        self._reader.join(timeout=2)
        self.proc.stdout.close()


def run_in_namespace(test, kinds, script):
    """Runs the probe `script` (next to this file) as root of new Linux namespaces
    (`kinds`: "n" network, "m" mount) and returns its output; the test fails if the probe
    does, and is skipped, saying why, where such namespaces are not allowed."""
    probe = os.path.join(os.path.dirname(os.path.abspath(__file__)), script)
    for unshare in (["unshare", "-r" + kinds], ["unshare", "-" + kinds]):
        try:
            trial = subprocess.run(unshare + ["true"], capture_output=True, timeout=30)
        except FileNotFoundError:
            test.skipTest("unshare(1) is not installed")
        if trial.returncode == 0:
            break
    else:
        test.skipTest("no private namespaces here (unshare: %s)"
                      % trial.stderr.decode(errors="replace").strip())
    run = subprocess.run(unshare + [sys.executable, probe], capture_output=True,
                         timeout=120 * SCALE)
    output = (run.stdout + run.stderr).decode(errors="replace")
    test.assertEqual(run.returncode, 0, output)
    return output


class ReplyError(Exception):
    """An error reply (`-ERR …`)."""


class Client:
    """A minimal blocking RESP2 client."""

    def __init__(self, port, timeout=IO_TIMEOUT, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, int):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by server")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_reply(self):
        """Reads one reply; error replies come back as ReplyError instances."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return ReplyError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        raise AssertionError("bad reply line %r" % line)

    def call(self, *args):
        self.send_raw(self.encode(*args))
        return self.read_reply()

    def read_closed(self, timeout=5.0):
        """True once the server closes the connection (after any pending bytes)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, ConnectionResetError):
            return False


class ServerTest(unittest.TestCase):
    """A test case with one server for the whole class."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess(*cls.server_args)

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        assert rc == 0, "server exited with %s\n%s" % (rc, cls.server.log())

    def client(self):
        c = Client(self.server.port)
        self.addCleanup(c.close)
        return c
