"""The distribution by grab position: what `hongbao fairness` publishes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hongbao.domain.errors import Rejected
from hongbao.domain.fairness import PositionStats, position_stats
from hongbao.domain.split import Split, seeded, split


@st.composite
def studies(draw: st.DrawFn) -> tuple[int, int, int]:
    shares = draw(st.integers(min_value=1, max_value=30))
    total = draw(st.integers(min_value=shares, max_value=20_000))
    runs = draw(st.integers(min_value=1, max_value=40))
    return total, shares, runs


@settings(max_examples=200, deadline=None)
@given(study=studies(), how=st.sampled_from(Split), seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_position_means_sum_to_the_total(study, how, seed):
    # Given any packet studied over a few runs
    total, shares, runs = study

    # When its positions are described
    stats = position_stats(total, shares, runs, how, seeded(seed))

    # Then every run paid out the total, so the means do too (up to float rounding)
    assert math.isclose(sum(s.mean_fen for s in stats), total, rel_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(study=studies(), how=st.sampled_from(Split), seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_best_luck_probabilities_sum_to_one(study, how, seed):
    total, shares, runs = study

    stats = position_stats(total, shares, runs, how, seeded(seed))

    # Exactly one position holds best luck in every run
    assert math.isclose(sum(s.best_luck_probability for s in stats), 1.0, rel_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(study=studies(), how=st.sampled_from(Split), seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_every_position_is_described_once_in_grab_order_within_its_extremes(study, how, seed):
    total, shares, runs = study

    stats = position_stats(total, shares, runs, how, seeded(seed))

    assert [s.position for s in stats] == list(range(1, shares + 1))
    for s in stats:
        assert 1 <= s.min_fen <= s.mean_fen <= s.max_fen <= total - (shares - 1)
        assert s.stdev_fen >= 0


@pytest.mark.parametrize(("total", "shares"), [(20_000, 100), (10, 3), (7, 7), (1, 1)])
def test_equal_split_has_no_spread_and_gives_best_luck_to_the_first_claimer(total, shares):
    # Given an equal packet (with or without a remainder)
    # When it is studied
    stats = position_stats(total, shares, 50, Split.EQUAL)

    # Then nothing varies, and ties (or the extra fen) put best luck on position 1
    assert all(s.stdev_fen == 0 for s in stats)
    assert stats[0].best_luck_probability == 1.0
    assert all(s.best_luck_probability == 0.0 for s in stats[1:])


def test_one_run_has_no_spread_and_its_extremes_are_the_draw():
    (only,) = position_stats(500, 1, 1, Split.LINE_CUT, seeded(3))

    assert only == PositionStats(
        position=1, mean_fen=500.0, stdev_fen=0.0, best_luck_probability=1.0, min_fen=500, max_fen=500
    )


def test_the_standard_deviation_is_the_population_one():
    # Given two runs of two shares with a known seed
    rng = seeded(11)
    draws = [split(100, 2, Split.LINE_CUT, rng) for _ in range(2)]
    firsts = [d[0] for d in draws]

    # When the same runs are studied
    stats = position_stats(100, 2, 2, Split.LINE_CUT, seeded(11))

    # Then the stdev divides by the number of runs, not runs − 1
    mean = sum(firsts) / 2
    population = math.sqrt(sum((x - mean) ** 2 for x in firsts) / 2)
    assert stats[0].stdev_fen == pytest.approx(population)


def test_a_seeded_study_is_reproducible():
    first = position_stats(20_000, 10, 200, Split.DOUBLE_MEAN, seeded(42))
    second = position_stats(20_000, 10, 200, Split.DOUBLE_MEAN, seeded(42))

    assert first == second


def test_line_cut_best_luck_is_spread_evenly_over_positions():
    # 20,000 runs of 5 shares: each probability ≈ 0.2 with standard error √(0.2·0.8/20,000) ≈ 0.003;
    # 0.02 is more than 6 standard errors.
    stats = position_stats(1_000, 5, 20_000, Split.LINE_CUT, seeded(5))

    assert all(abs(s.best_luck_probability - 0.2) < 0.02 for s in stats)


@pytest.mark.parametrize("runs", [0, -1, True, 2.5])
def test_a_study_without_a_whole_positive_number_of_runs_is_rejected(runs):
    with pytest.raises(Rejected) as refused:
        position_stats(100, 2, runs, Split.LINE_CUT)

    assert refused.value.code == "invalid_runs"


@pytest.mark.parametrize("shares", [0, -3, True])
def test_a_study_without_a_whole_positive_number_of_shares_is_rejected(shares):
    with pytest.raises(Rejected) as refused:
        position_stats(100, shares, 10, Split.LINE_CUT)

    assert refused.value.code == "invalid_share_count"


@pytest.mark.parametrize(("total", "shares"), [(4, 5), (0, 1), (-10, 1)])
def test_a_study_with_less_than_one_fen_per_share_is_rejected(total, shares):
    with pytest.raises(Rejected) as refused:
        position_stats(total, shares, 10, Split.DOUBLE_MEAN)

    assert refused.value.code == "share_too_small"
