"""The scheduler's sweeps: settle every due row in batches, each in its own write job, exactly once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from hongbao.service.ports import Store

if TYPE_CHECKING:
    from hongbao.service.ports import Tx

R = TypeVar("R")


async def sweep(
    store: Store,
    due: Callable[[Tx], list[int]],
    job: Callable[[int], Callable[[Tx], R]],
    *,
    batch_max: int,
    done: Callable[[int, R], bool],
    log: logging.Logger,
    failed: str,
) -> int:
    """Run `job(id)` for every id `due` reads (at most `batch_max` a round), all submitted together so they share
    group commits; `done(id, result)` says whether it counted. A failed job is logged (`failed` % (id, error)) and
    left for the next sweep; the sweep stops at a short batch or one where every job failed. Returns the count."""
    count = 0
    while True:
        ids = await store.read(due)
        results = await asyncio.gather(*(store.write(job(i)) for i in ids), return_exceptions=True)
        for i, result in zip(ids, results, strict=True):
            if isinstance(result, BaseException):
                log.error(failed, i, result)
            elif done(i, result):
                count += 1
        if len(ids) < batch_max or all(isinstance(r, BaseException) for r in results):
            return count
