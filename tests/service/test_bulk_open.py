"""One write batch settles many opens across many packets together (adapters/sql/tx_settle.py), on SQLite and
PostgreSQL: every open gets its own outcome, in DESIGN.md §6's order, and the ledger holds."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hongbao.adapters.sql import migrate
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.store import SqlStore
from hongbao.bootstrap import App
from hongbao.domain.errors import HongbaoError
from hongbao.service.audience import Claimant
from hongbao.service.opening import Opening
from hongbao.service.ports import Bulk
from tests.conftest import FrozenClock
from tests.service.helpers import balance, befriend, register


def settle_together(hb: App, opens: list[tuple[int, int]]) -> list[Any]:
    """Queue every (packet, user) open at once, past the gate, so the writer settles them in one batch."""

    async def go() -> list[Any]:
        views = {pid: (await hb.store.read(lambda tx, pid=pid: tx.packet(pid))).view for pid, _ in opens}
        now = hb.deps.clock.now()
        bulks = [Bulk("open", Opening(views[pid], Claimant(uid), None, now), hb.packets._settle_opens)
                 for pid, uid in opens]
        return await asyncio.gather(*(hb.store.settle(b) for b in bulks), return_exceptions=True)

    return asyncio.run(go())


def outcome(result: Any) -> str:
    return result.code if isinstance(result, HongbaoError) else "won"


def test_a_batch_of_opens_across_packets_gives_each_open_its_own_outcome(hb: App, clock: FrozenClock) -> None:
    alice, bob, carol, dave, frank = register(hb, "alice", "bob", "carol", "dave", "frank")
    befriend(hb, alice, bob, carol, dave, frank)
    asyncio.run(hb.wallet.top_up(alice, 10_000))
    group = int(asyncio.run(hb.social.create_group(alice, "family", [bob, carol, dave]))["id"])

    def lucky(total: int, shares: int) -> int:
        sent = asyncio.run(hb.packets.send_group(alice, group, how="double_mean", shares_count=shares, total_fen=total))
        return int(sent["id"])

    old = lucky(500, 5)
    clock.advance(hours=25)  # `old` has expired (nobody swept it yet); the three new ones below are fresh
    two, three, one = lucky(200, 2), lucky(300, 3), lucky(100, 1)

    results = settle_together(hb, [
        (two, bob), (two, carol), (two, dave),  # two shares: the third is too late
        (two, bob),  # bob again in the same batch
        (three, bob), (three, frank),  # frank is not in the group
        (one, carol), (one, dave),
        (old, bob),  # expired
    ])

    assert [outcome(r) for r in results] == [
        "won", "won", "packet_exhausted",
        "already_claimed",
        "won", "not_group_member",
        "won", "packet_exhausted",
        "packet_expired",
    ]
    amounts = Counter[int]()
    for (_, uid), r in zip([(two, bob), (two, carol), (two, dave), (two, bob), (three, bob), (three, frank),
                              (one, carol), (one, dave)], results, strict=False):
        if not isinstance(r, HongbaoError):
            amounts[uid] += r["amount_fen"]
    assert balance(hb, bob) == amounts[bob] and balance(hb, carol) == amounts[carol]
    detail = asyncio.run(hb.packets.detail(two, alice))
    assert sum(c["amount_fen"] for c in detail["claims"]) == 200 and detail["status"] == "finished"

    again = settle_together(hb, [(two, carol), (three, carol), (three, dave), (three, carol)])
    assert [outcome(r) for r in again] == ["already_claimed", "won", "won", "already_claimed"]
    assert asyncio.run(hb.packets.detail(three, alice))["status"] == "finished"

    # A user's second open in the batch answers as it would one by one: too late when the first was too late.
    last = lucky(100, 1)
    crowd = settle_together(hb, [(last, carol), (last, bob), (last, bob)])
    assert [outcome(r) for r in crowd] == ["won", "packet_exhausted", "packet_exhausted"]


def test_a_bulk_that_fails_as_a_whole_settles_each_item_alone(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'bulk.db'}")
    migrate.upgrade(store.engine)

    def settle(_: Any, items: list[tuple[str, int]]) -> list[tuple[bool, Any]]:
        if len(items) > 1:
            raise RuntimeError("a bug that shows only in a group")
        (_, n), = items
        if n == 3:
            raise ValueError("item 3 is bad on its own")
        return [(True, n * 10)]

    release = threading.Event()

    async def go() -> list[Any]:
        holding = asyncio.ensure_future(store.write(lambda _: release.wait(5)))  # the writer is busy...
        await asyncio.sleep(0.05)
        queued = [asyncio.ensure_future(store.settle(Bulk("k", n, settle))) for n in range(1, 6)]
        await asyncio.sleep(0.05)
        release.set()  # ...until all five wait in its queue: they are one batch
        await holding
        return await asyncio.gather(*queued, return_exceptions=True)

    try:
        results = asyncio.run(go())
    finally:
        store.close()
    assert results[:2] == [10, 20] and results[3:] == [40, 50]
    assert isinstance(results[2], ValueError)


def test_a_send_queued_behind_an_open_storm_commits_beside_a_few_opens_not_the_whole_storm(hb: App) -> None:
    # Given a writer busy with one write, and behind it 100 opens of a group packet then alice's personal send
    alice, bob, *fans = register(hb, "alice", "bob", *(f"fan{i}" for i in range(100)))
    befriend(hb, alice, bob, *fans)
    asyncio.run(hb.wallet.top_up(alice, 10_000))
    group = int(asyncio.run(hb.social.create_group(alice, "fans", fans))["id"])
    pid = int(asyncio.run(hb.packets.send_group(alice, group, how="double_mean", shares_count=100,
                                                total_fen=1_000))["id"])  # fmt: skip
    beside_max = hb.store.bulk_beside_writes_max
    assert beside_max < len(fans) <= hb.store.batch_max  # without the cap, they would all share one batch

    async def storm() -> tuple[list[Any], Any]:
        view = (await hb.store.read(lambda tx: tx.packet(pid))).view
        now = hb.deps.clock.now()
        holding, release = threading.Event(), threading.Event()

        def hold(tx: Any) -> None:
            holding.set()
            release.wait(30)

        held = asyncio.ensure_future(hb.store.write(hold))
        await asyncio.to_thread(holding.wait, 30)
        opens = [asyncio.ensure_future(hb.store.settle(Bulk("open", Opening(view, Claimant(fan), None, now),
                                                            hb.packets._settle_opens))) for fan in fans]  # fmt: skip
        send = asyncio.ensure_future(hb.packets.send_personal(alice, bob, 100))
        while hb.store.health()["queued"] < len(fans) + 1:  # every open and the send wait in the queue
            await asyncio.sleep(0.01)
        # When the writer is free again
        release.set()
        await held
        return await asyncio.gather(*opens), await send

    opened, sent = asyncio.run(storm())

    # Then the send's batch settled at most `beside_max` of the opens, and every open still won exactly once
    def batch_claims(tx: Any) -> tuple[int, int]:
        t = s.transfers.c
        batch = tx.conn.execute(select(t.batch_id).where(t.ref == f"packet:{sent['id']}")).scalar_one()
        claims = tx.conn.execute(select(func.count()).where(t.batch_id == batch, t.code == "packet_claim")).scalar_one()
        every = tx.conn.execute(select(func.count()).where(t.ref.like(f"claim:{pid}:%"))).scalar_one()
        return int(claims), int(every)

    beside, claims = hb.store.read_sync(batch_claims)
    assert beside <= beside_max and hb.store.carried_jobs >= len(fans) - beside_max
    assert claims == len(fans) and all(not isinstance(o, HongbaoError) for o in opened)
    assert sum(balance(hb, fan) for fan in fans) == 1_000 and balance(hb, bob) == 0  # bob has not opened yet
