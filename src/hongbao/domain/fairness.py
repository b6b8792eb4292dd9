"""The distribution of a split by grab position, measured by drawing many packets (DESIGN.md §2)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from hongbao.domain.errors import Rejected
from hongbao.domain.split import Rng, Split, best_luck_index, split


@dataclass(frozen=True)
class PositionStats:
    """What the claimer at one grab position got over many packets."""

    position: int  # 1-based: the first claimer is position 1
    mean_fen: float
    stdev_fen: float  # population standard deviation over the runs
    best_luck_probability: float  # share of runs where this position held the biggest share (手气最佳)
    min_fen: int
    max_fen: int


PROGRESS_EVERY = 1_000  # runs between two calls of `progress`


def position_stats(
    total_fen: int, shares: int, runs: int, how: Split, rng: Rng | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[PositionStats]:
    """Draw `runs` packets of `total_fen` in `shares` shares and describe each grab position.

    The standard deviation is the population one (divide by `runs`, not `runs − 1`): it describes
    exactly the draws made, and stays defined for a single run.  Best luck goes to the earlier
    position on a tie, as `best_luck_index` decides in the product.  Only running sums are kept,
    so memory does not grow with `runs`; sums are exact integers, so the variance loses nothing
    to cancellation.  `progress(runs_done)` is called every PROGRESS_EVERY runs and at the end.
    """
    _check(total_fen, shares, runs)
    sums = [0] * shares
    squares = [0] * shares
    lows = [total_fen] * shares
    highs = [0] * shares
    best_counts = [0] * shares
    for run in range(1, runs + 1):
        if progress is not None and run % PROGRESS_EVERY == 0:
            progress(run)
        amounts = split(total_fen, shares, how, rng)
        best = best_luck_index(amounts)
        assert best is not None, "a packet has at least one share"
        best_counts[best] += 1
        for i, amount in enumerate(amounts):
            sums[i] += amount
            squares[i] += amount * amount
            if amount < lows[i]:
                lows[i] = amount
            if amount > highs[i]:
                highs[i] = amount
    if progress is not None:
        progress(runs)
    return [
        PositionStats(
            position=i + 1,
            mean_fen=sums[i] / runs,
            # Var = (n·Σx² − (Σx)²) / n², exact in integers until the final square root.
            stdev_fen=math.sqrt(runs * squares[i] - sums[i] * sums[i]) / runs,
            best_luck_probability=best_counts[i] / runs,
            min_fen=lows[i],
            max_fen=highs[i],
        )
        for i in range(shares)
    ]


def _check(total_fen: int, shares: int, runs: int) -> None:
    # Same refusals as `PacketRules.check_new`, minus its product limits: a fairness study may
    # look at packets bigger than any a user can send.
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise Rejected("runs must be a whole number of at least 1.", code="invalid_runs")
    if isinstance(shares, bool) or not isinstance(shares, int) or shares < 1:
        raise Rejected("shares must be a whole number of at least 1.", code="invalid_share_count")
    if isinstance(total_fen, bool) or not isinstance(total_fen, int) or total_fen < shares:
        raise Rejected(f"Every share needs at least 1 fen: {total_fen} fen cannot make {shares} shares.",
                       code="share_too_small")
