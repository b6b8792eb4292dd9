"""Races on campaign money: many claimers on one budget, one user racing the caps, coupon stock, a shake pool."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import timedelta
from typing import Any

from hongbao.bootstrap import App
from hongbao.domain.errors import HongbaoError
from hongbao.service.reconcile import reconcile
from tests.campaign.conftest import make_enterprise, register_many
from tests.conftest import FrozenClock


def outcome(result: object) -> object:
    if isinstance(result, HongbaoError):
        return result.code
    if isinstance(result, BaseException):
        raise result
    assert isinstance(result, dict)
    return result.get("kind") or result.get("result")


def link_campaign(app: App, owner: int, clock: FrozenClock, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "channel": "link", "name": "新春", "starts_at": clock.now(), "ends_at": clock.now() + timedelta(days=1),
        "budget_fen": 5_050, "prizes": [{"kind": "cash", "amount_fen": 100}],
    }  # fmt: skip
    fields.update(overrides)
    return asyncio.run(app.campaigns.create(owner, **fields))


def claim_all(app: App, campaign: dict[str, Any], user_ids: list[int]) -> list[object]:
    async def go() -> list[object]:
        return list(
            await asyncio.gather(
                *(app.campaigns.claim(campaign["id"], u, token=campaign["link_token"]) for u in user_ids),
                return_exceptions=True,
            )
        )

    return [outcome(r) for r in asyncio.run(go())]


def test_200_concurrent_claims_on_a_budget_for_50_pay_exactly_50(hb: App, clock: FrozenClock) -> None:
    # given a campaign whose budget covers 50 prizes of 1 yuan (and 50 fen that no prize fits)
    corp = make_enterprise(hb, "corp", 100_000)
    campaign = link_campaign(hb, corp, clock)
    users = register_many(hb, "claimer", 200)
    # when 200 users claim at once
    outcomes = claim_all(hb, campaign, users)
    # then exactly 50 are paid and the rest hear campaign_exhausted
    assert Counter(outcomes) == {"cash": 50, "campaign_exhausted": 150}
    paid = sum(asyncio.run(hb.wallet.balance(u)) for u in users)
    assert paid == 5_000
    detail = asyncio.run(hb.campaigns.detail(campaign["id"], corp))
    assert detail["paid_fen"] == 5_000 and detail["remaining_fen"] == 50
    assert reconcile(hb.store).violations == []


def test_one_user_racing_20_claims_gets_the_per_user_cap(hb: App, clock: FrozenClock) -> None:
    corp = make_enterprise(hb, "corp", 100_000)
    campaign = link_campaign(hb, corp, clock, per_user_max=3)
    (alice,) = register_many(hb, "alice", 1)
    outcomes = claim_all(hb, campaign, [alice] * 20)
    assert Counter(outcomes) == {"cash": 3, "cap_reached": 17}
    assert asyncio.run(hb.wallet.balance(alice)) == 300
    assert reconcile(hb.store).violations == []


def test_one_user_racing_the_daily_cap_gets_it(hb: App, clock: FrozenClock) -> None:
    corp = make_enterprise(hb, "corp", 100_000)
    campaign = link_campaign(hb, corp, clock, per_day_max=2)
    (alice,) = register_many(hb, "alice", 1)
    assert Counter(claim_all(hb, campaign, [alice] * 20)) == {"cash": 2, "cap_reached": 18}
    clock.advance(days=1, seconds=-1)  # still inside the window, a new China day
    assert Counter(claim_all(hb, campaign, [alice] * 5)) == {"cash": 2, "cap_reached": 3}


def test_coupon_stock_is_never_exceeded_under_concurrent_claims(hb: App, clock: FrozenClock) -> None:
    # given a coupon offer with 30 in stock and a coupon-only campaign
    corp = make_enterprise(hb, "corp", 1_000)
    merchant = asyncio.run(hb.campaigns.register_merchant(corp, "全聚德", 39.9, 116.4))
    offer = asyncio.run(
        hb.campaigns.add_offer(
            merchant["id"], corp, title="¥20 off", face_value_fen=2_000, stock=30,
            expires_at=clock.now() + timedelta(days=7),
        )
    )  # fmt: skip
    campaign = link_campaign(hb, corp, clock, budget_fen=0, prizes=[{"kind": "coupon", "offer_id": offer["id"]}])
    users = register_many(hb, "claimer", 200)
    # when 200 users claim at once
    outcomes = claim_all(hb, campaign, users)
    # then exactly 30 coupons exist, one each, and no money moved
    assert Counter(outcomes) == {"coupon": 30, "campaign_exhausted": 170}
    held = [len(asyncio.run(hb.campaigns.coupons(u))["coupons"]) for u in users]
    assert sum(held) == 30 and max(held) == 1
    assert sum(asyncio.run(hb.wallet.balance(u)) for u in users) == 0
    assert reconcile(hb.store).violations == []


def gala_with_pool(hb: App, clock: FrozenClock, budget_fen: int) -> int:
    host = make_enterprise(hb, "cctv", budget_fen)
    now = clock.now()
    event = asyncio.run(
        hb.shake.create_event(host, name="春晚", rounds=[(now, now + timedelta(minutes=10))], win_permille=1000)
    )
    asyncio.run(
        hb.shake.add_pool(event["id"], host, budget_fen=budget_fen, prizes=[{"kind": "cash", "amount_fen": 100}],
                          name="CCTV")
    )  # fmt: skip
    return int(event["id"])


def shake_all(hb: App, event_id: int, user_ids: list[int]) -> list[object]:
    async def go() -> list[object]:
        return list(await asyncio.gather(*(hb.shake.shake(event_id, u) for u in user_ids), return_exceptions=True))

    return [outcome(r) for r in asyncio.run(go())]


def test_a_shake_pool_hit_by_200_users_at_once_is_never_overspent(hb: App, clock: FrozenClock) -> None:
    event_id = gala_with_pool(hb, clock, 5_000)
    users = register_many(hb, "viewer", 200)
    outcomes = shake_all(hb, event_id, users)
    assert Counter(outcomes) == {"cash": 50, "pool_empty": 150}
    assert sum(asyncio.run(hb.wallet.balance(u)) for u in users) == 5_000
    assert reconcile(hb.store).violations == []


def test_one_user_racing_20_shakes_wins_at_most_k_times(hb: App, clock: FrozenClock) -> None:
    hb.shake.limits = dataclasses.replace(hb.shake.limits, shakes_per_second_max=100)
    event_id = gala_with_pool(hb, clock, 5_000)
    (viewer,) = register_many(hb, "viewer", 1)
    outcomes = shake_all(hb, event_id, [viewer] * 20)
    assert outcomes.count("cash") == 3
    assert set(outcomes) <= {"cash", "card", "nothing"}
    assert asyncio.run(hb.wallet.balance(viewer)) == 300
    assert reconcile(hb.store).violations == []


def test_two_processes_racing_one_budget_and_one_users_cap_never_overspend(
    hb: App, clock: FrozenClock, store_url: str, tmp_path: Any
) -> None:
    # given a second app (another API process) on the same database
    from concurrent.futures import ThreadPoolExecutor

    from hongbao.bootstrap import build
    from tests.conftest import fast_settings

    other = build(fast_settings(database_url=store_url, data_dir=tmp_path), clock=clock, migrate_schema=False)
    try:
        corp = make_enterprise(hb, "corp", 100_000)
        campaign = link_campaign(hb, corp, clock, budget_fen=3_000, per_user_max=3)
        users = register_many(hb, "claimer", 60)
        (alice,) = register_many(hb, "alice", 1)
        # when both processes take claims at once: 30 users each, and alice 10 times in each
        with ThreadPoolExecutor(2) as pool:
            halves = list(
                pool.map(
                    lambda args: claim_all(args[0], campaign, args[1]),
                    [(hb, users[:30] + [alice] * 10), (other, users[30:] + [alice] * 10)],
                )
            )
        outcomes = Counter(halves[0] + halves[1])
        # then exactly 30 prizes were paid in all, alice got at most 3, and the ledger holds
        assert outcomes["cash"] == 30 and set(outcomes) <= {"cash", "campaign_exhausted", "cap_reached"}
        assert asyncio.run(hb.wallet.balance(alice)) <= 300
        assert sum(asyncio.run(hb.wallet.balance(u)) for u in [*users, alice]) == 3_000
        assert reconcile(hb.store).violations == []
    finally:
        other.close()


def test_closing_a_campaign_while_claims_race_returns_exactly_what_was_not_paid(hb: App, clock: FrozenClock) -> None:
    # given a campaign whose end has come for the scheduler, while claims stamped a moment earlier arrive
    corp = make_enterprise(hb, "corp", 100_000)
    campaign = link_campaign(hb, corp, clock, budget_fen=10_000)
    users = register_many(hb, "claimer", 80)
    ends_at = clock.now() + timedelta(days=1)
    clock.advance(days=1, seconds=-1)

    async def go() -> list[object]:
        claims = [hb.campaigns.claim(campaign["id"], u, token=campaign["link_token"]) for u in users]
        close = hb.store.write(lambda tx: tx.close_campaign(campaign["id"], ends_at))
        return list(await asyncio.gather(*claims[:40], close, *claims[40:], return_exceptions=True))

    results = asyncio.run(go())
    # then the claims queued before the close won, those after it heard campaign_ended, and the close
    # returned exactly what was not paid
    outcomes = [outcome(r) for i, r in enumerate(results) if i != 40]
    assert outcomes == ["cash"] * 40 + ["campaign_ended"] * 40
    assert results[40] == 10_000 - 4_000
    detail = asyncio.run(hb.campaigns.detail(campaign["id"], corp))
    assert detail["status"] == "closed" and (detail["paid_fen"], detail["returned_fen"]) == (4_000, 6_000)
    assert asyncio.run(hb.wallet.balance(corp)) == 100_000 - 4_000
    assert asyncio.run(hb.campaigns.close_ended_campaigns(ends_at)) == 0
    assert reconcile(hb.store).violations == []
