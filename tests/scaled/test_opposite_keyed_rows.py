"""Two writers on one PostgreSQL never deadlock on rows updated by key that no cap lives in (locks.py): asks answered,
payments booked, friend requests accepted, transfer orders accepted, webhook messages taken for delivery, a password
packet's phrase held.  As in test_opposite_rows.py, each round both writers get one batch of writes over the same
4 rows, one in its order and the other the other way round, and each row is settled by both: exactly one wins,
every write is answered (none 503), no batch is refused as busy, PostgreSQL counted no deadlock, the ledger
balances.  Before these rows were locked in order up front and NOWAIT mid-batch, nearly every round deadlocked.

How likely each is outside this harness: asks to a group (members answer through their own processes) and popular
password phrases held by many senders at once are the real ones; a payment's status moved twice needs a request and
its retry in two processes, and only where no money moves (booking a top-up debits the world account, NOWAIT
already: crossing bookings only deferred); a transfer order is settled by its recipient alone (or the one sweeper),
a friend request accepted by its addressee; webhook messages are written by the deliverer, which runs in the one
process holding the sweeper lease (two only across a lease handover, or with `hongbao webhooks replay`)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql import schema_hosts as h
from hongbao.adapters.sql import schema_open as so
from hongbao.adapters.sql import schema_relay as r
from hongbao.adapters.sql.store import SqlStore
from hongbao.adapters.sql.tx import SqlTx
from hongbao.domain.ledger import PaymentStatus
from hongbao.domain.packets import PacketKind
from hongbao.domain.relay import AskStatus, TransferStatus
from hongbao.domain.split import Split
from tests.scaled.money_moves import START_FEN, open_wallets
from tests.scaled.test_opposite_rows import FEN, ROUNDS, ROWS, Crossing, count, crossed_cleanly, now, users

SETTLED = ROUNDS * ROWS  # rows settled in a run: 4 a round, each written by both writers


def by_round(rows: list[Any]) -> Any:
    return lambda n: rows[n * ROWS:(n + 1) * ROWS]


def once_each(outcomes: list[Any]) -> None:
    """Each row's two writes: one won (True), the other found it settled (False)."""
    assert sorted(outcomes) == [False] * SETTLED + [True] * SETTLED


def asks(store: SqlStore) -> Crossing:
    """Asks to a group, each declined by two of its members at once: answered once."""
    asker, *members = users(store, 3, "asker")

    def setup(tx: SqlTx) -> list[int]:
        gid = tx.create_group("askers", asker, now())
        for member in members:
            tx.add_member(gid, member, now())
        made = []
        for i in range(SETTLED):
            ask = tx.create_ask(asker_id=asker, to_user_id=None, group_id=gid, amount_fen=FEN, message="", day=now()
                                .date() + timedelta(days=i), cap=1, now=now(), expires_at=now() + timedelta(hours=1))
            assert ask is not None
            made.append(ask)
        return made

    made = store.write_sync(setup)

    def check(store: SqlStore, outcomes: list[Any]) -> None:
        once_each(outcomes)
        a = r.asks
        answered = store.read_sync(lambda tx: count(tx, a, a.c.status == AskStatus.DECLINED.value))
        assert answered == SETTLED

    return Crossing(by_round(made), lambda ask, i: lambda tx: tx.answer_ask(ask, AskStatus.DECLINED, members[i],
                                                                            now()), check)


def payments(store: SqlStore) -> Crossing:
    """Top-ups the channel declined, each marked failed by two processes at once (the request and its retry): once.
    (A booked top-up credits the wallet from the world account right after, and that account, locked NOWAIT, already
    turns such a crossing into deferrals.)"""
    (payer,) = users(store, 1, "payer")
    made = store.write_sync(lambda tx: [tx.add_payment(payer, "in", FEN, "test", f"declined-{i}", now())
                                        for i in range(SETTLED)])  # fmt: skip

    def check(store: SqlStore, outcomes: list[Any]) -> None:
        once_each(outcomes)
        cp = s.channel_payments
        assert store.read_sync(lambda tx: count(tx, cp, cp.c.status == PaymentStatus.FAILED.value)) == SETTLED

    return Crossing(by_round(made), lambda pid, i: lambda tx: tx.settle_payment(
        pid, PaymentStatus.FAILED, (PaymentStatus.PENDING,), None, now()), check)


def friends(store: SqlStore) -> Crossing:
    """Friend requests to one user, each accepted twice at once (a double tap through two processes): once."""
    addressee, *requesters = users(store, 1 + SETTLED, "friend")

    def setup(tx: SqlTx) -> list[int]:
        for requester in requesters:
            tx.add_friend_request(requester, addressee, now())
        return requesters

    store.write_sync(setup)

    def check(store: SqlStore, outcomes: list[Any]) -> None:
        once_each(outcomes)
        assert store.read_sync(lambda tx: tx.friends_of(addressee)) == sorted(requesters)

    return Crossing(by_round(requesters), lambda req, i: lambda tx: tx.accept_friend_request(req, addressee), check)


def transfers(store: SqlStore) -> Crossing:
    """Transfer orders to four recipients, each accepted twice at once: each escrow is paid out once."""
    sender, *recipients = open_wallets(store, 1 + ROWS)

    def setup(tx: SqlTx) -> list[int]:
        return [tx.create_transfer_order(sender, recipients[i % ROWS], FEN, "", now(), now() + timedelta(hours=1))
                for i in range(SETTLED)]  # fmt: skip

    made = store.write_sync(setup)

    def check(store: SqlStore, outcomes: list[Any]) -> None:
        once_each(outcomes)
        d = r.direct_transfers
        assert store.read_sync(lambda tx: count(tx, d, d.c.status == TransferStatus.ACCEPTED.value)) == SETTLED
        balances = store.read_sync(lambda tx: [tx.balance_fen(x) for x in recipients])
        assert balances == [START_FEN + FEN * SETTLED // ROWS] * ROWS

    return Crossing(by_round(made), lambda tid, i: lambda tx: tx.settle_transfer_order(
        tid, TransferStatus.ACCEPTED, now()), check)


def outbox(store: SqlStore) -> Crossing:
    """Webhook messages, each taken for delivery by two deliverers at once: by one."""

    def setup(tx: SqlTx) -> list[int]:
        hid = tx.add_host("hooked", 1000, 10**9, now())
        for i in range(SETTLED):
            tx.add_outbox(hid, f"msg-{i}", "test", f"stream-{i}", "{}", now())
        return [int(x) for x in tx.conn.execute(select(h.webhook_outbox.c.id).order_by(h.webhook_outbox.c.id))
                .scalars()]  # fmt: skip

    made = store.write_sync(setup)

    def check(store: SqlStore, outcomes: list[Any]) -> None:
        once_each(outcomes)
        o = h.webhook_outbox
        assert store.read_sync(lambda tx: count(tx, o, o.c.locked_until.is_not(None))) == SETTLED

    return Crossing(by_round(made), lambda oid, i: lambda tx: tx.claim_outbox(oid, now(), now() + timedelta(
        minutes=1)), check)


def secrets(store: SqlStore) -> Crossing:
    """Password packets of two senders with the same phrases, sent at once: each phrase is held by one live packet."""
    senders = open_wallets(store, 2)

    def setup(tx: SqlTx) -> list[list[int]]:
        return [[tx.create_packet(kind=PacketKind.PASSWORD, how=Split.EQUAL, sender_id=sender, group_id=None,
                                  recipient_id=None, total_fen=FEN, shares_count=1, greeting="", now=now(),
                                  expires_at=now() + timedelta(hours=1)) for _ in range(SETTLED)]
                for sender in senders]  # fmt: skip

    packets = store.write_sync(setup)
    phrases = [hashlib.sha256(f"phrase {i}".encode()).digest() for i in range(SETTLED)]

    def check(store: SqlStore, outcomes: list[Any]) -> None:
        once_each(outcomes)
        ls = so.live_secrets
        held = store.read_sync(lambda tx: sorted(bytes(x) for x in tx.conn.execute(select(ls.c.secret_hash))
                                                 .scalars()))  # fmt: skip
        assert held == sorted(phrases)
        p = s.packets
        assert store.read_sync(lambda tx: count(tx, p, p.c.status == "active")) == 2 * SETTLED

    return Crossing(by_round(list(range(SETTLED))), lambda i, writer: lambda tx: tx.hold_secret(
        phrases[i], packets[writer][i], now()), check)


KINDS = {"asks": asks, "payments": payments, "friends": friends, "transfers": transfers, "outbox": outbox,
         "secrets": secrets}


@pytest.mark.parametrize("kind", list(KINDS))
def test_two_writers_crossing_on_keyed_rows_never_deadlock(stores: tuple[SqlStore, SqlStore], kind: str) -> None:
    crossed_cleanly(stores, kind, KINDS[kind](stores[0]))
