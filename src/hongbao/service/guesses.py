"""Guesses of a code or phrase (面对面, 口令): failures limited per user AND per client address, in flight included."""

from __future__ import annotations

from hongbao.domain.errors import HongbaoError, TooManyRequests
from hongbao.service.ratelimit import Limiter, Limiters, memory_limiters


class GuessLimiter:
    """Failures per key in a window, counting guesses still in flight, so concurrent guesses cannot overshoot.

    Failures are counted by `limiter` (shared by every process when it is Redis); guesses in flight are counted
    in this process only.
    """

    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter
        self._in_flight: dict[str, int] = {}

    def begin(self, key: str) -> None:
        """Refuse with 429 if failures plus guesses in flight reach the limit; else count one in flight."""
        failures = self.limiter.check(key)
        if failures + self._in_flight.get(key, 0) >= self.limiter.failures_max:
            raise TooManyRequests("Too many guesses at once; wait for the answers.")
        self._in_flight[key] = self._in_flight.get(key, 0) + 1

    def end(self, key: str, *, failed: bool) -> None:
        left = self._in_flight.get(key, 1) - 1
        if left:
            self._in_flight[key] = left
        else:
            self._in_flight.pop(key, None)
        if failed:
            self.limiter.failed(key)


class Guesses:
    """Codes and phrases are guessable: failures are limited per user AND per client address."""

    def __init__(
        self, per_user: int, per_address: int, window_s: float, limiters: Limiters = memory_limiters
    ) -> None:
        self.users = GuessLimiter(limiters("guess:user", per_user, window_s))
        self.addresses = GuessLimiter(limiters("guess:address", per_address, window_s))

    def begin(self, user_id: int, address: str) -> None:
        self.users.begin(f"u:{user_id}")
        try:
            self.addresses.begin(f"a:{address}")
        except HongbaoError:  # too many, or the limiter could not count: the user's guess is not in flight
            self.users.end(f"u:{user_id}", failed=False)
            raise

    def end(self, user_id: int, address: str, *, failed: bool) -> None:
        try:
            self.users.end(f"u:{user_id}", failed=failed)
        finally:
            self.addresses.end(f"a:{address}", failed=failed)
