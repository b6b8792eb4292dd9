"""The grab gate of scaled mode: each packet's live state in Redis, decided by one Lua script per grab or open.

Every API process asks the same Redis (or Redis Cluster), so they agree on who holds or took a share and when a
packet is gone; the refusals of a storm (most grabs arrive after the last share) are answered here and never reach
the database.  Per packet, under one hash tag so a cluster keeps them on one slot (DESIGN.md §4):

- `<prefix>{p:ID}`: a hash, `n` shares, `st` status (`a` open, `f` finished, `x` expired), `ok` = 1 once loaded;
- `<prefix>{p:ID}:c`: the set of users who took a share;
- `<prefix>{p:ID}:r`: the users holding a place while their open is settled, scored by when (Redis's clock).

The database stays the truth: the store decides every claim again by its unique key inside the settlement
transaction; the gate only keeps losers away from it.  When Redis has lost a packet (restart without persistence,
failover, FLUSHALL), the script says so and the packet is loaded again from the store: its claimers read from the
claims table, its status from the packet row.  Places held before the loss are gone, so a few more opens than
shares may reach the store in that moment, where the unique key and the share count refuse them; nobody is paid
twice, and no packet is shown empty or full that the store does not say is.  A place whose settle never came (its
process died) no longer refuses anyone alone after STALE_PLACE_S (the store is asked instead), and is dropped
after `hold_s`; its user's retry goes to the store at once.

What the packet is (kind, audience, amounts, expiry) does not change and is cached per process; group membership
stays the in-process gate's (with forgets told to every process, adapters/scaled.py).  When Redis cannot be
asked, the gate falls back to the in-process one for that call: the store still decides, and the refusals cost a
database statement until Redis answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import redis
import redis.asyncio as aredis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster

from hongbao.adapters.gate import _single_flight
from hongbao.adapters.redis_shared import is_cluster
from hongbao.adapters.scaled import TellingGate
from hongbao.cache import Lru
from hongbao.domain.packets import PacketStatus, PacketView
from hongbao.service.ports import Store

log = logging.getLogger(__name__)
LOAD_CHUNK = 5000  # claimers per SADD while loading a packet
# What a call to Redis can raise when Redis is away or slow. AttributeError: redis-py's asyncio cluster client (8.1)
# can hand out a connection whose connect timed out under load ("'NoneType' object has no attribute 'writelines'").
REDIS_FAILED = (redis.RedisError, OSError, AttributeError)
PAUSE_S = 1.0  # after a Redis error, the in-process gate answers for this long before Redis is asked again
KEEP_S = 86_400  # a packet's keys outlive its expiry by a day (late opens are refused from them)
FINAL_MEMO_MAX = 20_000  # a finished packet with at most this many shares is then answered from memory
STALE_PLACE_S = 2.0  # places this old that fill a packet no longer refuse alone: the store is asked (_ADMIT)

# KEYS: hash, claimers, places.  ARGV: user, reserve (0/1), hold_ms, stale_ms.
# Returns {-1} when the packet is not loaded, else {code, taken}: 0 admitted (a place held when reserve),
# 1 already claimed, 2 exhausted for good (every share claimed), 3 expired, 5 full for now (places held), 4 let
# through to the store without a place: the user holds a place already (a retry after its process died, or a
# duplicate in flight: the claims' unique key and the idempotency key decide), or the shares left are all held by
# places of which the oldest is stale_ms old (their processes may have died: the store says whether a share is
# left, rather than a packet shown full until the places age out).
_ADMIT = """
if redis.call('HGET', KEYS[1], 'ok') ~= '1' then return {-1, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[3]))
local claimed = redis.call('SCARD', KEYS[2])
local taken = claimed + redis.call('ZCARD', KEYS[3])
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return {1, taken} end
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return {4, taken} end
local st = redis.call('HGET', KEYS[1], 'st')
if st == 'x' then return {3, taken} end
local n = tonumber(redis.call('HGET', KEYS[1], 'n'))
if st == 'f' or claimed >= n then return {2, taken} end
if taken >= n then
    local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    if oldest[2] ~= nil and now - tonumber(oldest[2]) > tonumber(ARGV[4]) then return {4, taken} end
    return {5, taken}
end
if ARGV[2] == '1' then
    redis.call('ZADD', KEYS[3], now, ARGV[1])
    redis.call('PEXPIREAT', KEYS[3], redis.call('HGET', KEYS[1], 'e'))
end
return {0, taken}
"""

# KEYS: hash, claimers, places.  ARGV: user, outcome.
_SETTLE = """
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('HGET', KEYS[1], 'ok') ~= '1' then return 0 end
local outcome = ARGV[2]
if outcome == 'won' or outcome == 'already_claimed' then
    redis.call('SADD', KEYS[2], ARGV[1])
    redis.call('PEXPIREAT', KEYS[2], redis.call('HGET', KEYS[1], 'e'))
    if redis.call('SCARD', KEYS[2]) >= tonumber(redis.call('HGET', KEYS[1], 'n')) then
        redis.call('HSET', KEYS[1], 'st', 'f')
    end
elseif outcome == 'exhausted' then
    redis.call('HSET', KEYS[1], 'st', 'f')
elseif outcome == 'expired' then
    redis.call('HSET', KEYS[1], 'st', 'x')
end
return 1
"""

# KEYS: hash, claimers, places.  ARGV: shares, status, expire at (unix ms), claimers…  Loads unless loaded.
_LOAD = """
if redis.call('HGET', KEYS[1], 'ok') == '1' then return 0 end
for i = 4, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
local st = ARGV[2]
if st == 'a' and redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[1]) then st = 'f' end
redis.call('HSET', KEYS[1], 'n', ARGV[1], 'st', st, 'e', ARGV[3], 'ok', '1')
for i = 1, 3 do redis.call('PEXPIREAT', KEYS[i], ARGV[3]) end
return 1
"""

_STATUS = {PacketStatus.FINISHED: "f", PacketStatus.EXPIRED: "x"}


def connect_async(url: str, *, timeout_s: float) -> aredis.Redis | AsyncRedisCluster:
    """The asyncio client for `url` (a Redis Cluster for `redis+cluster://`, see redis_shared.connect)."""
    common: dict[str, Any] = {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s}
    if is_cluster(url):
        return AsyncRedisCluster.from_url(url.replace("+cluster://", "://", 1), **common)
    return aredis.Redis.from_url(url, health_check_interval=0, **common)


class RedisGate(TellingGate):
    """The gate shared by every process through Redis (see the module doc); the in-process gate is its fallback."""

    def __init__(
        self, store: Store, url: str, *, prefix: str = "hongbao:", hold_s: float = 60.0, timeout_s: float = 1.0,
        views_max: int = 100_000,
    ) -> None:
        super().__init__(store)
        self.url, self.timeout_s = url, timeout_s
        self._conn: _Conn | None = None
        self.prefix = prefix
        self.hold_ms = max(1, int(hold_s * 1000))
        self._views: Lru[int, PacketView] = Lru(views_max)
        self._view_flights: dict[int, asyncio.Future[PacketView | None]] = {}
        self._load_flights: dict[int, asyncio.Future[None]] = {}
        # Finished packets and who claimed them: permanent, so refused from this process's memory from then on.
        self._final: Lru[int, frozenset[int]] = Lru(views_max)
        self._final_flights: dict[int, asyncio.Future[None]] = {}
        self._paused_until = 0.0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.loads = 0  # packets loaded into Redis from the store by this process (after a loss, or first use)

    def keys(self, packet_id: int) -> list[str]:
        base = f"{self.prefix}{{p:{packet_id}}}"
        return [base, base + ":c", base + ":r"]

    async def admit(
        self,
        packet_id: int,
        user_id: int,
        now: datetime,
        *,
        reserve: bool,
        audience: Callable[[PacketView], Awaitable[bool]],
        secret_ok: Callable[[PacketView], bool] = lambda _: True,
    ) -> PacketView:
        if self.told:
            self._apply_told()
        if time.monotonic() < self._paused_until:
            return await super().admit(packet_id, user_id, now, reserve=reserve, audience=audience, secret_ok=secret_ok)
        view = self._views.get(packet_id) or await _single_flight(
            self._view_flights, packet_id, lambda: self._read_view(packet_id))
        eligible = await audience(view) if view is not None else True
        secret = secret_ok(view) if view is not None else True
        # The checks before "already claimed" need no shared state (the status is Redis's, below).
        open_view = view if view is None or view.status is PacketStatus.ACTIVE else replace(
            view, status=PacketStatus.ACTIVE)
        self.check(reserve, open_view, user_id=user_id, now=now, eligible=eligible, secret_ok=secret,
                   already_claimed=False, claimed_count=0)
        assert view is not None and open_view is not None
        final = self._final.get(packet_id)
        if final is not None:  # every share claimed: no need to ask Redis ever again (raises)
            self.check(reserve, open_view, user_id=user_id, now=now, eligible=True, secret_ok=True,
                       already_claimed=user_id in final, claimed_count=view.shares_count)
        try:
            code, taken = await self._decide(view, user_id, reserve)
        except REDIS_FAILED as exc:
            self._paused_until = time.monotonic() + PAUSE_S
            log.warning("gate Redis failed (%s); the in-process gate answers for %.1f s", exc, PAUSE_S)
            return await super().admit(packet_id, user_id, now, reserve=reserve, audience=audience, secret_ok=secret_ok)
        if code == 4:  # let through without a place: the store decides (see _ADMIT)
            return view
        if code == 2 and view.shares_count <= FINAL_MEMO_MAX:
            await _single_flight(self._final_flights, packet_id, lambda: self._remember_final(view))
        decided = open_view
        if code == 3:
            decided = replace(open_view, status=PacketStatus.EXPIRED)
            self._views.put(packet_id, replace(view, status=PacketStatus.EXPIRED))
        self.check(reserve, decided, user_id=user_id, now=now, eligible=True, secret_ok=True,
                   already_claimed=code == 1, claimed_count=view.shares_count if code in (2, 5) else int(taken))
        return view

    async def _remember_final(self, view: PacketView) -> None:
        """Read a finished packet's claimers once; kept only when complete (a Redis reload may have missed some)."""
        with contextlib.suppress(*REDIS_FAILED):
            members = await self._connection().client.smembers(self.keys(view.id)[1])
            claimers = frozenset(int(m) for m in members)
            if len(claimers) >= view.shares_count:
                self._final.put(view.id, claimers)

    async def _decide(self, view: PacketView, user_id: int, reserve: bool) -> tuple[int, int]:
        keys = self.keys(view.id)
        args = [user_id, 1 if reserve else 0, self.hold_ms, int(STALE_PLACE_S * 1000)]
        conn = self._connection()
        code, taken = await conn.admit(keys=keys, args=args)
        if int(code) == -1:  # never loaded, or Redis lost it: read it from the store, then decide
            await _single_flight(self._load_flights, view.id, lambda: self._load_into_redis(view))
            code, taken = await conn.admit(keys=keys, args=args)
            if int(code) == -1:
                raise redis.RedisError(f"packet {view.id} would not stay loaded")
        return int(code), int(taken)

    async def _read_view(self, packet_id: int) -> PacketView | None:
        row = await self._store.read(lambda tx: tx.packet(packet_id))
        if row is None:
            return None
        self._views.put(packet_id, row.view)
        return row.view

    async def _load_into_redis(self, view: PacketView) -> None:
        row, claimers = await self._store.read(lambda tx: (tx.packet(view.id), tx.claimer_ids(view.id)))
        if row is None:
            return
        status = _STATUS.get(row.view.status, "a")
        expire_ms = int((row.view.expires_at.timestamp() + KEEP_S) * 1000)
        keys, conn = self.keys(view.id), self._connection()
        cut = len(claimers) - len(claimers) % LOAD_CHUNK if len(claimers) > LOAD_CHUNK else 0
        for i in range(0, cut, LOAD_CHUNK):  # a big pool's claimers, in chunks; the script adds the rest
            await conn.client.sadd(keys[1], *claimers[i:i + LOAD_CHUNK])
        await conn.load(keys=keys, args=[row.view.shares_count, status, expire_ms, *claimers[cut:]])
        self.loads += 1

    def settle(self, packet_id: int, user_id: int, outcome: str) -> None:
        super().settle(packet_id, user_id, outcome)  # the fallback's memory too
        if outcome == "expired":
            cached = self._views.get(packet_id)
            if cached is not None:
                self._views.put(packet_id, replace(cached, status=PacketStatus.EXPIRED))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a sync caller): the place ages out after hold_s, the store decided anyway
        task = loop.create_task(self._settle_in_redis(packet_id, user_id, outcome))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle_in_redis(self, packet_id: int, user_id: int, outcome: str) -> None:
        try:
            await self._connection().settle(keys=self.keys(packet_id), args=[user_id, outcome])
        except REDIS_FAILED as exc:
            log.warning("gate Redis failed settling packet %d (%s); its place ages out", packet_id, exc)

    def forget_packet(self, packet_id: int) -> None:
        self._views.pop(packet_id)
        self._final.pop(packet_id)
        super().forget_packet(packet_id)

    def _apply_told(self) -> None:
        for kind, key in list(self.told):
            if kind == "forget_packet":
                self._views.pop(key)
        super()._apply_told()

    def _connection(self) -> _Conn:
        """The client of the running event loop (an asyncio client cannot be shared between loops)."""
        loop = asyncio.get_running_loop()
        conn = self._conn
        if conn is None or conn.loop is not loop:
            conn = self._conn = _Conn(loop, connect_async(self.url, timeout_s=self.timeout_s))
        return conn

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(redis.RedisError, OSError):
                await conn.client.aclose()


class _Conn:
    """One event loop's client and its scripts."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: aredis.Redis | AsyncRedisCluster) -> None:
        self.loop = loop
        self.client = client
        self.admit = client.register_script(_ADMIT)
        self.settle = client.register_script(_SETTLE)
        self.load = client.register_script(_LOAD)
