#!/usr/bin/env python3
"""OTKV client: a module, a redis-cli-like command line and a benchmark. Standard library only.

As a module:

    from otkv import Client
    c = Client("127.0.0.1", 7379)
    c.set("greeting", "hello")
    c.get("greeting")                 # b'hello'
    with c.pipeline() as p:           # many commands, one write
        p.incr("n"); p.incr("n")
    p.results                         # [1, 2]

On the command line:

    python3 otkv.py [-h HOST] [-p PORT] [-a PASSWORD] CMD ARG...   one command, printed like redis-cli
    python3 otkv.py                                                 interactive prompt (history)
    python3 otkv.py bench [-c CLIENTS] [-d SECONDS] [--set-ratio R] [--json]
"""

import argparse
import json
import os
import socket
import sys
import threading
import time

__all__ = ["Client", "Pipeline", "ResponseError", "OtkvConnectionError"]


class ResponseError(Exception):
    """The server answered with an error reply (`-ERR ...`)."""


class OtkvConnectionError(ConnectionError):
    """The connection failed or was closed."""


def encode_command(args):
    """RESP2 multibulk encoding of one command."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, bytes):
            b = a
        elif isinstance(a, str):
            b = a.encode()
        elif isinstance(a, (int, float)):
            b = repr(a).encode()
        else:
            raise TypeError("argument of type %s" % type(a).__name__)
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class _Reader:
    """Parses RESP2 replies from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except OSError as e:
            raise OtkvConnectionError(str(e)) from e
        if not chunk:
            raise OtkvConnectionError("connection closed by the server")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            self._fill()

    def read(self):
        """One reply: bytes, str (status), int, None, list, or a ResponseError instance."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return ResponseError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data = bytes(self.buf[:n])
            del self.buf[:n + 2]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise OtkvConnectionError("protocol error: unexpected reply %r" % line[:40])


class _Commands:
    """Named commands; each calls self.execute(...)."""

    def ping(self):
        return self.execute("PING")

    def set(self, key, value, ex=None, px=None, nx=False, xx=False):
        args = ["SET", key, value]
        if ex is not None:
            args += ["EX", ex]
        if px is not None:
            args += ["PX", px]
        if nx:
            args.append("NX")
        if xx:
            args.append("XX")
        return self.execute(*args)

    def get(self, key):
        return self.execute("GET", key)

    def delete(self, *keys):
        return self.execute("DEL", *keys)

    def exists(self, *keys):
        return self.execute("EXISTS", *keys)

    def mget(self, *keys):
        return self.execute("MGET", *keys)

    def mset(self, mapping):
        args = ["MSET"]
        for k, v in mapping.items():
            args += [k, v]
        return self.execute(*args)

    def incr(self, key, amount=1):
        return self.execute("INCR", key) if amount == 1 else self.execute("INCRBY", key, amount)

    def expire(self, key, seconds):
        return self.execute("EXPIRE", key, seconds)

    def ttl(self, key):
        return self.execute("TTL", key)

    def keys(self, pattern="*"):
        return self.execute("KEYS", pattern)

    # -- hashes --------------------------------------------------------------------------

    def hset(self, key, field=None, value=None, mapping=None):
        """HSET key field value, or every pair of `mapping`; the number of fields added."""
        args = ["HSET", key]
        if field is not None:
            args += [field, value]
        for f, v in (mapping or {}).items():
            args += [f, v]
        return self.execute(*args)

    def hget(self, key, field):
        return self.execute("HGET", key, field)

    def hmget(self, key, *fields):
        return self.execute("HMGET", key, *fields)

    def hgetall(self, key):
        """The hash as a dict (bytes to bytes); {} without key."""
        flat = self.execute("HGETALL", key)
        return dict(zip(flat[::2], flat[1::2]))

    def hdel(self, key, *fields):
        return self.execute("HDEL", key, *fields)

    def hexists(self, key, field):
        return self.execute("HEXISTS", key, field) == 1

    def hlen(self, key):
        return self.execute("HLEN", key)

    def hincrby(self, key, field, amount=1):
        return self.execute("HINCRBY", key, field, amount)

    def hkeys(self, key):
        return self.execute("HKEYS", key)

    # -- lists ---------------------------------------------------------------------------

    def lpush(self, key, *items):
        return self.execute("LPUSH", key, *items)

    def rpush(self, key, *items):
        return self.execute("RPUSH", key, *items)

    def lpop(self, key, count=None):
        return self.execute("LPOP", key) if count is None else self.execute("LPOP", key, count)

    def rpop(self, key, count=None):
        return self.execute("RPOP", key) if count is None else self.execute("RPOP", key, count)

    def lrange(self, key, start=0, stop=-1):
        return self.execute("LRANGE", key, start, stop)

    def llen(self, key):
        return self.execute("LLEN", key)

    def lindex(self, key, index):
        return self.execute("LINDEX", key, index)

    def lrem(self, key, count, item):
        return self.execute("LREM", key, count, item)

    def ltrim(self, key, start, stop):
        return self.execute("LTRIM", key, start, stop)

    # -- sets ----------------------------------------------------------------------------

    def sadd(self, key, *members):
        return self.execute("SADD", key, *members)

    def srem(self, key, *members):
        return self.execute("SREM", key, *members)

    def smembers(self, key):
        """The members as a Python set of bytes."""
        return set(self.execute("SMEMBERS", key))

    def sismember(self, key, member):
        return self.execute("SISMEMBER", key, member) == 1

    def scard(self, key):
        return self.execute("SCARD", key)

    def sinter(self, *keys):
        return set(self.execute("SINTER", *keys))

    def sunion(self, *keys):
        return set(self.execute("SUNION", *keys))

    def sdiff(self, *keys):
        return set(self.execute("SDIFF", *keys))

    def spop(self, key, count=None):
        return self.execute("SPOP", key) if count is None else self.execute("SPOP", key, count)

    def type(self, key):
        return self.execute("TYPE", key)

    def info(self, section=None):
        raw = self.execute("INFO", section) if section else self.execute("INFO")
        if isinstance(raw, (ResponseError, type(None))):
            return raw
        out = {}
        for line in raw.decode().splitlines():
            if line and not line.startswith("#") and ":" in line:
                k, v = line.split(":", 1)
                out[k] = int(v) if v.lstrip("-").isdigit() else v
        return out


class Client(_Commands):
    """A connection to an OTKV (or Redis) server. Reconnects once if the connection
    dropped before a command was sent; error replies raise ResponseError."""

    def __init__(self, host="127.0.0.1", port=7379, password=None, timeout=5.0):
        self.host, self.port, self.password, self.timeout = host, port, password, timeout
        self.sock = None
        self.reader = None

    def connect(self):
        self.close()
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = _Reader(self.sock)
        if self.password is not None:
            self._roundtrip([encode_command(["AUTH", self.password])], 1)

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _roundtrip(self, payloads, count):
        self.sock.sendall(b"".join(payloads))
        return [self.reader.read() for _ in range(count)]

    def execute_many(self, commands):
        """Sends every command in one write; returns the replies (errors as instances)."""
        payloads = [encode_command(c) for c in commands]
        if self.sock is None:
            self.connect()
        try:
            return self._roundtrip(payloads, len(payloads))
        except (OtkvConnectionError, BrokenPipeError, ConnectionResetError):
            # The connection went away (server restart, idle timeout): reconnect once.
            self.connect()
            return self._roundtrip(payloads, len(payloads))

    def execute(self, *args):
        """Runs one command; raises ResponseError on an error reply."""
        reply = self.execute_many([args])[0]
        if isinstance(reply, ResponseError):
            raise reply
        return reply

    def pipeline(self):
        """Collects commands and sends them in one write on execute() (or leaving `with`)."""
        return Pipeline(self)

    def scan_iter(self, match="*", count=100):
        """Iterates the keys matching `match` with SCAN, a batch at a time."""
        cursor = b"0"
        while True:
            cursor, keys = self.execute("SCAN", cursor, "MATCH", match, "COUNT", count)
            yield from keys
            if cursor == b"0":
                return


class Pipeline(_Commands):
    """Queued commands of a Client; `results` holds the replies after execute()."""

    def __init__(self, client):
        self.client = client
        self.commands = []
        self.results = None

    def execute(self, *args):
        if args:  # a queued command
            self.commands.append(args)
            return self
        self.results = self.client.execute_many(self.commands) if self.commands else []
        self.commands = []
        return self.results

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.execute()


# -- command line -----------------------------------------------------------------------

def format_reply(reply, indent=""):
    """redis-cli's way of printing a reply."""
    if isinstance(reply, ResponseError):
        return "(error) %s" % reply
    if reply is None:
        return "(nil)"
    if isinstance(reply, int):
        return "(integer) %d" % reply
    if isinstance(reply, str):
        return reply
    if isinstance(reply, bytes):
        return json.dumps(reply.decode(errors="backslashreplace"), ensure_ascii=False)
    if not reply:
        return "(empty array)"
    width = len(str(len(reply)))
    lines = []
    for i, item in enumerate(reply, 1):
        prefix = "%*d) " % (width, i)
        body = format_reply(item, indent + " " * len(prefix))
        lines.append((indent if i > 1 else "") + prefix + body)
    return "\n".join(lines)


def split_line(line):
    """Splits an interactive line into words, honouring quotes like redis-cli."""
    import shlex
    return shlex.split(line)


def interactive(client, prompt):
    try:
        import readline  # noqa: F401 - line editing and history
        history = os.path.expanduser("~/.otkv_history")
        try:
            readline.read_history_file(history)
        except OSError:
            pass
    except ImportError:
        readline = None
    try:
        while True:
            try:
                line = input(prompt)
            except EOFError:
                print()
                break
            if not line.strip():
                continue
            try:
                words = split_line(line)
            except ValueError as e:
                print("(error) %s" % e)
                continue
            if words[0].lower() in ("quit", "exit"):
                break
            try:
                print(format_reply(client.execute_many([words])[0]))
            except OSError as e:
                print("(error) connection: %s" % e)
    finally:
        if readline is not None:
            try:
                readline.write_history_file(history)
            except OSError:
                pass


def bench(args):
    """The successor of the original benchmark.py: N client threads, SET/GET mix."""
    stop = time.monotonic() + args.duration
    lat = []
    errors = [0]
    lock = threading.Lock()
    value = "x" * args.value_size

    def work(n):
        import random
        rnd = random.Random(n)
        c = Client(args.host, args.port, args.password)
        mine = []
        while time.monotonic() < stop:
            key = "key:%0*d" % (args.key_size - 4, rnd.randrange(args.keyspace))
            t0 = time.perf_counter()
            try:
                if rnd.random() < args.set_ratio:
                    c.set(key, value)
                else:
                    c.get(key)
            except (ResponseError, OSError):
                with lock:
                    errors[0] += 1
                continue
            mine.append(time.perf_counter() - t0)
        c.close()
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(args.clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))] * 1e6 if lat else 0.0

    result = {"requests": len(lat), "errors": errors[0], "seconds": round(elapsed, 3),
              "ops_per_sec": round(len(lat) / elapsed, 1), "p50_us": round(pct(50), 1),
              "p90_us": round(pct(90), 1), "p99_us": round(pct(99), 1),
              "p999_us": round(pct(99.9), 1)}
    if args.json:
        print(json.dumps(result))
    else:
        print("%d requests in %.2f s (%d errors): %.0f ops/s" % (
            result["requests"], elapsed, result["errors"], result["ops_per_sec"]))
        print("latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f" % (
            result["p50_us"], result["p90_us"], result["p99_us"], result["p999_us"]))
    return 0 if errors[0] == 0 else 3


def main(argv=None):
    ap = argparse.ArgumentParser(prog="otkv.py", add_help=False,
                                 description="OTKV command line client (like redis-cli)")
    ap.add_argument("-h", dest="host", default="127.0.0.1", help="server host (127.0.0.1)")
    ap.add_argument("-p", dest="port", type=int, default=7379, help="server port (7379)")
    ap.add_argument("-a", dest="password", default=None, help="password (AUTH)")
    ap.add_argument("--help", action="help", help="show this help")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="command and arguments")
    args = ap.parse_args(argv)
    if args.command and args.command[0] == "bench":
        bp = argparse.ArgumentParser(prog="otkv.py bench")
        bp.add_argument("-c", "--clients", type=int, default=10)
        bp.add_argument("-d", "--duration", type=float, default=5.0)
        bp.add_argument("--set-ratio", type=float, default=0.5)
        bp.add_argument("--keyspace", type=int, default=100000)
        bp.add_argument("--key-size", type=int, default=16)
        bp.add_argument("--value-size", type=int, default=3)
        bp.add_argument("--json", action="store_true")
        b = bp.parse_args(args.command[1:])
        b.host, b.port, b.password = args.host, args.port, args.password
        return bench(b)
    client = Client(args.host, args.port, args.password)
    try:
        if args.command:
            reply = client.execute_many([args.command])[0]
            print(format_reply(reply))
            return 1 if isinstance(reply, ResponseError) else 0
        interactive(client, "%s:%d> " % (args.host, args.port))
        return 0
    except OSError as e:
        print("Could not connect to %s:%d: %s" % (args.host, args.port, e), file=sys.stderr)
        return 1
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
