"""Shake rate limits summed over every process (scaled mode), without a Redis round trip per shake.

Each process still counts its own shakes in memory and refuses at once past a limit (service/shake_limits.py).
This adds the other processes' shakes: every `sync_s` a background thread sends the counters that moved to Redis
(one pipelined INCRBY and EXPIRE each, whatever the number of shakes behind them), and Redis answers each counter's
total over every process.  A counter whose total reached its limit is refused here from then on, until its window
ends.  So a user or an address spread over N processes gets its stated limit, give or take the shakes of one sync
interval, and a shake costs a dictionary lookup, never a wait on the network.

These limits are against abuse, not money: while Redis cannot be reached each process falls back to its own counts
(logged), and the K-wins cap and the pools stay exact in the database either way.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis

from hongbao.adapters.redis_shared import connect

log = logging.getLogger(__name__)

SYNC_S = 0.1  # how stale another process's counts may be here: the most a limit can be overshot by, in time
FAILURE_LOG_EVERY_S = 30.0


class SharedCounts:
    """Counters in Redis under `prefix`, each with a window (its key names it) and a limit."""

    def __init__(self, url: str, prefix: str = "hongbao:", *, sync_s: float = SYNC_S, background: bool = True) -> None:
        self.r: Any = connect(url, timeout_s=1.0, retries=1)  # one Redis or a Redis Cluster (redis+cluster://)
        self.prefix = prefix
        self.sync_s = sync_s
        self._lock = threading.Lock()
        self._pending: dict[str, list[int]] = {}  # counter → [shakes not yet sent, window in s, limit]
        self._full: dict[str, float] = {}  # counter at its limit over every process → when (monotonic) to forget it
        self._stopping = threading.Event()
        self._logged_at = float("-inf")
        self.failures = 0  # syncs that could not reach Redis
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="hongbao-shake-counts", daemon=True)
            self._thread.start()

    def full(self, counter: str) -> bool:
        """Whether every process together has used `counter`'s limit (as of the last sync)."""
        return counter in self._full

    def add(self, counter: str, n: int, window_s: int, limit: int) -> None:
        """Count `n` shakes (negative: give them back) against `counter`, sent to Redis at the next sync."""
        with self._lock:
            entry = self._pending.get(counter)
            if entry is None:
                self._pending[counter] = [n, window_s, limit]
            else:
                entry[0] += n

    def sync(self) -> None:
        """Send the counts that moved and learn their totals (the background thread calls this every `sync_s`)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        now = time.monotonic()
        for counter in [c for c, until in self._full.items() if until <= now]:
            self._full.pop(counter, None)
        if not pending:
            return
        counters = list(pending)
        try:
            pipe = self.r.pipeline(transaction=False)
            for counter in counters:
                n, window_s, _ = pending[counter]
                pipe.incrby(self.prefix + counter, n)
                pipe.expire(self.prefix + counter, window_s + 1)
            totals = pipe.execute()[::2]
        except (redis.RedisError, OSError) as exc:
            self.failures += 1
            if now - self._logged_at >= FAILURE_LOG_EVERY_S:
                self._logged_at = now
                log.warning("shake limits count this process's shakes only: Redis is not reachable (%s)", exc)
            return
        for counter, total in zip(counters, totals, strict=True):
            _, window_s, limit = pending[counter]
            if int(total) >= limit:
                self._full[counter] = now + window_s
            else:
                self._full.pop(counter, None)  # shakes given back brought it under its limit again

    def _run(self) -> None:
        while not self._stopping.wait(self.sync_s):
            try:
                self.sync()
            except Exception:  # the thread must outlive anything one sync raises
                log.exception("shake counts sync failed")

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        try:
            self.sync()  # this process's last counts still count for the others
        finally:
            self.r.close()
