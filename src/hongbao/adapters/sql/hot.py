"""The writer's hot statements as driver SQL: written once, run as they are, with no per-call compilation.

SQLAlchemy Core builds a statement's cache key, expands its IN lists and processes every parameter and row on
each call: measured here, a `select … where owner_id in (40 ids)` cost ~540 µs of CPU through Core and ~110 µs
through `Connection.exec_driver_sql`, an `executemany` of 40 updates ~220 µs against ~50 (bench notes in
BENCHMARKS.md).  A write batch runs a dozen such statements, so on the open path (tx_settle.py, the claim
notices, the audience and webhook reads of a batch) they are plain SQL strings here, run with
`exec_driver_sql`: SQLAlchemy still owns the connection, the transaction and its savepoints, and still wraps a
driver's error (a lost connection, a deadlock) in the same `DBAPIError` the writer decides on.

What the statements leave to the caller is what Core's types did: integers and strings pass as they are,
timestamps go through `ts(conn)` (SQLite stores them as text in SQLAlchemy's format, so the two paths write
and compare the same values).  SQL is written with `?` placeholders and turned into the driver's style.

A statement run over many rows (the bulk settle's, tx_settle.py) is written twice, as `OverRows`: per row for
SQLite, whose executemany runs in process and is its fast path, and once over arrays for PostgreSQL, where an
executemany is still one statement planned and executed per row (pipelined): there each column of the rows is
bound as one array and the statement reads them with `unnest`, one statement for the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from hongbao.adapters.sql.aware import UtcDateTime, utc

_TS_BIND: dict[str, Callable[[Any], Any]] = {}


def ts(conn: Connection) -> Callable[[datetime], Any]:
    """How this dialect stores a timestamp column's value (what Core's `UtcDateTime` would have bound)."""
    name = conn.dialect.name
    found = _TS_BIND.get(name)
    if found is None:
        # The dialect's own implementation: on SQLite it writes SQLAlchemy's text (`2026-02-18 12:00:00.000000`),
        # where the bare type's processor left an aware datetime that the driver wrote as `…12:00:00+00:00`, and
        # text comparisons against Core's values went wrong at equal instants.
        processor = UtcDateTime().dialect_impl(conn.dialect).bind_processor(conn.dialect)
        found = _TS_BIND[name] = processor if processor is not None else (lambda value: value)
    return found


IN_LIST_MAX = 1_000  # values (or rows) in one IN list: SQLite caps the parameters of one statement


def chunks(values: Sequence[Any], size: int = IN_LIST_MAX) -> Iterable[Sequence[Any]]:
    """`values` in slices short enough for one IN list."""
    return (values[i:i + size] for i in range(0, len(values), size))


def stamp(value: Any) -> datetime:
    """A timestamp column's value as read by driver SQL, aware UTC: SQLite hands back the text SQLAlchemy wrote
    (UTC digits, `YYYY-MM-DD HH:MM:SS.ffffff`), PostgreSQL an aware datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return utc(value)


def marks(n: int) -> str:
    """`?, ?, …` for an IN list of `n` values."""
    return ", ".join("?" * n)


PAIRS_MAX = 200  # (a = ? AND b = ?) terms in one OR: SQLite parses an OR chain as a tree no deeper than 1,000


def pairs_match(first: str, second: str, n: int) -> str:
    """`(first = ? AND second = ?) OR …` for `n` pairs: a lookup by a two-column key that both engines answer
    with the key's index, term by term.  (`(first, second) IN (VALUES …)` made SQLite scan the whole index:
    24.6 ms per batch at 300,000 claims, against 0.003 ms.)"""
    return " OR ".join([f"({first} = ? AND {second} = ?)"] * n)


def rows_in(conn: Connection, sql: str, values: Sequence[Any], before: Sequence[Any] = (), *,
            sql_type: str = "bigint") -> list[Any]:
    """The rows of `sql` for all of `values`, where `sql` holds `{}` for "is one of `values`" (`WHERE id {}`) and
    `before` is the parameters ahead of it.  SQLite: `IN (?, …)`, one statement per `IN_LIST_MAX` values.
    PostgreSQL: one statement over an array (`sql_type`'s), one text whatever the number of values, so parsed once
    and then prepared.  As `IN (SELECT unnest(?))`, not `= ANY(?)`: once prepared, PostgreSQL plans for an array of
    unknown length, and with `= ANY` chose to scan a whole group's members (or every wallet) testing each against
    the array (~3.6 ms a batch of 250 at 4,000 rows, growing with the table); a join on the unnested values probes
    the index once per value."""
    if not values:
        return []
    if conn.dialect.name == "postgresql":
        return rows(conn, sql.format(f"IN (SELECT unnest({_ARRAY.format(sql_type)}))"), [*before, list(values)])
    return [row for some in chunks(values) for row in rows(conn, sql.format(f"IN ({marks(len(some))})"),
                                                           [*before, *some])]


def rows_in_pairs(conn: Connection, sql: str, columns: tuple[str, str], pairs: Sequence[tuple[Any, Any]]) -> list[Any]:
    """`rows_in` for a two-column key: `sql` holds `{}` for "(first, second) is one of `pairs`" (bigint columns).
    SQLite: `pairs_match`, `PAIRS_MAX` pairs a statement.  PostgreSQL: one statement over the pairs as two arrays."""
    first, second = columns
    if not pairs:
        return []
    if conn.dialect.name == "postgresql":
        where = f"({first}, {second}) IN (SELECT * FROM {unnest('bigint', 'bigint')})"
        return rows(conn, sql.format(where), [[a for a, _ in pairs], [b for _, b in pairs]])
    return [row for some in chunks(pairs, PAIRS_MAX) for row in rows(
        conn, sql.format(pairs_match(first, second, len(some))), [v for pair in some for v in pair])]


def _driver(conn: Connection, sql: str) -> str:
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def rows(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """The rows of one query with positional parameters (each row unpacks like a tuple)."""
    return list(conn.exec_driver_sql(_driver(conn, sql), tuple(params)))


def run(conn: Connection, sql: str, params: Sequence[Any] = ()) -> int:
    """One statement with positional parameters; answers the rows it changed."""
    return conn.exec_driver_sql(_driver(conn, sql), tuple(params)).rowcount


@dataclass(frozen=True)
class OverRows:
    """One statement over many parameter rows, in two forms: `each` takes one row's values (`?` each) and runs once
    per row; `arrays` takes one array per column of the rows (in the rows' order, `unnest` below) and runs once.

    Same effect, row for row, with one caveat the caller keeps: an `UPDATE … FROM unnest(…)` changes a row once
    even if two array rows name it, so the rows of an update name distinct keys (and the rows changed are checked
    against the rows given)."""

    each: str
    arrays: str


# An array parameter on PostgreSQL, bound in binary (psycopg's `%b`): its text form escapes every element in Python,
# measured 2.2 ms for two columns of 250 strings against 0.14 ms.
_ARRAY = "%b::{}[]"


def unnest(*types: str) -> str:
    """`unnest(%b::bigint[], %b::text[], …)`: the rows of `OverRows.arrays`, one array parameter per column, typed
    (a column of NULLs alone has no type of its own)."""
    return "unnest(" + ", ".join(_ARRAY.format(t) for t in types) + ")"


def insert_over_rows(insert: str, *types: str) -> OverRows:
    """`INSERT INTO t (…) VALUES (?, …)` as `OverRows`, its arrays form `INSERT INTO t (…) SELECT * FROM unnest(…)`
    (`types`: the columns', in order; the rows are inserted in the arrays' order)."""
    head, values = insert.split(" VALUES ")
    assert values.count("?") == len(types), "one type per column"
    return OverRows(insert, f"{head} SELECT * FROM {unnest(*types)}")


def many(conn: Connection, sql: str | OverRows, rows: Iterable[Sequence[Any]]) -> int:
    """One statement for each parameter row (the driver's executemany), or for an `OverRows` on PostgreSQL one
    statement over the rows' columns as arrays; answers the rows it changed in all."""
    listed = [tuple(row) for row in rows]
    if not listed:
        return 0
    if isinstance(sql, OverRows):
        if conn.dialect.name == "postgresql":
            columns = tuple(list(col) for col in zip(*listed, strict=True))
            return conn.exec_driver_sql(_driver(conn, sql.arrays), columns).rowcount
        sql = sql.each
    return conn.exec_driver_sql(_driver(conn, sql), listed).rowcount
