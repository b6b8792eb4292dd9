"""The one writer thread that group-commits every write, exactly once (its engines: engine.py; its jobs: jobs.py).

Every write is a job: a function of a `SqlTx`.  The writer thread takes all jobs waiting (up to
`batch_max`; with a write other than an open among them, at most `bulk_beside_writes_max` opens),
runs each inside its own SAVEPOINT of one transaction, commits once, then answers each caller.
A job that raises a `HongbaoError` rolls back only its savepoint.  Many concurrent opens thus cost
one durable commit (DESIGN.md §4: group commit), and SQLite sees one writer.

Exactly once.  Each attempt at a batch first inserts a marker row (`write_batches`, a fresh random
id) inside the batch's transaction, so it commits with the batch or not at all.  When an attempt
fails, the writer knows one of three things:
- the failure came before COMMIT was sent (a refused connection, a deadlock, a dropped connection
  mid-batch): nothing committed, and the batch may run again;
- COMMIT was sent and no reply came (the connection died, the reply was lost): the outcome is
  unknown, so the writer asks.  On a new connection it inserts the same marker id itself.  If the
  lost transaction committed, that insert hits the key and the batch's computed outcomes are
  answered; if it did not, the insert succeeds (waiting first, on PostgreSQL, for a transaction
  still in flight to end), which also makes sure the lost one can never commit later, and the
  batch runs again under a new id.  Never both.
- the database cannot be reached to ask: the callers get `store_unavailable` with the outcome
  unknown (a keyed retry then gets the first answer), and the writer settles the question later.

The writer never dies: whatever a batch raises, its callers are answered (`store_unavailable`, 503,
when the database is away) and the loop goes on with a fresh connection.  A caller waits at most
`write_timeout_s`; a job it gave up on before the writer took it never runs.  Every transfer carries
its write's id and its batch's id, so reconcile can see a write that took effect twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import secrets
import sqlite3
import threading
import time
from bisect import bisect_left
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from hongbao.adapters.sql import hot
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.engine import db_now_ms, discard, first_line, is_retryable, make_engine, unreachable
from hongbao.adapters.sql.jobs import Deferred, Job, copy_outcomes, rows_wanted, run_job, run_jobs
from hongbao.adapters.sql.lookup import SqlLookup, cursor_rows
from hongbao.adapters.sql.tx import SqlTx
from hongbao.domain.errors import HongbaoError, store_unavailable
from hongbao.service.ports import Bulk

T = TypeVar("T")
log = logging.getLogger(__name__)

_STOP = object()
BATCH_MARKERS_KEEP_S = 3600  # a lost reply is settled within minutes; markers older than this are pruned
PRUNE_EVERY_S = 600.0
BATCH_SIZE_BOUNDS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)  # upper bounds of the batch-size histogram


class _RolledBack(Exception):
    """An attempt failed before its COMMIT was sent: nothing of it committed.  `busy`: a deadlock, a
    serialization failure or a locked SQLite file (the database answered); otherwise it was unreachable."""

    def __init__(self, cause: BaseException, *, busy: bool) -> None:
        super().__init__(str(cause))
        self.busy = busy


class _CommitUnknown(Exception):
    """COMMIT was sent and no answer came back: the batch may or may not have committed."""

    def __init__(self, cause: BaseException, outcomes: list[tuple[bool, Any]]) -> None:
        super().__init__(str(cause))
        self.outcomes = outcomes


class SqlStore:
    """The SQL store: one writer thread for every write, a small thread pool for reads."""

    def __init__(
        self,
        url: str,
        *,
        batch_max: int = 256,
        bulk_beside_writes_max: int = 32,
        readers: int = 4,
        write_timeout_s: float = 30.0,
        write_retry_s: float = 2.0,
        write_resolve_s: float = 3.0,
    ) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=readers + 1)
        self.is_sqlite = url.startswith("sqlite")
        self.batch_max = batch_max
        # A batch that holds a write other than an open (a send, a transfer, a login's write) settles at most this
        # many opens with it; the rest go first into the next batch (`_beside_writes`).
        self.bulk_beside_writes_max = bulk_beside_writes_max
        self.write_timeout_s = write_timeout_s  # the longest a caller waits for its write
        self.write_retry_s = write_retry_s  # how long a batch that surely did not commit is tried again
        self.write_resolve_s = write_resolve_s  # how long a lost COMMIT's outcome is asked before callers hear 503
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="hongbao-read")
        # Lookups on SQLite run on the caller's thread, each thread on a connection of its own (lookup.py); not on
        # an in-memory database, where every connection is another database.
        database = self.engine.url.database
        self._look_here = self.is_sqlite and bool(database) and database != ":memory:" and "memory" not in url
        self._lookers = threading.local()
        self._looker_conns: list[Any] = []  # every thread's lookup connection, closed with the store
        self._looker_lock = threading.Lock()
        self._dbapi_error: type[Exception] = self.engine.dialect.loaded_dbapi.Error  # sqlite3's, psycopg's
        self._closed = False
        self.batches = 0  # counters, for benchmarks, tests and /ready
        self.jobs_done = 0
        self.writer_cpu_s = 0.0  # CPU the writer thread spent on batches (time.thread_time): cost per write, unloaded
        self.batch_sizes = [0] * (len(BATCH_SIZE_BOUNDS) + 1)  # committed batches by size (the last: larger)
        self.unknown_commits = 0  # COMMITs whose reply was lost (each then settled by asking)
        self.unavailable_answers = 0  # jobs answered store_unavailable
        self.busy_failures = 0  # attempts the database refused as busy: deadlocks, serialization failures, lock waits
        self.deferred_jobs = 0  # jobs sent on to the next batch: another writer held their rows (tx_ledger.py)
        self.carried_jobs = 0  # opens sent on to the next batch, so that a write beside them committed sooner
        self.unresolved: list[str] = []  # batch ids whose outcome could not be asked yet (logged when settled)
        self.busy_since: float | None = None  # monotonic start of the batch now running, None when idle
        self.last_failure: float | None = None  # monotonic time the database last failed a batch
        self._last_prune = time.monotonic()
        self._db_now_ms = db_now_ms(self.is_sqlite)
        self._marker_sql = f"INSERT INTO write_batches (id, created_at_ms) VALUES (?, {self._db_now_ms.name})"
        self._writer_conn: Connection | None = None  # the writer thread's own, kept between batches
        self._deferred: list[Job] = []  # jobs to run first in the next batch, their rows locked up front
        self._writer = threading.Thread(target=self._write_loop, name="hongbao-writer", daemon=True)
        self._writer.start()

    # ------------------------------------------------------------------ public API

    async def write(self, job: Callable[[SqlTx], T]) -> T:
        """Run `job` in the writer's next transaction; return its result once committed.

        Raises `store_unavailable` (503) when the database did not take it within `write_timeout_s`: with
        nothing changed when the writer never started the job, else with its outcome unknown."""
        result: T = await self._submit(job)
        return result

    async def settle(self, bulk: Bulk[Any]) -> Any:
        """Like `write`, for a `Bulk` write settled with the others of its key in the same batch."""
        return await self._submit(bulk)

    async def _submit(self, fn: Callable[[SqlTx], Any] | Bulk[Any]) -> Any:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()
        item = Job(fn, Future(), aio=answer, loop=loop)
        timer = loop.call_later(self.write_timeout_s, self._time_out, item)
        self._jobs.put(item)
        try:
            return await answer
        finally:
            timer.cancel()

    def _time_out(self, item: Job) -> None:
        """On the caller's loop, `write_timeout_s` after the submit: answer now unless the answer is on its way."""
        assert item.aio is not None
        if item.aio.done():
            return
        if item.fut.done():  # answered, its delivery not yet run: deliver it now
            copy_outcomes([item])
            return
        item.aio.set_exception(self._gave_up(item))

    def write_sync(self, job: Callable[[SqlTx], T]) -> T:
        item = Job(job, Future())
        self._jobs.put(item)
        try:
            return item.fut.result(timeout=self.write_timeout_s)  # type: ignore[no-any-return]
        except TimeoutError:
            raise self._gave_up(item) from None

    def _gave_up(self, item: Job) -> HongbaoError:
        # cancel() succeeds only while the job waits in the queue: the writer then skips it, nothing changes.
        started = not item.fut.cancel()
        log.warning("a write waited %.0f s for the database (%s)", self.write_timeout_s,
                    "outcome unknown" if started else "never started")
        return store_unavailable(outcome_unknown=started)

    async def read(self, job: Callable[[SqlTx], T]) -> T:
        """Run `job` on a read connection in a worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.read_sync, job)

    async def look(self, job: Callable[[SqlLookup], T]) -> T:
        """Run a lookup (a row or two by key, lookup.py): on SQLite here, on this thread's own connection, without
        ever waiting for a lock (busy, it goes to a reader thread instead); on PostgreSQL in a reader thread."""
        if self._look_here:
            cursor = self._lookers.__dict__.get("cursor") or self._looker()
            if cursor is not None:
                try:
                    cursor.execute("BEGIN")  # one view for every statement of the job
                    try:
                        return job(SqlLookup(cursor_rows(self.engine.dialect, cursor)))
                    finally:
                        cursor.execute("ROLLBACK")
                except sqlite3.Error as exc:
                    # Busy (SQLite would make it wait), or failing: a reader thread runs it, whose connection
                    # waits for a lock and whose failures are answered as every read's are (store_unavailable).
                    log.debug("lookup goes to a reader thread: %s", first_line(exc))
                    self._drop_looker()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.look_sync, job)

    def look_sync(self, job: Callable[[SqlLookup], T]) -> T:
        """Run a lookup in this thread (a reader thread).  On PostgreSQL on a connection this thread keeps, in
        autocommit: a lookup is one statement, so one round trip, where a read of the pool takes five (pre-ping,
        BEGIN, the statement, ROLLBACK and the pool's reset).  On SQLite, and when that connection fails (a restarted
        server, a fault), on a read connection of the pool, whose failures are answered as every read's are."""
        if not self.is_sqlite:
            cursor = self._lookers.__dict__.get("cursor") or self._looker()
            if cursor is not None:
                try:
                    return job(SqlLookup(cursor_rows(self.engine.dialect, cursor)))
                except self._dbapi_error as exc:
                    log.debug("lookup goes to a pooled connection: %s", first_line(exc))
                    self._drop_looker()
        return self.read_sync(lambda tx: job(SqlLookup(partial(hot.rows, tx.conn))))

    def _looker(self) -> Any:
        """This thread's lookup cursor, on a connection taken from the engine (its pragmas, its faults) and kept:
        on SQLite read only and never waiting for a lock, on PostgreSQL in autocommit.  None once the store is
        closed, or when none can be opened."""
        if self._closed:
            return None
        try:
            pooled = self.engine.raw_connection()
            conn: Any = pooled.driver_connection
            pooled.detach()  # this thread's own from now on: the pool opens another in its place
            if self.is_sqlite:
                conn.execute("PRAGMA busy_timeout=0")
                conn.execute("PRAGMA query_only=1")
            else:
                conn.autocommit = True  # each lookup is one statement: its own snapshot, no BEGIN and ROLLBACK
        except (OperationalError, InterfaceError, PoolTimeout, self._dbapi_error):
            return None
        cursor = conn.cursor()
        self._lookers.conn, self._lookers.cursor = conn, cursor
        with self._looker_lock:
            self._looker_conns.append(conn)
        return cursor

    def _drop_looker(self) -> None:
        conn = self._lookers.__dict__.pop("conn", None)
        self._lookers.__dict__.pop("cursor", None)
        if conn is not None:
            with self._looker_lock:
                if conn in self._looker_conns:  # not when the store closed it already
                    self._looker_conns.remove(conn)
            with contextlib.suppress(self._dbapi_error):
                conn.close()

    def read_sync(self, job: Callable[[SqlTx], T], *, snapshot: bool = False) -> T:
        """Run `job` on a read connection; `snapshot` gives every statement the same view (audits).
        Raises `store_unavailable` when the database cannot be reached."""
        try:
            with self.engine.connect() as conn:
                if snapshot and not self.is_sqlite:
                    conn.execution_options(isolation_level="REPEATABLE READ")
                result = job(SqlTx(conn, self.is_sqlite))
                conn.rollback()
                return result
        except (OperationalError, InterfaceError, PoolTimeout) as exc:
            if isinstance(exc, OperationalError) and not unreachable(exc):
                raise
            log.warning("read failed, database unavailable: %s", first_line(exc))
            raise store_unavailable() from exc

    def health(self, *, stuck_after_s: float = 30.0) -> dict[str, Any]:
        """The writer's state for /health and /ready: alive, stuck on one batch, or recently failing."""
        now = time.monotonic()
        busy = self.busy_since
        writer = "ok"
        if not self._writer.is_alive():
            writer = "dead"
        elif busy is not None and now - busy > stuck_after_s:
            writer = "stuck"
        return {
            "writer": writer,
            "queued": self._jobs.qsize(),
            "batches": self.batches,
            "unknown_commits": self.unknown_commits,
            "unresolved": len(self.unresolved),
            "failed_recently": self.last_failure is not None and now - self.last_failure < 5.0,
        }

    def ping(self) -> bool:
        """Whether a read connection answers a trivial query now (for /ready)."""
        try:
            self.read_sync(lambda tx: tx.conn.execute(text("SELECT 1")).scalar())
        except HongbaoError:
            return False
        return True

    def close(self, *, timeout_s: float = 10.0) -> None:
        if self._writer.is_alive():
            self._jobs.put(_STOP)
            self._writer.join(timeout=timeout_s)  # a daemon thread: a stuck writer cannot keep the process up
        self._readers.shutdown(wait=True)
        self._closed = True
        with self._looker_lock:
            conns, self._looker_conns = self._looker_conns, []
        for conn in conns:  # a thread's lookup connection, idle between its lookups
            with contextlib.suppress(self._dbapi_error):
                conn.close()
        self.engine.dispose()

    # ------------------------------------------------------------------ the writer

    def _write_loop(self) -> None:
        stop = False
        while True:
            batch, self._deferred = self._deferred, []
            if not batch:
                if stop:
                    self._let_go()
                    return
                first = self._jobs.get()
                if first is _STOP:
                    self._let_go()
                    return
                item: Any = first
            else:
                item = None if stop else self._next_job()
            while item is not None:
                if item is _STOP:
                    stop = True
                    break
                # A job whose caller gave up before now never runs; the others can no longer be cancelled.
                if item.fut.set_running_or_notify_cancel():
                    batch.append(item)
                if len(batch) >= self.batch_max:
                    break
                item = self._next_job()
            if batch:
                batch = self._beside_writes(batch)
                self.busy_since = time.monotonic()
                cpu0 = time.thread_time()
                try:
                    self._run_batch(batch)
                except BaseException as exc:  # the writer must outlive anything a batch raises
                    log.exception("write batch failed unexpectedly")
                    self._answer_unavailable(batch, outcome_unknown=True, cause=exc)
                finally:
                    self.busy_since = None
                    self.writer_cpu_s += time.thread_time() - cpu0
                self._deliver(batch)
                self._prune_markers()

    def _beside_writes(self, batch: list[Job]) -> list[Job]:
        """The batch to run now: when it holds a write other than an open, that write and at most
        `bulk_beside_writes_max` opens; the other opens go, in their order, first into the next batch.

        An open storm fills every batch with opens (up to `batch_max`): a send queued behind them would otherwise
        wait for a whole batch of them to settle and commit, then for another.  Opens alone still go in batches
        of up to `batch_max` (their throughput is the group commit's)."""
        bulk = [job for job in batch if isinstance(job.fn, Bulk)]
        if len(bulk) <= self.bulk_beside_writes_max or len(bulk) == len(batch):
            return batch
        carried = bulk[self.bulk_beside_writes_max:]
        self.carried_jobs += len(carried)
        self._deferred = carried + self._deferred
        kept = set(map(id, carried))
        return [job for job in batch if id(job) not in kept]

    def _next_job(self) -> Any:
        """The next job waiting, `_STOP`, or None when none waits."""
        try:
            return self._jobs.get_nowait()
        except queue.Empty:
            return None

    def _let_go(self) -> None:
        """The writer stops: its connection goes back."""
        if self._writer_conn is not None:
            try:
                self._writer_conn.close()
            except Exception:  # already broken
                log.debug("closing the writer's connection failed", exc_info=True)
            self._writer_conn = None

    def _run_batch(self, batch: list[Job]) -> None:
        """Commit `batch` exactly once and answer every job, or answer store_unavailable."""
        started = time.monotonic()
        delay_s = 0.05
        busy_failures = 0
        while True:
            batch_id = secrets.token_hex(16)
            try:
                outcomes = self._attempt(batch, batch_id)
            except _CommitUnknown as lost:
                self.unknown_commits += 1
                log.warning("batch %s: COMMIT sent, no reply (%s); asking whether it committed", batch_id, lost)
                committed = self._resolve(batch_id)
                if committed is None:
                    self.unresolved.append(batch_id)
                    self._answer_unavailable(batch, outcome_unknown=True, cause=lost)
                    return
                if committed:
                    log.warning("batch %s had committed: answering its outcomes", batch_id)
                    self._answer(batch, lost.outcomes)
                    return
                log.warning("batch %s had not committed (and now never will): run again if time allows", batch_id)
                self.last_failure = time.monotonic()
            except _RolledBack as failed:
                self.last_failure = time.monotonic()
                if failed.busy:
                    busy_failures += 1
                    self.busy_failures += 1
                    if busy_failures >= 3 and len(batch) > 1:
                        for job in batch:  # isolate the job that keeps failing
                            self._run_batch([job])
                        return
                log.warning("write batch of %d failed before COMMIT (%s): %s", len(batch),
                            "busy" if failed.busy else "unreachable", failed)
            else:
                try:  # the database answers again: rare, and settled before anyone is told
                    self._settle_unresolved()
                except Exception:  # never let the old question spoil this batch's answers: it committed
                    log.exception("settling earlier unknown batches failed; asking again after the next batch")
                self._answer(batch, outcomes)
                return
            if time.monotonic() - started + delay_s > self.write_retry_s:
                self._answer_unavailable(batch, outcome_unknown=False, cause=None)
                return
            time.sleep(delay_s)
            delay_s = min(delay_s * 2, 0.5)

    def _attempt(self, batch: list[Job], batch_id: str) -> list[tuple[bool, Any]]:
        """One transaction for the whole batch; raises `_RolledBack` or `_CommitUnknown` when it fails."""
        outcomes: list[tuple[bool, Any]] = []
        conn: Connection | None = None
        committing = False
        try:
            conn = self._writer_conn
            if conn is None:  # kept from batch to batch (no pool checkout, no PostgreSQL pre-ping round trip)
                conn = self._writer_conn = self.engine.connect()
                conn.execution_options(hongbao_writer=True)
            trans = conn.begin()
            hot.run(conn, self._marker_sql, (batch_id,))  # driver SQL: every batch pays it
            tx = SqlTx(conn, self.is_sqlite, batch_id)
            if not self.is_sqlite:  # other processes' writers share the rows: lock them in one order (locks.py)
                tx.lock_in_order(rows_wanted(batch))
            if len(batch) == 1 and not isinstance(batch[0].fn, Bulk):
                outcomes = [run_job(conn, tx, batch[0], alone=True)]
            else:
                outcomes = run_jobs(conn, tx, batch)
            if any(ok for ok, _ in outcomes):
                committing = True
                trans.commit()
            else:  # every job failed or was deferred (a refusal, most often): nothing to keep, the marker neither
                trans.rollback()
        except BaseException as exc:
            if conn is not None:  # a broken connection, or one that failed mid-batch: the next batch connects anew
                discard(conn)
                self._writer_conn = None
            if committing:
                raise _CommitUnknown(exc, outcomes) from exc
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt, SystemExit: not the database's doing
            # Nothing was committed: COMMIT was never sent.  (Any other exception here, such as SQLAlchemy's
            # PendingRollbackError on a connection that broke, means the same.)
            raise _RolledBack(exc, busy=isinstance(exc, OperationalError) and is_retryable(exc)) from exc
        self.batches += 1
        self.jobs_done += sum(1 for _, value in outcomes if not isinstance(value, Deferred))
        self.batch_sizes[bisect_left(BATCH_SIZE_BOUNDS, len(batch))] += 1  # /metrics: writes per group commit
        return outcomes

    def _resolve(self, batch_id: str, patience_s: float | None = None) -> bool | None:
        """Whether the batch with this marker committed; None when the database cannot be asked in time.

        Inserting the marker ourselves (as a tombstone) is the question: the key is taken if the lost transaction
        committed; if it is still in flight (PostgreSQL) the insert waits for it to end; once our insert commits,
        the lost transaction can never commit.  Our own insert's reply can be lost too: a key found taken by a
        tombstone is our earlier answer, "not committed"."""
        patience_s = self.write_resolve_s if patience_s is None else patience_s
        deadline = time.monotonic() + patience_s
        delay_s = 0.05
        while True:
            try:
                with self.engine.connect() as conn, conn.begin():
                    if not self.is_sqlite:
                        # Wait for a lost transaction still in flight only as long as patience lasts (a timeout
                        # leaves the answer unknown, which is safe); with none, don't wait on it at all.
                        left_ms = int((deadline - time.monotonic()) * 1000)
                        if left_ms > 0:
                            conn.execute(text(f"SET LOCAL statement_timeout = {max(left_ms, 1000)}"))
                        else:
                            conn.execute(text("SET LOCAL lock_timeout = 100"))
                    conn.execute(
                        insert(s.write_batches).values(id=batch_id, created_at_ms=self._db_now_ms, tombstone=True)
                    )
                return False
            except IntegrityError:
                found = self._marker(batch_id)
                if found is not None:
                    return not found
            except (DBAPIError, PoolTimeout) as exc:
                log.warning("batch %s: cannot ask yet (%s)", batch_id, first_line(exc))
            if time.monotonic() + delay_s > deadline:
                return None
            time.sleep(delay_s)
            delay_s = min(delay_s * 2, 1.0)

    def _marker(self, batch_id: str) -> bool | None:
        """Whether the marker of `batch_id` is a tombstone (True) or the batch's own (False); None if unreadable."""
        try:
            with self.engine.connect() as conn:
                found = conn.execute(
                    select(s.write_batches.c.tombstone).where(s.write_batches.c.id == batch_id)
                ).scalar_one_or_none()
        except (DBAPIError, PoolTimeout) as exc:
            log.warning("batch %s: cannot read its marker yet (%s)", batch_id, first_line(exc))
            return None
        return None if found is None else bool(found)

    def _settle_unresolved(self) -> None:
        """Once the database answers again, find out (and log) what became of batches nobody could ask about."""
        while self.unresolved:
            batch_id = self.unresolved[0]
            committed = self._resolve(batch_id, patience_s=0.0)
            if committed is None:
                return
            self.unresolved.pop(0)
            log.warning("batch %s, answered 'outcome unknown' earlier, %s", batch_id,
                        "had committed" if committed else "had not committed (and now never will)")

    def _deliver(self, batch: list[Job]) -> None:
        """Hand the batch's outcomes to the async callers: one call per event loop, whatever the batch's size."""
        by_loop: dict[asyncio.AbstractEventLoop, list[Job]] = {}
        for job in batch:
            if job.loop is not None and job.fut.done():  # a deferred job is answered after its next batch
                by_loop.setdefault(job.loop, []).append(job)
        for loop, jobs in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a loop closed meanwhile: nobody waits there any more
                loop.call_soon_threadsafe(copy_outcomes, jobs)

    def _answer(self, batch: list[Job], outcomes: list[tuple[bool, Any]]) -> None:
        """Answer each job's caller; a deferred job instead goes first into the next batch."""
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            if job.fut.done():
                continue
            if isinstance(value, Deferred):
                self.deferred_jobs += 1
                self._deferred.append(job)
            elif ok:
                job.fut.set_result(value)
            else:
                job.fut.set_exception(value)

    def _answer_unavailable(self, batch: list[Job], *, outcome_unknown: bool, cause: BaseException | None) -> None:
        self.last_failure = time.monotonic()
        for job in batch:
            if not job.fut.done():
                self.unavailable_answers += 1
                exc = store_unavailable(outcome_unknown=outcome_unknown)
                exc.__cause__ = cause
                job.fut.set_exception(exc)

    def _prune_markers(self) -> None:
        """Delete batch markers older than an hour, every ten minutes; a failure here waits for the next turn."""
        now = time.monotonic()
        if now - self._last_prune < PRUNE_EVERY_S:
            return
        self._last_prune = now
        try:
            with self.engine.connect() as conn:
                conn.execution_options(hongbao_writer=True)
                with conn.begin():
                    # The database's clock, as the markers were stamped with: a process whose clock runs an hour
                    # ahead must not delete another's fresh marker (its lost reply would then read "not committed").
                    older = self._db_now_ms - BATCH_MARKERS_KEEP_S * 1000
                    w = s.write_batches
                    conn.execute(delete(w).where(w.c.created_at_ms < older, w.c.id.not_in(self.unresolved)))
        except Exception as exc:  # the writer outlives it; the next turn tries again
            log.warning("pruning batch markers failed: %s", first_line(exc))


