"""Repository methods of the payment outbox: top-ups and withdrawals recorded before the channel is asked (mixed into
SqlTx)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hongbao.adapters.sql import schema as s
from hongbao.adapters.sql.aware import utc
from hongbao.adapters.sql.locks import RowLocks, rows_nowait
from hongbao.domain.errors import Conflict
from hongbao.domain.ledger import PaymentFacts, PaymentStatus
from hongbao.service.ports.ledger import PaymentRow


class PaymentTx(RowLocks):
    conn: Connection

    def add_payment(
        self, user_id: int, direction: str, amount_fen: int, channel: str, reference: str, now: datetime
    ) -> int:
        """Record a pending payment; refuse (already_booked) a reference recorded before."""
        try:
            pid = self.conn.execute(
                insert(s.channel_payments)
                .values(
                    user_id=user_id,
                    direction=direction,
                    amount_fen=amount_fen,
                    channel=channel,
                    reference=reference,
                    status=PaymentStatus.PENDING.value,
                    created_at=now,
                )
                .returning(s.channel_payments.c.id)
            ).scalar_one()
        except IntegrityError as exc:
            raise Conflict("This channel payment is already recorded.", code="already_booked") from exc
        return int(pid)

    def payment(self, payment_id: int) -> PaymentRow | None:
        row = self.conn.execute(select(s.channel_payments).where(s.channel_payments.c.id == payment_id)).first()
        return None if row is None else _payment_row(row)

    def payment_by_reference(self, channel: str, reference: str) -> PaymentRow | None:
        cp = s.channel_payments
        row = self.conn.execute(select(cp).where(cp.c.channel == channel, cp.c.reference == reference)).first()
        return None if row is None else _payment_row(row)

    def due_payments(self, recorded_before: datetime, limit: int) -> list[PaymentRow]:
        """Pending payments recorded before `recorded_before` (their requests have had time to settle them), oldest
        first."""
        cp = s.channel_payments
        rows = self.conn.execute(
            select(cp)
            .where(cp.c.status == PaymentStatus.PENDING.value, cp.c.created_at < recorded_before)
            .order_by(cp.c.id)
            .limit(limit)
        )
        return [_payment_row(r) for r in rows]

    def settle_payment(
        self,
        payment_id: int,
        status: PaymentStatus,
        from_statuses: Iterable[PaymentStatus],
        channel_ref: str | None,
        now: datetime,
    ) -> bool:
        """Move a payment from one of `from_statuses` to `status` in one conditional UPDATE: True for the one caller
        that moved it, False when another process (or the sweep) settled it first."""
        cp = s.channel_payments
        values: dict[str, Any] = {"status": status.value, "settled_at": now}
        if channel_ref is not None:
            values["channel_ref"] = channel_ref
        try:
            with rows_nowait("channel_payments", {payment_id}):  # never waited for mid-batch (locks.py)
                done = self.conn.execute(
                    update(cp)
                    .where(self.nowait_row(cp, payment_id), cp.c.status.in_([f.value for f in from_statuses]))
                    .values(**values)
                )
        except IntegrityError as exc:  # the channel answered a reference it gave another payment
            raise Conflict("The channel's reference is already recorded.", code="already_booked") from exc
        return bool(done.rowcount == 1)

    def payment_facts(self) -> list[PaymentFacts]:
        cp = s.channel_payments
        return [
            PaymentFacts(r.id, r.user_id, r.direction, int(r.amount_fen), r.status)
            for r in self.conn.execute(
                select(cp.c.id, cp.c.user_id, cp.c.direction, cp.c.amount_fen, cp.c.status).order_by(cp.c.id)
            )
        ]


def _payment_row(r: Any) -> PaymentRow:
    return PaymentRow(
        id=r.id,
        user_id=r.user_id,
        direction=r.direction,
        amount_fen=int(r.amount_fen),
        channel=r.channel,
        reference=r.reference,
        status=PaymentStatus(r.status),
        channel_ref=r.channel_ref,
        created_at=utc(r.created_at),
    )
