"""Races on a campaign its owner tops up and ends: claims are paid before the return or refused after it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hongbao.bootstrap import App, build
from hongbao.domain.ledger import Transfer, TransferCode
from hongbao.service.reconcile import reconcile
from tests.campaign.conftest import make_enterprise, register_many
from tests.campaign.test_campaign_concurrency import link_campaign, outcome
from tests.conftest import FrozenClock, fast_settings


def run_in_order(steps: list[Awaitable[Any]]) -> list[Any]:
    """Start every step at once, in this order (one process queues its writes in the order they are made)."""

    async def go() -> list[Any]:
        return list(await asyncio.gather(*steps, return_exceptions=True))

    return asyncio.run(go())


def budget_transfers(app: App, campaign_id: int) -> list[Transfer]:
    """Every transfer in or out of the campaign's budget account, in booking order."""
    budget = app.store.read_sync(lambda tx: tx.campaign(campaign_id)).budget_account_id
    transfers: list[Transfer] = app.store.read_sync(lambda tx: tx.audit_facts()[1])
    return sorted((t for t in transfers if budget in (t.debit_account_id, t.credit_account_id)), key=lambda t: t.id)


def assert_nothing_paid_after_the_return(app: App, campaign_id: int) -> tuple[int, int]:
    """One return, booked after every payout; (paid, returned) as the ledger has them."""
    booked = budget_transfers(app, campaign_id)
    returns = [t for t in booked if t.code is TransferCode.CAMPAIGN_RETURN]
    payouts = [t for t in booked if t.code is TransferCode.CAMPAIGN_PAYOUT]
    assert len(returns) == 1
    assert all(p.id < returns[0].id for p in payouts)
    return sum(p.amount_fen for p in payouts), returns[0].amount_fen


def test_claims_racing_a_top_up_and_a_cancel_are_paid_before_the_return_or_refused(hb: App, clock: FrozenClock) -> None:
    # given a 40-yuan campaign of 1-yuan prizes and 80 claimers
    corp = make_enterprise(hb, "corp", 100_000)
    campaign = link_campaign(hb, corp, clock, budget_fen=4_000)
    users = register_many(hb, "claimer", 80)
    cid, token = campaign["id"], campaign["link_token"]
    claims = [hb.campaigns.claim(cid, u, token=token) for u in users]
    # when 30 claims, a 20-yuan top-up, 20 more claims, the owner's cancel and 30 more claims arrive at once
    results = run_in_order(
        [*claims[:30], hb.campaigns.top_up(cid, corp, 2_000), *claims[30:50], hb.campaigns.cancel(cid, corp),
         *claims[50:]]
    )  # fmt: skip
    topped, ended = results[30], results[51]
    outcomes = [outcome(r) for i, r in enumerate(results) if i not in (30, 51)]
    # then the 50 claims before the cancel were paid (20 of them from the top-up), the 30 after it refused
    assert outcomes == ["cash"] * 50 + ["campaign_ended"] * 30
    assert topped["budget_fen"] == 6_000
    assert (ended["paid_fen"], ended["returned_fen"]) == (5_000, 1_000)
    # and every fen of the budget went once: to a claimer or back to the owner, the return last
    assert sum(asyncio.run(hb.wallet.balance(u)) for u in users) == 5_000
    assert assert_nothing_paid_after_the_return(hb, cid) == (5_000, 1_000)
    assert asyncio.run(hb.wallet.balance(corp)) == 100_000 - 5_000
    assert reconcile(hb.store).violations == []


def test_two_processes_racing_claims_a_top_up_and_a_cancel_pay_nothing_after_the_return(
    hb: App, clock: FrozenClock, store_url: str, tmp_path: Path
) -> None:
    # given a second app (another API process) on the same database, and a 100-yuan campaign
    other = build(fast_settings(database_url=store_url, data_dir=tmp_path), clock=clock, migrate_schema=False)
    try:
        corp = make_enterprise(hb, "corp", 100_000)
        campaign = link_campaign(hb, corp, clock, budget_fen=10_000)
        users = register_many(hb, "claimer", 80)
        cid, token = campaign["id"], campaign["link_token"]

        def here() -> list[Any]:  # this process: 20 claims, a top-up, 20 claims, the cancel, 20 claims
            steps: list[Awaitable[Any]] = [hb.campaigns.claim(cid, u, token=token) for u in users[:60]]
            steps.insert(20, hb.campaigns.top_up(cid, corp, 3_000))
            steps.insert(41, hb.campaigns.cancel(cid, corp))
            return run_in_order(steps)

        def there() -> list[Any]:  # the other process: 20 claims meanwhile
            return run_in_order([other.campaigns.claim(cid, u, token=token) for u in users[60:]])

        # when both run at once
        with ThreadPoolExecutor(2) as pool:
            mine, theirs = pool.submit(here), pool.submit(there)
            results, elsewhere = mine.result(), theirs.result()
        topped, ended = results[20], results[41]
        outcomes = [outcome(r) for i, r in enumerate(results) if i not in (20, 41)] + [outcome(r) for r in elsewhere]
        # then the cancel closed the campaign, the top-up came before it (this process queues in order),
        # the claims queued here after the cancel were refused, and each claim elsewhere went one way or the other
        assert ended["status"] == "closed" and topped["budget_fen"] == 13_000
        assert outcomes[40:60] == ["campaign_ended"] * 20
        assert set(outcomes) <= {"cash", "campaign_ended"} and outcomes[:40] == ["cash"] * 40
        # and sum(paid) + returned = budget + top-up, with no payout booked after the return
        paid, returned = assert_nothing_paid_after_the_return(hb, cid)
        assert Counter(outcomes)["cash"] * 100 == paid == ended["paid_fen"]
        assert returned == ended["returned_fen"] and paid + returned == 10_000 + 3_000
        assert sum(asyncio.run(hb.wallet.balance(u)) for u in users) == paid
        assert asyncio.run(hb.wallet.balance(corp)) == 100_000 - paid
        assert reconcile(hb.store).violations == []
    finally:
        other.close()
