"""Shake win tickets: losers never reach the store, winners are paid from tickets leased in batches, pools are never
overspent across processes, K wins per user hold across processes, and unused tickets go back to their pools."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from hongbao.adapters.sql import schema_campaign as sc
from hongbao.bootstrap import App, build
from hongbao.domain.campaigns import active_round
from hongbao.domain.errors import HongbaoError
from hongbao.service.reconcile import reconcile
from tests.campaign.conftest import make_enterprise, register_many
from tests.conftest import FrozenClock, fast_settings


def gala(hb: App, clock: FrozenClock, budget_fen: int, *, win_permille: int = 1000, count: int | None = None) -> int:
    """An event with one 10-minute round on now and a second an hour later, and one pool of 1-yuan prizes."""
    host = make_enterprise(hb, "cctv", budget_fen)
    now = clock.now()
    rounds = [(now, now + timedelta(minutes=10)), (now + timedelta(hours=1), now + timedelta(hours=1, minutes=10))]
    event = asyncio.run(hb.shake.create_event(host, name="春晚", rounds=rounds, win_permille=win_permille))
    prize: dict[str, Any] = {"kind": "cash", "amount_fen": 100}
    if count is not None:
        prize["count"] = count
    asyncio.run(hb.shake.add_pool(event["id"], host, budget_fen=budget_fen, prizes=[prize], name="CCTV"))
    return int(event["id"])


def outcome(result: object) -> object:
    if isinstance(result, HongbaoError):
        return result.code
    if isinstance(result, BaseException):
        raise result
    assert isinstance(result, dict)
    return result["result"]


def shake_all(app: App, event_id: int, user_ids: list[int]) -> list[object]:
    async def go() -> list[object]:
        return list(await asyncio.gather(*(app.shake.shake(event_id, u) for u in user_ids), return_exceptions=True))

    return [outcome(r) for r in asyncio.run(go())]


def pool_figures(app: App, event_id: int) -> tuple[int, int, int]:
    """(budget, paid, held) of the event's pool."""
    k = sc.campaigns
    row = app.store.read_sync(
        lambda tx: tx.conn.execute(select(k.c.budget_fen, k.c.paid_fen, k.c.held_fen).where(k.c.event_id == event_id))
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def held(app: App, event_id: int) -> int:
    return pool_figures(app, event_id)[2]


@pytest.fixture
def other(hb: App, store_url: str, clock: FrozenClock, tmp_path: Path) -> Iterator[App]:
    """A second API process on the same database."""
    app = build(fast_settings(database_url=store_url, data_dir=tmp_path), clock=clock, migrate_schema=False)
    try:
        yield app
    finally:
        app.close()


def test_a_losing_shake_touches_neither_the_database_nor_the_writer(hb: App, clock: FrozenClock) -> None:
    # given a round on whose shakes never win, and a first shake that leased the round's first batch
    event_id = gala(hb, clock, 5_000, win_permille=0)
    users = register_many(hb, "viewer", 50)
    assert shake_all(hb, event_id, users[:1]) == ["nothing"]
    reads: list[object] = []
    real_read = hb.store.read

    async def counted_read(job: Callable[[Any], Any]) -> Any:
        reads.append(job)
        return await real_read(job)

    hb.store.read = counted_read  # type: ignore[method-assign]
    batches, jobs = hb.store.batches, hb.store.jobs_done
    # when 49 other users shake
    outcomes = shake_all(hb, event_id, users[1:])
    # then every shake is answered, and nothing was read or written
    assert Counter(outcomes) == {"nothing": 49}
    assert (hb.store.batches, hb.store.jobs_done, reads) == (batches, jobs, [])


def test_winners_are_paid_from_tickets_leased_in_batches_and_each_win_is_durable(hb: App, clock: FrozenClock) -> None:
    event_id = gala(hb, clock, 10_000)
    users = register_many(hb, "viewer", 60)
    batches = hb.store.batches
    outcomes = shake_all(hb, event_id, users)
    assert Counter(outcomes) == {"cash": 60}
    # every "cash" answer is in the ledger: the wallets hold what the pool paid
    assert sum(asyncio.run(hb.wallet.balance(u)) for u in users) == 6_000
    budget, paid, held_fen = pool_figures(hb, event_id)
    assert (budget, paid) == (10_000, 6_000) and paid + held_fen <= budget
    assert hb.store.batches - batches < 60 + 10  # winners group-committed, batches of tickets leased
    assert reconcile(hb.store).violations == []


def test_two_processes_shaking_one_pool_never_overspend_it(hb: App, other: App, clock: FrozenClock) -> None:
    # given a pool of 50 prizes and 160 users, half shaking through each of two processes at once
    event_id = gala(hb, clock, 5_000)
    users = register_many(hb, "viewer", 160)
    with ThreadPoolExecutor(2) as pool:
        halves = list(pool.map(lambda a: shake_all(a[0], event_id, a[1]), [(hb, users[:80]), (other, users[80:])]))
    outcomes = Counter(halves[0] + halves[1])
    # then exactly 50 won, the others heard nothing or pool_empty, and the ledger holds
    assert outcomes["cash"] == 50 and set(outcomes) <= {"cash", "nothing", "pool_empty"}
    assert sum(asyncio.run(hb.wallet.balance(u)) for u in users) == 5_000
    assert pool_figures(hb, event_id)[:2] == (5_000, 5_000)
    assert reconcile(hb.store).violations == []


def test_one_user_shaking_through_two_processes_wins_at_most_k_times(hb: App, other: App, clock: FrozenClock) -> None:
    for app in (hb, other):
        app.shake.limits = dataclasses.replace(app.shake.limits, shakes_per_second_max=100)
    event_id = gala(hb, clock, 5_000)
    (viewer,) = register_many(hb, "viewer", 1)
    with ThreadPoolExecutor(2) as pool:
        halves = list(pool.map(lambda app: shake_all(app, event_id, [viewer] * 20), [hb, other]))
    outcomes = halves[0] + halves[1]
    assert outcomes.count("cash") == 3 and set(outcomes) <= {"cash", "nothing"}
    assert asyncio.run(hb.wallet.balance(viewer)) == 300
    # the tickets the capped shakes did not use are still there for others
    (late,) = register_many(hb, "late", 1)
    assert shake_all(other, event_id, [late]) == ["cash"]
    assert reconcile(hb.store).violations == []


def test_unused_tickets_go_back_to_the_pool_when_the_round_ends(hb: App, clock: FrozenClock) -> None:
    event_id = gala(hb, clock, 5_000)
    users = register_many(hb, "viewer", 5)
    assert shake_all(hb, event_id, users[:2]) == ["cash", "cash"]
    assert held(hb, event_id) > 0  # the rest of the batch is held by this process
    clock.advance(minutes=11)  # the round is over
    assert asyncio.run(hb.shake.release_due()) > 0
    assert held(hb, event_id) == 0
    # and the next round leases them again
    clock.advance(minutes=50)
    assert shake_all(hb, event_id, users[2:]) == ["cash"] * 3
    assert pool_figures(hb, event_id)[1] == 500
    assert reconcile(hb.store).violations == []


def test_a_stopping_process_gives_its_tickets_back(store_url: str, clock: FrozenClock, tmp_path: Path, hb: App) -> None:
    event_id = gala(hb, clock, 5_000)
    users = register_many(hb, "viewer", 2)
    second = build(fast_settings(database_url=store_url, data_dir=tmp_path), clock=clock, migrate_schema=False)
    assert shake_all(second, event_id, users) == ["cash", "cash"]
    assert held(hb, event_id) > 0
    second.close()
    assert held(hb, event_id) == 0
    assert reconcile(hb.store).violations == []


def test_a_crashed_process_loses_no_money_its_tickets_return_after_the_lease(
    hb: App, other: App, clock: FrozenClock
) -> None:
    # given a pool of 20 prizes, all leased by a process that then dies (never closed, never renews)
    event_id = gala(hb, clock, 2_000)
    users = register_many(hb, "viewer", 20)
    other.shake.tickets.batch_min = 20
    assert shake_all(other, event_id, users[:1]) == ["cash"]
    assert held(hb, event_id) == 1_900
    # when another process's shakes come before the lease runs out, they win nothing (the tickets are held)
    assert shake_all(hb, event_id, users[1:3]) == ["nothing", "nothing"]
    # when the lease has expired and the sweep ran
    clock.advance(seconds=31)
    assert asyncio.run(hb.shake.release_due()) == 19
    # then the live process wins them, and the dead one can no longer spend a ticket it held
    assert Counter(shake_all(hb, event_id, users[3:])) == {"cash": 17}
    assert shake_all(other, event_id, users[1:3]) == ["nothing", "nothing"]
    assert shake_all(hb, event_id, users[1:3]) == ["cash", "cash"]
    assert pool_figures(hb, event_id)[1:] == (2_000, 0)
    assert sum(asyncio.run(hb.wallet.balance(u)) for u in users) == 2_000
    assert reconcile(hb.store).violations == []


def test_prize_counts_are_held_like_budgets(hb: App, clock: FrozenClock) -> None:
    event_id = gala(hb, clock, 100_000, count=7)
    users = register_many(hb, "viewer", 12)
    assert Counter(shake_all(hb, event_id, users)) == {"cash": 7, "pool_empty": 5}
    assert reconcile(hb.store).violations == []


def test_reconcile_reports_held_fen_that_no_lease_holds(hb: App, clock: FrozenClock) -> None:
    event_id = gala(hb, clock, 5_000)
    (viewer,) = register_many(hb, "viewer", 1)
    assert shake_all(hb, event_id, [viewer]) == ["cash"]
    k = sc.campaigns
    hb.store.write_sync(lambda tx: tx.conn.execute(update(k).values(held_fen=k.c.held_fen + 100)))
    found = [str(v) for v in reconcile(hb.store).violations]
    assert any("tickets" in v and "leases" in v for v in found), found
    hb.store.write_sync(lambda tx: tx.conn.execute(update(k).values(held_fen=k.c.held_fen - 100)))


def test_a_batch_asked_for_before_a_lease_was_orphaned_does_not_call_the_round_empty(
    hb: App, clock: FrozenClock
) -> None:
    # given a pool of 4 prizes, all leased to this process by its first winner (3 left in its book)
    event_id = gala(hb, clock, 400)
    users = register_many(hb, "viewer", 4)
    assert shake_all(hb, event_id, users[:1]) == ["cash"]
    tickets = hb.shake.tickets
    on = active_round(hb.store.read_sync(lambda tx: tx.event(event_id)).rounds, clock.now())
    assert on is not None

    async def go() -> list[object]:
        book = await tickets.book(event_id, on.seq)
        assert book.count() == 3
        ticket = tickets.take(book)
        assert ticket is not None
        # when a batch is asked for while the writer is busy, and only then the winner holding that ticket loses
        # its reply (its whole lease is orphaned: 3 tickets the store still holds for this process)
        gate = threading.Event()
        busy = asyncio.ensure_future(hb.store.write(lambda tx: gate.wait(10)))
        await asyncio.sleep(0)
        refill = asyncio.ensure_future(tickets.refill(event_id, book, wait=True))
        for _ in range(3):
            await asyncio.sleep(0)  # the batch's job is queued with the orphans known so far: none
        tickets.orphan(book, ticket)
        gate.set()
        await busy
        await refill
        shakes = [hb.shake.shake(event_id, u) for u in users[1:]]
        return [outcome(r) for r in await asyncio.gather(*shakes, return_exceptions=True)]

    # then the round is not taken for empty: the orphaned lease goes back and the next three shakes win it
    assert asyncio.run(go()) == ["cash"] * 3
    assert pool_figures(hb, event_id) == (400, 400, 0)
    assert sum(asyncio.run(hb.wallet.balance(u)) for u in users) == 400
    assert reconcile(hb.store).violations == []


def test_a_process_that_keeps_shaking_renews_its_leases_every_third_of_a_lease(hb: App, clock: FrozenClock) -> None:
    # given a round whose first shake leased this process a batch of tickets (every shake loses)
    event_id = gala(hb, clock, 1_000, win_permille=0)
    users = register_many(hb, "viewer", 3)
    tickets = hb.shake.tickets
    sl = sc.shake_leases

    def expiries() -> set[datetime]:  # naive: SQLite keeps no time zone
        rows = hb.store.read_sync(lambda tx: tx.conn.execute(select(sl.c.expires_at).where(sl.c.event_id == event_id)))
        return {e.replace(tzinfo=None) for (e,) in rows}

    async def go() -> tuple[set[datetime], set[datetime], set[datetime]]:
        await hb.shake.shake(event_id, users[0])
        first = expiries()
        clock.advance(seconds=tickets.lease_s / 3 - 1)
        await hb.shake.shake(event_id, users[1])  # before a third of the lease: nothing renewed
        assert tickets._renewing is None or tickets._renewing.done()
        before = expiries()
        clock.advance(seconds=2)
        await hb.shake.shake(event_id, users[2])  # past it: the leases run a whole lease from now
        assert tickets._renewing is not None
        await tickets._renewing
        return first, before, expiries()

    first, before, after = asyncio.run(go())
    assert len(first) == 1 and before == first
    assert after == {(clock.now() + timedelta(seconds=tickets.lease_s)).replace(tzinfo=None)}
