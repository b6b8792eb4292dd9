"""How a packet's total is cut into shares: equal, lucky by double mean (二倍均值) or line cutting (线段切割).

Shares are drawn once, when the packet is sent, and kept server-side in draw order: the claimer
with sequence number k gets share k.  Clients never see the list, so nobody can tell where the
biggest share sits.  Randomness comes from `secrets.SystemRandom` unless a seeded `random.Random`
is injected (tests and simulation only).
"""

from __future__ import annotations

import random
import secrets
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


def split_equal(total_fen: int, shares: int) -> list[int]:
    """Equal shares; the remainder rule: the first `total % shares` shares get one fen more.

    Callers that require exact equality (an "equal" packet is sent as amount × count) never
    have a remainder; the rule exists so that any total can still be split.
    """
    _check(total_fen, shares)
    base, extra = divmod(total_fen, shares)
    return [base + 1 if i < extra else base for i in range(shares)]


def split_double_mean(total_fen: int, shares: int, rng: Rng | None = None) -> list[int]:
    """WeChat's double mean: each draw is uniform in [1, 2·remaining/left − 1] fen, the last takes the rest.

    The upper bound is also capped so that every share still to come keeps at least 1 fen.
    """
    _check(total_fen, shares)
    draw = rng or _SYSTEM_RNG
    out: list[int] = []
    remaining = total_fen
    for left in range(shares, 1, -1):
        upper = min(2 * remaining // left - 1, remaining - (left - 1))
        amount = draw.randint(1, max(1, upper))
        out.append(amount)
        remaining -= amount
    out.append(remaining)
    return out


def split_line_cut(total_fen: int, shares: int, rng: Rng | None = None) -> list[int]:
    """Line cutting: N−1 distinct cut points on (0, total); every position has the same distribution."""
    _check(total_fen, shares)
    draw = rng or _SYSTEM_RNG
    cuts = sorted(draw.sample(range(1, total_fen), shares - 1)) if shares > 1 else []
    points = [0, *cuts, total_fen]
    return [points[i + 1] - points[i] for i in range(shares)]


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
