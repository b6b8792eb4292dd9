"""Scaled mode's shake limits (adapters/redis_shake_counts.py): the shakes of two processes add up in Redis, so a user
or an address spread over both gets its stated limit (give or take one sync interval), not twice it; and a process
that cannot reach Redis keeps its own limits."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hongbao.adapters.redis_shake_counts import SharedCounts
from hongbao.adapters.redis_shared import connect
from hongbao.domain.campaigns import CampaignLimits
from hongbao.domain.errors import HongbaoError
from hongbao.service.shake_limits import ShakeLimits

NOW = datetime(2026, 2, 18, 20, 0, 0, tzinfo=UTC)
LIMITS = replace(CampaignLimits(), shakes_per_second_max=5, shakes_per_round_max=4)


@pytest.fixture
def processes(redis_url: str) -> Iterator[Callable[[], ShakeLimits]]:
    """Makes the shake limits of one more API process on the same Redis (a prefix of this test's own); each syncs
    only when the test says, as if its sync interval were shorter than the gap between two shakes."""
    prefix = f"hongbao:test:{uuid.uuid4().hex[:10]}:"
    made: list[ShakeLimits] = []

    def make() -> ShakeLimits:
        limits = ShakeLimits(LIMITS, address_second_max=3)
        limits.shared = SharedCounts(redis_url, prefix, background=False)
        made.append(limits)
        return limits

    yield make
    for limits in made:
        limits.close()
    client = connect(redis_url, timeout_s=2.0)
    try:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()


def accepted(shake: Callable[[ShakeLimits], None], sides: list[ShakeLimits], tries: int) -> int:
    """Shakes taken of `tries`, alternating between the processes; each syncs right after its shake."""
    taken = 0
    for i in range(tries):
        side = sides[i % len(sides)]
        try:
            shake(side)
            taken += 1
        except HongbaoError as refused:
            assert refused.code == "too_many_shakes"
        assert side.shared is not None
        side.shared.sync()  # type: ignore[attr-defined]
    return taken


def test_a_user_shaking_on_two_processes_gets_one_per_second_limit_not_two(
    processes: Callable[[], ShakeLimits],
) -> None:
    a, b = processes(), processes()
    taken = accepted(lambda side: side.check_rate(1, 7, None, NOW), [a, b], tries=20)
    # Alone, each process would take its own 5: 10.  Together they take the limit, plus the one shake the process
    # that had not yet heard of the last count lets through.
    assert LIMITS.shakes_per_second_max <= taken <= LIMITS.shakes_per_second_max + 1
    with pytest.raises(HongbaoError):
        a.check_rate(1, 7, None, NOW)
    with pytest.raises(HongbaoError):
        b.check_rate(1, 7, None, NOW)
    # Another user, and the same user in the next second, are not held back.
    a.check_rate(1, 8, None, NOW)
    b.check_rate(1, 7, None, NOW + timedelta(seconds=1))


def test_an_address_on_two_processes_gets_one_limit(processes: Callable[[], ShakeLimits]) -> None:
    a, b = processes(), processes()
    users = iter(range(100, 200))  # a different user each time: only the address limit (3) can refuse
    taken = accepted(lambda side: side.check_rate(1, next(users), "203.0.113.9", NOW), [a, b], tries=12)
    assert 3 <= taken <= 4


def test_a_round_allowance_holds_across_processes_and_a_shake_given_back_counts_for_both(
    processes: Callable[[], ShakeLimits],
) -> None:
    a, b = processes(), processes()
    done = a.count_in_round(1, 7, seq=1)
    a.uncount(1, 7, done)  # refused later (pool empty): it does not use the allowance
    assert a.shared is not None
    a.shared.sync()  # type: ignore[attr-defined]
    taken = accepted(lambda side: side.count_in_round(1, 7, seq=1), [a, b], tries=12)
    assert LIMITS.shakes_per_round_max <= taken <= LIMITS.shakes_per_round_max + 1
    with pytest.raises(HongbaoError):
        b.count_in_round(1, 7, seq=1)
    b.count_in_round(1, 7, seq=2)  # the next round starts afresh


def test_without_redis_each_process_keeps_its_own_limits() -> None:
    limits = ShakeLimits(LIMITS, address_second_max=0)
    shared = SharedCounts("redis://127.0.0.1:1/0", "hongbao:test:dead:", background=False)  # nothing listens on 1
    limits.shared = shared
    try:
        taken = 0
        for _ in range(8):
            try:
                limits.check_rate(1, 7, None, NOW)
                taken += 1
            except HongbaoError:
                pass
            shared.sync()  # cannot reach Redis: counted as a failure, never raised
        assert taken == LIMITS.shakes_per_second_max
        assert shared.failures == taken  # each sync that had a shake to send
    finally:
        limits.close()  # its last sync fails quietly too
