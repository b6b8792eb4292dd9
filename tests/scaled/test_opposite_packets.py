"""Two writers on one PostgreSQL never deadlock on packets (tx_ledger.py: packets locked in id order before a batch's
jobs, never waited for mid-batch): both expire the same packets, one in id order, the other the other way round,
round after round.  Every packet expires once, no batch is refused as busy, the ledger balances.  An expiry meeting
a packet another transaction holds runs again in the next batch, once it is free."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from hongbao.adapters.sql.store import SqlStore
from hongbao.adapters.sql.tx import SqlTx
from hongbao.adapters.sql.tx_settle import Opened
from hongbao.domain.errors import HongbaoError
from hongbao.domain.packets import PacketKind
from hongbao.domain.split import Split
from hongbao.service.ports import Bulk, ShareWanted
from hongbao.service.reconcile import reconcile
from tests.scaled.crossing import both_at_once, deadlocks, one_batch, wait_for
from tests.scaled.money_moves import START_FEN, open_wallets

PACKETS = 8
ROUNDS = 20
TOTAL_FEN = 100


def send_due(store: SqlStore, senders: list[int], count: int, *, live: bool = False) -> list[int]:
    """`count` packets of TOTAL_FEN from `senders` in turn, unopened and already past their expiry (`live`: not)."""

    def job(tx: SqlTx) -> list[int]:
        sent = datetime.now(UTC) - timedelta(hours=2 if not live else 0)
        return [
            tx.create_packet(
                kind=PacketKind.GROUP,
                how=Split.EQUAL,
                sender_id=senders[i % len(senders)],
                group_id=None,
                recipient_id=None,
                total_fen=TOTAL_FEN,
                shares_count=2,
                greeting="",
                now=sent,
                expires_at=sent + timedelta(hours=1),
            )
            for i in range(count)
        ]

    return store.write_sync(job)


def expire(packet_id: int) -> object:
    return lambda tx: tx.expire_packet(packet_id, datetime.now(UTC))


def test_an_expiry_meeting_a_packet_another_transaction_holds_runs_again_once_it_is_free(
    stores: tuple[SqlStore, SqlStore],
) -> None:
    store = stores[0]
    (sender,) = open_wallets(store, 1)
    (packet,) = send_due(store, [sender], 1)
    outside = store.engine.connect()  # another process's transaction, holding the packet (a settle's lock)
    outside.begin()
    outside.execute(text("SELECT id FROM packets WHERE id = :p FOR NO KEY UPDATE"), {"p": packet})
    with ThreadPoolExecutor(1) as pool:
        expiring = pool.submit(store.write_sync, expire(packet))
        wait_for(lambda: store.deferred_jobs >= 1)  # not waited for inside the batch: sent on to the next one
        assert not expiring.done()
        outside.rollback()
        outside.close()
        assert expiring.result(timeout=30) == TOTAL_FEN

    assert store.busy_failures == 0
    assert store.read_sync(lambda tx: tx.balance_fen(sender)) == START_FEN
    assert reconcile(store).violations == []


def test_two_writers_expiring_packets_in_opposite_orders_never_deadlock(stores: tuple[SqlStore, SqlStore]) -> None:
    senders = open_wallets(stores[0], 2)
    refunds: list[list[int | None]] = [[], []]

    for _ in range(ROUNDS):
        packets = send_due(stores[0], senders, PACKETS)

        async def drive(i: int, store: SqlStore) -> None:
            order = packets if i == 0 else packets[::-1]  # noqa: B023 - both_at_once returns before the next round
            refunds[i].extend(await one_batch(store, [expire(p) for p in order]))

        both_at_once(stores, drive)

    expired = [r for side in refunds for r in side if r is not None]
    assert expired == [TOTAL_FEN] * (ROUNDS * PACKETS)  # each packet refunded once, by one writer or the other
    assert len(refunds[0]) + len(refunds[1]) == 2 * ROUNDS * PACKETS  # every write answered, none failed
    assert [s.busy_failures for s in stores] == [0, 0]  # no deadlock, so no failed batch and no retry
    assert stores[0].read_sync(lambda tx: [tx.balance_fen(u) for u in senders]) == [START_FEN] * 2
    assert reconcile(stores[0]).violations == []
    assert deadlocks(stores) == 0  # PostgreSQL's own count


def settle_opens(tx: SqlTx, items: list[tuple[str, ShareWanted]]) -> list[tuple[bool, object]]:
    opened = tx.open_shares([ShareWanted(w.packet_id, w.user_id, w.now, wid) for wid, w in items])
    return [(isinstance(o, Opened), o) for o in opened]


def open_bulk(packet_id: int, user_id: int) -> Bulk[ShareWanted]:
    return Bulk("open", ShareWanted(packet_id, user_id, datetime.now(UTC), None), settle_opens)


def test_a_bulk_open_meeting_a_wallet_another_transaction_holds_runs_again_once_it_is_free(
    stores: tuple[SqlStore, SqlStore],
) -> None:
    """The settle credits its wallets in one statement over arrays, the ones it does not hold yet locked first
    without waiting (tx_ledger.credit_all): a held wallet sends the whole batch's opens to the next batch."""
    store = stores[0]
    sender, free, held = open_wallets(store, 3)
    (packet,) = send_due(store, [sender], 1, live=True)
    outside = store.engine.connect()  # another process's transaction, holding one opener's wallet
    outside.begin()
    outside.execute(text("SELECT id FROM accounts WHERE kind = 'wallet' AND owner_id = :u FOR UPDATE"), {"u": held})

    async def open_both() -> list[object]:
        return await asyncio.gather(*(store.settle(open_bulk(packet, user)) for user in (free, held)))

    with ThreadPoolExecutor(1) as pool:
        opening = pool.submit(asyncio.run, open_both())
        wait_for(lambda: store.deferred_jobs >= 1)  # not waited for inside the batch: sent on to the next one
        assert not opening.done()
        outside.rollback()
        outside.close()
        opened = opening.result(timeout=30)

    assert all(isinstance(o, Opened) for o in opened), opened
    assert store.busy_failures == 0
    share = TOTAL_FEN // 2
    assert store.read_sync(lambda tx: [tx.balance_fen(u) for u in (free, held)]) == [START_FEN + share] * 2
    assert reconcile(store).violations == []


async def expire_then_open(store: SqlStore, due: list[int], live: list[int], user: int, out: list[object]) -> None:
    """One batch: the expiries in the order given, then opens of every packet (the settle locks them in id order)."""
    writes = [store.write(expire(p)) for p in due]
    writes += [store.settle(open_bulk(p, user)) for p in sorted(due + live)]
    out.extend(await asyncio.gather(*writes, return_exceptions=True))


def test_a_batch_expiring_and_opening_packets_never_deadlocks_with_another(stores: tuple[SqlStore, SqlStore]) -> None:
    """The settle locks packets in id order, but the expiries before it in the same batch did not: it met, mid-batch,
    a packet the other writer's batch held while that one waited for a packet this one held."""
    users = open_wallets(stores[0], 4)
    senders, openers = users[:2], users[2:]
    outcomes: list[list[object]] = [[], []]
    for _ in range(ROUNDS):
        due = send_due(stores[0], senders, PACKETS // 2)
        live = send_due(stores[0], senders, PACKETS // 2, live=True)

        async def drive(i: int, store: SqlStore) -> None:
            order = due[::-1] if i == 0 else due  # noqa: B023 - both_at_once returns before the next round
            await expire_then_open(store, order, live, openers[i], outcomes[i])  # noqa: B023

        both_at_once(stores, drive)

    failures = [o for side in outcomes for o in side if isinstance(o, BaseException)]
    assert all(isinstance(o, HongbaoError) and o.code == "packet_expired" for o in failures), failures[:3]
    refunds = [o for side in outcomes for o in side if isinstance(o, int)]
    assert refunds == [TOTAL_FEN] * (ROUNDS * PACKETS // 2)  # each due packet refunded once
    won = [o for side in outcomes for o in side if not isinstance(o, (int, BaseException)) and o is not None]
    assert len(won) == 2 * ROUNDS * PACKETS // 2  # both openers took a share of every live packet
    assert [s.busy_failures for s in stores] == [0, 0]
    assert reconcile(stores[0]).violations == []
    assert deadlocks(stores) == 0
