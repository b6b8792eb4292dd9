"""Attempt limits for guessable secrets: a sliding window of failures per key (in this process, or shared in Redis)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from hongbao.domain.errors import too_many_attempts
from hongbao.service.cache import Lru


class Limiter(Protocol):
    """At most `failures_max` failures per key in `window_s`; then every attempt is refused until one ages out.

    A limiter that cannot count (its shared store is unreachable) refuses with 503 `limiter_unavailable`: an
    uncounted guess would be an unlimited one.
    """

    failures_max: int
    window_s: float

    def check(self, key: str) -> int:
        """Refuse with 429 while `key` is over its limit; else return its failures in the window."""
        ...

    def failed(self, key: str) -> None: ...

    def succeeded(self, key: str) -> None: ...

    def take(self, key: str) -> None:
        """Count one attempt for `key` unless it is over its limit (then 429, nothing counted), in one atomic step:
        for a limit on every request (a host's rate), where check-then-failed would cost two round trips."""
        ...


class Limiters(Protocol):
    """Makes the limiter named `name` (e.g. "login"; names keep one limiter's keys apart from another's)."""

    def __call__(self, name: str, failures_max: int, window_s: float) -> Limiter: ...


def memory_limiters(name: str, failures_max: int, window_s: float) -> Limiter:
    """Embedded mode: each limiter holds its windows in this process."""
    return FailureLimiter(failures_max=failures_max, window_s=window_s)


class FailureLimiter:
    """A `Limiter` whose windows live in this process's memory.

    With several API processes each keeps its own, so the effective limit is multiplied by the number of
    processes: set HONGBAO_REDIS_URL to share them (adapters/redis_limiter.py).
    """

    def __init__(
        self,
        failures_max: int = 10,
        window_s: float = 900.0,
        keys_max: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.failures_max = failures_max
        self.window_s = window_s
        self._failures: Lru[str, deque[float]] = Lru(keys_max)

    def check(self, key: str) -> int:
        """Refuse with 429 while `key` is over its limit; else return its failures in the window."""
        window = self._recent(key)
        if window is not None and len(window) >= self.failures_max:
            raise too_many_attempts(int(window[0] + self.window_s - self.clock()) + 1)
        return len(window or ())

    def failed(self, key: str) -> None:
        window = self._recent(key)
        if window is None:
            window = deque()
            self._failures.put(key, window)
        window.append(self.clock())

    def succeeded(self, key: str) -> None:
        self._failures.pop(key)

    def take(self, key: str) -> None:
        self.check(key)
        self.failed(key)

    def _recent(self, key: str) -> deque[float] | None:
        window = self._failures.get(key)
        if window is not None:
            cutoff = self.clock() - self.window_s
            while window and window[0] < cutoff:
                window.popleft()
        return window
