"""Faults injected at a store's COMMIT, for the simulator and the fault drills: a request or a reply lost.

A real database connection can fail at the worst moment: the COMMIT is sent and the connection dies
before the reply comes back, so the client cannot know whether its transaction committed.  The
writer must then find out (it asks the database whether its batch marker exists) rather than guess.
`inject` wraps one engine's commit so that a test or the simulator can make that happen on purpose,
on SQLite as on PostgreSQL, without a proxy:

    lose_request   the COMMIT never reaches the database: the transaction rolls back.
    lose_reply     the database commits, then the reply is lost: the writer sees an error.
    unreachable    while it answers True, every new or pooled connection, and every statement on one already
                   open, fails as a stopped server's would (a database restart, a network cut); the store must
                   answer 503, not hang.

Each is a function called once per commit that answers whether this commit fails that way, so a
seeded `random.Random` gives the same faults in the same order on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError


def never() -> bool:
    return False


@dataclass
class CommitFaults:
    """What happens to each commit of one engine, and how often it happened."""

    lose_request: Callable[[], bool] = never
    lose_reply: Callable[[], bool] = never
    unreachable: Callable[[], bool] = never
    requests_lost: int = field(default=0, init=False)
    replies_lost: int = field(default=0, init=False)
    commits: int = field(default=0, init=False)


def inject(engine: Engine, faults: CommitFaults) -> CommitFaults:
    """Make every later commit on `engine` subject to `faults`; returns `faults`, whose counters it keeps."""
    dialect: Any = engine.dialect
    dbapi: Any = dialect.loaded_dbapi
    real_commit = dialect.do_commit

    def do_commit(dbapi_connection: Any) -> None:
        faults.commits += 1
        if faults.lose_request():
            faults.requests_lost += 1
            dbapi_connection.rollback()  # what the database does with a transaction whose client is gone
            raise dbapi.OperationalError("injected fault: the COMMIT never reached the database")
        real_commit(dbapi_connection)
        if faults.lose_reply():
            faults.replies_lost += 1
            raise dbapi.OperationalError("injected fault: the database committed and the reply was lost")

    dialect.do_commit = do_commit

    def cut(real: Any) -> Any:
        def execute(*args: Any, **kwargs: Any) -> Any:
            if faults.unreachable():  # a connection already open fails too (the writer keeps one between batches)
                raise dbapi.OperationalError("injected fault: the database is unreachable")
            return real(*args, **kwargs)

        return execute

    for name in ("do_execute", "do_executemany", "do_execute_no_params"):
        setattr(dialect, name, cut(getattr(dialect, name)))

    @event.listens_for(engine, "checkout")
    def _pooled(_dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if faults.unreachable():
            raise DisconnectionError("injected fault: the database is unreachable")  # the pool reconnects...

    @event.listens_for(engine, "do_connect")
    def _connect(*_args: Any) -> None:
        if faults.unreachable():
            raise dbapi.OperationalError("injected fault: connection refused")  # ...and cannot

    return faults
