"""Shake rate limits that hold under the storm: per user per second and per round, per client address per second.

All in this process's memory and decided before any read, so an abusive client gets a cheap 429 and never a queue
(a refusal costs a few dictionary operations).  With several API processes (scaled mode) `shared` adds the other
processes' shakes: their counts reach Redis in the background (adapters/redis_shake_counts.py), and a counter that
is full over every process is refused here too, so the limits hold as stated give or take one sync interval.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Protocol

from hongbao.domain import campaigns as dc
from hongbao.domain.campaigns import CampaignLimits
from hongbao.service.cache import Lru

ROUND_COUNT_S = 86_400  # how long a round's shared count is kept (rounds are minutes long)


class SharedCounts(Protocol):
    """Counts summed over every process (adapters/redis_shake_counts.py)."""

    def full(self, counter: str) -> bool: ...

    def add(self, counter: str, n: int, window_s: int, limit: int) -> None: ...

    def close(self) -> None: ...


class ShakeLimits:
    def __init__(self, limits: CampaignLimits, address_second_max: int) -> None:
        self.limits = limits
        self.address_second_max = address_second_max  # 0: no limit per address
        self.shared: SharedCounts | None = None  # scaled mode: every process's shakes (bootstrap sets it)
        self._recent: Lru[tuple[int, int], deque[datetime]] = Lru(1_000_000)  # (event, user) → shakes this second
        self._rounds: Lru[tuple[int, int], list[int]] = Lru(1_000_000)  # (event, user) → [round, shakes in it]
        self._addresses: Lru[str, list[int]] = Lru(100_000)  # address → [second, shakes in it]

    def check_rate(self, event_id: int, user_id: int, address: str | None, now: datetime) -> None:
        """Count the shake in its second: at most `shakes_per_second_max` per user and event in any second, and
        `address_second_max` per client address in a clock second."""
        shared, second = self.shared, int(now.timestamp())
        if address is not None and self.address_second_max:
            seen = self._addresses.get(address)
            if seen is None or seen[0] != second:
                seen = [second, 0]
                self._addresses.put(address, seen)
            counter = f"shake:a:{address}:{second}" if shared is not None else ""  # none to format embedded
            if seen[1] >= self.address_second_max or (shared is not None and shared.full(counter)):
                raise dc.too_many_shakes(f"At most {self.address_second_max} shakes per second from one address.")
            seen[1] += 1
            if shared is not None:
                shared.add(counter, 1, 1, self.address_second_max)
        window = self._recent.get((event_id, user_id))
        if window is None:
            window = deque()
            self._recent.put((event_id, user_id), window)
        while window and (now - window[0]).total_seconds() >= 1.0:
            window.popleft()
        per_second = self.limits.shakes_per_second_max
        # Across processes: clock seconds, not a sliding second.
        counter = f"shake:u:{{{event_id}}}:{user_id}:{second}" if shared is not None else ""
        if len(window) >= per_second or (shared is not None and shared.full(counter)):
            raise dc.too_many_shakes(f"At most {per_second} shakes per second.")
        window.append(now)
        if shared is not None:
            shared.add(counter, 1, 1, per_second)

    def count_in_round(self, event_id: int, user_id: int, seq: int) -> list[int]:
        """Count the shake against the user's allowance for this round; the counter, to give the shake back with
        `uncount` if it is refused later (pool_empty)."""
        done = self._rounds.get((event_id, user_id))
        if done is None or done[0] != seq:
            done = [seq, 0]
            self._rounds.put((event_id, user_id), done)
        per_round, shared = self.limits.shakes_per_round_max, self.shared
        counter = f"shake:r:{{{event_id}}}:{user_id}:{seq}" if shared is not None else ""
        if done[1] >= per_round or (shared is not None and shared.full(counter)):
            raise dc.too_many_shakes(f"At most {per_round} shakes per round.")
        done[1] += 1
        if shared is not None:
            shared.add(counter, 1, ROUND_COUNT_S, per_round)
        return done

    def uncount(self, event_id: int, user_id: int, done: list[int]) -> None:
        """Give back a shake `count_in_round` counted (`done` is what it answered)."""
        done[1] -= 1
        if self.shared is not None:
            self.shared.add(f"shake:r:{{{event_id}}}:{user_id}:{done[0]}", -1, ROUND_COUNT_S,
                            self.limits.shakes_per_round_max)

    def close(self) -> None:
        if self.shared is not None:
            self.shared.close()
