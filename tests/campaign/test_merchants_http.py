"""GET /v1/merchants over HTTP: the caller's own merchants with their offers, stock issued and coupons redeemed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from hongbao.bootstrap import App
from tests.api.conftest import User, assert_problem
from tests.campaign.conftest import claim, create_campaign, iso, merchant_with_offer, redeem, redeem_code
from tests.conftest import FrozenClock


def test_a_new_account_has_no_merchants(client: TestClient, new_user: Callable[..., User]) -> None:
    shopkeeper = new_user("shop")
    reply = client.get("/v1/merchants", headers=shopkeeper.headers)
    assert reply.status_code == 200 and reply.json() == {"merchants": []}


def test_merchants_lists_only_your_own_merchants_newest_first_with_their_offers(
    client: TestClient, clock: FrozenClock, new_user: Callable[..., User]
) -> None:
    # given two shopkeepers, one with two merchants (the second with two offers), the other with one
    mine, rival = new_user("mine"), new_user("rival")
    first_id, first_offer = merchant_with_offer(client, mine, clock.now(), name="茶馆 Teahouse", lat=31.23, lng=121.47)
    second_id, second_offer = merchant_with_offer(client, mine, clock.now(), name="面馆 Noodles", stock=3)
    more = {
        "title": "两碗半价",
        "face_value_fen": 1_500,
        "stock": 7,
        "expires_at": iso(clock.now() + timedelta(days=9)),
    }
    extra = client.post(f"/v1/merchants/{second_id}/offers", json=more, headers=mine.headers)
    assert extra.status_code == 201, extra.text
    merchant_with_offer(client, rival, clock.now(), name="Rival")

    # when the first asks for their merchants
    reply = client.get("/v1/merchants", headers=mine.headers)

    # then they see their two, newest first, each with its own offers (newest first), and nothing of the rival's
    assert reply.status_code == 200, reply.text
    merchants = reply.json()["merchants"]
    assert [(m["id"], m["name"]) for m in merchants] == [(second_id, "面馆 Noodles"), (first_id, "茶馆 Teahouse")]
    assert (merchants[1]["lat"], merchants[1]["lng"]) == (31.23, 121.47)
    assert [(o["id"], o["title"], o["face_value_fen"], o["stock"]) for o in merchants[0]["offers"]] == [
        (extra.json()["id"], "两碗半价", 1_500, 7),
        (second_offer, "烤鸭 ¥20 off", 2_000, 3),
    ]
    assert [o["id"] for o in merchants[1]["offers"]] == [first_offer]
    assert all(o["issued"] == 0 and o["redeemed"] == 0 for m in merchants for o in m["offers"])


def test_merchants_counts_coupons_issued_and_redeemed_per_offer(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given an enterprise whose offer is the prize of a coupon campaign, claimed by three people
    corp = enterprise()
    _, offer_id = merchant_with_offer(client, corp, clock.now(), stock=5)
    prizes = [{"kind": "coupon", "offer_id": offer_id}]
    campaign = create_campaign(client, corp, clock.now(), prizes=prizes, budget_fen=0)
    fans = [new_user("fan") for _ in range(3)]
    coupon_ids = [claim(client, fan, campaign).json()["coupon_id"] for fan in fans]
    # when the merchant redeems one of them with the code its holder shows
    assert redeem(client, corp, coupon_ids[0], redeem_code(client, fans[0], coupon_ids[0])).status_code == 200

    # then its offer shows 3 issued of 5 and 1 redeemed
    offer = client.get("/v1/merchants", headers=corp.headers).json()["merchants"][0]["offers"][0]
    assert (offer["id"], offer["stock"], offer["issued"], offer["redeemed"]) == (offer_id, 5, 3, 1)


def test_merchants_needs_a_session(client: TestClient) -> None:
    assert_problem(client.get("/v1/merchants"), 401)


def test_a_busy_shop_never_crowds_the_other_shops_offers_out_of_the_list(
    hb: App, client: TestClient, clock: FrozenClock, new_user: Callable[..., User]
) -> None:
    # given an owner whose old shop has one offer and whose new shop has three
    owner = new_user("owner")
    old_shop, old_offer = merchant_with_offer(client, owner, clock.now(), name="old")
    new_shop, _ = merchant_with_offer(client, owner, clock.now(), name="new")
    for title in ("b", "c"):
        body = {"title": title, "face_value_fen": 100, "stock": 5, "expires_at": iso(clock.now() + timedelta(days=3))}
        assert client.post(f"/v1/merchants/{new_shop}/offers", json=body, headers=owner.headers).status_code == 201

    # when the list is capped at two offers per shop
    shops = hb.store.read_sync(lambda tx: tx.merchants_of(owner.id, 10, 2))

    # then the new shop shows its two newest and the old shop still shows its one
    listed = [(s["id"], [o["title"] for o in s["offers"]]) for s in shops]
    assert listed == [(new_shop, ["c", "b"]), (old_shop, ["烤鸭 ¥20 off"])]
    assert shops[1]["offers"][0]["id"] == old_offer


def test_a_merchant_registration_retried_with_its_key_registers_one_shop(
    client: TestClient, new_user: Callable[..., User]
) -> None:
    owner = new_user("owner")
    body = {"name": "老北京 Old Beijing", "lat": 39.9, "lng": 116.4}
    headers = {**owner.headers, "Idempotency-Key": "shop-1"}

    first = client.post("/v1/merchants", json=body, headers=headers)
    again = client.post("/v1/merchants", json=body, headers=headers)
    other = client.post("/v1/merchants", json={**body, "name": "another"}, headers=headers)

    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert_problem(other, 409, "idempotency_key_reused")
    listed = client.get("/v1/merchants", headers=owner.headers).json()["merchants"]
    assert [m["id"] for m in listed] == [first.json()["id"]]
