"""Replies of relay chains (接龙红包, service/relay.py): a chain with its rounds and events, and a group's chains.

Named Chain* (the API says Relay*): `Relay` is the use case's own name."""

from __future__ import annotations

from typing import TypedDict

from hongbao.service.results.packets import PacketSummary


class Round(TypedDict):
    round: int
    packet_id: int
    sender_id: int
    sender_name: str | None
    total_fen: int
    shares_count: int
    status: str  # its packet's PacketStatus value
    claimed_count: int
    best_luck_user_id: int | None  # once the round is finished: who owes the next one
    created_at: str


class ChainEvent(TypedDict):
    kind: str  # round_started, owed or ended
    round: int | None
    user_id: int | None
    detail: str
    at: str


class Chain(TypedDict):
    """A chain as a member of its group sees it."""

    id: int
    group_id: int
    starter_id: int
    status: str  # active or ended: a ChainStatus value
    ended_reason: str | None  # a ChainEnd value
    min_fen: int
    deadline_s: int
    rounds_count: int
    owed_by: int | None  # who owes the next round, while the chain is active
    missed_by: int | None  # who missed the deadline, when that ended it
    due_at: str | None
    your_turn: bool
    current_packet: PacketSummary | None
    rounds: list[Round]
    events: list[ChainEvent]
    created_at: str
    ended_at: str | None


class ChainSummary(TypedDict):
    """A chain without its history, in its group's list."""

    id: int
    status: str
    rounds_count: int
    owed_by: int | None
    due_at: str | None
    current_packet_id: int | None
    ended_reason: str | None
    created_at: str


class ChainList(TypedDict):
    relays: list[ChainSummary]
