"""The auditor's model: what the simulator expects the store to hold, built only from the services' answers."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Wallets(dict[int, int]):
    """Wallet balances that remember which users changed since the last audit, and their total."""

    def __init__(self) -> None:
        super().__init__()
        self.touched: set[int] = set()
        self.total = 0

    def __setitem__(self, user: int, balance: int) -> None:
        self.total += balance - self.get(user, 0)
        self.touched.add(user)
        super().__setitem__(user, balance)


class Verified(dict[int, str]):
    """Users verified as "enterprise" or "celebrity", with the enterprises in id order kept until one changes
    (the workload asks for them at every campaign, pool and event, and they are few against the users)."""

    def __init__(self) -> None:
        super().__init__()
        self._enterprises: list[int] | None = None

    def __setitem__(self, user: int, label: str) -> None:
        self._enterprises = None
        super().__setitem__(user, label)

    def __delitem__(self, user: int) -> None:
        self._enterprises = None
        super().__delitem__(user)

    def pop(self, user: int, *default: Any) -> Any:
        self._enterprises = None
        return super().pop(user, *default)

    def enterprises(self) -> list[int]:
        if self._enterprises is None:
            self._enterprises = sorted(u for u, label in self.items() if label == "enterprise")
        return self._enterprises


@dataclass
class Packet:
    id: int
    kind: str  # "personal" or "group"
    split: str
    sender: int
    group: int | None
    recipient: int | None
    total_fen: int
    shares: int
    expires_at: datetime
    claims: dict[int, int] = field(default_factory=dict)  # claimer → amount, in claim order
    refunded_fen: int | None = None  # set when expire_due refunded the packet

    @property
    def claimed_fen(self) -> int:
        return sum(self.claims.values())

    def status(self) -> str:
        """The status the store must show."""
        if self.refunded_fen is not None:
            return "expired"
        return "finished" if len(self.claims) >= self.shares else "active"

    def openable(self, now: datetime) -> bool:
        return self.status() == "active" and now < self.expires_at


@dataclass
class Group:
    owner: int
    members: set[int]


@dataclass(frozen=True)
class Request:
    """A money request that succeeded with an Idempotency-Key: retries must get `reply` and do nothing."""

    what: str  # "top-up", "withdraw", "send" or "open"
    user: int
    key: str
    params: dict[str, Any]
    reply: dict[str, Any]


@dataclass
class Token:
    token: str
    user: int
    expires_at: datetime
    revoked: bool = False


@dataclass
class PrizeLine:
    """One line of a prize table. Cash amounts differ within a table and there is at most one coupon line,
    so the reply to a claim names the line it drew."""

    kind: str  # "cash" or "coupon"
    weight: int
    amount_fen: int = 0
    offer_id: int | None = None
    count_max: int | None = None
    issued: int = 0

    def body(self) -> dict[str, Any]:
        """The line as a request sends it."""
        if self.kind == "cash":
            return {"kind": "cash", "amount_fen": self.amount_fen, "weight": self.weight, "count": self.count_max}
        return {"kind": "coupon", "offer_id": self.offer_id, "weight": self.weight, "count": self.count_max}


@dataclass
class Offer:
    """A merchant's coupon offer: coupons issued never pass its stock."""

    id: int
    owner: int
    stock: int
    expires_at: datetime
    issued: int = 0


@dataclass
class Campaign:
    """An enterprise campaign, or a shake pool (channel "shake", with its event)."""

    id: int
    owner: int
    channel: str  # "link", "followers" or "shake"
    event: int | None
    starts_at: datetime
    ends_at: datetime
    budget_fen: int  # grows only by the owner's top-ups
    prizes: list[PrizeLine]
    per_user_max: int | None = None
    per_day_max: int | None = None
    token: str | None = None  # a link campaign's claim token
    paid_fen: int = 0
    returned_fen: int | None = None  # set when it closed (at its end, or early by its owner)
    claims: Counter[int] = field(default_factory=Counter)  # user → prizes won
    day_claims: Counter[tuple[int, str]] = field(default_factory=Counter)  # (user, day) → prizes won

    @property
    def left_fen(self) -> int:
        return self.budget_fen - self.paid_fen - (self.returned_fen or 0)

    def status(self) -> str:
        return "active" if self.returned_fen is None else "closed"

    def live(self, now: datetime) -> bool:
        return self.status() == "active" and self.starts_at <= now < self.ends_at

    def has_cash(self) -> bool:
        return any(p.kind == "cash" for p in self.prizes)


@dataclass
class ShakeEvent:
    id: int
    owner: int
    rounds: list[tuple[datetime, datetime]]
    win_permille: int
    wins_max: int
    cards: list[str]
    pools: list[int] = field(default_factory=list)
    wins: Counter[int] = field(default_factory=Counter)  # user → prizes won
    shakes: Counter[int] = field(default_factory=Counter)  # user → shakes answered
    round_shakes: dict[int, tuple[int, int]] = field(default_factory=dict)  # user → (round, shakes in it)

    @property
    def ends_at(self) -> datetime:
        return self.rounds[-1][1]

    def round_at(self, now: datetime) -> int | None:
        return next((i for i, (start, end) in enumerate(self.rounds) if start <= now < end), None)


@dataclass
class Model:
    """What the auditor expects the store to hold, built only from the answers the services gave."""

    users: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    name_of: dict[int, str] = field(default_factory=dict)
    balance: Wallets = field(default_factory=lambda: Wallets())
    inside_fen: int = 0  # top-ups − withdrawals
    pending: dict[tuple[int, int], None] = field(default_factory=dict)  # (requester, addressee), in order
    friends: set[frozenset[int]] = field(default_factory=set)
    friend_map: dict[int, set[int]] = field(default_factory=dict)  # user → friends (friends_of without a scan)
    groups: dict[int, Group] = field(default_factory=dict)
    group_ids: list[int] = field(default_factory=list)  # in creation order, for a seeded choice without a sort
    packets: dict[int, Packet] = field(default_factory=dict)
    packet_list: list[Packet] = field(default_factory=list)
    active: dict[int, Packet] = field(default_factory=dict)  # packets neither finished nor refunded
    requests: list[Request] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    verified: Verified = field(default_factory=lambda: Verified())  # user → "enterprise" or "celebrity"
    follows: set[tuple[int, int]] = field(default_factory=set)  # (follower, followee)
    followers: dict[int, set[int]] = field(default_factory=dict)  # followee → followers
    merchants: dict[int, int] = field(default_factory=dict)  # merchant → its owner
    merchant_ids: list[int] = field(default_factory=list)
    offers: dict[int, Offer] = field(default_factory=dict)
    offer_ids: list[int] = field(default_factory=list)  # every offer, in id order
    offer_ids_of: dict[int, list[int]] = field(default_factory=dict)  # owner → its offers, in id order
    campaigns: dict[int, Campaign] = field(default_factory=dict)
    campaign_list: list[Campaign] = field(default_factory=list)
    open_campaigns: dict[int, Campaign] = field(default_factory=dict)  # status "active" (not closed yet)
    events: dict[int, ShakeEvent] = field(default_factory=dict)
    event_list: list[ShakeEvent] = field(default_factory=list)
    current_events: dict[int, ShakeEvent] = field(default_factory=dict)  # not ended yet (pruned as the clock moves)
    coupons: dict[int, tuple[int, int]] = field(default_factory=dict)  # coupon → (offer, holder)
    coupons_of: dict[int, dict[int, tuple[int, int]]] = field(default_factory=dict)  # offer → its coupons, as above
    claim_ids: set[int] = field(default_factory=set)

    def are_friends(self, a: int, b: int) -> bool:
        return frozenset((a, b)) in self.friends

    def friends_of(self, user: int) -> list[int]:
        return sorted(self.friend_map.get(user, ()))

    def befriend(self, a: int, b: int) -> None:
        self.friends.add(frozenset((a, b)))
        self.friend_map.setdefault(a, set()).add(b)
        self.friend_map.setdefault(b, set()).add(a)

    def follow(self, user: int, target: int) -> None:
        self.follows.add((user, target))
        self.followers.setdefault(target, set()).add(user)

    def unfollow(self, user: int, target: int) -> None:
        self.follows.discard((user, target))
        self.followers.get(target, set()).discard(user)

    def add_user(self, uid: int, name: str) -> None:
        self.users.append(uid)
        self.names.append(name)
        self.name_of[uid] = name
        self.balance[uid] = 0

    def add_packet(self, p: Packet) -> None:
        self.packets[p.id] = p
        self.packet_list.append(p)
        self.active[p.id] = p

    def settle(self, p: Packet) -> None:
        """Drop `p` from the active packets once it is finished or refunded."""
        if p.status() != "active":
            self.active.pop(p.id, None)

    def add_campaign(self, c: Campaign) -> None:
        self.campaigns[c.id] = c
        self.campaign_list.append(c)
        self.open_campaigns[c.id] = c

    def add_event(self, ev: ShakeEvent) -> None:
        self.events[ev.id] = ev
        self.event_list.append(ev)
        self.current_events[ev.id] = ev

    def live_events(self, now: datetime) -> list[ShakeEvent]:
        """The events not ended at `now` (ended ones are dropped from `current_events` for good)."""
        for eid in [e.id for e in self.current_events.values() if e.ends_at <= now]:
            del self.current_events[eid]
        return list(self.current_events.values())

    def enterprises(self) -> list[int]:
        return self.verified.enterprises()

    def add_offer(self, offer: Offer) -> None:
        self.offers[offer.id] = offer
        bisect.insort(self.offer_ids, offer.id)
        bisect.insort(self.offer_ids_of.setdefault(offer.owner, []), offer.id)

    def other_offer(self, owner: int, index: int) -> int:
        """The `index`-th offer (in id order) of the offers not `owner`'s, found without listing them."""
        at = index
        for mine in self.offer_ids_of.get(owner, ()):
            if bisect.bisect_left(self.offer_ids, mine) <= at:
                at += 1
        return self.offer_ids[at]

    def add_coupon(self, coupon: int, offer: int, holder: int) -> None:
        self.coupons[coupon] = (offer, holder)
        self.coupons_of.setdefault(offer, {})[coupon] = (offer, holder)

    def candidates(self, c: Campaign, now: datetime) -> list[PrizeLine]:
        """The prizes a claim (or a shake's win) may still draw: count left, cash within the budget, stock left."""
        out = []
        for p in c.prizes:
            if p.count_max is not None and p.issued >= p.count_max:
                continue
            if p.kind == "cash" and p.amount_fen <= c.left_fen:
                out.append(p)
            elif p.kind == "coupon" and p.offer_id is not None:
                offer = self.offers[p.offer_id]
                if offer.issued < offer.stock and now < offer.expires_at:
                    out.append(p)
        return out
