"""Where shares come from (migration 0012), on SQLite and PostgreSQL: equal and double-mean shares are drawn when
they are taken and keep no rows at all; line-cut shares are drawn at send and kept packed, SHARE_BLOCK to a row;
packets sent before the migration keep opening from their pre-drawn rows.  The `hb` fixture reconciles after each."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, insert, select, update

from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.tx import SqlTx, unpack_shares
from hongbao.bootstrap import App
from hongbao.domain.packets import PacketKind
from hongbao.domain.split import Split, double_mean_upper
from tests.service.helpers import balance, befriend, register


def family(hb: App, members: int) -> tuple[int, list[int], int]:
    """Alice with `members` friends in one group, 100,000 fen in her wallet: (alice, the others, the group)."""
    alice, *others = register(hb, "alice", *(f"friend{i}" for i in range(members)))
    befriend(hb, alice, *others)
    asyncio.run(hb.wallet.top_up(alice, 100_000))
    group = int(asyncio.run(hb.social.create_group(alice, "family", others))["id"])
    return alice, others, group


def stored_share_rows(hb: App, packet_id: int) -> tuple[int, int]:
    """(packet_shares rows, packet_share_blocks rows) of one packet."""

    def job(tx: SqlTx) -> tuple[int, int]:
        conn = tx.conn
        rows = conn.execute(select(func.count()).where(s.packet_shares.c.packet_id == packet_id)).scalar_one()
        blocks = conn.execute(select(func.count()).where(s.packet_share_blocks.c.packet_id == packet_id)).scalar_one()
        return int(rows), int(blocks)

    return hb.store.read_sync(job)


def open_all(hb: App, packet_id: int, users: list[int]) -> list[int]:
    async def go() -> list[int]:
        return [int((await hb.packets.open(packet_id, u))["amount_fen"]) for u in users]

    return asyncio.run(go())


def test_double_mean_and_equal_packets_keep_no_share_rows_and_draw_each_share_at_open(hb: App) -> None:
    alice, others, group = family(hb, 5)
    lucky = int(asyncio.run(hb.packets.send_group(alice, group, how="double_mean", shares_count=5,
                                                  total_fen=1_000))["id"])
    equal = int(asyncio.run(hb.packets.send_group(alice, group, how="equal", shares_count=5,
                                                  amount_each_fen=77))["id"])
    assert stored_share_rows(hb, lucky) == (0, 0) and stored_share_rows(hb, equal) == (0, 0)

    got = open_all(hb, lucky, others)
    remaining = 1_000
    for k, amount in enumerate(got):  # every share within the double mean's bound for what was left
        left = 5 - k
        assert (amount == remaining) if left == 1 else 1 <= amount <= double_mean_upper(remaining, left)
        remaining -= amount
    assert sum(got) == 1_000 and remaining == 0
    assert open_all(hb, equal, others) == [77] * 5
    assert [balance(hb, u) for u in others] == [a + 77 for a in got]
    assert asyncio.run(hb.packets.detail(lucky, alice))["status"] == "finished"


def test_line_cut_shares_are_drawn_at_send_and_kept_packed(hb: App, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s, "SHARE_BLOCK", 4)  # 10 shares: blocks of 4, 4 and 2
    alice, others, group = family(hb, 10)
    pid = int(asyncio.run(hb.packets.send_group(alice, group, how="line_cut", shares_count=10,
                                                total_fen=5_000))["id"])
    assert stored_share_rows(hb, pid) == (0, 3)
    drawn = hb.store.read_sync(lambda tx: [
        a for r in tx.conn.execute(select(s.packet_share_blocks).where(s.packet_share_blocks.c.packet_id == pid)
                                   .order_by(s.packet_share_blocks.c.block))
        for a in unpack_shares(r.amounts)
    ])
    assert len(drawn) == 10 and sum(drawn) == 5_000

    # Opened across the blocks' edges, claimer k gets share k in draw order
    assert open_all(hb, pid, others[:3]) + open_all(hb, pid, others[3:]) == drawn


def test_a_packet_sent_before_the_migration_opens_from_its_pre_drawn_rows(hb: App) -> None:
    alice, others, group = family(hb, 2)
    pid = int(asyncio.run(hb.packets.send_group(alice, group, how="double_mean", shares_count=2,
                                                total_fen=100))["id"])

    def as_before_0012(tx: SqlTx) -> None:  # what the migration leaves of an older packet: draw "rows"
        conn = tx.conn
        conn.execute(update(s.packets).where(s.packets.c.id == pid).values(draw="rows"))
        conn.execute(insert(s.packet_shares), [{"packet_id": pid, "seq": 0, "amount_fen": 70},
                                               {"packet_id": pid, "seq": 1, "amount_fen": 30}])

    hb.store.write_sync(as_before_0012)
    assert open_all(hb, pid, others) == [70, 30]


def test_a_packet_of_a_million_shares_costs_no_share_rows(hb: App) -> None:
    alice, _, group = family(hb, 1)
    asyncio.run(hb.wallet.top_up(alice, 1_000_000))

    def send(tx: SqlTx) -> int:  # past the group's share limit: what a celebrity packet of a million shares does
        row = hb.packets.create(tx, kind=PacketKind.GROUP, how=Split.DOUBLE_MEAN, sender_id=alice, group_id=group,
                                total_fen=1_000_000, shares_count=1_000_000, greeting="", now=hb.deps.clock.now())
        return int(row.view.id)

    pid = hb.store.write_sync(send)
    assert stored_share_rows(hb, pid) == (0, 0)
