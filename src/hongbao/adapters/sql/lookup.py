"""Lookups: reads of a row or two by key (a wallet's balance, who you are), the simple authenticated GETs.

A `SqlStore.read` of one row cost ~260 µs of CPU on SQLite before the hop to a reader thread (measured with
bench/request_cost.py and cProfile): a pool checkout and a second rollback on return (~40 µs), SQLAlchemy Core
building the statement and its cache key (~125 µs), the Connection's events and result wrapping (~50 µs), for a
SELECT that SQLite answers in ~7 µs; the hand-off to the reader thread and back cost ~75 µs more.  A lookup is
driver SQL on the DBAPI cursor, run where it costs least without blocking the event loop:

* SQLite: on the caller's thread (the event loop), on a connection of that thread's own (`SqlStore.look`).  In
  WAL mode a reader never waits for the writer, and this connection's busy timeout is 0: where SQLite would make
  it wait (a WAL recovery after a crash, an exclusive lock taken by a maintenance tool) it answers "busy" at once
  and the lookup goes to a reader thread, whose connection may wait.  What runs on the loop is a B-tree descent
  of a few pages from SQLite's page cache or the OS's, ~10 µs with its BEGIN and ROLLBACK.
* PostgreSQL: in a reader thread (a round trip waits as long as the server takes), on a connection that thread
  keeps in autocommit: one round trip per lookup, each lookup being one statement, its own snapshot.

Statements are executed through the dialect (`do_execute`), as SQLAlchemy's would be, so faults injected on an
engine (faults.py) reach lookups too.  SQL is written with `?` placeholders; hot.py turns them into the driver's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hongbao.adapters.sql.hot import chunks, marks
from hongbao.domain.errors import NotFound
from hongbao.domain.ledger import AccountKind
from hongbao.service.ports.people import MeRow

Rows = Callable[[str, Sequence[Any]], Sequence[Sequence[Any]]]

_BALANCE = "SELECT balance_fen FROM accounts WHERE kind = ? AND owner_id = ?"
_ME = (
    "SELECT u.id, u.username, u.display_name, u.verified_as, u.is_admin, "
    "EXISTS (SELECT 1 FROM merchants m WHERE m.owner_id = u.id) FROM users u WHERE u.id = ?"
)
_FOLLOWERS_AMONG = "SELECT follower_id FROM follows WHERE followee_id = ? AND follower_id IN "


class SqlLookup:
    """The lookups, each one statement (on PostgreSQL each its own snapshot; on SQLite a job's statements share one)."""

    __slots__ = ("rows",)

    def __init__(self, rows: Rows) -> None:
        self.rows = rows

    def balance_fen(self, user_id: int) -> int:
        """A user's wallet balance (what `SqlTx.balance_fen` answers)."""
        found = self.rows(_BALANCE, (AccountKind.WALLET.value, user_id))
        if not found:
            raise NotFound("No such wallet.", code="account_not_found")
        return int(found[0][0])

    def me(self, user_id: int) -> MeRow | None:
        """A user and their roles: verified as, admin, owner of a merchant; None for no such user."""
        found = self.rows(_ME, (user_id,))
        if not found:
            return None
        uid, username, display_name, verified_as, is_admin, merchant = found[0]
        return MeRow(int(uid), username, display_name, verified_as, bool(is_admin), bool(merchant))

    def followers_among(self, followee_id: int, user_ids: Sequence[int]) -> set[int]:
        """Which of `user_ids` follow `followee_id` now: the gate's question about a celebrity packet's openers
        (asked for all of a turn of the event loop at once), and the writer's again inside the atomic step."""
        found: set[int] = set()
        for some in chunks(user_ids):
            found.update(int(uid) for (uid,) in self.rows(f"{_FOLLOWERS_AMONG}({marks(len(some))})",
                                                          (followee_id, *some)))  # fmt: skip
        return found


def cursor_rows(dialect: Any, cursor: Any) -> Rows:
    """`rows` on a DBAPI cursor, executed through the dialect (`?` placeholders, as the driver wants them)."""
    execute = dialect.do_execute
    qmark = dialect.paramstyle == "qmark"

    def rows(sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        execute(cursor, sql if qmark else sql.replace("?", "%s"), tuple(params), None)
        found: list[Sequence[Any]] = cursor.fetchall()
        return found

    return rows
