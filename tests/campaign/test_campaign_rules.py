"""Pure rules of campaigns: the weighted draw, distances, bounding boxes, and the audit of budgets and caps."""

from __future__ import annotations

import random
from collections import Counter

from hongbao.domain.campaigns import Candidate, PrizeKind, bounding_box, draw
from hongbao.domain.geo import haversine_m
from hongbao.domain.ledger import Account, AccountKind, CampaignFacts, CapFacts, Transfer, TransferCode, audit


def test_the_draw_follows_the_weights() -> None:
    rng = random.Random(7)
    table = [Candidate(1, PrizeKind.CASH, 1, 888, None), Candidate(2, PrizeKind.CASH, 3, 1, None)]
    drawn = Counter(draw(table, rng).prize_id for _ in range(20_000))
    assert 0.23 < drawn[1] / 20_000 < 0.27


def test_haversine_gives_a_degree_of_latitude_as_about_111_km() -> None:
    assert 111_000 < haversine_m(39.0, 116.0, 40.0, 116.0) < 111_400
    assert haversine_m(39.9, 116.4, 39.9, 116.4) == 0


def test_the_bounding_box_encloses_the_circle() -> None:
    lat_min, lat_max, lng_min, lng_max = bounding_box(39.9, 116.4, 1_000)
    for lat, lng in ((lat_min, 116.4), (lat_max, 116.4), (39.9, lng_min), (39.9, lng_max)):
        assert 999 < haversine_m(39.9, 116.4, lat, lng) < 1_001


def ledger(paid: int, returned: int = 0) -> tuple[list[Account], list[Transfer]]:
    transfers = [
        Transfer(1, 1, 2, 1_000, TransferCode.TOPUP, "topup:1"),
        Transfer(2, 2, 3, 500, TransferCode.CAMPAIGN_FUND, "campaign:1"),
        Transfer(3, 3, 4, paid, TransferCode.CAMPAIGN_PAYOUT, "campaign-claim:1"),
    ]
    if returned:
        transfers.append(Transfer(4, 3, 2, returned, TransferCode.CAMPAIGN_RETURN, "campaign:1"))
    balances = {1: -1_000, 2: 500 + returned, 3: 500 - paid - returned, 4: paid}
    kinds = {1: AccountKind.WORLD, 2: AccountKind.WALLET, 3: AccountKind.BUDGET, 4: AccountKind.WALLET}
    return [Account(i, kinds[i], i, b) for i, b in balances.items()], transfers


def test_the_audit_passes_a_campaign_within_its_budget() -> None:
    accounts, transfers = ledger(paid=300, returned=200)
    facts = CampaignFacts(1, 3, "closed", 500, 300, 200, (300,))
    assert audit(accounts, transfers, [], [], campaigns=[facts]) == []


def test_the_audit_flags_a_campaign_paid_beyond_its_budget() -> None:
    accounts, transfers = ledger(paid=600)
    facts = CampaignFacts(1, 3, "active", 500, 600, 0, (600,))
    found = {v.invariant for v in audit(accounts, transfers, [], [], campaigns=[facts])}
    assert "within-budget" in found


def test_the_audit_flags_a_closed_campaign_still_holding_money_and_a_broken_cap() -> None:
    accounts, transfers = ledger(paid=300)
    facts = CampaignFacts(1, 3, "closed", 500, 300, 0, (300,))
    caps = [CapFacts("campaign 1 user 4", 1, 2)]
    found = {v.invariant for v in audit(accounts, transfers, [], [], campaigns=[facts], caps=caps)}
    assert {"budget-empty-when-closed", "per-user-cap"} <= found


def topped_up_ledger(topped: int, paid: int, returned: int) -> tuple[list[Account], list[Transfer]]:
    """The campaign of `ledger` with one top-up of `topped` fen from the owner's wallet (account 2)."""
    accounts, transfers = ledger(paid=paid, returned=returned)
    transfers.append(Transfer(5, 2, 3, topped, TransferCode.CAMPAIGN_TOPUP, "campaign-topup:1:1"))
    moved = {2: -topped, 3: topped}
    return [Account(a.id, a.kind, a.owner_id, a.balance_fen + moved.get(a.id, 0)) for a in accounts], transfers


def test_the_audit_counts_a_top_up_as_budget() -> None:
    # 500 funded + 200 topped up: 600 paid and 100 returned leave the budget account empty
    accounts, transfers = topped_up_ledger(topped=200, paid=600, returned=100)
    facts = CampaignFacts(1, 3, "closed", 700, 600, 100, (600,))
    assert audit(accounts, transfers, [], [], campaigns=[facts]) == []


def test_the_audit_flags_a_top_up_the_budget_does_not_record() -> None:
    accounts, transfers = topped_up_ledger(topped=200, paid=300, returned=0)
    facts = CampaignFacts(1, 3, "active", 500, 300, 0, (300,))
    found = {v.invariant for v in audit(accounts, transfers, [], [], campaigns=[facts])}
    assert "budget-funded-once" in found


def test_the_audit_flags_a_budget_funded_twice() -> None:
    accounts, transfers = ledger(paid=300)
    transfers.append(Transfer(5, 2, 3, 200, TransferCode.CAMPAIGN_FUND, "campaign:1:again"))
    accounts = [Account(a.id, a.kind, a.owner_id, a.balance_fen + {2: -200, 3: 200}.get(a.id, 0)) for a in accounts]
    facts = CampaignFacts(1, 3, "active", 700, 300, 0, (300,))
    found = {v.invariant for v in audit(accounts, transfers, [], [], campaigns=[facts])}
    assert found == {"budget-funded-once"}
