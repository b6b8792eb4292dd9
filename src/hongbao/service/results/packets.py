"""Replies about red packets (service/packets.py, opening.py): a packet as a list shows it, with its claim list as
its detail shows it, a page of them, and the answers of grab (抢) and open (拆)."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class Claim(TypedDict):
    user_id: int
    display_name: str | None
    amount_fen: int
    claimed_at: str
    best_luck: bool  # only once every share of a lucky packet is taken


class PacketSummary(TypedDict):
    """A packet without its claim list (in lists, and a relay's current round)."""

    id: int
    kind: str  # a PacketKind value
    split: str  # a Split value
    sender_id: int
    group_id: int | None
    recipient_id: int | None
    total_fen: int
    shares_count: int
    greeting: str
    status: str  # a PacketStatus value
    claimed_count: int
    claimed_fen: int
    refunded_fen: int
    created_at: str
    expires_at: str


class Packet(PacketSummary):
    """A packet as its detail and its sender's answer show it."""

    sender_name: NotRequired[str]  # when its sender was read (the detail, the sender's answer)
    claims: NotRequired[list[Claim]]  # with the claim list (not in lists)
    my_amount_fen: NotRequired[int | None]  # with the claim list: what the viewer took, None if nothing


class PacketPage(TypedDict):
    """A group's packets, newest first."""

    packets: list[PacketSummary]
    next_cursor: str | None
