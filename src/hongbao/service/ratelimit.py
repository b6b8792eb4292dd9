"""Attempt limits for guessable secrets: a sliding window of failures per key, held in this process."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from hongbao.domain.errors import TooManyRequests
from hongbao.service.cache import Lru


class FailureLimiter:
    """At most `failures_max` failures per key in `window_s`; then every attempt is refused until one ages out.

    Embedded mode keeps the window in memory; with several API processes each keeps its own, so the
    effective limit is multiplied by the number of processes (a shared Redis limiter is the scaled answer).
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

    def check(self, key: str) -> None:
        """Refuse with 429 while `key` is over its limit."""
        window = self._recent(key)
        if window is not None and len(window) >= self.failures_max:
            retry_s = int(window[0] + self.window_s - self.clock()) + 1
            raise TooManyRequests(f"Too many failed attempts; try again in {retry_s} s.")

    def failed(self, key: str) -> None:
        window = self._recent(key)
        if window is None:
            window = deque()
            self._failures.put(key, window)
        window.append(self.clock())

    def succeeded(self, key: str) -> None:
        self._failures.pop(key)

    def _recent(self, key: str) -> deque[float] | None:
        window = self._failures.get(key)
        if window is not None:
            cutoff = self.clock() - self.window_s
            while window and window[0] < cutoff:
                window.popleft()
        return window
