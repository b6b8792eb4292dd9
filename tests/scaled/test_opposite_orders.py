"""Two writers on one PostgreSQL never deadlock on wallets (tx_ledger.py: accounts locked in id order before a
batch's jobs, never waited for mid-batch): one moves money 1 → 2 → … → N, the other N → … → 1, batch after batch.
Every write succeeds, no batch is refused as busy, and the ledger balances.  A write meeting a wallet another
transaction holds runs again in the next batch, once it is free."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from hongbao.adapters.sql.store import SqlStore
from hongbao.service.reconcile import reconcile
from tests.scaled.crossing import deadlocks, wait_for
from tests.scaled.money_moves import START_FEN, open_wallets, pay, race

USERS = 8
ROUNDS = 40


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
    assert deadlocks(stores) == 0  # PostgreSQL's own count


def test_a_write_meeting_a_wallet_another_transaction_holds_runs_again_once_it_is_free(
    stores: tuple[SqlStore, SqlStore],
) -> None:
    store = stores[0]
    payer, payee = open_wallets(store, 2)
    outside = store.engine.connect()  # another process's transaction, holding the payee's wallet
    outside.begin()
    outside.execute(text("SELECT id FROM accounts WHERE kind = 'wallet' AND owner_id = :u FOR UPDATE"), {"u": payee})
    with ThreadPoolExecutor(1) as pool:
        paying = pool.submit(store.write_sync, lambda tx: pay(tx, payer, payee, 7))
        # Not waited for inside the batch: the write is rolled back and sent on to the next batch, which locks the
        # wallets before its first job (and waits there, where no cycle can form).
        wait_for(lambda: store.deferred_jobs >= 1)
        assert not paying.done()
        outside.rollback()
        outside.close()
        paying.result(timeout=30)

    assert store.busy_failures == 0
    assert store.read_sync(lambda tx: [tx.balance_fen(payer), tx.balance_fen(payee)]) == [START_FEN - 7, START_FEN + 7]
    assert reconcile(store).violations == []
