"""A campaign's owner over HTTP: topping its budget up (追加预算) and ending it early, with its refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from hongbao.bootstrap import App
from hongbao.service.reconcile import reconcile
from tests.api.conftest import User, assert_problem, balance, statement
from tests.campaign.conftest import claim, create_campaign, merchant_with_offer
from tests.campaign.test_shake_http import gala, pool, shake
from tests.conftest import FrozenClock


def top_up(
    client: TestClient, owner: User, campaign: dict[str, Any], amount_fen: object, key: str | None = None
) -> Any:
    headers = owner.headers if key is None else {**owner.headers, "Idempotency-Key": key}
    return client.post(f"/v1/campaigns/{campaign['id']}/top-up", json={"amount_fen": amount_fen}, headers=headers)


def cancel(client: TestClient, owner: User, campaign: dict[str, Any], key: str | None = None) -> Any:
    headers = owner.headers if key is None else {**owner.headers, "Idempotency-Key": key}
    return client.post(f"/v1/campaigns/{campaign['id']}/cancel", headers=headers)


def test_a_top_up_pays_claims_beyond_the_first_budget_and_the_audit_holds(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a campaign of two 1-yuan prizes, spent by two claimers (a third is told it is exhausted)
    corp = enterprise(wallet_fen=10_000)
    created = create_campaign(client, corp, clock.now(), budget_fen=200)
    users = [new_user() for _ in range(6)]
    assert [claim(client, u, created).status_code for u in users[:3]] == [201, 201, 409]
    # when the owner adds 3 yuan
    added = top_up(client, corp, created, 300)
    # then the money left its wallet for the budget, booked as a top-up
    assert added.status_code == 201, added.text
    reply = added.json()
    assert (reply["added_fen"], reply["budget_fen"], reply["paid_fen"], reply["remaining_fen"]) == (300, 500, 200, 300)
    assert balance(client, corp) == 10_000 - 500
    latest = statement(client, corp)[0]
    assert latest["amount_fen"] == -300 and latest["ref"] == f"campaign-topup:{created['id']}:1"
    # and three more claims are paid, the one after them is not
    codes = [claim(client, u, created).status_code for u in users[2:]]
    assert codes == [201, 201, 201, 409]
    assert sum(balance(client, u) for u in users) == 500
    # and the ledger's audit counts the top-up as budget
    assert reconcile(hb.store).violations == []
    # when the campaign ends, nothing is left to return
    clock.advance(days=1)
    assert asyncio.run(hb.campaigns.close_ended_campaigns(clock.now())) == 1
    assert balance(client, corp) == 10_000 - 500
    assert reconcile(hb.store).violations == []


def test_a_retried_top_up_with_the_same_key_moves_money_once(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User]
) -> None:
    corp = enterprise(wallet_fen=10_000)
    created = create_campaign(client, corp, clock.now())
    first = top_up(client, corp, created, 500, key="more-1")
    again = top_up(client, corp, created, 500, key="more-1")
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert balance(client, corp) == 10_000 - 1_000 - 500
    # a second top-up is its own transfer
    assert top_up(client, corp, created, 500, key="more-2").json()["budget_fen"] == 2_000
    refs = [e["ref"] for e in statement(client, corp)[:2]]
    assert refs == [f"campaign-topup:{created['id']}:2", f"campaign-topup:{created['id']}:1"]
    assert_problem(top_up(client, corp, created, 600, key="more-2"), 409, "idempotency_key_reused")


def test_only_the_owner_tops_up_or_ends_a_campaign(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a link campaign and a followers campaign of one enterprise, another enterprise and a person
    corp, rival, person = enterprise(wallet_fen=10_000), enterprise("rival"), new_user()
    link = create_campaign(client, corp, clock.now())
    followers = create_campaign(client, corp, clock.now(), channel="followers")
    rival_before = balance(client, rival)
    for other in (rival, person):
        # then a link campaign does not exist for them (as without its token) ...
        assert_problem(top_up(client, other, link, 100), 404, "campaign_not_found")
        assert_problem(cancel(client, other, link), 404, "campaign_not_found")
        # ... and a public one is not theirs to manage
        assert_problem(top_up(client, other, followers, 100), 403, "not_campaign_owner")
        assert_problem(cancel(client, other, followers), 403, "not_campaign_owner")
    assert_problem(top_up(client, corp, {"id": 999_999}, 100), 404, "campaign_not_found")
    assert_problem(cancel(client, corp, {"id": 999_999}), 404, "campaign_not_found")
    # and nothing moved
    assert balance(client, corp) == 10_000 - 2_000 and balance(client, rival) == rival_before
    mine = client.get("/v1/campaigns", headers=corp.headers).json()["campaigns"]
    assert {(c["status"], c["budget_fen"]) for c in mine} == {("active", 1_000)}


def test_bad_top_ups_give_their_codes(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User]
) -> None:
    corp = enterprise(wallet_fen=10_000)
    created = create_campaign(client, corp, clock.now())
    max_fen = hb.campaigns.limits.budget_fen_max
    cases: dict[object, tuple[int, str]] = {
        0: (422, "invalid_amount"),
        -100: (422, "invalid_amount"),
        max_fen: (422, "amount_too_large"),  # the budget would pass its maximum with the first 1,000 fen
        9_500: (422, "insufficient_funds"),  # the wallet holds 9,000 fen after the campaign's budget
    }
    for amount, (status, code) in cases.items():
        assert_problem(top_up(client, corp, created, amount), status, code, case=amount)
    assert_problem(top_up(client, corp, created, 1.5), 422, case="a fraction of a fen")
    assert_problem(top_up(client, corp, created, "100"), 422, case="text")
    # a coupon-only campaign never pays out cash, so its budget does not grow
    _, offer_id = merchant_with_offer(client, corp, clock.now())
    prizes = [{"kind": "coupon", "offer_id": offer_id}]
    coupons = create_campaign(client, corp, clock.now(), budget_fen=0, prizes=prizes)
    assert_problem(top_up(client, corp, coupons, 100), 422, "invalid_amount")
    assert balance(client, corp) == 9_000


def test_an_ended_or_closed_campaign_takes_no_top_up(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User]
) -> None:
    corp = enterprise(wallet_fen=10_000)
    created = create_campaign(client, corp, clock.now())
    # when the window is over but the scheduler has not closed it yet
    clock.advance(days=1)
    assert_problem(top_up(client, corp, created, 100), 422, "campaign_ended")
    # and once it is closed
    asyncio.run(hb.campaigns.close_ended_campaigns(clock.now()))
    assert_problem(top_up(client, corp, created, 100), 422, "campaign_ended")
    assert balance(client, corp) == 10_000


def test_ending_a_campaign_returns_exactly_the_unspent_budget_once(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a 10-yuan campaign topped up by 5 yuan, with three 1-yuan prizes paid
    corp = enterprise(wallet_fen=10_000)
    created = create_campaign(client, corp, clock.now())
    assert top_up(client, corp, created, 500).status_code == 201
    users = [new_user() for _ in range(4)]
    assert [claim(client, u, created).status_code for u in users[:3]] == [201, 201, 201]
    # when its owner ends it now
    ended = cancel(client, corp, created)
    # then it is closed and the 12 yuan not paid went back to the owner's wallet
    assert ended.status_code == 200, ended.text
    reply = ended.json()
    assert reply["status"] == "closed" and reply["closed_at"] == clock.now().isoformat()
    assert (reply["budget_fen"], reply["paid_fen"], reply["returned_fen"], reply["remaining_fen"]) == (
        1_500, 300, 1_200, 0
    )  # fmt: skip
    assert balance(client, corp) == 10_000 - 300
    latest = statement(client, corp)[0]
    assert latest["kind"] == "refunded" and latest["amount_fen"] == 1_200
    # and a claim after it hears campaign_ended
    assert_problem(claim(client, users[3], created), 422, "campaign_ended")
    # when the owner ends it again, or tops it up, or the scheduler passes at its end
    assert_problem(cancel(client, corp, created), 422, "campaign_ended")
    assert_problem(top_up(client, corp, created, 100), 422, "campaign_ended")
    clock.advance(days=1)
    assert asyncio.run(hb.campaigns.close_ended_campaigns(clock.now())) == 0
    # then nothing is returned a second time
    assert balance(client, corp) == 10_000 - 300
    figures = client.get(f"/v1/campaigns/{created['id']}/figures", headers=corp.headers).json()
    assert (figures["status"], figures["returned_fen"], figures["remaining_fen"]) == ("closed", 1_200, 0)
    assert reconcile(hb.store).violations == []


def test_a_retried_cancel_with_the_same_key_gets_the_first_reply_and_the_close_is_announced_once(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User]
) -> None:
    announced: list[dict[str, Any]] = []
    hb.deps.hooks.after_commit.append(lambda event, data: event == "campaign_closed" and announced.append(data))
    corp = enterprise(wallet_fen=10_000)
    created = create_campaign(client, corp, clock.now())
    first = cancel(client, corp, created, key="stop-1")
    again = cancel(client, corp, created, key="stop-1")
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert first.json()["returned_fen"] == 1_000 and balance(client, corp) == 10_000
    assert announced == [{"campaign_id": created["id"], "returned_fen": 1_000}]


def test_a_campaign_ended_before_it_starts_returns_its_whole_budget(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp = enterprise(wallet_fen=10_000)
    later = clock.now() + timedelta(hours=1)
    created = create_campaign(client, corp, clock.now(), starts_at=later.isoformat())
    assert cancel(client, corp, created).json()["returned_fen"] == 1_000
    clock.advance(hours=2)
    assert_problem(claim(client, new_user(), created), 422, "campaign_ended")
    assert balance(client, corp) == 10_000


def test_a_sponsor_ends_its_shake_pool_and_shakes_no_longer_draw_from_it(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a Gala with a sponsor's pool of 5 yuan, one prize of which was won
    host, sponsor, viewer = enterprise("cctv"), enterprise("jd", wallet_fen=10_000), new_user("viewer")
    event = gala(client, host, clock)
    funded = pool(client, sponsor, event["id"], 500, [{"kind": "cash", "amount_fen": 100}]).json()
    clock.advance(minutes=6)
    assert shake(client, viewer, event["id"]).json()["result"] == "cash"
    # then the event's host may not end a pool it did not fund
    assert_problem(cancel(client, host, funded), 403, "not_campaign_owner")
    # when the sponsor tops it up, then ends it mid-round
    assert top_up(client, sponsor, funded, 200).status_code == 201
    ended = cancel(client, sponsor, funded)
    # then the 6 yuan not won went back, and the next shake finds every pool empty
    assert ended.status_code == 200 and ended.json()["returned_fen"] == 600
    assert balance(client, sponsor) == 10_000 - 100
    clock.advance(seconds=1)
    assert_problem(shake(client, new_user("late"), event["id"]), 409, "pool_empty")
    pools = client.get(f"/v1/shake/events/{event['id']}", headers=viewer.headers).json()["pools"]
    assert [p["status"] for p in pools] == ["closed"]
    # and at the event's end the scheduler has nothing more to return
    clock.advance(hours=2)
    assert asyncio.run(hb.campaigns.close_ended_campaigns(clock.now())) == 0
    assert balance(client, sponsor) == 10_000 - 100
