"""Lookups (adapters/sql/lookup.py), on SQLite and PostgreSQL: what they answer is what the transaction's reads
answer, and on SQLite a lookup that would wait for a lock goes to a reader thread instead of holding the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from hongbao.adapters.sql.store import SqlStore
from hongbao.adapters.sql.tx import SqlTx
from hongbao.domain.errors import NotFound
from hongbao.domain.ledger import WORLD_ACCOUNT_ID
from hongbao.service.ports.people import MeRow
from tests.adapters.test_store_contract import cross_the_edge

NOW = datetime(2026, 2, 18, 20, 0, tzinfo=UTC)



def people(store: SqlStore) -> tuple[int, int]:
    """Two users: a plain one with 500 fen, and an admin, verified celebrity, who owns a merchant."""

    def job(tx: SqlTx) -> tuple[int, int]:
        plain, star = tx.create_user("plain", "Plain", "not-a-real-hash", NOW), tx.create_user("star", "星", "h", NOW)
        cross_the_edge(tx, WORLD_ACCOUNT_ID, tx.wallet_account_id(plain), 500, "t-1")
        tx.set_admin(star, True)
        tx.set_verified_as(star, "celebrity")
        tx.create_merchant(star, "Star's noodles", 31.2, 121.5, NOW)
        return plain, star

    return store.write_sync(job)


def test_lookups_answer_what_the_transaction_reads(store: SqlStore) -> None:
    plain, star = people(store)

    async def looked() -> list[Any]:
        return [await store.look(lambda q: q.balance_fen(plain)), await store.look(lambda q: q.balance_fen(star)),
                await store.look(lambda q: q.me(plain)), await store.look(lambda q: q.me(star)),
                await store.look(lambda q: q.me(star + 100))]

    assert asyncio.run(looked()) == [
        store.read_sync(lambda tx: tx.balance_fen(plain)), 0,
        MeRow(plain, "plain", "Plain", None, False, False), MeRow(star, "star", "星", "celebrity", True, True), None,
    ]
    assert store.look_sync(lambda q: q.balance_fen(plain)) == 500
    with pytest.raises(NotFound) as missing:
        asyncio.run(store.look(lambda q: q.balance_fen(star + 100)))
    assert missing.value.code == "account_not_found"


def test_a_lookup_sees_each_committed_write(store: SqlStore) -> None:
    """The loop's own connection holds no snapshot between lookups: a write committed since is seen."""
    plain, _ = people(store)

    async def top_ups() -> list[int]:
        seen = [await store.look(lambda q: q.balance_fen(plain))]
        for n in range(3):
            await store.write(lambda tx, n=n: cross_the_edge(tx, WORLD_ACCOUNT_ID, tx.wallet_account_id(plain), 10,
                                                             f"more-{n}"))
            seen.append(await store.look(lambda q: q.balance_fen(plain)))
        return seen

    assert asyncio.run(top_ups()) == [500, 510, 520, 530]


def test_a_busy_sqlite_lookup_goes_to_a_reader_thread(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where SQLite answers busy (it would make the loop wait), the lookup runs in a reader thread, which waits."""
    if not store.is_sqlite:
        pytest.skip("PostgreSQL lookups always run in a reader thread")
    plain, _ = people(store)
    dialect: Any = store.engine.dialect
    real = dialect.do_execute
    ran_in: list[str] = []

    def busy_on_the_loop(cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        if "balance_fen" in statement:
            ran_in.append(threading.current_thread().name)
            if threading.current_thread() is threading.main_thread():
                raise sqlite3.OperationalError("database is locked")
        real(cursor, statement, parameters, context)

    monkeypatch.setattr(dialect, "do_execute", busy_on_the_loop)
    assert asyncio.run(store.look(lambda q: q.balance_fen(plain))) == 500
    assert ran_in[0] == "MainThread" and ran_in[1].startswith("hongbao-read")
    monkeypatch.setattr(dialect, "do_execute", real)
    assert asyncio.run(store.look(lambda q: q.balance_fen(plain))) == 500  # the loop's connection again, opened anew


@pytest.mark.parametrize("store_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_postgres_lookup_survives_its_kept_connection_being_cut(store: SqlStore) -> None:
    """On PostgreSQL a reader thread keeps one autocommit connection for lookups (one round trip each); when the
    server ends it (a restart, an administrator), the lookup is answered on a pooled connection and a new one kept."""
    plain, _ = people(store)
    def keepers() -> list[int]:
        return store.read_sync(lambda tx: [int(pid) for (pid,) in tx.conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE %s",
            ("SELECT balance_fen FROM accounts%",))])  # a pooled read's last statement is its ROLLBACK

    assert [asyncio.run(store.look(lambda q: q.balance_fen(plain))) for _ in range(4)] == [500] * 4
    kept = keepers()
    assert 1 <= len(kept) <= 4  # kept by the reader threads that ran them, not one connection per lookup
    store.read_sync(lambda tx: [tx.conn.exec_driver_sql("SELECT pg_terminate_backend(%s)", (pid,)) for pid in kept])
    store.write_sync(lambda tx: cross_the_edge(tx, WORLD_ACCOUNT_ID, tx.wallet_account_id(plain), 10, "after-cut"))
    assert [asyncio.run(store.look(lambda q: q.balance_fen(plain))) for _ in range(8)] == [510] * 8
    assert set(keepers()).isdisjoint(kept)
