"""Replies of the wallet (service/wallet.py): a payment, a statement page and its entries."""

from __future__ import annotations

from typing import TypedDict


class Payment(TypedDict):
    """A top-up or a withdrawal, and the wallet after it."""

    payment_id: int
    amount_fen: int
    channel: str
    balance_fen: int
    status: str  # "booked" (top-up), "pending" or "sent" (withdrawal): a PaymentStatus value


class EntryParts(TypedDict):
    """What a statement entry was, read from its transfer's ref (service/statement.py); None where it does not
    apply."""

    category: str
    party_id: int | None
    party_name: str | None
    packet_id: int | None
    transfer_id: int | None
    campaign_id: int | None


class StatementEntry(EntryParts):
    id: int
    kind: str  # top_up, withdrawal, sent, received, refunded, or a transfer code added later
    amount_fen: int
    ref: str
    created_at: str


class Statement(TypedDict):
    """A page of the statement, newest first."""

    entries: list[StatementEntry]
    next_cursor: str | None
