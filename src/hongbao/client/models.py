"""Typed replies of the hongbao API (amounts in fen).  Unknown fields are kept, so a newer server does not break
an older client."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class User(Model):
    id: int
    username: str
    display_name: str


class Session(Model):
    token: str
    user_id: int
    expires_at: str


class Balance(Model):
    user_id: int
    balance_fen: int


class Payment(Model):
    payment_id: int
    amount_fen: int
    channel: str
    balance_fen: int
    status: str


class Claim(Model):
    user_id: int
    display_name: str | None = None
    amount_fen: int
    claimed_at: str
    best_luck: bool


class Packet(Model):
    id: int
    kind: str
    split: str
    sender_id: int
    group_id: int | None = None
    recipient_id: int | None = None
    total_fen: int
    shares_count: int
    greeting: str
    status: str
    claimed_count: int
    claimed_fen: int
    refunded_fen: int
    created_at: str
    expires_at: str
    claims: list[Claim] | None = None
    my_amount_fen: int | None = None


class PacketPage(Model):
    packets: list[Packet]
    next_cursor: str | None = None


class Opened(Model):
    packet_id: int
    amount_fen: int


class Grab(Model):
    packet_id: int
    can_open: bool


class StatementEntry(Model):
    id: int
    kind: str
    amount_fen: int
    ref: str
    created_at: str


class Statement(Model):
    entries: list[StatementEntry]
    next_cursor: str | None = None


class Group(Model):
    id: int
    name: str


class Transfer(Model):
    id: int
    sender_id: int
    recipient_id: int
    amount_fen: int
    note: str
    status: str
    created_at: str
    expires_at: str
    settled_at: str | None = None
    direction: str
    overdue: bool


class TransferPage(Model):
    transfers: list[Transfer]
    next_cursor: str | None = None


class HostKey(Model):
    key_id: str
    scopes: list[str]
    key: str | None = None  # the secret key itself: only in the reply that made it
    created_at: str | None = None
    revoked_at: str | None = None


class HostDashboard(Model):
    id: int
    name: str
    rate_per_min: int
    daily_volume_fen_max: int
    webhook_url: str | None = None
    keys: list[HostKey]
    figures: dict[str, int]


class WebhookEndpoint(Model):
    webhook_url: str | None
    webhook_secret: str | None


def parse(model: type[Model] | None, data: Any) -> Any:
    """The reply as `model`, or as plain JSON when the call has no model."""
    return data if model is None else model.model_validate(data)
