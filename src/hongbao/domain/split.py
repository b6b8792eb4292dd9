"""How a packet's total is cut into shares: equal, lucky by double mean (二倍均值) or line cutting (线段切割).

When the amounts are drawn (`draw_at_open`): equal shares and double-mean shares need no list at all.
An equal share is a function of its sequence number, and double mean is a sequential draw that needs only
what is left (amount and count), so the claimer with sequence number k draws share k when k opens, from the
same function `split` uses; the distribution by position is the same as drawing them all at send (that is
what `hongbao fairness` shows).  A 1,000,000-share packet then costs no rows at send.  Line cutting is not
sequential (every share depends on all the cut points), so its shares are drawn at send and kept server-side,
packed, in draw order.  Clients never see a share before it is taken, so nobody can tell where the biggest
sits.  Randomness comes from `secrets.SystemRandom` unless a seeded `random.Random` is injected (tests and
simulation only).
"""

from __future__ import annotations

import os
import random
import secrets
from array import array
from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol


class Rng(Protocol):
    """The part of `random.Random` the splits use."""

    def randint(self, a: int, b: int) -> int: ...

    def sample(self, population: Sequence[int], k: int) -> list[int]: ...


_SYSTEM_RNG: Rng = secrets.SystemRandom()


class Split(StrEnum):
    """How a packet is divided."""

    EQUAL = "equal"
    DOUBLE_MEAN = "double_mean"
    LINE_CUT = "line_cut"


def draw_at_open(how: Split) -> bool:
    """Whether share k is drawn when claimer k opens (equal, double mean) rather than all at send (line cut)."""
    return how is not Split.LINE_CUT


def equal_share(total_fen: int, shares: int, seq: int) -> int:
    """Share `seq` of an equal split; the remainder rule: the first `total % shares` shares get one fen more.

    Callers that require exact equality (an "equal" packet is sent as amount × count) never
    have a remainder; the rule exists so that any total can still be split.
    """
    base, extra = divmod(total_fen, shares)
    return base + 1 if seq < extra else base


def double_mean_next(remaining_fen: int, left: int, rng: Rng | None = None) -> int:
    """The next double-mean share when `remaining_fen` is left for `left` shares: the last takes the rest.

    Otherwise uniform in [1, 2·remaining/left − 1] fen, the bound capped so that every share still to
    come keeps at least 1 fen.
    """
    if left <= 1:
        return remaining_fen
    return (rng or _SYSTEM_RNG).randint(1, double_mean_upper(remaining_fen, left))


def double_mean_upper(remaining_fen: int, left: int) -> int:
    """The largest share `double_mean_next` may draw while more than one share is left."""
    return max(1, min(2 * remaining_fen // left - 1, remaining_fen - (left - 1)))


def split_equal(total_fen: int, shares: int) -> list[int]:
    """All equal shares, in order (see `equal_share`)."""
    _check(total_fen, shares)
    return [equal_share(total_fen, shares, i) for i in range(shares)]


def split_double_mean(total_fen: int, shares: int, rng: Rng | None = None) -> list[int]:
    """WeChat's double mean, every share at once: exactly the draws `double_mean_next` makes at open time."""
    _check(total_fen, shares)
    out: list[int] = []
    remaining = total_fen
    for left in range(shares, 0, -1):
        amount = double_mean_next(remaining, left, rng)
        out.append(amount)
        remaining -= amount
    return out


def split_line_cut(total_fen: int, shares: int, rng: Rng | None = None) -> list[int]:
    """Line cutting: N−1 distinct cut points on (0, total); every position has the same distribution."""
    _check(total_fen, shares)
    if shares == 1:
        cuts: list[int] = []
    elif rng is None:
        cuts = _system_cuts(total_fen - 1, shares - 1)
    else:
        cuts = sorted(rng.sample(range(1, total_fen), shares - 1))
    points = [0, *cuts, total_fen]
    return [points[i + 1] - points[i] for i in range(shares)]


def _system_cuts(span: int, k: int) -> list[int]:
    """`k` distinct points of 1..span, uniformly at random from the OS's CSPRNG, sorted.

    Draws in bulk (one `os.urandom` per round, rejection sampling against modulo bias): the same
    distribution as `SystemRandom().sample`, about four times faster for a million cuts.  Where the
    points are dense, a set of iid draws would take long to fill, so that case uses `sample`.
    """
    if 4 * k > span:
        return sorted(_SYSTEM_RNG.sample(range(1, span + 1), k))
    limit = (1 << 64) // span * span
    assert array("Q").itemsize == 8
    chosen: set[int] = set()
    while len(chosen) < k:
        raw = array("Q")
        raw.frombytes(os.urandom(8 * (k - len(chosen))))
        chosen.update(x % span + 1 for x in raw if x < limit)  # at most the number missing: never more than k
    return sorted(chosen)


def split(total_fen: int, shares: int, how: Split, rng: Rng | None = None) -> list[int]:
    """Cut `total_fen` into `shares` shares of at least 1 fen each, summing to the total."""
    if how is Split.EQUAL:
        return split_equal(total_fen, shares)
    if how is Split.DOUBLE_MEAN:
        return split_double_mean(total_fen, shares, rng)
    return split_line_cut(total_fen, shares, rng)


def best_luck_index(amounts: Sequence[int]) -> int | None:
    """Index of the largest share; ties go to the earlier claimer (the lower index)."""
    if not amounts:
        return None
    best = 0
    for i, amount in enumerate(amounts):
        if amount > amounts[best]:
            best = i
    return best


def _check(total_fen: int, shares: int) -> None:
    # Programmer errors: validation of user input happens in `packets.PacketRules` first.
    assert shares >= 1, "a packet has at least one share"
    assert total_fen >= shares, "every share needs at least 1 fen"


def seeded(seed: int) -> random.Random:
    """A reproducible generator, for tests, simulation and `hongbao fairness --seed`."""
    return random.Random(seed)
