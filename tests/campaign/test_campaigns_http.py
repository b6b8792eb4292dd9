"""Enterprise campaigns (企业红包) over HTTP: create and fund, claim by link or as a follower, caps, figures, close."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from hongbao.bootstrap import App
from tests.api.conftest import User, assert_problem, balance, statement, top_up
from tests.campaign.conftest import campaign_body, claim, create_campaign
from tests.conftest import FrozenClock


def test_enterprise_campaign_by_link_pays_claimers_and_returns_the_rest_at_the_end(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a verified enterprise with 10,000 yuan and two users
    corp = enterprise(wallet_fen=1_000_000)
    alice, bob = new_user("alice"), new_user("bob")
    # when it creates a link campaign of 10 yuan in 1-yuan prizes
    created = create_campaign(client, corp, clock.now(), per_user_max=2)
    # then the budget left its wallet at once and the link token is shown once
    assert balance(client, corp) == 1_000_000 - 1_000
    assert created["budget_fen"] == 1_000 and created["remaining_fen"] == 1_000
    assert created["name"] == "Tencent 新春红包" and created["cover_text"] == "新年快乐"
    assert len(created["link_token"]) >= 16
    # when alice claims twice and bob once
    replies = [claim(client, alice, created), claim(client, alice, created), claim(client, bob, created)]
    # then each got 1 yuan in their wallet, booked as a campaign payout
    assert [r.status_code for r in replies] == [201, 201, 201], [r.text for r in replies]
    assert {r.json()["kind"] for r in replies} == {"cash"}
    assert balance(client, alice) == 200 and balance(client, bob) == 100
    latest = statement(client, bob)[0]
    assert latest["kind"] == "received" and latest["ref"].startswith("campaign-claim:")
    # and the owner's figures say so
    figures = client.get(f"/v1/campaigns/{created['id']}/figures", headers=corp.headers).json()
    assert figures["issued"] == 3 and figures["unique_claimers"] == 2
    assert figures["claimed_fen"] == 300 and figures["remaining_fen"] == 700
    assert figures["by_day"] == [
        {"day": "2026-02-19", "issued": 3, "unique_claimers": 2, "claimed_fen": 300, "coupons_issued": 0}
    ]
    # when the window ends and the scheduler pass runs
    clock.advance(days=1)
    assert claim(client, bob, created).json()["code"] == "campaign_ended"
    assert asyncio.run(hb.campaigns.close_ended_campaigns(clock.now())) == 1
    assert asyncio.run(hb.campaigns.close_ended_campaigns(clock.now())) == 0  # once
    # then the unspent 7 yuan went back to the enterprise
    assert balance(client, corp) == 1_000_000 - 300
    detail = client.get(f"/v1/campaigns/{created['id']}", headers=corp.headers).json()
    assert detail["status"] == "closed" and detail["returned_fen"] == 700 and detail["remaining_fen"] == 0


def test_a_campaign_by_an_unverified_account_gives_not_verified(
    client: TestClient, clock: FrozenClock, new_user: Callable[..., User]
) -> None:
    shop = new_user("shop")
    top_up(client, shop, 10_000)
    response = client.post("/v1/campaigns", json=campaign_body(clock.now()), headers=shop.headers)
    assert_problem(response, 403, "not_verified")
    assert balance(client, shop) == 10_000


def test_a_campaign_larger_than_the_wallet_gives_insufficient_funds(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User]
) -> None:
    corp = enterprise(wallet_fen=500)
    response = client.post("/v1/campaigns", json=campaign_body(clock.now()), headers=corp.headers)
    assert_problem(response, 422, "insufficient_funds")


def test_bad_campaign_requests_give_their_codes(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User]
) -> None:
    corp = enterprise()
    now = clock.now()
    cases = {
        "invalid_channel": {"channel": "shake"},
        "invalid_window": {"ends_at": (now - timedelta(hours=1)).isoformat()},
        "invalid_prize": {"prizes": []},
        "amount_too_large": {"prizes": [{"kind": "cash", "amount_fen": 10**9}]},
        "invalid_amount": {"budget_fen": 50},
        "invalid_branding": {"logo_url": "javascript:alert(1)"},
        "invalid_cap": {"per_user_max": 0},
        "offer_not_found": {"budget_fen": 0, "prizes": [{"kind": "coupon", "offer_id": 999}]},
    }
    for code, override in cases.items():
        response = client.post("/v1/campaigns", json=campaign_body(now, **override), headers=corp.headers)
        status = {"offer_not_found": 404}.get(code, 422)
        assert_problem(response, status, code, case=code)


def test_a_link_campaign_without_its_token_does_not_exist(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp, eve = enterprise(), new_user("eve")
    created = create_campaign(client, corp, clock.now())
    assert_problem(claim(client, eve, created, token=None), 404, "campaign_not_found")
    assert_problem(claim(client, eve, created, token="guess"), 404, "campaign_not_found")
    assert_problem(client.get(f"/v1/campaigns/{created['id']}", headers=eve.headers), 404, "campaign_not_found")
    assert_problem(client.get(f"/v1/campaigns/{created['id']}/figures", headers=eve.headers), 404)
    seen = client.get(f"/v1/campaigns/{created['id']}", params={"token": created["link_token"]}, headers=eve.headers)
    assert seen.status_code == 200 and "budget_fen" not in seen.json()


def test_guessing_link_tokens_is_rate_limited(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp, eve = enterprise(), new_user("eve")
    created = create_campaign(client, corp, clock.now())
    for i in range(10):
        assert_problem(claim(client, eve, created, token=f"guess-{i}"), 404, "campaign_not_found")
    assert_problem(claim(client, eve, created), 429, "too_many_attempts")


def test_claims_outside_the_window_give_not_started_then_ended(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp, alice = enterprise(), new_user("alice")
    created = create_campaign(client, corp, clock.now(), starts_at=(clock.now() + timedelta(hours=1)).isoformat())
    assert_problem(claim(client, alice, created), 422, "campaign_not_started")
    clock.advance(hours=1)
    assert claim(client, alice, created).status_code == 201
    clock.advance(days=1)
    assert_problem(claim(client, alice, created), 422, "campaign_ended")


def test_caps_per_user_and_per_day_give_cap_reached(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp, alice = enterprise(), new_user("alice")
    ends = (clock.now() + timedelta(days=5)).isoformat()
    created = create_campaign(client, corp, clock.now(), ends_at=ends, per_user_max=3, per_day_max=2)
    assert [claim(client, alice, created).status_code for _ in range(2)] == [201, 201]
    assert_problem(claim(client, alice, created), 409, "cap_reached")  # the day's 2 are used
    clock.advance(days=1)
    assert claim(client, alice, created).status_code == 201  # a new day
    assert_problem(claim(client, alice, created), 409, "cap_reached")  # 3 in all
    assert balance(client, alice) == 300


def test_a_followers_campaign_pays_followers_only(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp, fan, stranger = enterprise(), new_user("fan"), new_user("stranger")
    hb.store.write_sync(lambda tx: tx.follow(fan.id, corp.id, clock.now()))
    created = create_campaign(client, corp, clock.now(), channel="followers")
    assert "link_token" not in created
    assert_problem(claim(client, stranger, created, token=None), 403, "not_follower")
    assert claim(client, fan, created, token=None).status_code == 201
    assert balance(client, fan) == 100 and balance(client, stranger) == 0
    assert_problem(client.get(f"/v1/campaigns/{created['id']}/figures", headers=fan.headers), 403, "not_campaign_owner")


def test_a_spent_campaign_gives_campaign_exhausted(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp = enterprise()
    created = create_campaign(client, corp, clock.now(), budget_fen=250)  # two prizes of 1 yuan, 50 fen left
    users = [new_user() for _ in range(3)]
    codes = [claim(client, u, created).status_code for u in users]
    assert codes == [201, 201, 409]
    assert_problem(claim(client, new_user(), created), 409, "campaign_exhausted")


def test_a_retried_claim_with_the_same_key_pays_once(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp, alice = enterprise(), new_user("alice")
    created = create_campaign(client, corp, clock.now())
    headers = {**alice.headers, "Idempotency-Key": "claim-1"}
    url = f"/v1/campaigns/{created['id']}/claim"
    first = client.post(url, json={"token": created["link_token"]}, headers=headers)
    again = client.post(url, json={"token": created["link_token"]}, headers=headers)
    assert first.status_code == 201 and again.json() == first.json()
    assert balance(client, alice) == 100


def test_prizes_are_drawn_by_weight_with_an_injected_rng(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    hb.campaigns.rng = random.Random(2026)
    corp = enterprise()
    prizes = [
        {"kind": "cash", "amount_fen": 888, "weight": 1, "count": 1},
        {"kind": "cash", "amount_fen": 1, "weight": 99},
    ]
    created = create_campaign(client, corp, clock.now(), budget_fen=2_000, prizes=prizes)
    alice = new_user("alice")
    amounts = [claim(client, alice, created).json()["amount_fen"] for _ in range(40)]
    assert amounts.count(888) <= 1 and set(amounts) <= {888, 1}
    assert amounts.count(1) >= 39


def test_an_owner_lists_their_campaigns_newest_first(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp, other = enterprise(), new_user()
    first = create_campaign(client, corp, clock.now())
    second = create_campaign(client, corp, clock.now(), channel="followers")
    listed = client.get("/v1/campaigns", headers=corp.headers).json()["campaigns"]
    assert [c["id"] for c in listed] == [second["id"], first["id"]]
    assert all("link_token" not in c for c in listed) and listed[0]["remaining_fen"] == 1_000
    assert client.get("/v1/campaigns", headers=other.headers).json()["campaigns"] == []


def test_claims_after_the_last_prize_are_refused_without_a_write_and_in_order(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a followers campaign of one prize, won by a fan
    corp, fan, late, stranger = enterprise(), new_user("fan"), new_user("late"), new_user("stranger")
    for user in (fan, late):
        hb.store.write_sync(lambda tx, u=user: tx.follow(u.id, corp.id, clock.now()))
    created = create_campaign(client, corp, clock.now(), channel="followers", budget_fen=100, per_user_max=1)
    assert claim(client, fan, created, token=None).status_code == 201
    assert_problem(claim(client, late, created, token=None), 409, "campaign_exhausted")
    # when more claims arrive
    writes_before = hb.store.jobs_done
    late_again = claim(client, late, created, token=None)
    fan_again = claim(client, fan, created, token=None)
    not_a_fan = claim(client, stranger, created, token=None)
    # then they are refused in the documented order without touching the writer
    assert_problem(late_again, 409, "campaign_exhausted")
    assert_problem(fan_again, 409, "cap_reached")
    assert_problem(not_a_fan, 403, "not_follower")
    assert hb.store.jobs_done == writes_before
