"""The op log on a full disk. Run by test_durability.py inside a private mount namespace
(`unshare -rm`), where a 4 MiB tmpfs is the data directory's file system. Exits 0 when every
check passes: writes are refused with -MISCONF while the log cannot be written, reads go on,
no acknowledged write is lost, the log is not torn, and writes resume once space is back."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from otkv_fixture import SCALE, Client, ServerProcess

VALUE = "v" * 1000


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def main():
    mnt = tempfile.mkdtemp(prefix="otkv-fullfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt], check=True)
    filler = os.path.join(mnt, "filler")
    try:
        data = os.path.join(mnt, "data")
        os.mkdir(data)
        server = ServerProcess("--appendfsync", "everysec", "--save-interval", "0",
                               "--partitions", "2", data_dir=data)
        c = Client(server.port)
        check(c.call("SET", "before", "full") == "OK", "a write before the disk fills")
        st = os.statvfs(mnt)
        with open(filler, "wb") as f:
            f.write(b"\0" * (st.f_bavail * st.f_frsize - 48 * 1024))

        acked, refusal = {}, None
        for i in range(1000):
            r = c.call("SET", "key%d" % i, VALUE + str(i))
            if r == "OK":
                acked["key%d" % i] = (VALUE + str(i)).encode()
            else:
                refusal = str(r)
                break
        check(refusal is not None, "writes stop being accepted once the disk is full")
        check(refusal == "MISCONF Errors writing to the AOF file: No space left on device",
              "... with Redis's -MISCONF error (%r)" % refusal)
        check(len(acked) > 10, "%d writes were acknowledged before that" % len(acked))
        check(all(c.call("GET", k) == v for k, v in acked.items()),
              "every acknowledged write is readable")
        check(c.call("GET", "before") == b"full", "reads go on")
        check(str(c.call("DEL", "before")).startswith("MISCONF"), "DEL is a write: refused too")
        check(b"aof_last_write_status:err" in c.call("INFO", "persistence"),
              "INFO persistence says aof_last_write_status:err")
        server.wait_for_log("op log write failed: No space left on device")

        os.unlink(filler)  # space is back: the logger's retry writes what it kept
        deadline = time.monotonic() + 10 * SCALE
        while str(c.call("SET", "after", "space")).startswith("MISCONF"):
            if time.monotonic() > deadline:
                raise AssertionError("writes were not accepted again:\n" + server.log())
            time.sleep(0.1)
        check(True, "writes are accepted again once space is back")
        server.wait_for_log("op log writes work again")
        check(b"aof_last_write_status:ok" in c.call("INFO", "persistence"),
              "INFO persistence says ok again")
        c.close()
        check(server.stop(signal.SIGTERM) == 0, "the server stops cleanly")

        server = ServerProcess("--save-interval", "0", data_dir=data)
        log = server.log()
        check("damaged" not in log and "refuse" not in log, "the log is not torn:\n" + log)
        c = Client(server.port)
        missing = [k for k, v in acked.items() if c.call("GET", k) != v]
        check(not missing, "after a restart every acknowledged write is there (missing: %s)"
              % missing[:5])
        check(c.call("GET", "before") == b"full" and c.call("GET", "after") == b"space",
              "... and the writes before and after the full disk")
        c.close()
        check(server.stop() == 0, "stopped")

        # appendfsync always: no write is acknowledged that is not on disk.
        server = ServerProcess("--appendfsync", "always", "--save-interval", "0", data_dir=data)
        c = Client(server.port)
        st = os.statvfs(mnt)
        with open(filler, "wb") as f:
            f.write(b"\0" * (st.f_bavail * st.f_frsize - 48 * 1024))
        always, refusal = {}, None
        for i in range(1000):
            r = c.call("SET", "always%d" % i, VALUE)
            if r != "OK":
                refusal = str(r)
                break
            always["always%d" % i] = VALUE.encode()
        check(refusal is not None and refusal.startswith("MISCONF"),
              "appendfsync always: the write whose fsync failed gets -MISCONF (%r)" % refusal)
        c.close()
        server.kill()  # no chance to retry: only what was fsynced survives
        os.unlink(filler)
        server = ServerProcess("--save-interval", "0", data_dir=data)
        c = Client(server.port)
        missing = [k for k, v in always.items() if c.call("GET", k) != v]
        check(not missing, "after kill -9, all %d writes acknowledged under always are there"
              % len(always))
        c.close()
        server.stop()
    finally:
        subprocess.run(["umount", mnt])
        shutil.rmtree(mnt, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
