"""Repository methods of relay chains, asks and transfers (mixed into SqlTx).

State changes are conditional UPDATEs on the row's status (like `open_share` / `expire_packet`):
whichever of two racing steps updates the row first wins, the other changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import false, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hongbao.adapters.sql import schema_relay as r
from hongbao.adapters.sql.aware import utc, utc_or_none
from hongbao.domain.errors import Conflict
from hongbao.domain.ledger import AccountKind, TransferCode, TransferOrderFacts
from hongbao.domain.relay import AskStatus, ChainEnd, ChainStatus, TransferStatus

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import SqlTx


@dataclass(frozen=True)
class ChainRow:
    id: int
    group_id: int
    starter_id: int
    min_fen: int
    deadline_s: int
    status: ChainStatus
    rounds_count: int
    current_packet_id: int | None
    owed_by: int | None
    due_at: datetime | None
    ended_reason: str | None
    created_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class RoundRow:
    chain_id: int
    round: int
    packet_id: int
    sender_id: int
    total_fen: int
    shares_count: int
    created_at: datetime


@dataclass(frozen=True)
class RelayEventRow:
    id: int
    kind: str
    round: int | None
    user_id: int | None
    detail: str
    created_at: datetime


@dataclass(frozen=True)
class AskRow:
    id: int
    asker_id: int
    to_user_id: int | None
    group_id: int | None
    amount_fen: int | None
    message: str
    status: AskStatus
    packet_id: int | None
    answered_by: int | None
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class TransferOrderRow:
    id: int
    sender_id: int
    recipient_id: int
    amount_fen: int
    note: str
    status: TransferStatus
    escrow_account_id: int
    created_at: datetime
    expires_at: datetime
    settled_at: datetime | None


def _chain(row: Any) -> ChainRow:
    return ChainRow(
        row.id, row.group_id, row.starter_id, int(row.min_fen), row.deadline_s, ChainStatus(row.status),
        row.rounds_count, row.current_packet_id, row.owed_by, utc_or_none(row.due_at), row.ended_reason,
        utc(row.created_at), utc_or_none(row.ended_at),
    )


def _ask(row: Any) -> AskRow:
    return AskRow(
        row.id, row.asker_id, row.to_user_id, row.group_id,
        None if row.amount_fen is None else int(row.amount_fen), row.message, AskStatus(row.status),
        row.packet_id, row.answered_by, utc(row.created_at), utc(row.expires_at), utc_or_none(row.answered_at),
    )


def _order(row: Any) -> TransferOrderRow:
    return TransferOrderRow(
        row.id, row.sender_id, row.recipient_id, int(row.amount_fen), row.note, TransferStatus(row.status),
        int(row.escrow_account_id), utc(row.created_at), utc(row.expires_at), utc_or_none(row.settled_at),
    )


class RelayTx:
    conn: Connection

    def _core(self) -> SqlTx:
        from hongbao.adapters.sql.tx import SqlTx

        assert isinstance(self, SqlTx)
        return self

    # ------------------------------------------------------------------ relay chains

    def create_chain(self, group_id: int, starter_id: int, min_fen: int, deadline_s: int, now: datetime) -> int:
        return int(
            self.conn.execute(
                insert(r.relay_chains)
                .values(
                    group_id=group_id, starter_id=starter_id, min_fen=min_fen, deadline_s=deadline_s,
                    status=ChainStatus.ACTIVE.value, rounds_count=0, created_at=now,
                )
                .returning(r.relay_chains.c.id)
            ).scalar_one()
        )

    def relay_chain(self, chain_id: int) -> ChainRow | None:
        row = self.conn.execute(select(r.relay_chains).where(r.relay_chains.c.id == chain_id)).first()
        return None if row is None else _chain(row)

    def start_round(
        self, chain_id: int, round_no: int, packet_id: int, sender_id: int, total_fen: int, shares_count: int,
        now: datetime, *, owed_by: int | None,
    ) -> bool:
        """Make `packet_id` round `round_no` of an active chain; False if the chain moved on or ended.

        From round 2 on, only while `owed_by` still owes the round and its deadline has not passed.
        """
        c = r.relay_chains
        conditions = [c.c.id == chain_id, c.c.status == ChainStatus.ACTIVE.value, c.c.rounds_count == round_no - 1]
        if owed_by is not None:
            conditions += [c.c.owed_by == owed_by, c.c.due_at > now]
        done = self.conn.execute(
            update(c).where(*conditions).values(
                rounds_count=round_no, current_packet_id=packet_id, owed_by=None, due_at=None
            )
        )
        if done.rowcount != 1:
            return False
        try:
            self.conn.execute(
                insert(r.relay_rounds).values(
                    chain_id=chain_id, round=round_no, packet_id=packet_id, sender_id=sender_id,
                    total_fen=total_fen, shares_count=shares_count, created_at=now,
                )
            )
        except IntegrityError as exc:
            raise Conflict("This round was already sent.", code="relay_round_taken") from exc
        return True

    def set_owed(self, chain_id: int, packet_id: int, user_id: int, due_at: datetime) -> bool:
        """The current round finished: `user_id` owes the next one until `due_at`."""
        c = r.relay_chains
        done = self.conn.execute(
            update(c)
            .where(
                c.c.id == chain_id, c.c.status == ChainStatus.ACTIVE.value,
                c.c.current_packet_id == packet_id, c.c.owed_by.is_(None),
            )
            .values(owed_by=user_id, due_at=due_at)
        )
        return done.rowcount == 1

    def end_chain(self, chain_id: int, reason: ChainEnd, now: datetime, *, packet_id: int | None = None) -> bool:
        """End an active chain once: its deadline passed (owed and due), or round `packet_id` expired."""
        c = r.relay_chains
        conditions = [c.c.id == chain_id, c.c.status == ChainStatus.ACTIVE.value]
        if reason is ChainEnd.DEADLINE_MISSED:
            conditions += [c.c.owed_by.is_not(None), c.c.due_at <= now]
        else:
            conditions += [c.c.current_packet_id == packet_id, c.c.owed_by.is_(None)]
        done = self.conn.execute(
            update(c).where(*conditions).values(status=ChainStatus.ENDED.value, ended_reason=reason.value, ended_at=now)
        )
        return done.rowcount == 1

    def due_chain_ids(self, now: datetime, limit: int) -> list[int]:
        c = r.relay_chains
        rows = self.conn.execute(
            select(c.c.id)
            .where(c.c.status == ChainStatus.ACTIVE.value, c.c.due_at <= now)
            .order_by(c.c.due_at)
            .limit(limit)
        )
        return [row.id for row in rows]

    def chains_of_group(self, group_id: int, limit: int) -> list[ChainRow]:
        c = r.relay_chains
        rows = self.conn.execute(select(c).where(c.c.group_id == group_id).order_by(c.c.id.desc()).limit(limit))
        return [_chain(x) for x in rows]

    def relay_rounds(self, chain_id: int) -> list[RoundRow]:
        rr = r.relay_rounds
        rows = self.conn.execute(select(rr).where(rr.c.chain_id == chain_id).order_by(rr.c.round))
        return [
            RoundRow(x.chain_id, x.round, x.packet_id, x.sender_id, int(x.total_fen), x.shares_count,
                     utc(x.created_at))
            for x in rows
        ]

    def add_relay_event(
        self, chain_id: int, kind: str, now: datetime, *, round_no: int | None = None, user_id: int | None = None,
        detail: str = "",
    ) -> None:
        self.conn.execute(
            insert(r.relay_events).values(
                chain_id=chain_id, kind=kind, round=round_no, user_id=user_id, detail=detail, created_at=now
            )
        )

    def relay_events(self, chain_id: int) -> list[RelayEventRow]:
        e = r.relay_events
        rows = self.conn.execute(select(e).where(e.c.chain_id == chain_id).order_by(e.c.id))
        return [RelayEventRow(x.id, x.kind, x.round, x.user_id, x.detail, utc(x.created_at)) for x in rows]

    # ------------------------------------------------------------------ asks

    def allows_asks(self, user_id: int) -> bool:
        found = self.conn.execute(
            select(r.user_settings.c.allow_asks).where(r.user_settings.c.user_id == user_id)
        ).scalar_one_or_none()
        return True if found is None else bool(found)

    def set_allows_asks(self, user_id: int, allow: bool) -> None:
        us = r.user_settings
        done = self.conn.execute(update(us).where(us.c.user_id == user_id).values(allow_asks=allow))
        if done.rowcount == 0:
            self.conn.execute(insert(us).values(user_id=user_id, allow_asks=allow))

    def create_ask(
        self, *, asker_id: int, to_user_id: int | None, group_id: int | None, amount_fen: int | None,
        message: str, day: date, cap: int, now: datetime, expires_at: datetime,
    ) -> int | None:
        """Insert the ask into the asker's next free daily slot (1..cap); None when every slot is taken.

        The unique (asker, day, slot) index decides, so the cap holds even across processes.
        """
        a = r.asks
        used = int(
            self.conn.execute(
                select(func.count()).where(a.c.asker_id == asker_id, a.c.day == day)
            ).scalar_one()
        )
        for slot in range(used + 1, cap + 1):
            try:
                with self.conn.begin_nested():
                    return int(
                        self.conn.execute(
                            insert(a)
                            .values(
                                asker_id=asker_id, to_user_id=to_user_id, group_id=group_id, amount_fen=amount_fen,
                                message=message, status=AskStatus.OPEN.value, day=day, day_seq=slot,
                                created_at=now, expires_at=expires_at,
                            )
                            .returning(a.c.id)
                        ).scalar_one()
                    )
            except IntegrityError:
                continue  # another process took this slot a moment ago: try the next one
        return None

    def ask(self, ask_id: int) -> AskRow | None:
        row = self.conn.execute(select(r.asks).where(r.asks.c.id == ask_id)).first()
        return None if row is None else _ask(row)

    def answer_ask(
        self, ask_id: int, status: AskStatus, by: int, now: datetime, *, packet_id: int | None = None
    ) -> bool:
        """Move an open, unexpired ask to `status` once; False if it was answered or expired meanwhile."""
        a = r.asks
        done = self.conn.execute(
            update(a)
            .where(a.c.id == ask_id, a.c.status == AskStatus.OPEN.value, a.c.expires_at > now)
            .values(status=status.value, answered_by=by, answered_at=now, packet_id=packet_id)
        )
        return done.rowcount == 1

    def asks_of(self, user_id: int, limit: int, before_id: int | None = None) -> list[AskRow]:
        """Asks the user sent, asks to them, and asks to their groups (by others), newest first,
        keyset-paginated by ask id (`before_id`: the last id of the previous page)."""
        a = r.asks
        groups = [g.id for g in self._core().groups_of(user_id)]
        q = (
            select(a)
            .where(
                or_(
                    a.c.asker_id == user_id,
                    a.c.to_user_id == user_id,
                    a.c.group_id.in_(groups) if groups else false(),
                )
            )
            .order_by(a.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            q = q.where(a.c.id < before_id)
        return [_ask(x) for x in self.conn.execute(q)]

    # ------------------------------------------------------------------ transfers (转账)

    def create_transfer_order(
        self, sender_id: int, recipient_id: int, amount_fen: int, note: str, now: datetime, expires_at: datetime
    ) -> int:
        """Insert the transfer and its escrow account, and move the money sender → escrow."""
        core = self._core()
        d = r.direct_transfers
        tid = int(
            self.conn.execute(
                insert(d)
                .values(
                    sender_id=sender_id, recipient_id=recipient_id, amount_fen=amount_fen, note=note,
                    status=TransferStatus.PENDING.value, created_at=now, expires_at=expires_at,
                )
                .returning(d.c.id)
            ).scalar_one()
        )
        from hongbao.adapters.sql import schema as s

        escrow = int(
            self.conn.execute(
                insert(s.accounts)
                .values(kind=AccountKind.TRANSFER_ESCROW.value, owner_id=tid, balance_fen=0)
                .returning(s.accounts.c.id)
            ).scalar_one()
        )
        self.conn.execute(update(d).where(d.c.id == tid).values(escrow_account_id=escrow))
        core.transfer(
            core.wallet_account_id(sender_id), escrow, amount_fen, TransferCode.TRANSFER_SEND, f"transfer:{tid}", now
        )
        return tid

    def transfer_order(self, transfer_id: int) -> TransferOrderRow | None:
        row = self.conn.execute(select(r.direct_transfers).where(r.direct_transfers.c.id == transfer_id)).first()
        return None if row is None else _order(row)

    def settle_transfer_order(self, transfer_id: int, to: TransferStatus, now: datetime) -> bool:
        """Move a pending transfer to `to` and release its escrow, exactly once.

        Accept and return only before the deadline, refund only after it: one conditional UPDATE on
        the row decides, so an accept racing the refund has exactly one outcome.
        """
        core = self._core()
        d = r.direct_transfers
        in_time = d.c.expires_at <= now if to is TransferStatus.REFUNDED else d.c.expires_at > now
        done = self.conn.execute(
            update(d)
            .where(d.c.id == transfer_id, d.c.status == TransferStatus.PENDING.value, in_time)
            .values(status=to.value, settled_at=now)
            .returning(d.c.escrow_account_id, d.c.sender_id, d.c.recipient_id, d.c.amount_fen)
        ).first()
        if done is None:
            return False
        to_user, code = {
            TransferStatus.ACCEPTED: (done.recipient_id, TransferCode.TRANSFER_ACCEPT),
            TransferStatus.RETURNED: (done.sender_id, TransferCode.TRANSFER_RETURN),
            TransferStatus.REFUNDED: (done.sender_id, TransferCode.TRANSFER_REFUND),
        }[to]
        core.transfer(
            int(done.escrow_account_id), core.wallet_account_id(int(to_user)), int(done.amount_fen), code,
            f"transfer:{transfer_id}", now,
        )
        return True

    def due_transfer_order_ids(self, now: datetime, limit: int) -> list[int]:
        d = r.direct_transfers
        rows = self.conn.execute(
            select(d.c.id)
            .where(d.c.status == TransferStatus.PENDING.value, d.c.expires_at <= now)
            .order_by(d.c.expires_at)
            .limit(limit)
        )
        return [row.id for row in rows]

    def transfer_orders_of(self, user_id: int, limit: int, before_id: int | None = None) -> list[TransferOrderRow]:
        """Transfers the user sent or received, newest first, keyset-paginated by transfer id."""
        d = r.direct_transfers
        q = (
            select(d)
            .where(or_(d.c.sender_id == user_id, d.c.recipient_id == user_id))
            .order_by(d.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            q = q.where(d.c.id < before_id)
        return [_order(x) for x in self.conn.execute(q)]

    def transfer_order_facts(self) -> list[TransferOrderFacts]:
        d = r.direct_transfers
        return [
            TransferOrderFacts(x.id, int(x.escrow_account_id), int(x.amount_fen), x.status)
            for x in self.conn.execute(select(d.c.id, d.c.escrow_account_id, d.c.amount_fen, d.c.status))
        ]
