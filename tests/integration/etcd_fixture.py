"""A private etcd on loopback ports for the failover tests (docs/replication.md,
"Failover"): its own data directory, stopped and removed at the end."""

import json
import os
import random
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request
from base64 import b64decode, b64encode

from test_cluster import port_free

ETCD = shutil.which("etcd")


class Etcd:
    """etcd on 127.0.0.1:`port` (its peer port is another free one). Raises SkipTest where
    no etcd is installed (`make deps` installs Debian's etcd-server)."""

    def __init__(self):
        if ETCD is None:
            raise unittest.SkipTest("etcd is not installed (make deps installs etcd-server)")
        for _ in range(200):
            self.port, peer = random.randrange(40000, 49000), random.randrange(49000, 50000)
            if port_free(self.port) and port_free(peer):
                break
        self.address = "127.0.0.1:%d" % self.port
        self.dir = tempfile.mkdtemp(prefix="otkv-etcd-")
        client, peer_url = "http://127.0.0.1:%d" % self.port, "http://127.0.0.1:%d" % peer
        self.log = open(os.path.join(self.dir, "etcd.log"), "wb")
        self.proc = subprocess.Popen(
            [ETCD, "--name", "otkv-test", "--data-dir", os.path.join(self.dir, "data"),
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
             "--initial-cluster", "otkv-test=" + peer_url, "--logger", "zap",
             "--log-level", "error"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.range("/")
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("etcd did not start")
                time.sleep(0.1)

    def call(self, path, body):
        request = urllib.request.Request("http://%s%s" % (self.address, path),
                                         data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=5) as reply:
            return json.loads(reply.read())

    def range(self, prefix):
        """{key: value} of every key starting with `prefix`."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        reply = self.call("/v3/kv/range", {"key": b64encode(prefix.encode()).decode(),
                                           "range_end": b64encode(end.encode()).decode()})
        return {b64decode(kv["key"]).decode(): b64decode(kv.get("value", "")).decode()
                for kv in reply.get("kvs", [])}

    def layout(self):
        """The chain layout the otkv nodes keep here (one cluster at a time)."""
        for key, value in self.range("/otkv/").items():
            if key.endswith("/layout"):
                return json.loads(value)
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
