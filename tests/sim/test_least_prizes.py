"""The simulator's floor on the prizes a shake event's pools still give: a burst's pool_empty is a finding only
when more are surely left than shakes in flight, so the floor must never be above what some draw gives."""

from __future__ import annotations

from datetime import UTC, datetime

from hongbao.sim.model import Campaign, Offer, PrizeLine
from hongbao.sim.shake import least_prizes

T = datetime(2026, 2, 18, 20, tzinfo=UTC)


def pool(budget_fen: int, *lines: PrizeLine, paid_fen: int = 0) -> tuple[Campaign, list[PrizeLine]]:
    return Campaign(1, 7, "shake", 1, T, T, budget_fen, list(lines), paid_fen=paid_fen), list(lines)


def test_prizes_sharing_a_budget_are_not_counted_as_if_each_had_it_alone() -> None:
    # 300 fen left, prizes of 100 and 200: three prizes at most, two if the 200 comes first; each alone would
    # say 3 + 1 = 4 (the figure of the finding at seed 2, step 93,014), the floor says ⌊300 / 200⌋ = 1
    assert least_prizes([pool(300, PrizeLine("cash", 1, 100), PrizeLine("cash", 1, 200))], {}) == 1
    assert least_prizes([pool(1_000, PrizeLine("cash", 1, 100), PrizeLine("cash", 1, 200), paid_fen=600)], {}) == 2


def test_prize_counts_bound_it_when_every_cash_prize_has_one() -> None:
    lines = (PrizeLine("cash", 1, 100, count_max=3, issued=1), PrizeLine("cash", 1, 50, count_max=2))
    assert least_prizes([pool(10_000, *lines)], {}) == 4
    # one line without a count: the budget alone bounds it
    assert least_prizes([pool(10_000, lines[0], PrizeLine("cash", 1, 50))], {}) == 100


def test_coupons_count_once_per_offer_within_its_stock() -> None:
    offers = {5: Offer(5, 9, stock=10, expires_at=T, issued=8)}
    coupon = PrizeLine("coupon", 1, offer_id=5)
    assert least_prizes([pool(0, coupon), pool(0, coupon)], offers) == 2
    assert least_prizes([pool(0, PrizeLine("coupon", 1, offer_id=5, count_max=1))], offers) == 1
