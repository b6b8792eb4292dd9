"""Failure limiters whose windows live in Redis, so every API process counts the same failures (scaled mode).

Each key's window is a sorted set `{prefix}{name}:{key}` of failures scored by Redis's own clock in milliseconds
(one clock for every host), trimmed, counted and extended by one small Lua script per call, so a check and an
add are each atomic.  The set expires a window after its newest failure.

The calls are synchronous, on the event loop: the limiter's interface (check / failed / succeeded) stays the one
the use cases already call, and one round trip to a nearby Redis takes about 0.1 ms.  A socket timeout of
`timeout_s` (default 0.1 s), no retries, and a pause of `pause_s` after an error (during which calls are refused
without trying) bound how long an unreachable Redis can hold the loop.

Fail closed: when Redis cannot be asked or written to, `check` and `failed` refuse with 503 `limiter_unavailable`
rather than let guesses go uncounted.  `succeeded` only logs: a failure count left behind errs on the strict side.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

import redis

from hongbao.adapters.redis_shared import connect
from hongbao.domain.errors import Unavailable, too_many_attempts

PREFIX = "hongbao:limit:"
log = logging.getLogger(__name__)

# KEYS[1]: the window; ARGV[1]: window in ms.  Returns {failures, ms until the oldest ages out}.
_CHECK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])))
local n = redis.call('ZCARD', KEYS[1])
local wait = 0
if n > 0 then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    wait = tonumber(oldest[2]) + tonumber(ARGV[1]) - now
end
return {n, wait}
"""

# KEYS[1]: the window; ARGV[1]: window in ms, ARGV[2]: a unique member for this failure.  Returns the failures.
_FAILED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])))
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return redis.call('ZCARD', KEYS[1])
"""


# KEYS[1]: the window; ARGV[1]: window in ms, ARGV[2]: a unique member, ARGV[3]: the limit.  Counts one attempt
# unless the window is full.  Returns {attempts in the window, ms until the oldest ages out (0: counted)}.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])))
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {n, math.max(1, tonumber(oldest[2]) + tonumber(ARGV[1]) - now)}
end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {n + 1, 0}
"""


def unavailable() -> Unavailable:
    return Unavailable(
        "Attempts cannot be counted right now, so none are allowed; try again shortly.", code="limiter_unavailable"
    )


class RedisLimiters:
    """Makes `Limiter`s (service/ratelimit.py) that share one Redis connection pool."""

    def __init__(self, url: str, *, prefix: str = PREFIX, timeout_s: float = 0.1, pause_s: float = 1.0) -> None:
        self.client = connect(url, timeout_s=timeout_s)  # a single Redis or a Redis Cluster, no retries
        self.prefix = prefix
        self.pause_s = pause_s
        self._paused_until = 0.0
        self.check_script = self.client.register_script(_CHECK)
        self.failed_script = self.client.register_script(_FAILED)
        self.take_script = self.client.register_script(_TAKE)

    def __call__(self, name: str, failures_max: int, window_s: float) -> RedisFailureLimiter:
        return RedisFailureLimiter(self, f"{self.prefix}{name}:", failures_max, window_s)

    def run(self, script: Any, key: str, *args: object) -> Any:
        """Run one script on one key; any Redis error becomes 503 `limiter_unavailable` and pauses calls."""
        if time.monotonic() < self._paused_until:
            raise unavailable()
        try:
            return script(keys=[key], args=list(args))
        except redis.RedisError as exc:
            self._paused_until = time.monotonic() + self.pause_s
            log.warning("rate-limit Redis failed (%s); refusing guesses for %.1f s", exc, self.pause_s)
            raise unavailable() from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete(key)
        except redis.RedisError as exc:
            log.warning("rate-limit Redis failed clearing %s (%s); its failures stay until they age out", key, exc)

    def close(self) -> None:
        self.client.close()


class RedisFailureLimiter:
    """A `Limiter` whose windows are sorted sets in Redis, shared by every process that uses the same Redis."""

    def __init__(self, limiters: RedisLimiters, prefix: str, failures_max: int, window_s: float) -> None:
        self.limiters = limiters
        self.prefix = prefix
        self.failures_max = failures_max
        self.window_s = window_s
        self._window_ms = max(1, int(window_s * 1000))

    def check(self, key: str) -> int:
        """Refuse with 429 while `key` is over its limit; else return its failures in the window."""
        failures, wait_ms = self.limiters.run(self.limiters.check_script, self.prefix + key, self._window_ms)
        if int(failures) >= self.failures_max:
            raise too_many_attempts(int(wait_ms) // 1000 + 1)
        return int(failures)

    def failed(self, key: str) -> None:
        self.limiters.run(self.limiters.failed_script, self.prefix + key, self._window_ms, secrets.token_hex(8))

    def succeeded(self, key: str) -> None:
        self.limiters.delete(self.prefix + key)

    def take(self, key: str) -> None:
        """Check and count in one script: one round trip (a host's rate is taken on every request)."""
        _, wait_ms = self.limiters.run(self.limiters.take_script, self.prefix + key, self._window_ms,
                                       secrets.token_hex(8), self.failures_max)
        if int(wait_ms) > 0:
            raise too_many_attempts(int(wait_ms) // 1000 + 1)
