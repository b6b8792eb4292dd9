"""Password and face-to-face packets in the browser: sent on one phone, claimed on another by phrase or code."""

from __future__ import annotations

import re
import uuid
from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

BLOB = re.compile(r"^blob:")  # an image fetched with the bearer token
CODE = re.compile(r"^\d{4,12}$")


def send_from_more(page: Any, feature: str, shares: str, amount: str) -> None:
    page.click("[data-tab=more]")
    page.click(f"[data-feature={feature}]")
    page.fill("#shares", shares)
    page.fill("#amount", amount)


def test_password_packet_is_claimed_by_typing_its_phrase(phone: Any) -> None:
    # given Alice sends a password packet with a fresh phrase, and sees its card
    alice, carol = phone("alice"), phone("carol")
    phrase = f"马到成功{uuid.uuid4().hex[:6]}"
    send_from_more(alice, "password", "2", "2.00")
    alice.fill("#phrase", phrase)
    alice.click("#send-btn")
    expect(alice.locator("#sent-phrase")).to_have_text(phrase)
    expect(alice.locator("#password-sent img.card-image")).to_have_attribute("src", BLOB)

    # when Carol types the phrase
    carol.click("[data-tab=more]")
    carol.click("[data-feature=claim-password]")
    carol.fill("#phrase", phrase)
    carol.click("#claim-btn")

    # then she sees her share of the packet
    amount = carol.locator("#my-amount")
    expect(amount).to_be_visible()
    expect(carol.locator("#claims li[data-user]")).to_have_count(1)


def test_face_to_face_packet_is_claimed_by_its_code_and_a_wrong_code_is_refused(phone: Any) -> None:
    # given Bob sends a face-to-face packet and shows its code big, with the QR image
    bob, dave = phone("bob"), phone("dave")
    send_from_more(bob, "face-to-face", "3", "3.00")
    bob.click("#send-btn")
    code_box = bob.locator("#sent-code")
    expect(code_box).to_have_text(CODE)
    code = code_box.inner_text().strip()
    expect(bob.locator("#code-sent img.qr")).to_have_attribute("src", BLOB)

    # when Dave first enters a wrong code
    dave.click("[data-tab=more]")
    dave.click("[data-feature=code]")
    wrong = str((int(code) + 1) % 10 ** len(code)).zfill(len(code))
    dave.fill("#code", wrong)
    dave.click("#claim-btn")

    # then the error is shown, and the right code opens the packet
    expect(dave.locator("#claim-error")).to_be_visible()
    dave.fill("#code", code)
    dave.click("#claim-btn")
    expect(dave.locator("#my-amount")).to_be_visible()
