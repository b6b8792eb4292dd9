"""Two writers on one PostgreSQL never deadlock on wallets (tx_ledger.py: accounts locked in id order before a
batch's jobs, never waited for mid-batch): one moves money 1 → 2 → … → N, the other N → … → 1, batch after batch.
Every write succeeds, no batch is refused as busy, and the ledger balances."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hongbao.adapters.sql import migrate
from hongbao.adapters.sql.store import SqlStore
from hongbao.service.reconcile import reconcile
from tests.scaled.money_moves import START_FEN, open_wallets, race

USERS = 8
ROUNDS = 40


@pytest.fixture
def stores(pg_url: str) -> Iterator[tuple[SqlStore, SqlStore]]:
    """Two stores on one database, each with its own writer thread and connection: what two processes have."""
    first = SqlStore(pg_url)
    migrate.upgrade(first.engine)
    second = SqlStore(pg_url)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def test_two_writers_moving_money_in_opposite_orders_never_deadlock(stores: tuple[SqlStore, SqlStore]) -> None:
    users = open_wallets(stores[0], USERS)

    succeeded, failed = race(stores, users, ROUNDS)

    assert (succeeded, failed) == (2 * ROUNDS * USERS, 0)  # every transfer and fan-out, none answered 503
    assert [s.busy_failures for s in stores] == [0, 0]  # no deadlock, so no failed batch and no retry
    report = reconcile(stores[0])
    assert report.violations == []
    balances = stores[0].read_sync(lambda tx: [tx.balance_fen(u) for u in users])
    assert sum(balances) == USERS * START_FEN == report.inside_fen  # money moved, none made or lost
    # Per round, each end of the chain pays its neighbour and every other wallet and is paid back one fen twice;
    # a wallet inside the chain gets one fen more than it pays from each writer.
    ends, inside = START_FEN - ROUNDS * (USERS - 2), START_FEN + 2 * ROUNDS
    assert balances == [ends, *[inside] * (USERS - 2), ends]
