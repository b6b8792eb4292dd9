"""The writer under faults, on SQLite and PostgreSQL: a lost COMMIT reply or request moves money once, an
unreachable database is a 503 and never a hang, and the writer thread outlives whatever a batch raises.

The faults are injected at the engine's COMMIT (`adapters/sql/faults.py`); tests/drills does the same
with a real proxy cutting a real PostgreSQL connection."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hongbao.adapters.sql import migrate
from hongbao.adapters.sql.faults import CommitFaults, inject
from hongbao.adapters.sql.store import SqlStore
from hongbao.adapters.sql.tx import SqlTx
from hongbao.bootstrap import App
from hongbao.domain.errors import HongbaoError
from hongbao.domain.ledger import WORLD_ACCOUNT_ID, TransferCode
from hongbao.service.reconcile import reconcile
from tests.service.helpers import balance, befriend, register

NOW = datetime(2026, 2, 18, 20, 0, tzinfo=UTC)


def first_n(n: int) -> Callable[[], bool]:
    """A fault that strikes the next `n` times it is asked, then never."""
    left = [n]

    def strike() -> bool:
        left[0] -= 1
        return left[0] >= 0

    return strike


@pytest.fixture
def pair(hb: App) -> tuple[int, int]:
    """alice (¥100) and bob, friends."""
    alice, bob = register(hb, "alice", "bob")
    befriend(hb, alice, bob)
    asyncio.run(hb.wallet.top_up(alice, 10_000))
    return alice, bob


def packets_of(hb: App, sender: int) -> list[Any]:
    return hb.store.read_sync(lambda tx: tx.packets_where(sender_id=sender))


def test_a_lost_commit_reply_answers_the_committed_outcome_and_moves_the_money_once(
    hb: App, pair: tuple[int, int]
) -> None:
    alice, bob = pair
    faults = inject(hb.store.engine, CommitFaults(lose_reply=first_n(1)))

    sent = asyncio.run(hb.packets.send_personal(alice, bob, 500, "恭喜发财"))

    assert faults.replies_lost == 1 and hb.store.unknown_commits == 1
    assert [p.view.id for p in packets_of(hb, alice)] == [sent["id"]]
    assert balance(hb, alice) == 9_500
    assert reconcile(hb.store).violations == []


def test_a_lost_commit_request_runs_the_batch_again_and_moves_the_money_once(
    hb: App, pair: tuple[int, int]
) -> None:
    alice, bob = pair
    faults = inject(hb.store.engine, CommitFaults(lose_request=first_n(1)))

    sent = asyncio.run(hb.packets.send_personal(alice, bob, 500))

    assert faults.requests_lost == 1 and hb.store.unknown_commits == 1
    assert [p.view.id for p in packets_of(hb, alice)] == [sent["id"]]
    assert balance(hb, alice) == 9_500


def test_an_open_whose_commit_reply_was_lost_pays_once_and_answers_the_amount(
    hb: App, pair: tuple[int, int]
) -> None:
    alice, bob = pair
    packet = asyncio.run(hb.packets.send_personal(alice, bob, 888))
    inject(hb.store.engine, CommitFaults(lose_reply=first_n(1)))

    opened = asyncio.run(hb.packets.open(packet["id"], bob))

    assert opened["amount_fen"] == 888  # not 409 already_claimed, as before the writer asked
    assert balance(hb, bob) == 888


def test_many_lost_replies_in_a_storm_of_transfers_move_each_once(hb: App, pair: tuple[int, int]) -> None:
    alice, bob = pair
    rng = random.Random(8)
    faults = inject(hb.store.engine, CommitFaults(lose_reply=lambda: rng.random() < 0.3,
                                                  lose_request=lambda: rng.random() < 0.2))

    async def storm() -> list[Any]:
        results: list[Any] = []
        for wave in range(10):  # waves of three at once: some batches hold several writes
            sends = [hb.transfers.send(alice, bob, 10 + i, f"note {i}") for i in range(wave * 3, wave * 3 + 3)]
            results += await asyncio.gather(*sends, return_exceptions=True)
        return results

    results = asyncio.run(storm())

    assert all(not isinstance(r, BaseException) for r in results), results
    assert faults.replies_lost > 0 and faults.requests_lost > 0
    assert balance(hb, alice) == 10_000 - sum(10 + i for i in range(30))
    assert reconcile(hb.store).violations == []


def test_an_unreachable_database_answers_store_unavailable_and_the_writer_recovers(
    hb: App, pair: tuple[int, int]
) -> None:
    alice, bob = pair
    down = [True]
    inject(hb.store.engine, CommitFaults(unreachable=lambda: down[0]))
    hb.store.write_retry_s = 0.3

    with pytest.raises(HongbaoError) as refused:
        asyncio.run(hb.packets.send_personal(alice, bob, 500))
    assert refused.value.code == "store_unavailable" and refused.value.status == 503
    assert refused.value.retry_after_s is not None
    assert "nothing was changed" in refused.value.detail
    assert hb.store.health()["writer"] == "ok"

    down[0] = False
    asyncio.run(hb.packets.send_personal(alice, bob, 500))
    assert balance(hb, alice) == 9_500 and len(packets_of(hb, alice)) == 1


def test_a_reply_lost_while_the_database_goes_away_is_answered_unknown_then_settled(
    hb: App, pair: tuple[int, int]
) -> None:
    alice, bob = pair
    down = [False]
    faults = CommitFaults(lose_reply=first_n(1), unreachable=lambda: down[0])
    real_lose_reply = faults.lose_reply

    def lose_and_go_down() -> bool:
        lost = real_lose_reply()
        down[0] = down[0] or lost  # the database vanishes with the reply
        return lost

    faults.lose_reply = lose_and_go_down
    inject(hb.store.engine, faults)
    hb.store.write_resolve_s = 0.3

    with pytest.raises(HongbaoError) as unknown:
        asyncio.run(hb.packets.send_personal(alice, bob, 500))
    assert unknown.value.code == "store_unavailable" and "Idempotency-Key" in unknown.value.detail
    assert len(hb.store.unresolved) == 1

    down[0] = False
    asyncio.run(hb.packets.send_personal(alice, bob, 300))  # the next batch settles the old question
    assert hb.store.unresolved == []
    assert balance(hb, alice) == 10_000 - 500 - 300  # the lost one had committed, once
    assert len(packets_of(hb, alice)) == 2


@pytest.fixture
def bare_store(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'bare.db'}", write_timeout_s=0.3)
    migrate.upgrade(store.engine)
    try:
        yield store
    finally:
        store.close()


def test_a_bug_in_one_job_fails_that_job_alone_and_the_writer_lives_on(bare_store: SqlStore) -> None:
    def bug(_: SqlTx) -> None:
        raise RuntimeError("a bug in one job")

    async def both() -> list[Any]:
        return await asyncio.gather(bare_store.write(bug), bare_store.write(lambda tx: tx.create_user(
            "carol", "Carol", "not-a-hash", NOW)), return_exceptions=True)

    failed, carol = asyncio.run(both())

    assert isinstance(failed, RuntimeError) and isinstance(carol, int)
    assert bare_store.health()["writer"] == "ok"


def test_a_write_whose_caller_gave_up_before_it_started_never_runs(bare_store: SqlStore) -> None:
    ran = threading.Event()
    release = threading.Event()

    def slow(_: SqlTx) -> None:
        release.wait(5)

    async def scene() -> HongbaoError:
        first = asyncio.ensure_future(bare_store.write(slow))
        await asyncio.sleep(0.05)  # the writer is inside `slow` now
        try:
            await bare_store.write(lambda _: ran.set())
        except HongbaoError as exc:
            release.set()
            await asyncio.gather(first, return_exceptions=True)
            return exc
        raise AssertionError("the second write should have timed out")

    refused = asyncio.run(scene())
    time.sleep(0.1)  # room for the writer to (wrongly) run the abandoned job

    assert refused.code == "store_unavailable" and "nothing was changed" in refused.detail
    assert not ran.is_set()


def test_reconcile_names_a_write_that_took_effect_in_two_batches(bare_store: SqlStore) -> None:
    a, b = bare_store.write_sync(
        lambda tx: [tx.wallet_account_id(tx.create_user(n, n, "not-a-hash", NOW)) for n in ("ann", "ben")]
    )
    # ann's money comes from the world without a channel payment: reconcile says so too, this test reads past it.
    bare_store.write_sync(lambda tx: tx.transfer(WORLD_ACCOUNT_ID, a, 100, TransferCode.PACKET_FUND, "seed", NOW))

    def same_write(ref: str) -> Callable[[SqlTx], int]:
        def job(tx: SqlTx) -> int:
            tx.write_id = "one-request"  # what a blind retry of a committed batch did: same write, new batch
            return tx.transfer(a, b, 10, TransferCode.PACKET_FUND, ref, NOW)
        return job

    bare_store.write_sync(same_write("first"))
    bare_store.write_sync(same_write("again"))

    found = [v for v in reconcile(bare_store).violations if v.invariant == "write-once"]
    assert len(found) == 1 and found[0].subject == "write one-request"


def test_batch_markers_older_than_an_hour_by_the_database_clock_are_pruned(bare_store: SqlStore) -> None:
    from sqlalchemy import insert, select

    from hongbao.adapters.sql import schema as s

    bare_store.write_sync(lambda tx: tx.create_user("dan", "Dan", "not-a-hash", NOW))  # one batch, one marker
    (fresh,) = bare_store.read_sync(lambda tx: tx.conn.execute(select(s.write_batches.c.created_at_ms)).scalars().all())
    assert abs(fresh - time.time() * 1000) < 60_000  # stamped by the database's clock, in ms
    bare_store.write_sync(lambda tx: tx.conn.execute(insert(s.write_batches).values(
        id="old", created_at_ms=fresh - 2 * 3600 * 1000)))
    bare_store._last_prune = float("-inf")  # as if ten minutes had passed since the last pruning

    bare_store._prune_markers()  # what the writer does after a batch, once every ten minutes

    left = bare_store.read_sync(lambda tx: tx.conn.execute(select(s.write_batches.c.id)).scalars().all())
    assert "old" not in left and len(left) == 2  # the two batches of this test keep theirs
