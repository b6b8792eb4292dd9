"""The engines money needs (WAL and durable commits on SQLite, bounded waits on PostgreSQL), and how the writer
reads a database failure: unreachable, busy (deadlock, serialization, a locked file), or a bad statement."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, create_engine, event, literal_column
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)


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
    # Bounded waits on a dead network: connecting gives up after 5 s; keepalives notice a peer that vanished
    # while we wait for a reply (~11 s), and unacknowledged data fails the connection after 15 s.  A server-side
    # transaction whose client vanished without a FIN ends after 60 s idle, so a lost batch is decided by then.
    pg_args = {
        "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
        "keepalives_count": 3, "tcp_user_timeout": 15_000,
        "options": "-c idle_in_transaction_session_timeout=60000",
    }
    return create_engine(url, pool_size=pool_size, max_overflow=2, pool_pre_ping=True, connect_args=pg_args)


def discard(conn: Connection) -> None:
    """Throw a connection away after a failure: it may be mid-protocol, or still hold the SQLite write lock."""
    try:
        conn.invalidate()
    except Exception:  # already gone
        log.debug("invalidate failed", exc_info=True)
    try:
        conn.close()
    except Exception:
        log.debug("close failed", exc_info=True)


def db_now_ms(is_sqlite: bool) -> Any:
    """The database server's clock in ms, as SQL: markers are stamped and pruned by one clock for every process."""
    if is_sqlite:
        return literal_column("CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)")
    return literal_column("CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)")


def first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def unreachable(exc: OperationalError) -> bool:
    """A failure to reach or keep the database (not a bad statement, such as SQLite's 'no such table')."""
    if exc.connection_invalidated:
        return True
    message = str(exc.orig).lower()
    return not any(word in message for word in ("no such", "syntax error", "has no column"))


def is_retryable(exc: OperationalError) -> bool:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in ("40001", "40P01") or "locked" in str(exc)
