"""Two writers crossing on the same rows: what the test_opposite_* files share (bench/two_writers*.py too).

Two `SqlStore`s on one PostgreSQL database (the `stores` fixture, conftest.py), each with its own writer thread and
connection, as two processes have.  `both_at_once` starts both writers' drives together; a drive submits its writes
all at once (`one_batch`), so each writer runs them as one batch in its order.  `deadlocks` reads what PostgreSQL
counted in the database, once both stores are closed (a backend reports its statistics when it ends)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from sqlalchemy import create_engine, text

from hongbao.adapters.sql.store import SqlStore


def both_at_once(stores: Sequence[SqlStore], drive: Callable[[int, SqlStore], Coroutine[Any, Any, None]]) -> None:
    """Run `drive(i, store)` for each store at once, each on its own event loop in a thread; re-raise the first
    failure once all are done."""
    start = threading.Barrier(len(stores))
    failures: list[BaseException] = []

    def run(i: int, store: SqlStore) -> None:
        start.wait()
        try:
            asyncio.run(drive(i, store))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i, store)) for i, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


async def one_batch(store: SqlStore, writes: Sequence[Callable[[Any], Any]]) -> list[Any]:
    """Submit `writes` together (one batch, in this order); their outcomes, an exception where one failed."""
    return list(await asyncio.gather(*(store.write(w) for w in writes), return_exceptions=True))


def deadlocks(stores: Sequence[SqlStore], patience_s: float = 10.0) -> int:
    """The deadlocks PostgreSQL counted in the stores' database (fresh: none before), after closing the stores and
    waiting for their backends to end and report."""
    for store in stores:
        store.close()
    engine = create_engine(stores[0].url)
    deadline = time.monotonic() + patience_s
    try:
        with engine.connect() as conn:
            while conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )).scalar_one() and time.monotonic() < deadline:
                time.sleep(0.05)
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            return int(conn.execute(
                text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            ).scalar_one())
    finally:
        engine.dispose()


def wait_for(condition: Callable[[], bool], patience_s: float = 30.0) -> None:
    deadline = time.monotonic() + patience_s
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.01)
