"""Nearby offers a person can use: open one to its whole title and take its coupon, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

from tests.e2e.server import call, token_of

LONG_TITLE = "满100减20 · 全场烤鸭、炸酱面与豆汁儿通用 · 周末不限 · 每人一张"


def test_a_nearby_offer_opens_to_its_full_title_and_gives_its_coupon_once(phone: Any, base_url: str) -> None:
    # given a shop near Qianmen with an offer whose title is longer than a row
    acme = token_of(base_url, "acme")
    shop = call(base_url, "POST", "/v1/merchants", acme, {"name": "前门小馆", "lat": 39.8990, "lng": 116.3980})
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    offer = call(base_url, "POST", f"/v1/merchants/{shop['id']}/offers", acme,
                 {"title": LONG_TITLE, "face_value_fen": 2_000, "stock": 5, "expires_at": expires})
    # when Dave searches there and opens the offer
    dave = phone("dave")
    item = open_offer(dave, offer["id"])
    # then he reads the whole title, and takes its coupon, which lands in his coupons
    expect(item.locator(".offer-title")).to_have_text(LONG_TITLE)
    item.locator(".take-coupon").click()
    expect(item.locator(".won")).to_be_visible()
    coupons = call(base_url, "GET", "/v1/coupons", token_of(base_url, "dave"))["coupons"]
    assert [c["offer_id"] for c in coupons].count(offer["id"]) == 1
    # and coming back for a second one, he is told he has it already
    item = open_offer(dave, offer["id"])
    item.locator(".take-coupon").click()
    expect(item.locator(".error")).to_have_text("You already hold a coupon of this offer")


def open_offer(page: Any, offer_id: int) -> Any:
    """Search by hand near Qianmen and open the offer's row."""
    page.goto("/app/x/nearby")
    page.click("details summary")  # "enter by hand"
    page.fill("#lat", "39.8990")
    page.fill("#lng", "116.3980")
    page.fill("#radius", "200")
    page.click("form button[type=submit]")
    item = page.locator(f"#offers li[data-offer='{offer_id}']")
    item.locator("summary").click()
    return item
