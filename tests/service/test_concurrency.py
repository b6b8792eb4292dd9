"""Races on money: many claimants, one user racing themselves, expiry against the last open, replayed requests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest

from hongbao.adapters.sql.store import SqlStore
from hongbao.adapters.sql.tx import SqlTx
from hongbao.bootstrap import App, build
from hongbao.domain.errors import HongbaoError
from hongbao.service.idempotency import IdempotencyKey
from tests.conftest import FrozenClock, fast_settings
from tests.service.helpers import PASSWORD, balance, checked

T = TypeVar("T")


def outcome(result: object) -> object:
    """A gathered result, with a refusal replaced by its code."""
    return result.code if isinstance(result, HongbaoError) else result


def register_many(app: App, names: list[str]) -> list[int]:
    """Register concurrently: the writes share group commits."""

    async def go() -> list[int]:
        return list(await asyncio.gather(*(app.users.register(n, PASSWORD) for n in names)))

    return asyncio.run(go())


def group_of(app: App, owner: int, members: list[int]) -> int:
    """A group owned by `owner`, who befriends every member first (concurrently)."""

    async def go() -> int:
        await asyncio.gather(*(app.social.request_friend(owner, m) for m in members))
        await asyncio.gather(*(app.social.accept_friend(m, owner) for m in members))
        return int((await app.social.create_group(owner, "everyone", members))["id"])

    return asyncio.run(go())


def race(*jobs: Callable[[], T]) -> list[T | BaseException]:
    """Start every job in its own thread at the same moment; return results or exceptions, in order."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], T]) -> T | BaseException:
        barrier.wait()
        try:
            return job()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


@pytest.fixture
def big_groups(store_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[App]:
    """The app with groups of up to 201 members; checks the ledger when the test ends."""
    settings = fast_settings(database_url=store_url, data_dir=tmp_path, group_members_max=201)
    yield from checked(build(settings, clock=clock))


def test_two_hundred_claimants_on_ten_shares_get_exactly_ten_claims(big_groups: App) -> None:
    app = big_groups
    sender, *claimants = register_many(app, [f"user{i:03d}" for i in range(201)])
    group = group_of(app, sender, claimants)
    asyncio.run(app.wallet.top_up(sender, 10_000))
    packet = asyncio.run(app.packets.send_group(sender, group, how="double_mean", shares_count=10, total_fen=8_888))

    async def everyone_opens() -> list[Any]:
        return list(
            await asyncio.gather(*(app.packets.open(packet["id"], u) for u in claimants), return_exceptions=True)
        )

    results = [outcome(r) for r in asyncio.run(everyone_opens())]

    won = [r for r in results if isinstance(r, dict)]
    assert len(won) == 10
    assert sum(r["amount_fen"] for r in won) == 8_888
    assert results.count("packet_exhausted") == 190
    assert sum(balance(app, u) for u in claimants) == 8_888
    detail = asyncio.run(app.packets.detail(packet["id"], sender))
    assert (detail["status"], detail["claimed_count"], detail["claimed_fen"]) == ("finished", 10, 8_888)


def test_a_user_racing_themselves_twenty_times_is_paid_once(hb: App) -> None:
    sender, bob, carol = register_many(hb, ["alice", "bob", "carol"])
    group = group_of(hb, sender, [bob, carol])
    asyncio.run(hb.wallet.top_up(sender, 1_000))
    packet = asyncio.run(hb.packets.send_group(sender, group, how="line_cut", shares_count=2, total_fen=1_000))

    async def bob_opens_twenty_times() -> list[Any]:
        return list(
            await asyncio.gather(*(hb.packets.open(packet["id"], bob) for _ in range(20)), return_exceptions=True)
        )

    results = [outcome(r) for r in asyncio.run(bob_opens_twenty_times())]

    won = [r for r in results if isinstance(r, dict)]
    assert len(won) == 1
    assert all(r in ("already_claimed", "packet_exhausted") for r in results if not isinstance(r, dict))
    assert balance(hb, bob) == won[0]["amount_fen"]
    assert asyncio.run(hb.packets.detail(packet["id"], sender))["claimed_count"] == 1


def test_twenty_threads_opening_for_one_user_at_the_store_pay_once(hb: App, clock: FrozenClock) -> None:
    sender, bob, carol = register_many(hb, ["alice", "bob", "carol"])
    group = group_of(hb, sender, [bob, carol])
    asyncio.run(hb.wallet.top_up(sender, 1_000))
    packet = asyncio.run(hb.packets.send_group(sender, group, how="double_mean", shares_count=2, total_fen=1_000))
    pid, now = packet["id"], clock.now()

    # Straight to the store: no gate, so only the unique (packet, user) constraint can say no.
    results = race(*[lambda: hb.store.write_sync(lambda tx: tx.open_share(pid, bob, now))] * 20)

    won = [r for r in results if not isinstance(r, BaseException)]
    assert len(won) == 1
    assert [outcome(r) for r in results if isinstance(r, BaseException)] == ["already_claimed"] * 19
    assert balance(hb, bob) == won[0].amount_fen
    assert asyncio.run(hb.packets.detail(packet["id"], sender))["status"] == "active"


@pytest.mark.parametrize("writers", ["one writer", "two writers"])
def test_expiry_racing_the_last_open_either_pays_the_share_or_refunds_it_never_both(
    hb: App, clock: FrozenClock, store_url: str, writers: str
) -> None:
    sender, bob, carol = register_many(hb, ["alice", "bob", "carol"])
    group = group_of(hb, sender, [bob, carol])
    asyncio.run(hb.wallet.top_up(sender, 30 * 500))

    async def send_and_open_one_share() -> list[int]:
        ids = []
        for _ in range(30):
            packet = await hb.packets.send_group(sender, group, how="double_mean", shares_count=2, total_fen=500)
            await hb.packets.open(packet["id"], bob)
            ids.append(packet["id"])
        return ids

    packet_ids = asyncio.run(send_and_open_one_share())
    due_at = clock.now() + timedelta(seconds=hb.settings.packet_ttl_s)
    # The last open was admitted a tick before the deadline; the expiry worker runs at the deadline.
    open_at = due_at - timedelta(microseconds=1)
    # Two writers: a second store on the same database, so a second connection and transaction.
    other = SqlStore(store_url) if writers == "two writers" else hb.store
    try:
        outcomes = []
        for i, pid in enumerate(packet_ids):
            # Alternate stores and the order the two jobs are submitted in, so that each side wins sometimes.
            opener, expirer = (hb.store, other) if i % 2 else (other, hb.store)
            outcomes.append(_race_open_and_expiry(opener, expirer, pid, carol, open_at, due_at, i % 4 < 2))
    finally:
        if other is not hb.store:
            other.close()

    for pid, (opened, refund) in zip(packet_ids, outcomes, strict=True):
        row, claims = hb.store.read_sync(partial(_packet_and_claims, pid=pid))
        assert row is not None
        if row.view.status.value == "finished":  # the open won: the share is paid, nothing refunded
            assert refund is None
            assert [c.user_id for c in claims] == [bob, carol]
            assert opened.amount_fen == claims[1].amount_fen == 500 - claims[0].amount_fen
            assert (row.claimed_fen, row.refunded_fen) == (500, 0)
        else:  # the expiry won: the last share goes back to the sender, nobody opens it
            assert row.view.status.value == "expired"
            assert outcome(opened) == "packet_expired"
            assert [c.user_id for c in claims] == [bob]
            assert refund == row.refunded_fen == 500 - claims[0].amount_fen
    assert balance(hb, sender) + balance(hb, bob) + balance(hb, carol) == 30 * 500


def _packet_and_claims(tx: SqlTx, *, pid: int) -> tuple[Any, list[Any]]:
    return tx.packet(pid), tx.claims_of(pid)


def _race_open_and_expiry(
    opener: SqlStore,
    expirer: SqlStore,
    pid: int,
    claimer: int,
    open_at: datetime,
    due_at: datetime,
    expiry_first: bool,
) -> tuple[Any, Any]:
    """Run the last open and the expiry of one packet at the same moment; return (opened, refund)."""

    def open_last(tx: SqlTx) -> Any:
        return tx.open_share(pid, claimer, open_at)

    def expire(tx: SqlTx) -> Any:
        return tx.expire_packet(pid, due_at)

    jobs = [lambda: opener.write_sync(open_last), lambda: expirer.write_sync(expire)]
    if expiry_first:
        refund, opened = race(*reversed(jobs))
    else:
        opened, refund = race(*jobs)
    return opened, refund


# ---------------------------------------------------------------------- idempotent replays


def test_a_send_replayed_ten_times_at_once_makes_one_packet_and_one_debit(hb: App) -> None:
    sender, bob = register_many(hb, ["alice", "bob"])
    group = group_of(hb, sender, [bob])
    asyncio.run(hb.wallet.top_up(sender, 1_000))
    body = {"group_id": group, "split": "double_mean", "shares_count": 3, "total_fen": 300}
    idem = IdempotencyKey.of(sender, "send-1", "send", body)

    async def send_ten_times() -> list[Any]:
        return list(
            await asyncio.gather(
                *(
                    hb.packets.send_group(sender, group, how="double_mean", shares_count=3, total_fen=300, idem=idem)
                    for _ in range(10)
                ),
                return_exceptions=True,
            )
        )

    replies = [outcome(r) for r in asyncio.run(send_ten_times())]

    assert all(r == replies[0] for r in replies)
    assert isinstance(replies[0], dict)
    assert len(hb.store.read_sync(lambda tx: tx.packets_where(sender_id=sender))) == 1
    assert balance(hb, sender) == 700


def test_a_reused_key_with_another_body_gives_idempotency_key_reused(hb: App) -> None:
    sender, bob = register_many(hb, ["alice", "bob"])
    group = group_of(hb, sender, [bob])
    asyncio.run(hb.wallet.top_up(sender, 1_000))
    first = IdempotencyKey.of(sender, "send-1", "send", {"group_id": group, "total_fen": 300})
    second = IdempotencyKey.of(sender, "send-1", "send", {"group_id": group, "total_fen": 400})
    asyncio.run(hb.packets.send_group(sender, group, how="line_cut", shares_count=3, total_fen=300, idem=first))

    with pytest.raises(HongbaoError) as info:
        asyncio.run(hb.packets.send_group(sender, group, how="line_cut", shares_count=3, total_fen=400, idem=second))

    assert info.value.code == "idempotency_key_reused"
    assert balance(hb, sender) == 700


def test_a_top_up_replayed_concurrently_credits_once(hb: App) -> None:
    (alice,) = register_many(hb, ["alice"])
    idem = IdempotencyKey.of(alice, "topup-1", "top-up", {"amount_fen": 1_000})

    async def top_up_ten_times() -> list[Any]:
        return list(
            await asyncio.gather(*(hb.wallet.top_up(alice, 1_000, idem) for _ in range(10)), return_exceptions=True)
        )

    replies = [outcome(r) for r in asyncio.run(top_up_ten_times())]

    assert all(r == replies[0] for r in replies)
    assert isinstance(replies[0], dict) and replies[0]["balance_fen"] == 1_000
    assert balance(hb, alice) == 1_000
    assert len(asyncio.run(hb.wallet.statement(alice, None, 10))["entries"]) == 1
    assert hb.deps.channel.charged_fen == 1_000  # type: ignore[attr-defined]


def test_a_top_up_replayed_later_neither_credits_nor_charges_again(hb: App) -> None:
    (alice,) = register_many(hb, ["alice"])
    idem = IdempotencyKey.of(alice, "topup-1", "top-up", {"amount_fen": 1_000})
    first = asyncio.run(hb.wallet.top_up(alice, 1_000, idem))

    again = asyncio.run(hb.wallet.top_up(alice, 1_000, idem))

    assert again == first
    assert balance(hb, alice) == 1_000
    assert hb.deps.channel.charged_fen == 1_000  # type: ignore[attr-defined]
