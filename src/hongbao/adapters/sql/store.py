"""Engines for SQLite and PostgreSQL, and the one writer thread that group-commits every write.

Every write is a job: a function of a `SqlTx`.  The writer thread takes all jobs waiting (up to
`batch_max`), runs each inside its own SAVEPOINT of one transaction, commits once, then answers
each caller.  A job that raises a `HongbaoError` rolls back only its savepoint.  Many concurrent
opens thus cost one durable commit (DESIGN.md §4: group commit), and SQLite sees one writer.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from hongbao.adapters.sql.tx import SqlTx
from hongbao.domain.errors import HongbaoError

T = TypeVar("T")
log = logging.getLogger(__name__)

_STOP = object()


def make_engine(url: str, *, pool_size: int = 4) -> Engine:
    """An engine with the settings money needs: WAL and durable commits on SQLite, small pools on PostgreSQL."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=NullPool if ":memory:" in url else None,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide where transactions begin (SAVEPOINTs need it).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # a committed claim survives a power cut
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # The writer's IMMEDIATE takes the write lock up front (no deadlock between two would-be
            # writers); readers take a deferred BEGIN: a consistent WAL snapshot that blocks nobody.
            writer = conn.get_execution_options().get("hongbao_writer", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=pool_size, max_overflow=2, pool_pre_ping=True)


class SqlStore:
    """The SQL store: one writer thread for every write, a small thread pool for reads."""

    def __init__(self, url: str, *, batch_max: int = 256, readers: int = 4) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=readers + 1)
        self.is_sqlite = url.startswith("sqlite")
        self.batch_max = batch_max
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="hongbao-read")
        self._writer = threading.Thread(target=self._write_loop, name="hongbao-writer", daemon=True)
        self._writer.start()
        self.batches = 0  # counters, for benchmarks and tests of group commit
        self.jobs_done = 0

    # ------------------------------------------------------------------ public API

    async def write(self, job: Callable[[SqlTx], T]) -> T:
        """Run `job` in the writer's next transaction; return its result once committed."""
        fut: Future[T] = Future()
        self._jobs.put((job, fut))
        return await asyncio.wrap_future(fut)

    def write_sync(self, job: Callable[[SqlTx], T]) -> T:
        fut: Future[T] = Future()
        self._jobs.put((job, fut))
        return fut.result()

    async def read(self, job: Callable[[SqlTx], T]) -> T:
        """Run `job` on a read connection in a worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.read_sync, job)

    def read_sync(self, job: Callable[[SqlTx], T], *, snapshot: bool = False) -> T:
        """Run `job` on a read connection; `snapshot` gives every statement the same view (audits)."""
        with self.engine.connect() as conn:
            if snapshot and not self.is_sqlite:
                conn.execution_options(isolation_level="REPEATABLE READ")
            result = job(SqlTx(conn, self.is_sqlite))
            conn.rollback()
            return result

    def close(self) -> None:
        if self._writer.is_alive():
            self._jobs.put(_STOP)
            self._writer.join(timeout=30)
        self._readers.shutdown(wait=True)
        self.engine.dispose()

    # ------------------------------------------------------------------ the writer

    def _write_loop(self) -> None:
        while True:
            first = self._jobs.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < self.batch_max:
                try:
                    nxt = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
            self._run_batch(batch)
            if stop:
                return

    def _run_batch(self, batch: list[tuple[Callable[[SqlTx], Any], Future[Any]]]) -> None:
        for attempt in range(3):
            try:
                outcomes = self._attempt(batch)
            except (OperationalError, DBAPIError) as exc:
                # Deadlock or serialization failure against another process, or a lost connection:
                # the whole transaction rolled back, so running the jobs again is safe.
                log.warning("write batch of %d failed (attempt %d): %s", len(batch), attempt + 1, exc)
                continue
            self.batches += 1
            self.jobs_done += len(batch)
            for (_, fut), (ok, value) in zip(batch, outcomes, strict=True):
                if fut.set_running_or_notify_cancel():
                    if ok:
                        fut.set_result(value)
                    else:
                        fut.set_exception(value)
            return
        if len(batch) > 1:
            for item in batch:  # isolate the job that keeps failing
                self._run_batch([item])
            return
        _, fut = batch[0]
        if fut.set_running_or_notify_cancel():
            fut.set_exception(RuntimeError("the store could not commit this write; nothing was changed"))

    def _attempt(self, batch: list[tuple[Callable[[SqlTx], Any], Future[Any]]]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        with self.engine.connect() as conn:
            conn.execution_options(hongbao_writer=True)
            with conn.begin():
                tx = SqlTx(conn, self.is_sqlite)
                for job, _ in batch:
                    savepoint = conn.begin_nested()
                    try:
                        value = job(tx)
                    except HongbaoError as exc:
                        savepoint.rollback()
                        outcomes.append((False, exc))
                    except OperationalError as exc:
                        savepoint.rollback()
                        if _is_retryable(exc):
                            raise
                        outcomes.append((False, exc))
                    except Exception as exc:  # a bug in one job must not take the batch down
                        savepoint.rollback()
                        log.exception("write job failed")
                        outcomes.append((False, exc))
                    else:
                        savepoint.commit()
                        outcomes.append((True, value))
        return outcomes


def _is_retryable(exc: OperationalError) -> bool:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in ("40001", "40P01") or "locked" in str(exc)
