"""The operating system's random numbers for draws, read a page at a time.

`secrets.SystemRandom().random()` asks the kernel for 7 bytes on every call: on the Gala shake path that system call
was ~5 % of a losing shake's server time.  `BufferedSystemRandom` draws the same numbers from the same source
(os.urandom, the kernel's CSPRNG) but reads 4 KiB at once and hands out 7 bytes per `random()`: the numbers are as
unpredictable as SystemRandom's (no seed, no state a caller can set or read), the system calls 585 times fewer.
Every other method is SystemRandom's own (getrandbits straight from os.urandom).  A lock keeps two threads (the event
loop and the writer's) from being handed the same bytes; a forked child drops the bytes it inherited.
"""

from __future__ import annotations

import os
import random
import threading
import weakref

_CHUNK = 4096
_BPF = 53  # bits in a float's mantissa, as random.SystemRandom
_RECIP_BPF = 2.0**-_BPF
_LIVE: weakref.WeakSet[BufferedSystemRandom] = weakref.WeakSet()


class BufferedSystemRandom(random.SystemRandom):
    def __init__(self) -> None:
        super().__init__()
        self._bytes = b""
        self._at = 0
        self._lock = threading.Lock()
        _LIVE.add(self)

    def random(self) -> float:
        with self._lock:
            at = self._at
            if at + 7 > len(self._bytes):
                self._bytes, at = os.urandom(_CHUNK), 0
            self._at = at + 7
            return (int.from_bytes(self._bytes[at : at + 7], "big") >> 3) * _RECIP_BPF

    def _forget(self) -> None:
        self._bytes, self._at, self._lock = b"", 0, threading.Lock()


def _after_fork_in_child() -> None:
    for rng in list(_LIVE):  # the parent's unused bytes must not be the child's too
        rng._forget()


os.register_at_fork(after_in_child=_after_fork_in_child)
