"""Replies of Gala shake (摇一摇, service/shake.py): events with their rounds and sponsors' pools, a shake's answer
(nothing, a greeting card, or a prize won), and the live counters of the shake page."""

from __future__ import annotations

from typing import Literal, TypedDict


class RoundWindow(TypedDict):
    seq: int
    starts_at: str
    ends_at: str


class PoolListed(TypedDict):
    """A sponsor's pool as anyone sees it: branding only, never its budget."""

    campaign_id: int
    sponsor_id: int
    name: str
    logo_url: str | None
    cover_text: str


class Pool(PoolListed):
    status: str


class ShakeEvent(TypedDict):
    id: int
    owner_id: int
    name: str
    starts_at: str
    ends_at: str
    win_permille: int
    wins_per_user_max: int
    rounds: list[RoundWindow]
    active_round: int | None
    pools: list[Pool]


class ShakeEventListed(TypedDict):
    id: int
    name: str
    starts_at: str
    ends_at: str
    rounds: list[RoundWindow]
    live: bool
    active_round: int | None
    next_round_starts_at: str | None
    ended: bool
    pools: list[PoolListed]  # its sponsors, with those that ended their pool early left out


class ShakeEventList(TypedDict):
    events: list[ShakeEventListed]


class ShakeNothing(TypedDict):
    event_id: int
    round: int
    result: Literal["nothing"]


class ShakeCard(TypedDict):
    event_id: int
    round: int
    result: Literal["card"]
    card: str  # a greeting of the event: a text, no money


class ShakeWon(TypedDict):
    event_id: int
    round: int
    result: Literal["cash", "coupon"]
    campaign_id: int
    claim_id: int
    kind: str  # as result
    amount_fen: int
    coupon_id: int | None
    name: str  # the pool's branding
    cover_text: str
    logo_url: str | None
    sponsor_id: int


Shaken = ShakeNothing | ShakeCard | ShakeWon


class Live(TypedDict):
    """What the shake page's socket shows, about once a second."""

    event_id: int
    prizes_left: int
    shakes_per_s: int
