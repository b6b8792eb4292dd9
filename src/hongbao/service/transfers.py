"""Transfers (转账): pay a friend directly; the money waits in escrow until accepted, returned or refunded."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hongbao.domain import relay as rules
from hongbao.domain.errors import Rejected
from hongbao.domain.money import format_fen
from hongbao.domain.paging import check_limit
from hongbao.domain.relay import RelayRules, TransferStatus
from hongbao.service.conversations import conversation_for_pair, post_system_notice
from hongbao.service.deps import Deps
from hongbao.service.idempotency import IdempotencyKey, once
from hongbao.service.results.transfers import Transfer, TransferPage
from hongbao.service.sweep import sweep
from hongbao.service.worlds import check_reachable

if TYPE_CHECKING:
    from hongbao.service.ports.conversations import Notices
    from hongbao.service.ports.ledger import TransferOrders, TransferPort, TransferSteps
    from hongbao.service.ports.relay import TransferOrderRow

DUE_BATCH_MAX = 500
TRANSFERS_PAGE_MAX = 100
NOTE_CHARS_MAX = 64
log = logging.getLogger(__name__)


class Transfers:
    def __init__(self, deps: Deps, limits: RelayRules) -> None:
        self.d = deps
        self.limits = limits

    async def send(
        self,
        sender_id: int,
        to_user_id: int,
        amount_fen: object,
        note: object = None,
        idem: IdempotencyKey | None = None,
    ) -> Transfer:
        """Move `amount_fen` from the sender's wallet into the transfer's escrow at once."""
        amount = self.limits.check_transfer(amount_fen)
        text = _clean_note(note)
        if to_user_id == sender_id:
            raise Rejected("A transfer goes to a friend, not to yourself.", code="cannot_transfer_to_self")
        now = self.d.clock.now()

        def job(tx: TransferPort) -> Transfer:
            def effect() -> Transfer:
                check_reachable(tx, sender_id, to_user_id)
                if not tx.are_friends(sender_id, to_user_id):
                    raise Rejected("You can only transfer money to a friend.", code="not_friends")
                tid = tx.create_transfer_order(
                    sender_id, to_user_id, amount, text, now, now + timedelta(seconds=self.limits.transfer_ttl_s)
                )
                order = _order(tx, tid)
                self._told(tx, order, now)
                return _view(order, sender_id, now)

            return once(tx, idem, effect, now=now)

        return await self.d.store.write(job)

    async def accept(self, transfer_id: int, user_id: int, idem: IdempotencyKey | None = None) -> Transfer:
        """The recipient takes the money: escrow → their wallet."""
        return await self._settle(transfer_id, user_id, TransferStatus.ACCEPTED, idem)

    async def give_back(self, transfer_id: int, user_id: int, idem: IdempotencyKey | None = None) -> Transfer:
        """The recipient returns the money: escrow → the sender's wallet."""
        return await self._settle(transfer_id, user_id, TransferStatus.RETURNED, idem)

    async def _settle(
        self, transfer_id: int, user_id: int, to: TransferStatus, idem: IdempotencyKey | None
    ) -> Transfer:
        now = self.d.clock.now()

        def job(tx: TransferPort) -> Transfer:
            def effect() -> Transfer:
                order = _visible(tx, transfer_id, user_id)
                if user_id != order.recipient_id:
                    raise rules.not_transfer_recipient()
                if order.status is not TransferStatus.PENDING:
                    raise rules.transfer_settled()
                if now >= order.expires_at:
                    raise rules.transfer_expired()
                if not tx.settle_transfer_order(transfer_id, to, now):
                    raise rules.transfer_settled()  # another process settled it a moment ago
                settled = _order(tx, transfer_id)
                self._told(tx, settled, now)
                return _view(settled, user_id, now)

            return once(tx, idem, effect, 200, now=now)

        return await self.d.store.write(job)

    async def refund_overdue_transfers(self, now: datetime | None = None) -> int:
        """Send every transfer not accepted in time back to its sender, exactly once; return how many."""
        at = now or self.d.clock.now()
        return await sweep(self.d.store, lambda tx: tx.due_transfer_order_ids(at, DUE_BATCH_MAX),
                           lambda tid: self._refund_job(tid, at), batch_max=DUE_BATCH_MAX,
                           done=lambda _, refunded: refunded, log=log, failed="refunding transfer %s failed: %r")

    def _refund_job(self, transfer_id: int, at: datetime) -> Callable[[TransferSteps], bool]:
        def job(tx: TransferSteps) -> bool:
            if not tx.settle_transfer_order(transfer_id, TransferStatus.REFUNDED, at):
                return False
            self._told(tx, _order(tx, transfer_id), at)
            return True

        return job

    def _told(self, tx: TransferSteps, order: TransferOrderRow, now: datetime) -> None:
        """Tell the pair (a notice in their conversation) and the money hooks (host volume, webhooks) of a step."""
        _notice(tx, order, now)
        event = "transfer.created" if order.status is TransferStatus.PENDING else f"transfer.{order.status.value}"
        self.d.hooks.emit(tx, event, (order.sender_id, order.recipient_id), {
            "transfer_id": order.id, "sender_id": order.sender_id, "recipient_id": order.recipient_id,
            "amount_fen": order.amount_fen, "status": order.status.value,
        })

    async def detail(self, transfer_id: int, user_id: int) -> Transfer:
        now = self.d.clock.now()
        return await self.d.store.read(lambda tx: _view(_visible(tx, transfer_id, user_id), user_id, now))

    async def mine(self, user_id: int, cursor: int | None = None, limit: int = TRANSFERS_PAGE_MAX) -> TransferPage:
        """A page of transfers sent and received, newest first; `next_cursor` (the page's oldest id) fetches more."""
        check_limit(limit, TRANSFERS_PAGE_MAX)
        now = self.d.clock.now()
        rows = await self.d.store.read(lambda tx: tx.transfer_orders_of(user_id, limit + 1, cursor))
        page = rows[:limit]
        return {
            "transfers": [_view(r, user_id, now) for r in page],
            "next_cursor": str(page[-1].id) if len(rows) > limit else None,
        }


def _clean_note(note: object) -> str:
    if note is None:
        return ""
    if not isinstance(note, str) or not note.isprintable() or len(note.strip()) > NOTE_CHARS_MAX:
        raise Rejected(f"note: at most {NOTE_CHARS_MAX} printable characters.", code="invalid_note",
                       chars_max=NOTE_CHARS_MAX)
    return note.strip()


def _order(tx: TransferOrders, transfer_id: int) -> TransferOrderRow:
    order = tx.transfer_order(transfer_id)
    assert order is not None
    return order


def _visible(tx: TransferOrders, transfer_id: int, user_id: int) -> TransferOrderRow:
    """Only its sender and recipient know a transfer exists."""
    order = tx.transfer_order(transfer_id)
    if order is None or user_id not in (order.sender_id, order.recipient_id):
        raise rules.transfer_not_found()
    return order


def _view(order: TransferOrderRow, viewer_id: int, now: datetime) -> Transfer:
    return {
        "id": order.id,
        "sender_id": order.sender_id,
        "recipient_id": order.recipient_id,
        "amount_fen": order.amount_fen,
        "note": order.note,
        "status": order.status.value,
        "created_at": order.created_at.isoformat(),
        "expires_at": order.expires_at.isoformat(),
        "settled_at": order.settled_at.isoformat() if order.settled_at else None,
        "direction": "sent" if order.sender_id == viewer_id else "received",
        "overdue": order.status is TransferStatus.PENDING and now >= order.expires_at,
    }


def _notice(tx: Notices, order: TransferOrderRow, now: datetime) -> None:
    """Post the transfer's step in the pair's conversation, in the same transaction as the money."""
    amount = format_fen(order.amount_fen)
    text = {
        TransferStatus.PENDING: f"转账 {amount}: waiting to be accepted",
        TransferStatus.ACCEPTED: f"转账 {amount}: accepted",
        TransferStatus.RETURNED: f"转账 {amount}: returned to the sender",
        TransferStatus.REFUNDED: f"转账 {amount}: not accepted in time, refunded to the sender",
    }[order.status]
    conv = conversation_for_pair(tx, order.sender_id, order.recipient_id, now=now)
    data = {"event": "transfer", "transfer_id": order.id, "status": order.status.value, "amount_fen": order.amount_fen,
            "sender_id": order.sender_id, "recipient_id": order.recipient_id}
    post_system_notice(tx, conv, text, data, now=now)
