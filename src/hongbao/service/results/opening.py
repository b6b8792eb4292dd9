"""Replies of 抢 (grab) and 拆 (open) (service/opening.py)."""

from __future__ import annotations

from typing import TypedDict


class Grab(TypedDict):
    """May this user open the packet now (a refusal is an error, so can_open is always true)."""

    packet_id: int
    can_open: bool


class Opened(TypedDict):
    """The share a user took, credited to their wallet."""

    packet_id: int
    amount_fen: int


class StoredOpen(Opened):
    """What a keyed open stores for its retries: the answer, and the share's seq (never sent)."""

    seq: int
