"""Replies of transfers (转账, service/transfers.py): one transfer as its sender or recipient sees it, and a page."""

from __future__ import annotations

from typing import Literal, TypedDict


class Transfer(TypedDict):
    id: int
    sender_id: int
    recipient_id: int
    amount_fen: int
    note: str
    status: str  # pending, accepted, returned or refunded: a TransferStatus value
    created_at: str
    expires_at: str
    settled_at: str | None
    direction: Literal["sent", "received"]  # as the viewer sees it
    overdue: bool  # still pending past its deadline: the sweep refunds it


class TransferPage(TypedDict):
    """Transfers sent and received, newest first."""

    transfers: list[Transfer]
    next_cursor: str | None
