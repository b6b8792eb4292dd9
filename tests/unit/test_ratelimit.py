"""The failure limiter that guards guessable secrets (passwords now, codes and phrases later)."""

from __future__ import annotations

import asyncio

import pytest

from hongbao.domain.errors import TooManyRequests
from hongbao.service.ratelimit import FailureLimiter


def test_limiter_refuses_after_the_allowed_failures_and_only_for_that_key():
    limiter = FailureLimiter(failures_max=3, window_s=60)
    for _ in range(3):
        limiter.check("alice")
        limiter.failed("alice")

    with pytest.raises(TooManyRequests) as refused:
        limiter.check("alice")
    assert refused.value.code == "too_many_attempts"
    assert refused.value.status == 429
    limiter.check("bob")  # another key is untouched


def test_limiter_forgets_failures_after_a_success():
    limiter = FailureLimiter(failures_max=2, window_s=60)
    limiter.failed("alice")
    limiter.succeeded("alice")
    limiter.failed("alice")

    limiter.check("alice")


def test_limiter_window_slides():
    now = [1000.0]
    limiter = FailureLimiter(failures_max=2, window_s=10, clock=lambda: now[0])
    limiter.failed("alice")
    limiter.failed("alice")
    with pytest.raises(TooManyRequests):
        limiter.check("alice")

    now[0] += 11

    limiter.check("alice")


def test_login_is_locked_after_ten_wrong_passwords_even_with_the_right_one(hb):
    async def scenario() -> None:
        await hb.users.register("alice", "the right password")
        for _ in range(10):
            with pytest.raises(Exception) as wrong:
                await hb.users.login("alice", "a wrong password")
            assert getattr(wrong.value, "code", None) == "bad_credentials"
        with pytest.raises(TooManyRequests):
            await hb.users.login("alice", "the right password")

    asyncio.run(scenario())
