"""Batched reads: while one read is in flight, the keys asked for meanwhile queue up and the next read takes them all.

This is the read side's group commit. A storm of requests whose bearer tokens are not in this process's cache
(a new process, or tokens older than the cache) would otherwise cost one store read each; batched, it costs one
`WHERE id IN (...)` per round trip, and a quiet server still answers a lone miss with one read and no added wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

BATCH_KEYS_MAX = 500  # one IN (...) list; SQLite allows 32,766 parameters, PostgreSQL 65,535


class BatchLoader(Generic[K, V]):
    """`await loader.get(key)` is `load_many([key, ...]).get(key)`, shared with every caller asking meanwhile."""

    def __init__(self, load_many: Callable[[list[K]], Awaitable[dict[K, V]]], keys_max: int = BATCH_KEYS_MAX) -> None:
        self._load_many = load_many
        self._keys_max = keys_max
        self._waiting: dict[K, asyncio.Future[V | None]] = {}
        self._draining: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def get(self, key: K) -> V | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests, a restarted server): nothing of the old one carries over
            self._loop, self._waiting, self._draining = loop, {}, None
        waiting = self._waiting.get(key)
        if waiting is None:
            waiting = loop.create_future()
            self._waiting[key] = waiting
            if self._draining is None:
                self._draining = asyncio.create_task(self._drain())
        # shield: a caller that gives up (client gone) must not cancel the answer others with the same key await.
        return await asyncio.shield(waiting)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                keys = list(self._waiting)[: self._keys_max]
                batch = {key: self._waiting.pop(key) for key in keys}
                try:
                    found = await self._load_many(keys)
                except Exception as exc:  # the store's error reaches every caller of this batch
                    for waiting in batch.values():
                        if not waiting.done():
                            waiting.set_exception(exc)
                    continue
                for key, waiting in batch.items():
                    if not waiting.done():
                        waiting.set_result(found.get(key))
        finally:
            self._draining = None
