"""A write batch's jobs: each `store.write` call as a `Job` (its id the same on every attempt), run in order inside
the batch's transaction, each in its own SAVEPOINT, a `Bulk` key's jobs settled together (service/ports.py)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import secrets
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from hongbao.adapters.sql.engine import is_retryable, unreachable
from hongbao.adapters.sql.locks import Key, RowsBusy
from hongbao.adapters.sql.tx import SqlTx
from hongbao.domain.errors import HongbaoError
from hongbao.service.ports import Bulk

log = logging.getLogger(__name__)


class _WriteIds:
    """Write ids unique across processes without a syscall each: a random prefix per process, then a counter."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)  # a forked child must not reuse its parent's ids

    def renew(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.counter = itertools.count()

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


next_write_id = _WriteIds()


@dataclass
class Job:
    """One `store.write` call: the function, the caller's future, and the write's id (the same on every attempt).

    An async caller also waits on `aio`, a future of its event loop: the writer hands a whole batch's outcomes to
    each loop in one call (`SqlStore._deliver`), not one thread-safe wake-up per write."""

    fn: Callable[[SqlTx], Any] | Bulk[Any]
    fut: Future[Any]
    write_id: str = field(default_factory=next_write_id)
    aio: asyncio.Future[Any] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    # Rows (by table: accounts, packets, campaigns, …) an earlier run needed while another writer held one
    # (locks.py): the next batch locks them before its jobs.
    rows: dict[str, set[Key]] = field(default_factory=dict)
    deferrals: int = 0  # batches this job was sent on from


class Deferred(Exception):
    """The outcome of a job that met rows held by another writer: rolled back, it runs again in the next batch."""


DEFERRALS_MAX = 8  # then the job waits for its rows mid-batch, as before (a deadlock then fails the batch)


def rows_wanted(batch: list[Job]) -> dict[str, set[Key]]:
    """The rows the batch's jobs are known to need, by table, for the writer to lock before the first job."""
    wanted: dict[str, set[Key]] = {}
    for job in batch:
        for table, keys in job.rows.items():
            wanted.setdefault(table, set()).update(keys)
    return wanted


def copy_outcomes(jobs: list[Job]) -> None:
    """On the caller's loop: each job's outcome, from the writer's future to the one its caller awaits."""
    for job in jobs:
        aio = job.aio
        if aio is None or aio.done() or job.fut.cancelled():
            continue
        exc = job.fut.exception()
        if exc is None:
            aio.set_result(job.fut.result())
        else:
            aio.set_exception(exc)


def run_jobs(conn: Connection, tx: SqlTx, batch: list[Job]) -> list[tuple[bool, Any]]:
    """Every job of the batch in order, a `Bulk` key's jobs together where the first of them stands."""
    by_key: dict[Hashable, list[int]] = {}
    for i, job in enumerate(batch):
        if isinstance(job.fn, Bulk):
            by_key.setdefault(job.fn.key, []).append(i)
    done: dict[int, tuple[bool, Any]] = {}
    for i, job in enumerate(batch):
        if i in done:
            continue
        if isinstance(job.fn, Bulk):
            group = by_key[job.fn.key]
            done.update(zip(group, run_bulk(conn, tx, [batch[j] for j in group]), strict=True))
        else:
            done[i] = run_job(conn, tx, job)
    return [done[i] for i in range(len(batch))]


def run_job(conn: Connection, tx: SqlTx, job: Job, *, alone: bool = False) -> tuple[bool, Any]:
    """Run one job in its own SAVEPOINT; a refusal or a bug fails the job alone, a database failure the batch.

    `alone`: the batch's only job, run without a SAVEPOINT; if it fails, the caller rolls the whole transaction back
    (its marker too: nothing was committed, so there is nothing to ask about), which undoes what the savepoint would,
    and a write that comes alone saves two statements (two round trips on PostgreSQL)."""
    fn = job.fn
    assert not isinstance(fn, Bulk)
    tx.write_id = job.write_id
    tx.start_job()
    held = tx.held
    if job.deferrals >= DEFERRALS_MAX:
        tx.held = None  # this job alone waits for its locks: never deferred for ever
    savepoint = None if alone else conn.begin_nested()
    try:
        value = fn(tx)
    except RowsBusy as busy:
        return False, defer(savepoint, tx, [job], busy)
    except Exception as exc:
        failure = failed(savepoint, exc)
        tx.job_rolled_back()
        return False, failure
    finally:
        tx.held = held
    if savepoint is not None:
        savepoint.commit()
    return True, value


def run_bulk(conn: Connection, tx: SqlTx, jobs: list[Job]) -> list[tuple[bool, Any]]:
    """One key's bulk jobs in one SAVEPOINT; if that fails as a whole, each alone (a failing item fails alone)."""
    first = jobs[0].fn
    assert isinstance(first, Bulk)
    items = [(job.write_id, job.fn.item) for job in jobs if isinstance(job.fn, Bulk)]
    tx.start_job()
    held = tx.held
    if max(job.deferrals for job in jobs) >= DEFERRALS_MAX:
        tx.held = None
    savepoint = conn.begin_nested()
    try:
        results = first.settle(tx, items)
        assert len(results) == len(items), "a bulk settle answers every item"
    except RowsBusy as busy:  # the key's jobs together: alone, each would lock its packet out of id order
        return [(False, defer(savepoint, tx, jobs, busy))] * len(jobs)
    except Exception as exc:
        failure = failed(savepoint, exc)
        tx.job_rolled_back()
        if len(jobs) == 1:
            return [(False, failure)]
        return [result for job in jobs for result in run_bulk(conn, tx, [job])]
    finally:
        tx.held = held
    savepoint.commit()
    return results


def defer(savepoint: Any, tx: SqlTx, jobs: list[Job], busy: RowsBusy) -> Deferred:
    """Roll back jobs that met rows another writer holds; each remembers every row it needs (those it locked or
    tried to, and the busy ones), for its next batch to lock up front."""
    if savepoint is not None:  # None: the caller rolls the transaction back (run_job alone)
        savepoint.rollback()
    tx.job_rolled_back()
    needed = {table: set(keys) for table, keys in tx.job_rows.items() if keys}
    needed.setdefault(busy.table, set()).update(busy.ids)
    for job in jobs:
        for table, keys in needed.items():
            job.rows.setdefault(table, set()).update(keys)
        job.deferrals += 1
    return Deferred(str(busy))


def failed(savepoint: Any, exc: Exception) -> Exception:
    """Roll a job's savepoint back (None: the caller rolls the transaction back) and return its failure; re-raise
    what ends the whole attempt."""
    if isinstance(exc, DBAPIError) and (
        isinstance(exc, InterfaceError) or exc.connection_invalidated
        or (isinstance(exc, OperationalError) and (is_retryable(exc) or unreachable(exc)))
    ):
        raise exc  # deadlock, serialization failure or lost connection: the whole attempt is over
    if savepoint is not None:
        savepoint.rollback()
    if not isinstance(exc, HongbaoError):  # a bug in one job (or a constraint it did not turn into a refusal)
        log.error("write job failed", exc_info=exc)
    return exc
