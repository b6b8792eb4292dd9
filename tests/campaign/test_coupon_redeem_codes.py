"""Coupon redeem codes: a merchant redeems a coupon only with the 8-digit code its holder's own list shows, wrong
codes are refused before the coupon is looked up and are rate-limited per merchant owner."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from hongbao.domain import campaigns as dc
from tests.api.conftest import User, assert_problem
from tests.campaign.conftest import claim, create_campaign, merchant_with_offer, redeem, redeem_code
from tests.conftest import FrozenClock


def coupon_for(client: TestClient, corp: User, holder: User, clock: FrozenClock) -> int:
    """`holder` claims a coupon of one of `corp`'s merchants; returns the coupon's id."""
    _, offer_id = merchant_with_offer(client, corp, clock.now())
    prizes = [{"kind": "coupon", "offer_id": offer_id}]
    campaign = create_campaign(client, corp, clock.now(), prizes=prizes, budget_fen=0)
    won = claim(client, holder, campaign)
    assert won.status_code == 201, won.text
    return int(won.json()["coupon_id"])


def status_of(client: TestClient, holder: User, coupon_id: int) -> str:
    coupons = client.get("/v1/coupons", headers=holder.headers).json()["coupons"]
    return next(str(c["status"]) for c in coupons if c["id"] == coupon_id)


def other_code(code: str, step: int = 1) -> str:
    return f"{(int(code) + step) % 10**dc.REDEEM_CODE_DIGITS:0{dc.REDEEM_CODE_DIGITS}d}"


def test_a_wrong_redeem_code_is_refused_with_wrong_code_and_the_coupon_stays_held(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given alice holds a coupon of corp's merchant
    corp, alice = enterprise(), new_user("alice")
    coupon_id = coupon_for(client, corp, alice, clock)
    code = redeem_code(client, alice, coupon_id)
    # when the merchant types the coupon's number with a code that is not its own
    refused = redeem(client, corp, coupon_id, other_code(code))
    # then it is refused and the coupon is still alice's to use
    assert_problem(refused, 403, "wrong_code")
    assert status_of(client, alice, coupon_id) == "held"
    merchants = client.get("/v1/merchants", headers=corp.headers).json()["merchants"]
    assert merchants[0]["offers"][0]["redeemed"] == 0
    # and the code alice shows redeems it
    assert redeem(client, corp, coupon_id, code).status_code == 200
    assert status_of(client, alice, coupon_id) == "redeemed"


def test_the_eleventh_wrong_code_in_the_window_is_429_even_with_the_right_code(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a merchant that has typed ten wrong codes
    corp, rival, alice, bob = enterprise("corp"), enterprise("rival"), new_user("alice"), new_user("bob")
    coupon_id = coupon_for(client, corp, alice, clock)
    code = redeem_code(client, alice, coupon_id)
    for step in range(1, 11):
        assert_problem(redeem(client, corp, coupon_id, other_code(code, step)), 403, "wrong_code")
    # when it types the right one
    locked = redeem(client, corp, coupon_id, code)
    # then it is refused as too many attempts and the coupon is not redeemed
    assert_problem(locked, 429, "too_many_attempts")
    assert status_of(client, alice, coupon_id) == "held"
    # and another merchant owner is not locked out by them
    rivals = coupon_for(client, rival, bob, clock)
    assert redeem(client, rival, rivals, redeem_code(client, bob, rivals)).status_code == 200


def test_another_holders_redeem_code_never_redeems_your_coupon(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given alice and bob each hold a coupon of the same merchant
    corp, alice, bob = enterprise(), new_user("alice"), new_user("bob")
    alices, bobs = coupon_for(client, corp, alice, clock), coupon_for(client, corp, bob, clock)
    alice_code, bob_code = redeem_code(client, alice, alices), redeem_code(client, bob, bobs)
    # when the merchant tries each coupon with the other holder's code
    crossed = [redeem(client, corp, alices, bob_code), redeem(client, corp, bobs, alice_code)]
    # then neither is redeemed
    for response in crossed:
        assert_problem(response, 403, "wrong_code")
    assert (status_of(client, alice, alices), status_of(client, bob, bobs)) == ("held", "held")


def test_the_redeem_code_shows_in_its_holders_own_list_and_in_no_one_elses(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given alice holds a coupon and bob another of the same merchant
    corp, alice, bob = enterprise(), new_user("alice"), new_user("bob")
    alices, bobs = coupon_for(client, corp, alice, clock), coupon_for(client, corp, bob, clock)
    # when each lists their coupons
    mine = client.get("/v1/coupons", headers=alice.headers)
    theirs = client.get("/v1/coupons", headers=bob.headers)
    # then alice sees her coupon's 8-digit code
    [coupon] = mine.json()["coupons"]
    assert coupon["id"] == alices and re.fullmatch(r"\d{8}", coupon["redeem_code"])
    # and bob sees only his own coupon and code, never hers
    assert [c["id"] for c in theirs.json()["coupons"]] == [bobs]
    assert coupon["redeem_code"] not in theirs.text
    # and neither does the merchant, in its own coupon list or its merchants and offers
    assert client.get("/v1/coupons", headers=corp.headers).json()["coupons"] == []
    assert coupon["redeem_code"] not in client.get("/v1/merchants", headers=corp.headers).text


def test_a_merchant_that_did_not_issue_the_coupon_gets_coupon_not_found_even_with_the_right_code(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given alice holds a coupon of corp's merchant, and rival has merchants of its own
    corp, rival, alice = enterprise("corp"), enterprise("rival"), new_user("alice")
    merchant_with_offer(client, rival, clock.now())
    coupon_id = coupon_for(client, corp, alice, clock)
    code = redeem_code(client, alice, coupon_id)
    # when rival types the coupon's number and its right code
    response = redeem(client, rival, coupon_id, code)
    # then the coupon does not exist for rival, and stays alice's
    assert_problem(response, 404, "coupon_not_found")
    assert status_of(client, alice, coupon_id) == "held"


def test_the_code_is_checked_before_the_coupon_is_looked_up(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    # given a coupon already redeemed
    corp, alice = enterprise(), new_user("alice")
    coupon_id = coupon_for(client, corp, alice, clock)
    code = redeem_code(client, alice, coupon_id)
    assert redeem(client, corp, coupon_id, code).status_code == 200
    # then a wrong code for it is wrong_code (not coupon_redeemed), as for a coupon that does not exist
    assert_problem(redeem(client, corp, coupon_id, other_code(code)), 403, "wrong_code")
    assert_problem(redeem(client, corp, 999_999, "12345678"), 403, "wrong_code")
    # and the right code meets the coupon's own refusal
    assert_problem(redeem(client, corp, coupon_id, code), 409, "coupon_redeemed")


def test_a_code_typed_with_spaces_dashes_or_full_width_digits_redeems_and_a_malformed_one_is_not_counted(
    client: TestClient, clock: FrozenClock, enterprise: Callable[..., User], new_user: Callable[..., User]
) -> None:
    corp, alice, bob = enterprise(), new_user("alice"), new_user("bob")
    alices, bobs = coupon_for(client, corp, alice, clock), coupon_for(client, corp, bob, clock)
    # a malformed code, or none, is a bad request and no guess: twelve of them lock nobody out
    for typed in ["1234567", "123456789", "1234 567a", "", "一二三四五六七八"] * 2 + ["12-34", "  "]:
        assert_problem(redeem(client, corp, alices, typed), 422, "invalid_code", case=typed)
    assert_problem(client.post(f"/v1/coupons/{alices}/redeem", headers=corp.headers), 422)
    assert_problem(client.post(f"/v1/coupons/{alices}/redeem", json={"code": 12345678}, headers=corp.headers), 422)
    # the code as a cashier types it: grouped by a space or a dash, or in full-width digits
    code = redeem_code(client, alice, alices)
    assert redeem(client, corp, alices, f" {code[:4]} - {code[4:]} ").status_code == 200
    wide = "".join(chr(ord(d) + 0xFEE0) for d in redeem_code(client, bob, bobs))
    assert redeem(client, corp, bobs, f"{wide[:4]}\u3000{wide[4:]}").status_code == 200


def test_a_redeem_code_is_eight_digits_fixed_for_its_coupon_and_key() -> None:
    key, other_key = b"k" * 32, b"q" * 32
    codes = [dc.redeem_code(key, coupon_id) for coupon_id in range(1, 201)]
    assert all(re.fullmatch(r"\d{8}", c) for c in codes)
    assert codes == [dc.redeem_code(key, coupon_id) for coupon_id in range(1, 201)]
    assert len(set(codes)) == len(codes)  # neighbouring ids give unrelated codes
    assert codes[0] != dc.redeem_code(other_key, 1)


def test_a_code_shown_before_a_pepper_rotation_still_matches_while_the_old_key_is_listed() -> None:
    old, new = b"old-key".ljust(32, b"."), b"new-key".ljust(32, b".")
    shown = dc.redeem_code(old, 42)
    assert dc.redeem_code_matches((new, old), 42, shown)
    assert not dc.redeem_code_matches((new,), 42, shown)
    assert not dc.redeem_code_matches((new, old), 43, shown)
