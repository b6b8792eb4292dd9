"""Repository methods over one SQL connection: every read and every atomic money statement.

Rules kept here (saleor's habits): atomic increments, never read-modify-write; no check-then-act
where a unique constraint can decide; a statement that fails a constraint is turned into a
`HongbaoError` at once and the job stops (its savepoint is rolled back by the writer).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hongbao.adapters.sql import hot
from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.aware import utc
from hongbao.adapters.sql.locks import packets_nowait
from hongbao.adapters.sql.tx_campaign import CampaignTx
from hongbao.adapters.sql.tx_hosts import HostTx
from hongbao.adapters.sql.tx_ledger import LedgerTx
from hongbao.adapters.sql.tx_open import OpenTx
from hongbao.adapters.sql.tx_payments import PaymentTx
from hongbao.adapters.sql.tx_people import PeopleTx
from hongbao.adapters.sql.tx_relay import RelayTx
from hongbao.adapters.sql.tx_settle import PACKET_COLUMNS, SettleTx
from hongbao.adapters.sql.tx_shake import ShakeTx
from hongbao.adapters.sql.tx_social import SocialTx
from hongbao.domain.errors import Conflict, HongbaoError
from hongbao.domain.ledger import (
    Account,
    AccountKind,
    ClaimFacts,
    PacketFacts,
    Transfer,
    TransferCode,
)
from hongbao.domain.packets import PacketKind, PacketStatus, PacketView
from hongbao.domain.split import Split
from hongbao.service.ports import ShareWanted

# Sending and reading one packet, on every send path: driver SQL (hot.py).
_INSERT_PACKET = (
    "INSERT INTO packets (kind, split, sender_id, group_id, recipient_id, total_fen, shares_count, draw, greeting, "
    "status, created_at, expires_at, secret_hash, link_id, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "RETURNING id"
)
_INSERT_ESCROW = "INSERT INTO accounts (kind, owner_id, balance_fen) VALUES (?, ?, 0) RETURNING id"
_SET_ESCROW = "UPDATE packets SET escrow_account_id = ? WHERE id = ?"
_PACKET = f"SELECT {PACKET_COLUMNS} FROM packets WHERE id = ?"


@dataclass(frozen=True)
class PacketRow:
    view: PacketView
    greeting: str
    claimed_count: int
    claimed_fen: int
    refunded_fen: int
    escrow_account_id: int
    created_at: datetime
    finished_at: datetime | None
    draw: str = "open"  # where share k comes from: see the packets table's `draw` column


def pack_shares(amounts: list[int]) -> bytes:
    return struct.pack(f"<{len(amounts)}q", *amounts)


def unpack_shares(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(blob) // 8}q", bytes(blob))


@dataclass(frozen=True)
class ClaimRow:
    packet_id: int
    seq: int
    user_id: int
    amount_fen: int
    created_at: datetime


class SqlTx(LedgerTx, SettleTx, PeopleTx, SocialTx, OpenTx, RelayTx, CampaignTx, ShakeTx, PaymentTx, HostTx):
    """One connection inside a transaction (writer) or a read snapshot (readers).

    Each area's repository methods live in its own mixin (tx_ledger.py, tx_people.py, tx_social.py, tx_open.py,
    tx_relay.py, tx_campaign.py, tx_merchants.py, tx_shake.py, tx_payments.py); this class holds the packets,
    idempotency and the audit's facts.
    """

    def __init__(self, conn: Connection, is_sqlite: bool, batch_id: str | None = None) -> None:
        self.conn = conn
        self.is_sqlite = is_sqlite
        # The writer's batch attempt and the write (one `store.write` call) now running: every transfer booked
        # carries both, so reconcile can tell one write that took effect twice.  None on read connections.
        self.batch_id = batch_id
        self.write_id: str | None = None

    # ------------------------------------------------------------------ meta

    def meta_get(self, key: str) -> str | None:
        return self.conn.execute(select(s.meta.c.value).where(s.meta.c.key == key)).scalar_one_or_none()

    def meta_set(self, key: str, value: str) -> None:
        done = self.conn.execute(update(s.meta).where(s.meta.c.key == key).values(value=value))
        if done.rowcount == 0:
            self.conn.execute(insert(s.meta).values(key=key, value=value))

    # ------------------------------------------------------------------ packets

    def create_packet(
        self,
        *,
        kind: PacketKind,
        how: Split,
        sender_id: int,
        group_id: int | None,
        recipient_id: int | None,
        total_fen: int,
        shares_count: int,
        greeting: str,
        now: datetime,
        expires_at: datetime,
        secret_hash: bytes | None = None,
        link_id: int | None = None,
        extra: dict[str, object] | None = None,
        shares: list[int] | None = None,
    ) -> int:
        """Insert the packet and its escrow account, and fund the escrow from the sender.

        `shares`: the amounts drawn at send (line cut), kept packed, SHARE_BLOCK to a row; None where each share
        is drawn when it is taken (equal, double mean: `open_shares`)."""
        at = hot.ts(self.conn)
        pid = int(hot.rows(self.conn, _INSERT_PACKET, (
            kind.value, how.value, sender_id, group_id, recipient_id, total_fen, shares_count,
            "open" if shares is None else "packed", greeting, PacketStatus.ACTIVE.value, at(now), at(expires_at),
            secret_hash, link_id, json.dumps(extra or {}, ensure_ascii=False, separators=(",", ":")),
        ))[0][0])
        escrow = int(hot.rows(self.conn, _INSERT_ESCROW, (AccountKind.ESCROW.value, pid))[0][0])
        hot.run(self.conn, _SET_ESCROW, (escrow, pid))
        if shares is not None:
            n = s.SHARE_BLOCK
            self.conn.execute(insert(s.packet_share_blocks), [
                {"packet_id": pid, "block": b, "amounts": pack_shares(shares[b * n:(b + 1) * n])}
                for b in range((len(shares) + n - 1) // n)
            ])
        self.transfer(
            self.wallet_account_id(sender_id),
            escrow,
            total_fen,
            TransferCode.PACKET_FUND,
            f"packet:{pid}",
            now,
        )
        return pid

    def packet(self, packet_id: int) -> PacketRow | None:
        found = hot.rows(self.conn, _PACKET, (packet_id,))
        return _packet_row(found[0], hot.stamp) if found else None

    def packets_where(
        self,
        *,
        sender_id: int | None = None,
        group_id: int | None = None,
        before_id: int | None = None,
        limit: int = 20,
    ) -> list[PacketRow]:
        q = select(s.packets).order_by(s.packets.c.id.desc()).limit(limit)
        if sender_id is not None:
            q = q.where(s.packets.c.sender_id == sender_id)
        if group_id is not None:
            q = q.where(s.packets.c.group_id == group_id)
        if before_id is not None:
            q = q.where(s.packets.c.id < before_id)
        return [_packet_row(r) for r in self.conn.execute(q)]

    def claim_of(self, packet_id: int, user_id: int) -> ClaimRow | None:
        c = s.claims
        row = self.conn.execute(select(c).where(c.c.packet_id == packet_id, c.c.user_id == user_id)).first()
        return (
            None
            if row is None
            else ClaimRow(row.packet_id, row.seq, row.user_id, row.amount_fen, utc(row.created_at))
        )

    def claims_of(self, packet_id: int) -> list[ClaimRow]:
        c = s.claims
        rows = self.conn.execute(select(c).where(c.c.packet_id == packet_id).order_by(c.c.seq))
        return [ClaimRow(r.packet_id, r.seq, r.user_id, r.amount_fen, utc(r.created_at)) for r in rows]

    def amounts_claimed(self, packet_ids: Sequence[int]) -> dict[int, list[tuple[int, int]]]:
        """Each packet's claims as (user id, amount) in seq order, for many packets in one read (best luck)."""
        out: dict[int, list[tuple[int, int]]] = {pid: [] for pid in packet_ids}
        for pid, uid, amount in hot.rows_in(
            self.conn, "SELECT packet_id, user_id, amount_fen FROM claims WHERE packet_id {} ORDER BY packet_id, seq",
            list(out),
        ):
            out[int(pid)].append((int(uid), int(amount)))
        return out

    def claimer_ids(self, packet_id: int) -> list[int]:
        c = s.claims
        return [r.user_id for r in self.conn.execute(select(c.c.user_id).where(c.c.packet_id == packet_id))]

    def open_share(self, packet_id: int, user_id: int, now: datetime) -> ClaimRow:
        """The atomic step of 拆 for one open alone: `open_shares` (tx_settle.py) with one, raising its refusal."""
        got = self.open_shares([ShareWanted(packet_id, user_id, now, self.write_id)])[0]
        if isinstance(got, HongbaoError):
            raise got
        claim: ClaimRow = got.claim
        return claim

    def due_packet_ids(self, now: datetime, limit: int) -> list[int]:
        p = s.packets
        rows = self.conn.execute(
            select(p.c.id)
            .where(p.c.status == PacketStatus.ACTIVE.value, p.c.expires_at <= now)
            .order_by(p.c.expires_at)
            .limit(limit)
        )
        return [r.id for r in rows]

    def expire_packet(self, packet_id: int, now: datetime) -> int | None:
        """Mark an active, due packet expired and refund its remainder once; None if it was not due or active."""
        p = s.packets
        target: Any = packet_id
        if self.held is not None:  # PostgreSQL's writer: not waited for mid-batch (tx_ledger.py)
            self.job_packets.add(packet_id)
            target = select(p.c.id).where(p.c.id == packet_id).with_for_update(nowait=True, key_share=True)
            target = target.scalar_subquery()
        with packets_nowait({packet_id}):
            done = self.conn.execute(
                update(p)
                .where(p.c.id == target, p.c.status == PacketStatus.ACTIVE.value, p.c.expires_at <= now)
                .values(status=PacketStatus.EXPIRED.value, refunded_fen=p.c.total_fen - p.c.claimed_fen)
                .returning(p.c.refunded_fen, p.c.escrow_account_id, p.c.sender_id)
            ).first()
        if done is None:
            return None
        refund = int(done.refunded_fen)
        if refund > 0:
            self.transfer(
                int(done.escrow_account_id),
                self.wallet_account_id(int(done.sender_id)),
                refund,
                TransferCode.PACKET_REFUND,
                f"refund:{packet_id}",
                now,
            )
        return refund

    # ------------------------------------------------------------------ idempotency

    def idempotent_reply(self, user_id: int, key: str) -> tuple[bytes, int, str] | None:
        k = s.idempotency_keys
        row = self.conn.execute(
            select(k.c.request_hash, k.c.status_code, k.c.response).where(
                k.c.user_id == user_id, k.c.key == key
            )
        ).first()
        return None if row is None else (bytes(row.request_hash), int(row.status_code), str(row.response))

    def save_idempotent_reply(
        self, user_id: int, key: str, request_hash: bytes, status_code: int, response: str, now: datetime
    ) -> None:
        try:
            self.conn.execute(
                insert(s.idempotency_keys).values(
                    user_id=user_id,
                    key=key,
                    request_hash=request_hash,
                    status_code=status_code,
                    response=response,
                    created_at=now,
                )
            )
        except IntegrityError as exc:
            # Another process is committing the same key right now; its effect wins, this one rolls back.
            raise Conflict(
                "A request with this Idempotency-Key is in progress; retry.", code="request_in_progress"
            ) from exc

    # ------------------------------------------------------------------ audit

    def audit_facts(self) -> tuple[list[Account], list[Transfer], list[PacketFacts], list[ClaimFacts]]:
        accounts = [
            Account(r.id, AccountKind(r.kind), r.owner_id, int(r.balance_fen))
            for r in self.conn.execute(select(s.accounts))
        ]
        transfers = [
            Transfer(
                r.id, r.debit_account_id, r.credit_account_id, int(r.amount_fen), TransferCode(r.code), r.ref,
                r.write_id, r.batch_id,
            )
            for r in self.conn.execute(select(s.transfers).order_by(s.transfers.c.id))
        ]
        shares: dict[int, list[int]] = {}
        for r in self.conn.execute(
            select(s.packet_shares).order_by(s.packet_shares.c.packet_id, s.packet_shares.c.seq)
        ):
            shares.setdefault(r.packet_id, []).append(int(r.amount_fen))
        b = s.packet_share_blocks
        for r in self.conn.execute(select(b).order_by(b.c.packet_id, b.c.block)):
            shares.setdefault(r.packet_id, []).extend(unpack_shares(r.amounts))
        packets = [
            PacketFacts(
                id=r.id,
                escrow_account_id=r.escrow_account_id,
                sender_id=r.sender_id,
                status=r.status,
                total_fen=int(r.total_fen),
                shares_count=r.shares_count,
                share_amounts=tuple(shares.get(r.id, ())),
                draw=r.draw,
                split=r.split,
                claimed_count=r.claimed_count,
                claimed_fen=int(r.claimed_fen),
                refunded_fen=int(r.refunded_fen),
            )
            for r in self.conn.execute(select(s.packets))
        ]
        claims = [
            ClaimFacts(r.packet_id, r.user_id, r.seq, int(r.amount_fen))
            for r in self.conn.execute(select(s.claims))
        ]
        return accounts, transfers, packets, claims


def _packet_row(r: Any, stamp: Callable[[Any], datetime] = utc) -> PacketRow:
    """A packets row as the domain sees it; `stamp` reads a timestamp column (`hot.stamp` for driver SQL rows)."""
    view = PacketView(
        id=r.id,
        kind=PacketKind(r.kind),
        sender_id=r.sender_id,
        group_id=r.group_id,
        recipient_id=r.recipient_id,
        split=Split(r.split),
        total_fen=int(r.total_fen),
        shares_count=r.shares_count,
        expires_at=stamp(r.expires_at),
        status=PacketStatus(r.status),
        secret_hash=bytes(r.secret_hash) if r.secret_hash is not None else None,
        link_id=r.link_id,
        extra=json.loads(r.extra) if r.extra and r.extra != "{}" else {},
    )
    return PacketRow(
        view=view,
        greeting=r.greeting,
        claimed_count=r.claimed_count,
        claimed_fen=int(r.claimed_fen),
        refunded_fen=int(r.refunded_fen),
        escrow_account_id=int(r.escrow_account_id),
        created_at=stamp(r.created_at),
        finished_at=stamp(r.finished_at) if r.finished_at else None,
        draw=r.draw,
    )
