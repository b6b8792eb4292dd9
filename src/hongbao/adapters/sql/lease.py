"""One sweeper however many processes run one (issue 10 item 5): a lease with a fencing token, kept in the database.

Every `hongbao serve` with its scheduler and every `hongbao worker` asks for the lease before each sweep pass
(expiry refunds, relay deadlines, transfers not accepted, campaigns ended, payments left pending).  The one that
holds it sweeps; the others wait.  The lease is one row of `meta` (`lease:<name>` → `holder|token|expires_ms`),
changed only by compare-and-set (`UPDATE … WHERE value = <what was read>`), with the database's clock, so every
host agrees on when it runs out whatever their own clocks say.  A holder renews it each pass; a holder that stops
renewing (killed, frozen, cut off) loses it `ttl_s` after its last renewal, and the next asker takes it over with
the token raised by one.

The token fences terms: a renewal succeeds only for the holder of the current term (compare-and-set on holder
and token), so a holder frozen past its lease learns at its next pass that a successor took over, and stops.
Within a pass, each swept item is decided once by its own conditional update inside its transaction (a packet
refunded once, a chain ended once), so even a pass that overlaps its successor's wastes work, never money; the
lease keeps the sweeping to one process.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.store import SqlStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Term:
    """The lease as stored: who holds it, its fencing token, and when it runs out (database clock, ms)."""

    holder: str
    token: int
    expires_ms: int

    @classmethod
    def parse(cls, value: str) -> Term:
        holder, token, expires = value.rsplit("|", 2)
        return cls(holder, int(token), int(expires))

    def __str__(self) -> str:
        return f"{self.holder}|{self.token}|{self.expires_ms}"


def database_ms(conn: Connection) -> int:
    """The database's clock in ms since the epoch: one clock for every host."""
    if conn.dialect.name == "postgresql":
        return int(conn.execute(text("SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint")).scalar_one())
    return int(conn.execute(text("SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)")).scalar_one())


def give_up(conn: Connection, key: str, holder: str, token: int) -> None:
    """End our term now (a clean stop), so the next asker need not wait the lease out."""
    m = s.meta
    stored = conn.execute(select(m.c.value).where(m.c.key == key)).scalar_one_or_none()
    if stored is not None:
        old = Term.parse(stored)
        if old.holder == holder and old.token == token:
            conn.execute(update(m).where(m.c.key == key, m.c.value == stored).values(value=str(Term("", token, 0))))


def take(conn: Connection, key: str, holder: str, ttl_ms: int) -> Term | None:
    """Renew the lease if `holder` has it, take it over if it ran out (token + 1); None if another holds it."""
    now = database_ms(conn)
    m = s.meta
    stored = conn.execute(select(m.c.value).where(m.c.key == key)).scalar_one_or_none()
    if stored is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(m).values(key=key, value=str(Term("", 0, 0))))
        except IntegrityError:
            pass  # another process made it first: compete for it below
        stored = conn.execute(select(m.c.value).where(m.c.key == key)).scalar_one()
    old = Term.parse(stored)
    if old.holder == holder and old.expires_ms > now:
        new = Term(holder, old.token, now + ttl_ms)
    elif old.expires_ms <= now:
        new = Term(holder, old.token + 1, now + ttl_ms)
    else:
        return None
    done = conn.execute(update(m).where(m.c.key == key, m.c.value == stored).values(value=str(new)))
    return new if done.rowcount == 1 else None


class SweepLease:
    """This process's side of one lease (see the module doc)."""

    def __init__(self, store: SqlStore, name: str = "sweeper", *, ttl_s: float = 10.0) -> None:
        self.store = store
        self.key = f"lease:{name}"
        self.ttl_s = ttl_s
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.token: int | None = None  # the fencing token of our current term, None when we hold none

    async def hold(self) -> bool:
        """Take or renew the lease; True when this process may sweep now (False too when the database cannot be
        asked: a sweep needs it anyway, and the next pass asks again)."""
        try:
            return await self._take()
        except Exception as exc:
            log.warning("sweeper lease not taken (%s); asking again next pass", exc)
            self.token = None
            return False

    async def _take(self) -> bool:
        ttl_ms = max(1, int(self.ttl_s * 1000))
        term = await self.store.write(lambda tx: take(tx.conn, self.key, self.holder, ttl_ms))
        if term is None:
            if self.token is not None:
                log.warning("sweeper lease lost (term %d): another process sweeps now", self.token)
            self.token = None
            return False
        if term.token != self.token:
            log.warning("sweeper lease taken (term %d): this process sweeps", term.token)
        self.token = term.token
        return True

    async def release(self) -> None:
        """Give the lease up at a clean stop (SIGTERM): another process sweeps at its next pass, not `ttl_s` later."""
        token, self.token = self.token, None
        if token is not None:
            try:
                await self.store.write(lambda tx: give_up(tx.conn, self.key, self.holder, token))
            except Exception as exc:  # it runs out by itself
                log.warning("sweeper lease not given up (%s); it runs out in %.0f s", exc, self.ttl_s)
