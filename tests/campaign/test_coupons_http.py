"""Merchant coupons and nearby offers over HTTP: issued from campaigns within stock, redeemed once, never cash."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from hongbao.bootstrap import App
from hongbao.service.reconcile import reconcile
from tests.api.conftest import User, assert_problem, balance
from tests.campaign.conftest import claim, create_campaign, merchant_with_offer, redeem, redeem_code
from tests.conftest import FrozenClock

COUPON_ONLY = {"budget_fen": 0}


def coupon_campaign(client: TestClient, corp: User, clock: FrozenClock, offer_id: int, **more: object) -> dict:
    prizes = [{"kind": "coupon", "offer_id": offer_id}]
    return create_campaign(client, corp, clock.now(), prizes=prizes, **COUPON_ONLY, **more)  # type: ignore[arg-type]


def test_a_coupon_prize_lands_in_the_coupon_list_and_the_merchant_redeems_it_once(
    hb: App, client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given an enterprise with a merchant offer and a coupon campaign
    corp, alice = enterprise(), new_user("alice")
    merchant_id, offer_id = merchant_with_offer(client, corp, clock.now(), stock=5)
    created = coupon_campaign(client, corp, clock, offer_id)
    transfers_before = reconcile(hb.store).transfers
    # when alice claims
    won = claim(client, alice, created)
    # then she holds a coupon and no money moved
    assert won.status_code == 201 and won.json()["kind"] == "coupon" and won.json()["amount_fen"] == 0
    assert reconcile(hb.store).transfers == transfers_before
    assert balance(client, alice) == 0
    coupons = client.get("/v1/coupons", headers=alice.headers).json()["coupons"]
    assert [(c["id"], c["status"], c["face_value_fen"], c["merchant_id"]) for c in coupons] == [
        (won.json()["coupon_id"], "held", 2_000, merchant_id)
    ]
    coupon_id, code = coupons[0]["id"], coupons[0]["redeem_code"]
    # when someone else, or alice herself, tries to redeem it with its code: it does not exist for them
    assert_problem(redeem(client, alice, coupon_id, code), 404, "coupon_not_found")
    # when the merchant redeems it with the code alice shows, then again
    first = redeem(client, corp, coupon_id, code)
    second = redeem(client, corp, coupon_id, code)
    # then the first succeeds and the second gives coupon_redeemed
    assert first.status_code == 200 and first.json()["holder_id"] == alice.id
    assert_problem(second, 409, "coupon_redeemed")
    assert client.get("/v1/coupons", headers=alice.headers).json()["coupons"][0]["status"] == "redeemed"
    figures = client.get(f"/v1/campaigns/{created['id']}/figures", headers=corp.headers).json()
    assert figures["coupons_issued"] == 1 and figures["coupons_redeemed"] == 1 and figures["claimed_fen"] == 0


def test_an_expired_coupon_gives_coupon_expired(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp, alice = enterprise(), new_user("alice")
    _, offer_id = merchant_with_offer(client, corp, clock.now(), days=2)
    created = coupon_campaign(client, corp, clock, offer_id)
    coupon_id = claim(client, alice, created).json()["coupon_id"]
    code = redeem_code(client, alice, coupon_id)
    clock.advance(days=3)
    assert_problem(redeem(client, corp, coupon_id, code), 422, "coupon_expired")


def test_coupon_stock_runs_out_into_campaign_exhausted(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp = enterprise()
    _, offer_id = merchant_with_offer(client, corp, clock.now(), stock=2)
    created = coupon_campaign(client, corp, clock, offer_id)
    codes = [claim(client, new_user(), created).status_code for _ in range(3)]
    assert codes == [201, 201, 409]


def test_a_campaign_cannot_give_away_another_merchants_offer(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User]
) -> None:
    corp, rival = enterprise("corp"), enterprise("rival")
    _, offer_id = merchant_with_offer(client, rival, clock.now())
    body_prizes = [{"kind": "coupon", "offer_id": offer_id}]
    from tests.campaign.conftest import campaign_body

    response = client.post(
        "/v1/campaigns", json=campaign_body(clock.now(), prizes=body_prizes, budget_fen=0), headers=corp.headers
    )
    assert_problem(response, 404, "offer_not_found")


def test_offers_of_someone_elses_merchant_give_merchant_not_found(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp, eve = enterprise(), new_user("eve")
    merchant_id, _ = merchant_with_offer(client, corp, clock.now())
    body = {
        "title": "free",
        "face_value_fen": 1,
        "stock": 1,
        "expires_at": (clock.now() + timedelta(days=1)).isoformat(),
    }
    response = client.post(f"/v1/merchants/{merchant_id}/offers", json=body, headers=eve.headers)
    assert_problem(response, 404, "merchant_not_found")


def test_nearby_returns_offers_within_the_radius_nearest_first(
    client: TestClient, clock: FrozenClock, new_user: Callable[..., User]
) -> None:
    # given three merchants around Tiananmen (39.9087, 116.3975) and one in Shanghai
    shop = new_user("shop")
    now = clock.now()
    _, far = merchant_with_offer(client, shop, now, lat=39.9087, lng=116.4075, name="东单")  # ~850 m east
    _, near = merchant_with_offer(client, shop, now, lat=39.9097, lng=116.3975, name="天安门")  # ~110 m north
    _, mid = merchant_with_offer(client, shop, now, lat=39.9087, lng=116.4025, name="王府井")  # ~430 m east
    merchant_with_offer(client, shop, now, lat=31.2304, lng=121.4737, name="上海")
    # when a user asks within 1 km
    found = client.get(
        "/v1/shake/nearby", params={"lat": 39.9087, "lng": 116.3975, "radius_m": 1000}, headers=shop.headers
    )
    # then the three Beijing offers come nearest first, with their distances
    offers = found.json()["offers"]
    assert [o["offer_id"] for o in offers] == [near, mid, far]
    assert 100 < offers[0]["distance_m"] < 120 and 800 < offers[2]["distance_m"] < 900
    within_500 = client.get(
        "/v1/shake/nearby", params={"lat": 39.9087, "lng": 116.3975, "radius_m": 500}, headers=shop.headers
    )
    assert [o["offer_id"] for o in within_500.json()["offers"]] == [near, mid]


def test_a_bad_location_gives_422(client: TestClient, new_user: Callable[..., User]) -> None:
    user = new_user()
    response = client.get("/v1/shake/nearby", params={"lat": 91, "lng": 0}, headers=user.headers)
    assert_problem(response, 422, "invalid_request")
    bad = client.post("/v1/merchants", json={"name": "x", "lat": 0, "lng": 200}, headers=user.headers)
    assert_problem(bad, 422, "invalid_location")


def test_nearby_finds_a_merchant_across_the_antimeridian(
    client: TestClient, clock: FrozenClock, new_user: Callable[..., User]
) -> None:
    shop = new_user("shop")
    _, fiji = merchant_with_offer(client, shop, clock.now(), lat=-17.0, lng=179.999, name="Fiji east")
    found = client.get(
        "/v1/shake/nearby", params={"lat": -17.0, "lng": -179.999, "radius_m": 1000}, headers=shop.headers
    )
    assert [o["offer_id"] for o in found.json()["offers"]] == [fiji]
    assert found.json()["offers"][0]["distance_m"] < 300
