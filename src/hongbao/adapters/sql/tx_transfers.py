"""Repository methods of transfers (转账): an order in escrow until accepted, refused or expired (mixed into SqlTx).

Settling an order is a conditional UPDATE on its status: accept, refuse and expiry race, one wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Connection

from hongbao.adapters.sql import schema_relay as r
from hongbao.adapters.sql.aware import utc, utc_or_none
from hongbao.adapters.sql.locks import RowLocks, rows_nowait
from hongbao.domain.ledger import AccountKind, TransferCode, TransferOrderFacts
from hongbao.domain.relay import TransferStatus
from hongbao.service.ports.relay import TransferOrderRow

if TYPE_CHECKING:
    from hongbao.adapters.sql.tx import SqlTx


def _order(row: Any) -> TransferOrderRow:
    return TransferOrderRow(
        row.id, row.sender_id, row.recipient_id, int(row.amount_fen), row.note, TransferStatus(row.status),
        int(row.escrow_account_id), utc(row.created_at), utc(row.expires_at), utc_or_none(row.settled_at),
    )


class TransferOrderTx(RowLocks):
    conn: Connection

    def _core(self) -> SqlTx:
        from hongbao.adapters.sql.tx import SqlTx

        assert isinstance(self, SqlTx)
        return self

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
        with rows_nowait("direct_transfers", {transfer_id}):  # never waited for mid-batch (locks.py)
            done = self.conn.execute(
                update(d)
                .where(self.nowait_row(d, transfer_id), d.c.status == TransferStatus.PENDING.value, in_time)
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
