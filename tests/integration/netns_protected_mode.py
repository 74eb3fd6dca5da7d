"""Protected mode seen from a non-loopback client. Run by test_protected_mode.py inside a
private network namespace (`unshare -rn`), where the only interface is a loopback device
that also carries 10.9.0.1: a client whose source is 10.9.0.1 is a non-loopback peer, and
nothing is reachable from outside the namespace. Exits 0 when every check passes."""

import socket
import subprocess
import sys

from otkv_fixture import IO_TIMEOUT, ServerProcess

OUTSIDE = "10.9.0.1"  # a non-loopback address, private to this namespace


def connect(port, source, server=OUTSIDE):
    s = socket.socket()
    s.settimeout(IO_TIMEOUT)
    s.bind((source, 0))
    s.connect((server, port))
    return s


def call(s, *args):
    s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    return s.recv(65536)


def read_until_closed(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def main():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", OUTSIDE + "/32", "dev", "lo"], check=True)

    # Bound to a non-loopback address without a password: loopback clients only.
    server = ServerProcess("--bind", OUTSIDE, "--appendonly", "no")
    try:
        stranger = connect(server.port, OUTSIDE)
        reply = read_until_closed(stranger)
        check(reply.startswith(b"-DENIED OTKV is running in protected mode"),
              "a non-loopback client gets the protected-mode error")
        check(reply.endswith(b"\r\n") and reply.count(b"\r\n") == 1,
              "... and nothing else before the connection closes")
        local = connect(server.port, "127.0.0.1")
        check(call(local, b"PING") == b"+PONG\r\n", "a loopback client is served")
        info = call(local, b"INFO", b"stats")
        check(b"rejected_connections:1\r\n" in info, "the refusal is counted")
        server.wait_for_log("protected mode: refused " + OUTSIDE)
        check(True, "the refusal is logged")
        check("protected mode serves loopback clients only" in server.log(),
              "the start-up warning names the risk")
        # Turning protected mode off at run time lets the stranger in.
        check(call(local, b"CONFIG", b"SET", b"protected-mode", b"no") == b"+OK\r\n",
              "CONFIG SET protected-mode no")
        stranger = connect(server.port, OUTSIDE)
        check(call(stranger, b"PING") == b"+PONG\r\n", "... then a non-loopback client is served")
    finally:
        server.stop()

    # With a password, non-loopback clients are served once they authenticate.
    server = ServerProcess("--bind", OUTSIDE, "--requirepass", "s3cret", "--appendonly", "no")
    try:
        stranger = connect(server.port, OUTSIDE)
        check(call(stranger, b"GET", b"k") == b"-NOAUTH Authentication required.\r\n",
              "with --requirepass a non-loopback client is asked to authenticate")
        check(call(stranger, b"AUTH", b"s3cret") == b"+OK\r\n", "... and may AUTH")
        check(call(stranger, b"PING") == b"+PONG\r\n", "... and is then served")
    finally:
        server.stop()

    # Every interface (0.0.0.0), protected mode explicitly off: everyone is served.
    server = ServerProcess("--bind", "0.0.0.0", "--protected-mode", "no", "--appendonly", "no")
    try:
        stranger = connect(server.port, OUTSIDE)
        check(call(stranger, b"PING") == b"+PONG\r\n", "--protected-mode no serves everyone")
    finally:
        server.stop()

    # Every interface, protected mode on: the stranger is refused, loopback served.
    server = ServerProcess("--bind", "0.0.0.0", "--appendonly", "no")
    try:
        stranger = connect(server.port, OUTSIDE)
        check(read_until_closed(stranger).startswith(b"-DENIED"),
              "bound to 0.0.0.0, a non-loopback client is refused")
        local = connect(server.port, "127.0.0.1", server="127.0.0.1")
        check(call(local, b"PING") == b"+PONG\r\n", "... and a loopback client is served")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
