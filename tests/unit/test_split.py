"""Splits: every share at least 1 fen, the sum exact, and the distribution by grab position as designed."""

from __future__ import annotations

import math
import statistics

from hypothesis import example, given, settings
from hypothesis import strategies as st

from hongbao.domain.split import (
    Split,
    best_luck_index,
    double_mean_next,
    equal_share,
    seeded,
    split,
    split_double_mean,
    split_equal,
)

SHARES_MAX = 100
PACKET_FEN_MAX = 20_000
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def packets(draw: st.DrawFn, total_max: int = PACKET_FEN_MAX) -> tuple[int, int]:
    """A (total_fen, shares) pair anywhere in the limits, with total ≥ shares."""
    shares = draw(st.integers(min_value=1, max_value=SHARES_MAX))
    total = draw(st.integers(min_value=shares, max_value=total_max))
    return total, shares


# --- every split, over the whole limit range -------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(packet=packets(), how=st.sampled_from(Split), seed=SEEDS)
@example(packet=(1, 1), how=Split.LINE_CUT, seed=0)
@example(packet=(100, 100), how=Split.LINE_CUT, seed=0)
@example(packet=(100, 100), how=Split.DOUBLE_MEAN, seed=0)
@example(packet=(20_000, 100), how=Split.LINE_CUT, seed=0)
@example(packet=(20_000, 1), how=Split.DOUBLE_MEAN, seed=0)
def test_every_split_sums_to_the_total_in_exactly_the_promised_shares(packet, how, seed):
    # Given a packet anywhere in the limits
    total, shares = packet

    # When it is split
    amounts = split(total, shares, how, seeded(seed))

    # Then the shares are exactly as many as promised and add up to the total
    assert len(amounts) == shares
    assert sum(amounts) == total


@settings(max_examples=300, deadline=None)
@given(packet=packets(), how=st.sampled_from(Split), seed=SEEDS)
@example(packet=(100, 100), how=Split.DOUBLE_MEAN, seed=0)
@example(packet=(101, 100), how=Split.DOUBLE_MEAN, seed=0)
@example(packet=(100, 100), how=Split.LINE_CUT, seed=0)
def test_every_split_gives_every_share_at_least_one_fen(packet, how, seed):
    total, shares = packet

    amounts = split(total, shares, how, seeded(seed))

    assert min(amounts) >= 1


@settings(max_examples=50, deadline=None)
@given(
    total=st.integers(min_value=10**12, max_value=2**53),
    shares=st.integers(min_value=1, max_value=SHARES_MAX),
    how=st.sampled_from([Split.LINE_CUT, Split.DOUBLE_MEAN]),
    seed=SEEDS,
)
def test_lucky_splits_of_huge_totals_stay_exact_and_at_least_one_fen(total, shares, how, seed):
    # Given totals far above the product limit (integers do not round, floats would)
    # When they are split
    amounts = split(total, shares, how, seeded(seed))

    # Then nothing is lost or created
    assert len(amounts) == shares
    assert sum(amounts) == total
    assert min(amounts) >= 1


# --- equal ----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(packet=packets())
@example(packet=(20_000, 100))
@example(packet=(199, 100))
def test_equal_split_differs_by_at_most_one_fen_with_the_larger_shares_first(packet):
    total, shares = packet

    amounts = split_equal(total, shares)

    assert max(amounts) - min(amounts) <= 1
    assert amounts == sorted(amounts, reverse=True)
    assert amounts.count(total // shares + 1) == total % shares


def test_equal_split_gives_the_remainder_to_the_first_claimers():
    assert split_equal(10, 3) == [4, 3, 3]
    assert split_equal(20_000, 100) == [200] * 100


# --- double mean ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(packet=packets(), seed=SEEDS)
def test_double_mean_draws_never_exceed_twice_the_mean_of_what_is_left_minus_one_fen(packet, seed):
    # Given a double-mean split drawn with a seeded generator
    total, shares = packet
    amounts = split_double_mean(total, shares, seeded(seed))

    # Then every draw but the last is in [1, 2·remaining/left − 1] and leaves 1 fen per share to come
    remaining = total
    for k, amount in enumerate(amounts[:-1]):
        left = shares - k
        assert amount >= 1
        assert amount * left <= 2 * remaining - left  # amount ≤ 2·remaining/left − 1, in integers
        assert remaining - amount >= left - 1
        remaining -= amount
    assert amounts[-1] == remaining


# --- randomness -----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(packet=packets(), how=st.sampled_from(Split), seed=SEEDS)
def test_a_seeded_generator_gives_the_same_split_every_time(packet, how, seed):
    total, shares = packet

    first = split(total, shares, how, seeded(seed))
    second = split(total, shares, how, seeded(seed))

    assert first == second


def test_the_default_generator_does_not_repeat_itself_for_a_big_lucky_packet():
    # Given 100 shares of 20,000 fen drawn from the system generator: two line cuts coincide with
    # probability 1 / C(19,999, 99) and two double-mean draws with less than 1 / 3⁹⁹, both ≈ 0.
    for how in (Split.LINE_CUT, Split.DOUBLE_MEAN):
        # When the same packet is split twice without a seeded generator
        first = split(20_000, 100, how)
        second = split(20_000, 100, how)

        # Then the splits differ
        assert first != second


# --- best luck ------------------------------------------------------------------------------


def test_best_luck_ties_go_to_the_earlier_claimer():
    assert best_luck_index([5, 7, 7, 3]) == 1
    assert best_luck_index([4, 4, 4]) == 0
    assert best_luck_index([1, 2, 3, 3]) == 2


def test_best_luck_of_no_shares_is_nobody():
    assert best_luck_index([]) is None


@given(amounts=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=30))
def test_best_luck_is_the_first_position_holding_the_biggest_share(amounts):
    assert best_luck_index(amounts) == amounts.index(max(amounts))


# --- distribution by grab position ----------------------------------------------------------


def _by_position(how: Split, total: int, shares: int, runs: int, seed: int) -> list[list[int]]:
    rng = seeded(seed)
    draws = [split(total, shares, how, rng) for _ in range(runs)]
    return [list(column) for column in zip(*draws, strict=True)]


def test_line_cut_gives_every_grab_position_the_same_mean():
    # Given 20,000 line cuts of 1,000 fen in 10 shares
    total, shares, runs = 1_000, 10, 20_000
    columns = _by_position(Split.LINE_CUT, total, shares, runs, seed=20_240_210)

    # Then every position's mean is total/shares within 5 standard errors.  One share of a line cut
    # has stdev total/n·√((n−1)/(n+1)) ≈ 90 fen, so the standard error is ≈ 90/√20,000 ≈ 0.64 fen
    # and the tolerance ≈ 3.2 fen (0.3 % of a share): a fair split misses it with probability
    # ≈ 10 × 6·10⁻⁷.  The seed makes the run reproducible anyway.
    expected = total / shares
    for position, column in enumerate(columns, start=1):
        standard_error = statistics.pstdev(column) / math.sqrt(runs)
        assert abs(statistics.fmean(column) - expected) <= 5 * standard_error, position


def test_line_cut_gives_every_grab_position_the_same_spread():
    total, shares, runs = 1_000, 10, 20_000
    columns = _by_position(Split.LINE_CUT, total, shares, runs, seed=7)

    spreads = [statistics.pstdev(column) for column in columns]

    # The theoretical spread is ≈ 90.5 fen for every position; 10 % covers sampling noise many times.
    theoretical = total / shares * math.sqrt((shares - 1) / (shares + 1))
    assert all(abs(s - theoretical) <= 0.1 * theoretical for s in spreads), spreads


def test_double_mean_spreads_the_last_grab_position_wider_than_the_first():
    # Given 20,000 double-mean splits of 1,000 fen in 10 shares
    columns = _by_position(Split.DOUBLE_MEAN, 1_000, 10, 20_000, seed=20_240_210)

    # Then the last claimer's share varies more than the first's (first ≈ 58 fen, last ≈ 77 fen):
    # the first draw is uniform on [1, 199], the last takes whatever the others left.
    first, last = statistics.pstdev(columns[0]), statistics.pstdev(columns[-1])
    assert last > 1.2 * first


# --- shares drawn at open are the shares `split` draws ----------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(packet=packets(), seed=SEEDS)
def test_double_mean_drawn_one_open_at_a_time_is_the_split_drawn_at_once(packet, seed):
    # Given the same seeded generator
    total, shares = packet
    at_once = split_double_mean(total, shares, seeded(seed))

    # When each share is drawn as its claimer opens, from what is left
    rng, remaining, one_by_one = seeded(seed), total, []
    for k in range(shares):
        amount = double_mean_next(remaining, shares - k, rng)
        one_by_one.append(amount)
        remaining -= amount

    # Then the shares are the same, so `hongbao fairness` (which draws with `split`) describes both
    assert one_by_one == at_once


@given(packet=packets())
def test_an_equal_share_drawn_at_open_is_the_equal_split_at_its_position(packet):
    total, shares = packet
    assert [equal_share(total, shares, k) for k in range(shares)] == split_equal(total, shares)


def test_a_million_line_cuts_from_the_system_generator_are_exact_and_distinct():
    # The bulk CSPRNG path (no seeded generator): 1,000,000 shares of 2,000,000,000 fen
    shares = split(2_000_000_000, 1_000_000, Split.LINE_CUT)
    assert len(shares) == 1_000_000 and sum(shares) == 2_000_000_000 and min(shares) >= 1
    # and where the cut points are dense (most positions cut) every share is still at least 1 fen
    dense = split(1_100, 1_000, Split.LINE_CUT)
    assert sum(dense) == 1_100 and min(dense) >= 1
