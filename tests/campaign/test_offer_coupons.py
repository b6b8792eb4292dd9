"""领券: a nearby offer gives one coupon per person from its stock, until it runs out or expires."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import User, assert_problem, balance
from tests.campaign.conftest import merchant_with_offer
from tests.conftest import FrozenClock


def take(client: TestClient, user: User, offer_id: int) -> Any:
    return client.post(f"/v1/offers/{offer_id}/coupons", headers=user.headers)


def issued(client: TestClient, owner: User) -> int:
    return int(client.get("/v1/merchants", headers=owner.headers).json()["merchants"][0]["offers"][0]["issued"])


def test_a_person_takes_one_coupon_of_an_offer_and_a_second_take_is_refused(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a shop's offer of 2 and two guests
    shop, ann, ben = enterprise("shop"), new_user("ann"), new_user("ben")
    _, offer_id = merchant_with_offer(client, shop, clock.now(), stock=2)
    # when Ann takes a coupon, then tries again
    first = take(client, ann, offer_id)
    assert first.status_code == 201, first.text
    assert_problem(take(client, ann, offer_id), 409, "coupon_taken")
    # then she holds one coupon, one of the stock is issued, and no money moved
    coupons = client.get("/v1/coupons", headers=ann.headers).json()["coupons"]
    assert [(c["id"], c["status"]) for c in coupons] == [(first.json()["coupon_id"], "held")]
    assert issued(client, shop) == 1 and balance(client, ann) == 0
    # and once Ben takes the last one, a third person finds none left
    assert take(client, ben, offer_id).status_code == 201
    assert_problem(take(client, new_user("cat"), offer_id), 409, "offer_exhausted")
    assert issued(client, shop) == 2


def test_an_expired_or_unknown_offer_gives_no_coupon(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    shop, guest = enterprise("shop"), new_user("guest")
    _, offer_id = merchant_with_offer(client, shop, clock.now(), days=1)
    clock.advance(days=2)
    assert_problem(take(client, guest, offer_id), 409, "offer_exhausted")
    assert_problem(take(client, guest, 999_999), 404, "offer_not_found")
    assert issued(client, shop) == 0
