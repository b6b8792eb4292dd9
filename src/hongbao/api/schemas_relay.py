"""Answers of relay chains (接龙), asks (讨红包), transfers (转账) and the ask setting."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hongbao.api.schemas import PacketPublic, PacketSummary, Page, Reply


class RoundPublic(Reply):
    round: int
    packet_id: int
    sender_id: int
    sender_name: str | None
    total_fen: int
    shares_count: int
    status: str
    claimed_count: int
    best_luck_user_id: int | None = Field(description="Once the round is finished: who owes the next one.")
    created_at: str


class RelayEventPublic(Reply):
    kind: str
    round: int | None
    user_id: int | None
    detail: str
    at: str


class RelayPublic(Reply):
    id: int
    group_id: int
    starter_id: int
    status: str = Field(description="active or ended")
    ended_reason: str | None = Field(description="deadline_missed or round_expired")
    min_fen: int
    deadline_s: int
    rounds_count: int
    owed_by: int | None = Field(description="Who owes the next round (active chains).")
    missed_by: int | None
    due_at: str | None
    your_turn: bool
    current_packet: PacketSummary | None
    rounds: list[RoundPublic]
    events: list[RelayEventPublic]
    created_at: str
    ended_at: str | None


class RelaySummary(Reply):
    id: int
    status: str
    rounds_count: int
    owed_by: int | None
    due_at: str | None
    current_packet_id: int | None
    ended_reason: str | None
    created_at: str


class RelayList(Reply):
    relays: list[RelaySummary]


class AskPublic(Reply):
    id: int
    asker_id: int
    to_user_id: int | None
    group_id: int | None
    amount_fen: int | None
    message: str
    status: str = Field(description="open, fulfilled, declined or expired")
    packet_id: int | None
    answered_by: int | None
    created_at: str
    expires_at: str
    answered_at: str | None
    direction: Literal["sent", "received"]


class AskFulfilled(Reply):
    ask: AskPublic
    packet: PacketPublic


class AskPage(Page):
    sent: list[AskPublic]
    received: list[AskPublic]


class AskSettings(Reply):
    allow_asks: bool


class TransferPublic(Reply):
    id: int
    sender_id: int
    recipient_id: int
    amount_fen: int
    note: str
    status: str = Field(description="pending, accepted, returned or refunded")
    created_at: str
    expires_at: str
    settled_at: str | None
    direction: Literal["sent", "received"]
    overdue: bool


class TransferPage(Page):
    transfers: list[TransferPublic]
