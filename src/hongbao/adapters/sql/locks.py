"""Row locks of PostgreSQL's writer: a batch waits for rows only before its first job, in one global order, and
never in the middle of its jobs, so two processes' writers can never deadlock (issue 10, item 4).

Several processes' writers share the rows.  A batch runs many jobs in one transaction, and the jobs come in any
order: batch A paying from campaign 5 then campaign 9 while batch B pays from 9 then 5 is a deadlock, each
waiting for a row the other holds until PostgreSQL's deadlock timeout (1 s) fails one batch.  So:
- before the batch's first job, the writer locks the rows its jobs are known to need (`RowLocks.lock_in_order`),
  table by table in `LOCK_ORDER` and each table's rows in key order, waiting as long as it takes: two batches
  locking in one order cannot deadlock, and a batch past that point waits for nothing, so whoever it waits for
  always finishes;
- any other row of those tables a job updates it locks with NOWAIT, in the statement itself (`nowait_row`, or the
  driver-SQL forms `… = (SELECT … FOR NO KEY UPDATE NOWAIT)`, an InitPlan run before the statement touches the
  row).  If another transaction holds it, the job is rolled back to its savepoint and raises `RowsBusy`; the
  writer runs it again in its next batch with every row it touched locked up front (jobs.py).  NOWAIT on a row
  this transaction holds already does not fail.
Accounts and packets work that way too (tx_ledger.py, tx_settle.py).  SQLite has one writer: nothing to lock,
nothing checked (`held` is None, as on read connections and for a job deferred `DEFERRALS_MAX` times, which then
waits mid-batch as before).

Locks are FOR NO KEY UPDATE, what an UPDATE of non-key columns takes: it leaves the foreign-key checks of rows
inserted by others (KEY SHARE on the row they point at) free, so a batch inserting a claim of a campaign, a member
of a group or a packet of a group never waits for another batch holding that campaign or group.

Rows made on first use (a (campaign, user) in campaign_claimers, an (event, user) in shake_players, a (host, day) in
host_volume: `ensure_row`; a password packet's live digest in live_secrets: `lock_key`) have no row to lock before
they exist, and an insert waits for another transaction inserting the same key.  So their key is also taken as a
transaction-level advisory lock, with "try" mid-batch (busy: `RowsBusy`, as for a row) and waited for up front,
before the rows themselves.

Rows settled once by key are covered the same way (issue 10, the rows left): asks answered, payments settled,
transfer orders settled, friend requests accepted, webhook messages taken and marked, live digests held.  None is
a cap, but two batches settling the same two in opposite orders (a double tap answered by two processes, the
channel's answer and its retry) deadlocked as surely (tests/scaled/test_opposite_keyed_rows.py).

Still waited for mid-batch.  A cycle of waits needs two waiting transactions, and a batch waiting up front holds
only rows of `LOCK_ORDER`; so a wait left outside the scheme closes a cycle only with another such wait, or where it
waits for a row of `LOCK_ORDER` while holding one:
- rows of `LOCK_ORDER` updated by plain key: a new row no other transaction sees yet (a transfer order's escrow),
  or `outbox_replay`, an operator's command, a batch of its own that holds nothing else;
- rows outside `LOCK_ORDER` updated by key (a coupon redeemed, a read marker, a user's settings) and inserts racing
  on a unique key (a friend request sent twice, an ask's daily slot): a cycle needs two batches each holding one of
  the same two rows, one user's or one merchant's, from two processes at once in opposite orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, and_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.elements import ColumnElement

from hongbao.adapters.sql import hot

Key = Any  # a row's key: its id, or a tuple of ints where the key has two columns

# The one global order of the locks taken before a batch's first job: tables in this order, each table's rows in key
# order.  Every table whose rows a write job updates by key, while another process's writer may update the same
# rows, is here, with its key's columns.
LOCK_ORDER: dict[str, tuple[str, ...]] = {
    "groups": ("id",),
    "relay_chains": ("id",),
    "campaigns": ("id",),
    "campaign_prizes": ("id",),
    "coupon_offers": ("id",),
    "campaign_claimers": ("campaign_id", "user_id"),
    "shake_players": ("event_id", "user_id"),
    "shake_leases": ("id",),
    "host_volume": ("host_id", "day"),
    "asks": ("id",),
    "channel_payments": ("id",),
    "direct_transfers": ("id",),
    "friendships": ("requester_id", "addressee_id"),
    "webhook_outbox": ("id",),
    "live_secrets": ("secret_hash",),
    "packets": ("id",),
    "accounts": ("id",),
}
# Made on first use (`ensure_row`'s, and a digest held by `lock_key`'s caller): advisory-locked too.
_MADE_ON_FIRST_USE = {"campaign_claimers", "shake_players", "host_volume", "live_secrets"}
_LOCK_NOT_AVAILABLE = "55P03"


class RowsBusy(Exception):
    """A job needs rows (of `table`, one of `LOCK_ORDER`) another transaction holds locked: rather than wait for them
    mid-batch (a deadlock when that transaction waits for ours), the job stops and runs again in a later batch,
    `ids` locked up front."""

    def __init__(self, table: str, ids: Iterable[Key]) -> None:
        self.table = table
        self.ids: set[Key] = set(ids)
        super().__init__(f"{table} {sorted(self.ids)} are held by another transaction")


def lock_not_available(exc: OperationalError) -> bool:
    """The database refused a NOWAIT lock: another transaction holds the row."""
    return getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE


@contextmanager
def rows_nowait(table: str, ids: Iterable[Key]) -> Iterator[None]:
    """Around a statement locking rows of `table` with NOWAIT: another transaction holding one raises `RowsBusy`."""
    try:
        yield
    except OperationalError as exc:
        if lock_not_available(exc):
            raise RowsBusy(table, ids) from exc
        raise


def packets_nowait(ids: set[int]) -> Any:
    """`rows_nowait` for packets."""
    return rows_nowait("packets", ids)


def _lock_sql(table: str, n: int) -> str:
    cols = LOCK_ORDER[table]
    where = f"{cols[0]} IN ({hot.marks(n)})" if len(cols) == 1 else hot.pairs_match(cols[0], cols[1], n)
    return f"SELECT {cols[0]} FROM {table} WHERE {where} ORDER BY {', '.join(cols)} FOR NO KEY UPDATE"


def _key_name(table: str, key: Key) -> str:
    """The text whose hash is the advisory lock of a row made on first use (a collision only defers a job)."""
    parts = key if isinstance(key, tuple) else (key,)
    return ":".join([table, *(part.hex() if isinstance(part, bytes) else str(part) for part in parts)])


class RowLocks:
    """The writer's lock bookkeeping, mixed into SqlTx (first, through LedgerTx)."""

    conn: Connection
    # The accounts this transaction holds locked; None where nothing is checked (SQLite, read connections).
    held: set[int] | None = None
    job_locked: set[int]  # of those, the ones the running job locked (released if its savepoint rolls back)
    job_rows: dict[str, set[Key]]  # every row the running job locked or tried to, by table (for its deferral)
    job_accounts: set[int]  # job_rows["accounts"]: every existing account the running job locked or found held
    job_packets: set[int]  # job_rows["packets"]

    def lock_in_order(self, wanted: Mapping[str, Iterable[Key]]) -> None:
        """Before the batch's first job: lock the rows `wanted` (by table), in `LOCK_ORDER` then key order, waiting
        as long as it takes.  Starts the NOWAIT checks of the jobs."""
        self.held = set()
        self.start_job()
        for table, cols in LOCK_ORDER.items():
            keys: Sequence[Key] = sorted(wanted.get(table, ()))
            step = hot.IN_LIST_MAX if len(cols) == 1 else hot.PAIRS_MAX
            if table in _MADE_ON_FIRST_USE:  # the key's advisory lock first: the row may not exist yet
                for key in keys:
                    hot.rows(self.conn, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
                             (_key_name(table, key),))
            for some in hot.chunks(keys, step):
                params = list(some) if len(cols) == 1 else [v for key in some for v in key]
                found = hot.rows(self.conn, _lock_sql(table, len(some)), params)
                if table == "accounts":
                    self.held.update(int(row[0]) for row in found)

    def start_job(self) -> None:
        self.job_locked = set()
        self.job_rows = {"accounts": set(), "packets": set()}
        self.job_accounts, self.job_packets = self.job_rows["accounts"], self.job_rows["packets"]

    def job_rolled_back(self) -> None:
        """The running job's savepoint was rolled back, and with it the locks it took."""
        if self.held is not None:
            self.held -= self.job_locked
            self.job_locked = set()

    def nowait_row(self, table: Table, *key: Any) -> ColumnElement[bool]:
        """The condition naming one row of `table` by its key (`LOCK_ORDER`'s columns); on PostgreSQL's writer, with
        the row locked without waiting by a sub-select (run it inside `rows_nowait`)."""
        cols = [table.c[name] for name in LOCK_ORDER[table.name]]
        assert len(cols) == len(key), f"{table.name} is keyed by {LOCK_ORDER[table.name]}"
        if self.held is None:
            return and_(*(col == value for col, value in zip(cols, key, strict=True)))
        self.will_lock(table.name, key[0] if len(key) == 1 else key)
        last = cols[-1]
        match = and_(*(col == value for col, value in zip(cols, key, strict=True)))
        locked = select(last).where(match).with_for_update(nowait=True, key_share=True).scalar_subquery()
        return and_(*(col == value for col, value in zip(cols[:-1], key[:-1], strict=True)), last == locked)

    def ensure_row(self, table: Table, key: tuple[Any, Any], zeros: tuple[str, ...] = ()) -> None:
        """Make the row of a two-column `key` where it is missing (a per-user or per-day cap's row; `zeros`: columns
        without a default, set to 0).  On PostgreSQL's writer, without waiting: the key's advisory lock is tried
        first (another transaction inserting the key holds it), and the row, if it exists, is locked NOWAIT (a plain
        ON CONFLICT insert would wait for either); `RowsBusy` if another transaction holds one."""
        name = table.name
        a, b = LOCK_ORDER[name]
        if not self.will_lock(name, key):
            maker: Any = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
            self.conn.execute(maker(table).values({a: key[0], b: key[1], **dict.fromkeys(zeros, 0)})
                              .on_conflict_do_nothing())
            return
        cols = ", ".join((a, b, *zeros))
        values = ", ".join(["?", "?", *["0"] * len(zeros)])
        sql = (
            "WITH lk AS (SELECT pg_try_advisory_xact_lock(hashtextextended(?, 0)) AS ok), "
            f"made AS (INSERT INTO {name} ({cols}) SELECT {values} FROM lk WHERE lk.ok AND NOT EXISTS "
            f"(SELECT 1 FROM {name} WHERE {a} = ? AND {b} = ? FOR NO KEY UPDATE NOWAIT) ON CONFLICT DO NOTHING) "
            "SELECT ok FROM lk"
        )
        with rows_nowait(name, {key}):
            got = hot.rows(self.conn, sql, (_key_name(name, key), *key, *key))
        if not got[0][0]:
            raise RowsBusy(name, {key})

    def lock_key(self, table: Table, key: Key) -> None:
        """On PostgreSQL's writer, before a job inserts or deletes the row of a one-column `key` made on first use
        (a password packet's live digest): the key's advisory lock tried and its row, if it exists, locked NOWAIT;
        `RowsBusy` if another transaction holds either (its insert, or the row, would be waited for)."""
        name = table.name
        if not self.will_lock(name, key):
            return
        (col,) = LOCK_ORDER[name]
        sql = (f"SELECT pg_try_advisory_xact_lock(hashtextextended(?, 0)), "
               f"(SELECT count(*) FROM (SELECT 1 FROM {name} WHERE {col} = ? FOR NO KEY UPDATE NOWAIT) AS r)")
        with rows_nowait(name, {key}):
            got = hot.rows(self.conn, sql, (_key_name(name, key), key))
        if not got[0][0]:
            raise RowsBusy(name, {key})

    def will_lock(self, table: str, key: Key) -> bool:
        """Note that the running job locks this row (without waiting); False where nothing is checked."""
        if self.held is None:
            return False
        self.job_rows.setdefault(table, set()).add(key)
        return True
