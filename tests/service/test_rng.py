"""BufferedSystemRandom (service/rng.py): SystemRandom's numbers, a page of os.urandom at a time, never the same
bytes twice (across threads, or in a forked child)."""

from __future__ import annotations

import os
import random
import threading

from hongbao.service.rng import BufferedSystemRandom


def test_its_numbers_are_uniform_floats_in_0_1_across_many_pages() -> None:
    rng = BufferedSystemRandom()
    got = [rng.random() for _ in range(100_000)]  # ~170 pages of 4 KiB
    assert all(0.0 <= x < 1.0 for x in got)
    assert abs(sum(got) / len(got) - 0.5) < 0.01  # the mean's sd is 0.0009
    assert sum(x < 0.1 for x in got) in range(9_000, 11_000)  # each tenth holds a tenth (sd 95)
    assert len(set(got)) == len(got)
    assert isinstance(rng, random.SystemRandom)  # its other methods are SystemRandom's, with no state


def test_threads_drawing_at_once_are_never_handed_the_same_bytes() -> None:
    rng = BufferedSystemRandom()
    seen: list[list[float]] = [[] for _ in range(4)]

    def draw(into: list[float]) -> None:
        into.extend(rng.random() for _ in range(20_000))

    threads = [threading.Thread(target=draw, args=(out,)) for out in seen]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [x for out in seen for x in out]
    assert len(set(every)) == len(every) == 80_000


def test_a_forked_child_does_not_draw_the_bytes_its_parent_will() -> None:
    rng = BufferedSystemRandom()
    rng.random()  # a page read: the child inherits its unused bytes
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, repr([rng.random() for _ in range(3)]).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 4096).decode()
    os.close(read)
    assert child != repr([rng.random() for _ in range(3)])
