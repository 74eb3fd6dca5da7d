"""A linearizability checker for histories of reads and writes of registers (keys).

Clients record each operation's invocation and completion times and its outcome. A history is
linearizable when every key's operations can be put in one order that

- respects real time: an operation that completed before another was invoked comes first;
- makes every read return the value of the last write before it (None before any write).

A write whose outcome is unknown (a timeout, an error, a connection lost) may have taken effect
at any time after its invocation, or never. Every write must write a value of its own (the
checker tells writes apart by value). A read that failed says nothing, so it is left out.

The search is Wing and Gong's, with memoised states as in Knossos and Porcupine. Keys are
checked one at a time, which P-compositionality allows for registers.

A read of every key after the clients stop, recorded like the others, checks that no
acknowledged write was lost: the last acknowledged write of a key (or a later write of unknown
outcome) is what that read must see.
"""

import collections
import math
import threading
import time

UNKNOWN = math.inf  # the completion time of an operation whose outcome is unknown

Op = collections.namedtuple("Op", "key kind value invoked completed")
"""One operation: kind "w" (value written) or "r" (value read); `completed` is UNKNOWN
for a write whose outcome is unknown."""


class Recorder:
    """Collects operations from several client threads, timed on one monotonic clock."""

    def __init__(self):
        self._lock = threading.Lock()
        self.ops = []
        self.failed_reads = 0

    def now(self):
        return time.monotonic()

    def write(self, key, value, invoked, ok):
        """A write of `value` invoked at `invoked`: `ok` True (acknowledged now), or False
        (its outcome is unknown)."""
        with self._lock:
            self.ops.append(Op(key, "w", value, invoked, self.now() if ok else UNKNOWN))

    def read(self, key, value, invoked, ok):
        """A read invoked at `invoked` that returned `value` (when `ok`)."""
        with self._lock:
            if ok:
                self.ops.append(Op(key, "r", value, invoked, self.now()))
            else:
                self.failed_reads += 1


def check_key(ops, initial=None):
    """Whether one key's operations are linearizable as a register starting at `initial`.
    Returns (True, None) or (False, a short explanation)."""
    # A write of unknown outcome whose value no read saw can only be left out: taking it in
    # changes the register to a value nobody read. (Values are unique per write.) Dropping
    # those keeps the search small after a crash leaves many outcomes unknown.
    read_values = {o.value for o in ops if o.kind == "r"}
    ops = sorted((o for o in ops if o.completed != UNKNOWN or o.kind != "w"
                  or o.value in read_values), key=lambda o: o.invoked)
    required = 0
    for i, o in enumerate(ops):
        if o.completed != UNKNOWN:
            required |= 1 << i
    seen = set()
    stack = [(0, initial)]
    deepest = 0
    while stack:
        done, state = stack.pop()
        if done & required == required:
            return True, None
        if (done, state) in seen:
            continue
        seen.add((done, state))
        deepest = max(deepest, bin(done & required).count("1"))
        # The next operation must be invoked before every pending operation completes.
        horizon = min(o.completed for i, o in enumerate(ops) if not done >> i & 1)
        for i, o in enumerate(ops):
            if o.invoked > horizon:
                break
            if done >> i & 1:
                continue
            if o.kind == "w":
                stack.append((done | 1 << i, o.value))
            elif o.value == state:
                stack.append((done | 1 << i, state))
    return False, "%d of %d acknowledged operations linearize, no order fits more" % (
        deepest, bin(required).count("1"))


def check(ops, initial=None):
    """Checks every key of `ops`. Returns a list of (key, explanation) for the keys whose
    operations are not linearizable (empty: the history is)."""
    by_key = collections.defaultdict(list)
    for o in ops:
        by_key[o.key].append(o)
    bad = []
    for key, key_ops in sorted(by_key.items()):
        ok, why = check_key(key_ops, initial)
        if not ok:
            bad.append((key, why))
    return bad

