"""Two writers moving money between the same wallets in opposite orders: what two processes' batches do when their
users pay each other (tests/scaled/test_opposite_orders.py, bench/two_writers.py).

Each round a writer gets, all at once (so they share one batch): a chain of transfers (转账, sent and accepted in one
write) along the wallets in its order, 1 → 2 → … → N for one writer and N → … → 1 for the other, and one write that
pays every other wallet from the first, in the same order.  Each batch thus locks the wallets in its writer's order,
the other writer's the other way round: before locks were taken in one order, a deadlock in nearly every round."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hongbao.adapters.sql.store import SqlStore
from hongbao.adapters.sql.tx import SqlTx
from hongbao.domain.errors import HongbaoError
from hongbao.domain.ledger import WORLD_ACCOUNT_ID, PaymentStatus, TransferCode
from hongbao.domain.relay import TransferStatus
from tests.scaled.crossing import both_at_once

START_FEN = 1_000_000  # each wallet's top-up: far more than a run moves out of any wallet

Write = Callable[[SqlTx], None]


def open_wallets(store: SqlStore, users: int) -> list[int]:
    """`users` users, each with a wallet topped up with START_FEN through a booked payment (reconcile checks it)."""

    def job(tx: SqlTx) -> list[int]:
        now = datetime.now(UTC)
        ids = []
        for i in range(users):
            uid = tx.create_user(f"mover{i}", f"Mover {i}", "-", now)
            pid = tx.add_payment(uid, "in", START_FEN, "test", f"start-{i}", now)
            assert tx.settle_payment(pid, PaymentStatus.BOOKED, (PaymentStatus.PENDING,), f"channel-{i}", now)
            tx.transfer(WORLD_ACCOUNT_ID, tx.wallet_account_id(uid), START_FEN, TransferCode.TOPUP, f"topup:{pid}", now)
            ids.append(uid)
        return ids

    return store.write_sync(job)


def pay(tx: SqlTx, sender: int, recipient: int, amount_fen: int) -> None:
    """One transfer, sent and accepted at once: the sender's wallet debited, then the recipient's credited."""
    now = datetime.now(UTC)
    tid = tx.create_transfer_order(sender, recipient, amount_fen, "", now, now + timedelta(days=1))
    assert tx.settle_transfer_order(tid, TransferStatus.ACCEPTED, now)


def round_of(wallet_order: list[int]) -> list[Write]:
    """One round's writes: a chain of transfers along `wallet_order`, and one write paying the rest from the first."""
    chain: list[Write] = [lambda tx, a=a, b=b: pay(tx, a, b, 1) for a, b in itertools.pairwise(wallet_order)]

    def fan_out(tx: SqlTx) -> None:
        for payee in wallet_order[1:]:
            pay(tx, wallet_order[0], payee, 1)

    return [*chain, fan_out]


async def _drive(store: SqlStore, wallet_order: list[int], rounds: int) -> tuple[int, int]:
    ok = failed = 0
    for _ in range(rounds):
        outcomes = await asyncio.gather(*(store.write(w) for w in round_of(wallet_order)), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, HongbaoError):  # store_unavailable: the batch kept failing (deadlocks)
                failed += 1
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                ok += 1
    return ok, failed


def race(stores: tuple[SqlStore, SqlStore], users: list[int], rounds: int) -> tuple[int, int]:
    """Both writers at once, the first along `users`, the second the other way round; the writes that succeeded and
    those answered an error."""
    orders = (users, users[::-1])
    done: list[tuple[int, int]] = []

    async def drive(i: int, store: SqlStore) -> None:
        done.append(await _drive(store, orders[i], rounds))

    both_at_once(stores, drive)
    return sum(ok for ok, _ in done), sum(failed for _, failed in done)
