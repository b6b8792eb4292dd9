"""The store contract, on SQLite and PostgreSQL: migrations, the ledger's rules and group commit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from hongbao.adapters.sql import migrate
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.store import SqlStore
from hongbao.adapters.sql.tx import SqlTx
from hongbao.domain.errors import HongbaoError, Rejected
from hongbao.domain.ledger import (
    WORLD_ACCOUNT_ID,
    Account,
    AccountKind,
    PaymentStatus,
    Transfer,
    TransferCode,
    computed_balances,
)

NOW = datetime(2026, 2, 18, 20, 0, tzinfo=UTC)



def wallets(store: SqlStore, *names: str) -> list[int]:
    """Create users; return their wallet account ids."""

    def job(tx: SqlTx) -> list[int]:
        return [tx.wallet_account_id(tx.create_user(n, n, "not-a-real-hash", NOW)) for n in names]

    return store.write_sync(job)


def book(store: SqlStore, debit: int, credit: int, amount_fen: int, ref: str) -> int:
    """Book one transfer.  Money entering or leaving the platform goes with its channel payment, as the wallet books
    it (reconcile wants one for every top-up and withdrawal); `ref` is then the payment's reference."""
    if WORLD_ACCOUNT_ID in (debit, credit):
        return store.write_sync(lambda tx: cross_the_edge(tx, debit, credit, amount_fen, ref))
    code = TransferCode.PACKET_FUND  # any code: the store does not interpret it
    return store.write_sync(lambda tx: tx.transfer(debit, credit, amount_fen, code, ref, NOW))


def cross_the_edge(tx: SqlTx, debit: int, credit: int, amount_fen: int, reference: str) -> int:
    """A settled top-up (from the world) or withdrawal (to it), recorded and booked in one transaction."""
    inbound = debit == WORLD_ACCOUNT_ID
    wallet = credit if inbound else debit
    owner = tx.conn.execute(select(s.accounts.c.owner_id).where(s.accounts.c.id == wallet)).scalar_one()
    pid = tx.add_payment(owner, "in" if inbound else "out", amount_fen, "test", reference, NOW)
    assert tx.settle_payment(pid, PaymentStatus.BOOKED if inbound else PaymentStatus.SENT,
                             [PaymentStatus.PENDING], f"ch-{reference}", NOW)
    code, ref = (TransferCode.TOPUP, f"topup:{pid}") if inbound else (TransferCode.WITHDRAW, f"withdraw:{pid}")
    return tx.transfer(debit, credit, amount_fen, code, ref, NOW)


def ledger(store: SqlStore) -> tuple[dict[int, Account], list[Transfer]]:
    accounts, transfers, _, _ = store.read_sync(lambda tx: tx.audit_facts(), snapshot=True)
    return {a.id: a for a in accounts}, list(transfers)


def refusal(call: Callable[[], Any]) -> str:
    with pytest.raises(HongbaoError) as info:
        call()
    return info.value.code


# ---------------------------------------------------------------------- migrations


def test_migrating_twice_gives_the_schema_once_with_one_world_account(store_url: str) -> None:
    sql_store = SqlStore(store_url)
    try:
        migrate.upgrade(sql_store.engine)
        migrate.upgrade(sql_store.engine)

        tables = set(inspect(sql_store.engine).get_table_names())
        with sql_store.engine.connect() as conn:
            worlds = conn.execute(text("SELECT id FROM accounts WHERE kind = 'world'")).scalars().all()
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    finally:
        sql_store.close()

    assert tables == {*s.metadata.tables, "alembic_version"}
    assert worlds == [WORLD_ACCOUNT_ID]
    # One row per branch head: each area's migration is its own branch from 0002 (migrate.upgrade runs "heads").
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert sorted(versions) == sorted(heads)


def test_migrations_create_every_column_the_schema_declares(store: SqlStore) -> None:
    inspector = inspect(store.engine)

    for name, table in s.metadata.tables.items():
        assert {c["name"] for c in inspector.get_columns(name)} == set(table.columns.keys()), name


def test_the_world_account_is_account_one(store: SqlStore) -> None:
    accounts, transfers = ledger(store)

    assert accounts[WORLD_ACCOUNT_ID].kind is AccountKind.WORLD
    assert accounts[WORLD_ACCOUNT_ID].balance_fen == 0
    assert transfers == []


# ---------------------------------------------------------------------- transfers


def test_every_cached_balance_equals_the_sum_of_its_transfers(store: SqlStore) -> None:
    alice, bob, carol = wallets(store, "alice", "bob", "carol")

    book(store, WORLD_ACCOUNT_ID, alice, 1_000, "topup:1")
    book(store, alice, bob, 300, "move:1")
    book(store, bob, carol, 100, "move:2")
    book(store, alice, WORLD_ACCOUNT_ID, 50, "withdraw:1")

    accounts, transfers = ledger(store)
    truth = computed_balances(transfers)
    assert {i: a.balance_fen for i, a in accounts.items() if i in truth} == truth
    assert truth == {WORLD_ACCOUNT_ID: -950, alice: 650, bob: 200, carol: 100}
    assert sum(a.balance_fen for a in accounts.values()) == 0


def test_booked_transfers_are_never_changed_by_later_ones(store: SqlStore) -> None:
    alice, bob = wallets(store, "alice", "bob")
    book(store, WORLD_ACCOUNT_ID, alice, 1_000, "topup:1")
    book(store, alice, bob, 400, "move:1")
    _, before = ledger(store)

    book(store, bob, alice, 400, "move:2")  # a correction is a new transfer
    refusal(lambda: book(store, alice, bob, 5_000, "move:3"))
    refusal(lambda: book(store, alice, bob, 1, "move:1"))

    _, after = ledger(store)
    assert after[: len(before)] == before
    assert [t.ref for t in after[len(before) :]] == ["move:2"]
    assert all(t.amount_fen > 0 for t in after)


def test_a_transfer_overdrawing_a_wallet_gives_insufficient_funds_and_changes_nothing(store: SqlStore) -> None:
    alice, bob = wallets(store, "alice", "bob")
    book(store, WORLD_ACCOUNT_ID, alice, 500, "topup:1")
    before = ledger(store)

    assert refusal(lambda: book(store, alice, bob, 501, "move:1")) == "insufficient_funds"
    assert refusal(lambda: book(store, bob, alice, 1, "move:2")) == "insufficient_funds"

    assert ledger(store) == before


def test_a_wallet_may_be_emptied_to_exactly_zero(store: SqlStore) -> None:
    alice, bob = wallets(store, "alice", "bob")
    book(store, WORLD_ACCOUNT_ID, alice, 500, "topup:1")

    book(store, alice, bob, 500, "move:1")

    accounts, _ = ledger(store)
    assert (accounts[alice].balance_fen, accounts[bob].balance_fen) == (0, 500)


def test_booking_the_same_code_and_ref_twice_gives_already_booked_and_changes_nothing(store: SqlStore) -> None:
    alice, bob = wallets(store, "alice", "bob")
    book(store, WORLD_ACCOUNT_ID, alice, 500, "topup:1")
    book(store, alice, bob, 100, "move:1")
    before = ledger(store)

    assert refusal(lambda: book(store, alice, bob, 100, "move:1")) == "already_booked"
    assert refusal(lambda: book(store, bob, alice, 7, "move:1")) == "already_booked"

    assert ledger(store) == before


# ---------------------------------------------------------------------- group commit


def test_concurrent_writes_share_commits_and_a_failing_job_rolls_back_alone(store: SqlStore) -> None:
    (alice,) = wallets(store, "alice")
    release = threading.Event()
    batches_before, jobs_before = store.batches, store.jobs_done

    def top_up(i: int) -> Callable[[SqlTx], int]:
        def job(tx: SqlTx) -> int:
            cross_the_edge(tx, WORLD_ACCOUNT_ID, alice, 1, f"gc-{i}")
            if i == 37:
                raise Rejected("refused after booking", code="test_refusal")
            if i == 61:
                raise RuntimeError("a bug after booking")
            return i

        return job

    async def hundred_writes() -> list[Any]:
        # The writer is held on a first job until all 100 are queued, so the batching is deterministic.
        blocker = asyncio.ensure_future(store.write(lambda tx: release.wait(30)))
        writes = [asyncio.ensure_future(store.write(top_up(i))) for i in range(100)]
        await asyncio.sleep(0)  # every write has queued its job
        release.set()
        await blocker
        return await asyncio.gather(*writes, return_exceptions=True)

    results = asyncio.run(hundred_writes())

    assert store.jobs_done - jobs_before == 101
    assert store.batches - batches_before <= 2  # far fewer commits than jobs
    assert isinstance(results[37], HongbaoError) and results[37].code == "test_refusal"
    assert isinstance(results[61], RuntimeError)
    assert [r for i, r in enumerate(results) if i not in (37, 61)] == [i for i in range(100) if i not in (37, 61)]
    accounts, transfers = ledger(store)
    assert accounts[alice].balance_fen == 98
    assert len(transfers) == 98
    payments = store.read_sync(lambda tx: tx.conn.execute(select(s.channel_payments.c.reference)).scalars().all())
    assert set(payments) == {f"gc-{i}" for i in range(100) if i not in (37, 61)}  # rolled back with their jobs


def test_a_write_is_committed_for_every_connection_once_it_returns(store: SqlStore, store_url: str) -> None:
    (alice,) = wallets(store, "alice")
    book(store, WORLD_ACCOUNT_ID, alice, 9, "topup:1")

    other = SqlStore(store_url)  # its own engine: its own connections
    try:
        accounts, _ = ledger(other)
    finally:
        other.close()

    assert accounts[alice].balance_fen == 9


def test_a_timestamp_written_as_driver_sql_equals_the_same_instant_bound_by_core(store: SqlStore) -> None:
    # given a transfer booked by the ledger's driver SQL (hot.py) at an instant given in another time zone
    at = datetime(2026, 2, 18, 20, 0, 0, 5, tzinfo=timezone(timedelta(hours=8)))
    a, b = wallets(store, "ts_a", "ts_b")
    book(store, WORLD_ACCOUNT_ID, a, 100, "ts-topup")
    store.write_sync(lambda tx: tx.transfer(a, b, 1, TransferCode.PACKET_FUND, "ts-move", at))
    t = s.transfers.c
    # then Core finds it by that instant (SQLite compares the stored text: both paths must write the same digits)
    found = store.read_sync(lambda tx: tx.conn.execute(select(t.ref).where(t.created_at == at)).scalars().all())
    assert found == ["ts-move"]
    later = store.read_sync(
        lambda tx: tx.conn.execute(select(t.ref).where(t.created_at > at, t.ref == "ts-move")).scalars().all()
    )
    assert later == []
