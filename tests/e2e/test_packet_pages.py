"""Packet pages as a WeChat user expects them: a phrase or code box on the envelope that needs one, six dots for a
six-digit code, no sideways scroll, a campaign envelope that cannot be tapped again once opened."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

from tests.e2e.server import call, fen_of, token_of


def test_a_password_packet_opened_from_its_page_asks_for_the_phrase_and_opens_with_it(
    phone: Any, base_url: str
) -> None:
    # given Alice's password packet, on its page in her app (others reach it by its phrase or link)
    phrase = f"恭喜发财{uuid.uuid4().hex[:6]}"
    packet = call(base_url, "POST", "/v1/packets/password", token_of(base_url, "alice"),
                  {"phrase": phrase, "split": "equal", "shares_count": 2, "amount_each_fen": 66})
    alice = phone("alice")
    alice.goto(f"/app/packet/{packet['id']}")
    # when she types the phrase into the envelope and taps 拆
    alice.fill("#open-secret", phrase)
    alice.click("#open-btn")
    # then it opens and she sees her share
    amount = alice.locator("#my-amount .amount-number")
    expect(amount).to_be_visible()
    assert fen_of(amount.inner_text()) == 66


def test_a_face_to_face_packet_page_has_a_six_digit_code_box_and_opens_with_the_code(phone: Any, base_url: str) -> None:
    packet = call(base_url, "POST", "/v1/packets/face-to-face", token_of(base_url, "alice"),
                  {"split": "equal", "shares_count": 2, "amount_each_fen": 50})
    alice = phone("alice")
    alice.goto(f"/app/packet/{packet['id']}")
    box = alice.locator("#open-secret")
    expect(box).to_have_attribute("placeholder", "••••••")
    box.fill(packet["code"])
    alice.click("#open-btn")
    expect(alice.locator("#my-amount")).to_be_visible()
    # and the code page's box shows six dots too
    alice.goto("/app/x/code")
    expect(alice.locator("#code")).to_have_attribute("placeholder", "••••••")


def test_an_opened_personal_packet_fits_a_phone_and_says_received(phone: Any, base_url: str) -> None:
    # given Dave opened a personal packet from Alice
    alice_token = token_of(base_url, "alice")
    dave_id = next(f["id"] for f in call(base_url, "GET", "/v1/friends", alice_token)["friends"]
                   if f["username"] == "dave")
    packet = call(base_url, "POST", "/v1/packets", alice_token, {"kind": "personal", "recipient_id": dave_id,
                                                                 "amount_fen": 88})
    assert packet["sender_name"] == "Alice 爱丽丝"  # named in the send's answer as in GET
    dave = phone("dave")
    dave.goto(f"/app/packet/{packet['id']}")
    dave.click("#open-btn")
    expect(dave.locator("#my-amount")).to_be_visible()
    # then the page does not scroll sideways at 390 px, and it says he received it (not 抢到)
    assert dave.evaluate("document.documentElement.scrollWidth") <= 390
    expect(dave.locator("#my-amount")).to_contain_text("You received")


def test_a_campaign_envelope_cannot_be_tapped_again_once_opened(phone: Any, base_url: str) -> None:
    # given Acme's link campaign with one prize per person
    now = datetime.now(UTC)
    campaign = call(base_url, "POST", "/v1/campaigns", token_of(base_url, "acme"), {
        "channel": "link", "name": "ACME 新春", "ends_at": (now + timedelta(days=1)).isoformat(),
        "budget_fen": 1_000, "prizes": [{"kind": "cash", "amount_fen": 100}], "per_user_max": 1,
    })
    bob = phone("bob")
    bob.goto(f"/app/x/campaign?id={campaign['id']}&token={campaign['link_token']}")
    # when Bob taps 拆
    bob.click("#campaign-claim")
    # then he sees what he won, the 拆 is gone, and no refusal shows under it
    expect(bob.locator("#campaign-won")).to_contain_text("¥1.00")
    expect(bob.locator("#campaign-claim")).to_be_hidden()
    expect(bob.locator("#campaign-error")).to_be_hidden()
