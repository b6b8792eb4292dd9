"""A shake win ticket lease: prizes of one pool held out for one API process during one round."""

from __future__ import annotations

from dataclasses import dataclass

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
