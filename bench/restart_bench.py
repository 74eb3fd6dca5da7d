#!/usr/bin/env python3
"""Restart time and latency during snapshots, OTKV next to redis-server (`make bench-restart`).

Loads N keys (16-byte keys, 100-byte values) into each server, then measures:
  - restart from the op log alone (OTKV) vs from the AOF (Redis, appendonly yes, no RDB preamble)
  - restart from a snapshot (OTKV) vs from an RDB file (Redis)
  - GET p99 latency (50 connections, no pipelining) without and during snapshots
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_bench import BENCH, RESULTS, SERVER, free_port, wait_port  # noqa: E402


STARTED = []  # every server process, killed on the way out whatever happens


def load(port, keys):
    subprocess.run([BENCH, "--port", str(port), "--requests", str(keys), "--distribution",
                    "sequential", "--keyspace", str(keys), "--set-percent", "100",
                    "--value-size", "100", "--pipeline", "64", "--json"], check=True,
                   capture_output=True, timeout=900)


def get_p99(port, keys, seconds):
    out = subprocess.run([BENCH, "--port", str(port), "--set-percent", "0", "--keyspace",
                          str(keys), "--duration", str(seconds), "--warmup", "0.5", "--json"],
                         check=True, capture_output=True, text=True, timeout=seconds + 60)
    return json.loads(out.stdout)["p99_us"]


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                          timeout=600).stdout.strip()


def p99_during_saves(port, keys, seconds):
    stop = threading.Event()

    def saver():
        while not stop.is_set():
            cli(port, "BGSAVE")
            time.sleep(1)

    t = threading.Thread(target=saver)
    t.start()
    try:
        return get_p99(port, keys, seconds)
    finally:
        stop.set()
        t.join()


class Otkv:
    def __init__(self, data_dir):
        self.dir = data_dir

    def start(self):
        started = time.monotonic()
        self.proc = subprocess.Popen([SERVER, "--port", "0", "--dir", self.dir, "--save-interval", "0",
                                      "--loglevel", "info"], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        STARTED.append(self.proc)
        self.recovery = None
        for line in self.proc.stdout:
            m = re.search(r"recovered .* in ([0-9.]+) s", line)
            if m:
                self.recovery = float(m.group(1))
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                self.ready = time.monotonic() - started
                threading.Thread(target=self.proc.stdout.read, daemon=True).start()
                return self
        raise RuntimeError("otkv did not start")

    def stop(self):
        cli(self.port, "SHUTDOWN")
        self.proc.wait(120)


class Redis:
    def __init__(self, data_dir, aof):
        self.dir, self.aof = data_dir, aof
        self.logfile = os.path.join(data_dir, "redis.log")

    def start(self):
        self.port = free_port()
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                "--save", "", "--logfile", self.logfile]
        args += (["--appendonly", "yes", "--appendfsync", "everysec", "--aof-use-rdb-preamble", "no"]
                 if self.aof else ["--appendonly", "no"])
        started = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        STARTED.append(self.proc)
        if not wait_port(self.port, self.proc, timeout=600):
            raise RuntimeError("redis did not start")
        # Redis listens while it loads (answering -LOADING): wait until it is done.
        while cli(self.port, "PING") != "PONG":
            time.sleep(0.05)
        self.ready = time.monotonic() - started
        with open(self.logfile) as f:
            found = re.findall(r"DB loaded from (?:disk|append only file): ([0-9.]+) seconds", f.read())
        self.recovery = float(found[-1]) if found else None
        return self

    def stop(self):
        cli(self.port, "SHUTDOWN", "NOSAVE")
        self.proc.wait(120)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    n = args.keys
    rows = {}
    root = tempfile.mkdtemp(prefix="otkv-restart-")
    try:
        # OTKV: op log, then snapshot.
        d = os.path.join(root, "otkv")
        os.mkdir(d)
        s = Otkv(d).start()
        load(s.port, n)
        s.stop()
        s.start()  # from the op log alone: no snapshot taken yet
        rows["otkv op log"] = s.recovery
        assert cli(s.port, "DBSIZE") == str(n), "OTKV lost keys"
        base = get_p99(s.port, n, args.seconds)
        during = p99_during_saves(s.port, n, args.seconds)
        cli(s.port, "SAVE")
        s.stop()
        s.start()
        rows["otkv snapshot"] = s.recovery
        assert cli(s.port, "DBSIZE") == str(n), "OTKV lost keys"
        s.stop()
        rows["otkv GET p99 us"] = base
        rows["otkv GET p99 us during snapshots"] = during
        # Redis: RDB, then AOF.
        d = os.path.join(root, "rdb")
        os.mkdir(d)
        r = Redis(d, aof=False).start()
        load(r.port, n)
        base = get_p99(r.port, n, args.seconds)
        during = p99_during_saves(r.port, n, args.seconds)
        cli(r.port, "SAVE")
        r.stop()
        r.start()
        rows["redis RDB"] = r.recovery
        r.stop()
        rows["redis GET p99 us"] = base
        rows["redis GET p99 us during BGSAVE"] = during
        d = os.path.join(root, "aof")
        os.mkdir(d)
        r = Redis(d, aof=True).start()
        load(r.port, n)
        time.sleep(2)
        r.stop()
        r.start()
        rows["redis AOF"] = r.recovery
        r.stop()
    finally:
        for proc in STARTED:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(root, ignore_errors=True)
    print("restart with %d keys (16-byte keys, 100-byte values), seconds as each server reports it:" % n)
    for k in ("otkv op log", "redis AOF", "otkv snapshot", "redis RDB"):
        print("  %-16s %8.3f s" % (k, rows[k]))
    print("GET p99 latency, 50 connections, no pipelining:")
    for k in ("otkv GET p99 us", "otkv GET p99 us during snapshots", "redis GET p99 us",
              "redis GET p99 us during BGSAVE"):
        print("  %-34s %8.0f us" % (k, rows[k]))
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "restart.json"), "w") as f:
        json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
