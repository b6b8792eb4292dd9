"""Shake rate limits that hold under the storm: per user per second and per round, per client address per second.

All in this process's memory and decided before any read, so an abusive client gets a cheap 429 and never a queue
(a refusal costs a few dictionary operations).  With several API processes each counts its own shakes: a balancer
that keeps a user on one process (or the same address) keeps the limits as stated, else they scale with processes.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from hongbao.domain import campaigns as dc
from hongbao.domain.campaigns import CampaignLimits
from hongbao.service.cache import Lru


class ShakeLimits:
    def __init__(self, limits: CampaignLimits, address_second_max: int) -> None:
        self.limits = limits
        self.address_second_max = address_second_max  # 0: no limit per address
        self._recent: Lru[tuple[int, int], deque[datetime]] = Lru(1_000_000)  # (event, user) → shakes this second
        self._rounds: Lru[tuple[int, int], list[int]] = Lru(1_000_000)  # (event, user) → [round, shakes in it]
        self._addresses: Lru[str, list[int]] = Lru(100_000)  # address → [second, shakes in it]

    def check_rate(self, event_id: int, user_id: int, address: str | None, now: datetime) -> None:
        """Count the shake in its second: at most `shakes_per_second_max` per user and event in any second, and
        `address_second_max` per client address in a clock second."""
        if address is not None and self.address_second_max:
            second = int(now.timestamp())
            seen = self._addresses.get(address)
            if seen is None or seen[0] != second:
                seen = [second, 0]
                self._addresses.put(address, seen)
            if seen[1] >= self.address_second_max:
                raise dc.too_many_shakes(f"At most {self.address_second_max} shakes per second from one address.")
            seen[1] += 1
        window = self._recent.get((event_id, user_id))
        if window is None:
            window = deque()
            self._recent.put((event_id, user_id), window)
        while window and (now - window[0]).total_seconds() >= 1.0:
            window.popleft()
        if len(window) >= self.limits.shakes_per_second_max:
            raise dc.too_many_shakes(f"At most {self.limits.shakes_per_second_max} shakes per second.")
        window.append(now)

    def count_in_round(self, event_id: int, user_id: int, seq: int) -> list[int]:
        """Count the shake against the user's allowance for this round; the counter, to give the shake back if it
        is refused later (pool_empty)."""
        done = self._rounds.get((event_id, user_id))
        if done is None or done[0] != seq:
            done = [seq, 0]
            self._rounds.put((event_id, user_id), done)
        if done[1] >= self.limits.shakes_per_round_max:
            raise dc.too_many_shakes(f"At most {self.limits.shakes_per_round_max} shakes per round.")
        done[1] += 1
        return done
