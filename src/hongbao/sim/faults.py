"""The faults the simulator injects into the store under test, drawn from their own seeded stream.

A fault is drawn before a money request (never inside a burst: which commit of a burst fails would then
depend on how the writer happened to group it, and the same seed must give the same run) and is armed for
that request only; it strikes the `at`-th commit the request causes (the writer's own tombstone commits
count, so a fault can also hit the writer while it asks what became of a lost commit):

    lose_request  the COMMIT never reaches the database (`adapters.sql.faults`): the writer must find
                  out that nothing committed and run the batch again.
    lose_reply    the database commits and the reply is lost: the writer must find out that it
                  committed and answer what it computed, never run it twice.
    restart       the database drops the writer's connection just before its COMMIT: PostgreSQL
                  terminates every backend of the run's database (a restart as clients see it),
                  SQLite's connection is closed under the writer without a clean shutdown.
    outage        the database is unreachable (every connection refused) from the COMMIT until the
                  client has its answer: the store must answer `store_unavailable`, not hang, and
                  the outcome is unknown to the client.
    kill          the process dies right after the COMMIT (kill -9 between commit and reply): the
                  client gets no reply, the App is abandoned without closing (its writer never runs
                  again) and a new App starts on the same database.

What the client does with an unknown outcome is the workload's business (`base.SimBase.money`).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError

from hongbao.adapters.sql.faults import CommitFaults, inject
from hongbao.bootstrap import App

KINDS = ("lose_request", "lose_reply", "restart", "outage", "kill")
# Per money request: most faults the store must hide (lost request, lost reply, restart), some it cannot
# (a kill, an outage).  Outages cost their retry and resolve windows in wall time, so they are rarer.
WEIGHTS = (30, 30, 20, 3, 17)
FAULT_RATE = 0.04
# How long the simulated store retries and asks before it answers 503 (the product's defaults are seconds):
# briefly during an outage, which lasts until the client has its 503, so that each costs the run little wall
# time; patiently for the faults the store must hide, which it does within milliseconds on a quiet machine,
# so that a busy machine (CI) cannot turn one into a 503 and the same seed gives the same run.
WRITE_RETRY_S = 0.15
WRITE_RESOLVE_S = 0.2
PATIENT_RETRY_S = 5.0
PATIENT_RESOLVE_S = 5.0


def _settle(death: asyncio.Future[None]) -> None:
    if not death.done():
        death.set_result(None)


class Killed(BaseException):
    """Raised in the writer thread of an App the simulator just killed: that process is gone."""


@dataclass
class Armed:
    kind: str
    at: int  # the n-th commit of the request
    commits: int = 0
    struck: bool = False


class Faults:
    """A seeded stream of faults, and the engine hooks that make them happen."""

    def __init__(self, seed: int, *, enabled: bool) -> None:
        self.rng = random.Random(seed)
        self.enabled = enabled
        self.rate = FAULT_RATE
        self.armed: Armed | None = None
        self.counts: Counter[str] = Counter()
        self.unreachable = False
        self.death: asyncio.Future[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.store: Any = None  # the store of the App now wired

    def draw(self) -> Armed | None:
        """Whether the next money request meets a fault, and which (always one draw, so the stream stays aligned)."""
        r = self.rng.random()
        kind = self.rng.choices(KINDS, weights=WEIGHTS)[0]
        at = self.rng.choice((1, 1, 1, 2))
        if not self.enabled or r >= self.rate:
            return None
        return Armed(kind, at)

    def arm(self, armed: Armed) -> None:
        self.armed = armed
        self.loop = asyncio.get_running_loop()
        self.death = self.loop.create_future()
        if armed.kind != "outage":
            self._patience(PATIENT_RETRY_S, PATIENT_RESOLVE_S)

    def disarm(self) -> Armed | None:
        armed, self.armed, self.death = self.armed, None, None
        self.unreachable = False
        self._patience(WRITE_RETRY_S, WRITE_RESOLVE_S)
        if armed is not None and armed.struck:
            self.counts[armed.kind] += 1
        return armed

    # ------------------------------------------------------------------ wiring

    def _patience(self, retry_s: float, resolve_s: float) -> None:
        for name, value in (("write_retry_s", retry_s), ("write_resolve_s", resolve_s)):
            if hasattr(self.store, name):
                setattr(self.store, name, value)

    def wire(self, app: App) -> None:
        """Hook the faults into a new App's engine, and let its store give up quickly when the database is away."""
        store: Any = app.store
        self.store = store
        self._patience(WRITE_RETRY_S, WRITE_RESOLVE_S)
        engine = app.store.engine
        inject(engine, CommitFaults(lose_request=self._lose("lose_request"), lose_reply=self._lose("lose_reply")))
        dialect: Any = engine.dialect
        dbapi: Any = dialect.loaded_dbapi
        injected_commit = dialect.do_commit
        sqlite = app.store.is_sqlite
        dead = [False]  # this App was killed: nothing of its reaches the database again (a flag per App, not an
        # id(): a dead engine's id can be a new engine's once the old one is freed)
        pruning: set[int] = set()

        @event.listens_for(engine, "before_cursor_execute")
        def _prune(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
            # The writer prunes old batch markers every few minutes of wall time: not a commit of the request.
            if statement.startswith("DELETE FROM write_batches"):
                pruning.add(id(conn.connection.dbapi_connection))

        def do_commit(dbapi_connection: Any) -> None:
            if dead[0]:
                dbapi_connection.rollback()
                raise Killed()
            if id(dbapi_connection) in pruning:
                pruning.discard(id(dbapi_connection))
                injected_commit(dbapi_connection)
                return
            armed = self.armed
            strike = armed is not None and not armed.struck and self._count(armed) == armed.at
            if strike and armed is not None and armed.kind == "restart":
                armed.struck = True
                self._restart(engine, dbapi_connection, sqlite)
            elif strike and armed is not None and armed.kind == "outage":
                armed.struck = True
                self.unreachable = True
                dbapi_connection.rollback()
                raise dbapi.OperationalError("injected fault: the database went away before the COMMIT")
            injected_commit(dbapi_connection)
            if strike and armed is not None and armed.kind == "kill":
                armed.struck = True
                dead[0] = True
                self._signal_death()
                raise Killed()

        dialect.do_commit = do_commit

        if not sqlite:

            @event.listens_for(engine, "connect")
            def _no_flush_wait(dbapi_connection: Any, _record: Any) -> None:
                # The run's own database, and the faults never crash the server (a restart here ends sessions):
                # a commit need not wait for its WAL flush, as the SQLite file sits on a tmpfs.
                with dbapi_connection.cursor() as cur:
                    cur.execute("SET synchronous_commit TO off")
                dbapi_connection.commit()

        @event.listens_for(engine, "do_connect")
        def _connect(*_args: Any) -> None:
            if self.unreachable or dead[0]:
                raise dbapi.OperationalError("injected fault: connection refused")

        @event.listens_for(engine, "checkout")
        def _checkout(*_args: Any) -> None:
            if self.unreachable or dead[0]:
                raise DisconnectionError("injected fault: the database is unreachable")

    def _lose(self, kind: str) -> Any:
        def strikes() -> bool:
            armed = self.armed
            if armed is None or armed.kind != kind or armed.struck or self._count(armed, peek=True) != armed.at:
                return False
            armed.struck = True
            return True

        return strikes

    def _count(self, armed: Armed, *, peek: bool = False) -> int:
        # lose_* are asked from inside the injected commit, after this wrapper counted the commit already.
        if not peek:
            armed.commits += 1
        return armed.commits

    def _signal_death(self) -> None:
        loop, death = self.loop, self.death
        if loop is not None and death is not None:
            loop.call_soon_threadsafe(_settle, death)

    def _restart(self, engine: Engine, dbapi_connection: Any, sqlite: bool) -> None:
        if sqlite:
            dbapi_connection.close()  # no clean shutdown: the open transaction is simply gone
            return
        import psycopg

        url = engine.url.set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
