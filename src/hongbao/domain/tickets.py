"""A shake win ticket lease: prizes of one pool held out for one API process during one round."""

from __future__ import annotations

from dataclasses import dataclass

from hongbao.domain.campaigns import Rng
from hongbao.domain.ledger import Violation


@dataclass(frozen=True)
class Lease:
    """`tickets` prizes of `prize_id` (pool `campaign_id`), held for one process during round `round_seq`."""

    id: int
    event_id: int
    round_seq: int
    campaign_id: int
    sponsor_id: int
    prize_id: int
    kind: str  # "cash" or "coupon"
    amount_fen: int  # cash per ticket, 0 for a coupon
    offer_id: int | None
    tickets: int


@dataclass(frozen=True)
class TicketFacts:
    """What reconcile checks: every shake pool's and prize's held counts against the leases that hold them."""

    pools: list[tuple[int, str, int, int, int, int, int]]  # id, status, budget, paid, returned, held fen, Σ leased fen
    prizes: list[tuple[int, int, int | None, int, int]]  # id, issued, count_max, held, Σ leased tickets


def audit_tickets(facts: TicketFacts) -> list[Violation]:
    """Held counts equal what the leases hold; an active pool never has more paid and held than its budget, nor a
    prize more issued and held than its count."""
    out: list[Violation] = []
    for cid, status, budget, paid, returned, held, leased in facts.pools:
        subject = f"shake pool {cid}"
        if held != leased:
            out.append(Violation("tickets", subject, f"holds {held} fen for tickets, its leases {leased} fen"))
        if status == "active" and paid + returned + held > budget:
            out.append(Violation("tickets", subject, f"paid {paid} + held {held} fen > budget {budget} fen"))
    for pid, issued, count_max, held, leased in facts.prizes:
        subject = f"shake prize {pid}"
        if held != leased:
            out.append(Violation("tickets", subject, f"holds {held} tickets, its leases {leased}"))
        if count_max is not None and issued + held > count_max:
            out.append(Violation("tickets", subject, f"issued {issued} + held {held} > {count_max}"))
    return out


@dataclass
class Option:
    """A prize as a ticket draw sees it: what is left of it (None: no count limit)."""

    campaign_id: int
    sponsor_id: int
    prize_id: int
    kind: str
    amount_fen: int  # cash, 0 for a coupon
    offer_id: int | None
    weight: int
    left: int | None


def draw_tickets(
    options: list[Option], budget_left: dict[int, int], stock_left: dict[int, int], want: int, rng: Rng
) -> dict[tuple[int, int], int]:
    """Draw up to `want` prizes, one at a time: a pool at random among those with a prize left, then a prize by
    weight; what each draw takes is taken off the figures (`budget_left`, `stock_left` and each option's `left`
    change).  Returns (pool, prize) → tickets."""
    drawn: dict[tuple[int, int], int] = {}
    for _ in range(want):
        pools: dict[int, list[Option]] = {}
        for o in options:
            if (
                (o.left is None or o.left > 0)
                and o.amount_fen <= budget_left[o.campaign_id]
                and (o.offer_id is None or stock_left.get(o.offer_id, 0) > 0)
            ):
                pools.setdefault(o.campaign_id, []).append(o)
        if not pools:
            break
        ids = sorted(pools)
        pick = pools[ids[int(rng.random() * len(ids)) % len(ids)]]
        point = rng.random() * sum(o.weight for o in pick)
        chosen = pick[-1]
        for o in pick:
            point -= o.weight
            if point < 0:
                chosen = o
                break
        key = (chosen.campaign_id, chosen.prize_id)
        drawn[key] = drawn.get(key, 0) + 1
        if chosen.left is not None:
            chosen.left -= 1
        budget_left[chosen.campaign_id] -= chosen.amount_fen
        if chosen.offer_id is not None:
            stock_left[chosen.offer_id] -= 1
    return drawn
