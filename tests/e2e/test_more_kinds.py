"""Celebrity packets and transfers in the browser: a follower grabs from the star's link; a friend accepts."""

from __future__ import annotations

import re
from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

from tests.e2e.server import fen_of, yuan

APP_LINK = re.compile(r"^https?://[^/]+/app/packet/\d+$")


def test_a_follower_grabs_a_celebrity_packet_from_the_link_its_sender_shares(phone: Any) -> None:
    # given Star (a verified celebrity whom the demo users follow) sends a packet for followers
    star, dave = phone("star"), phone("dave")
    star.goto("/app/x/celebrity")
    star.fill("#shares", "10")
    star.fill("#amount", "10.00")
    star.click("#send-btn")
    link = star.locator("#share-link")
    expect(link).to_have_value(APP_LINK)
    path = "/" + link.input_value().split("/", 3)[3]

    # when Dave, a follower, opens the link and taps 拆
    dave.goto(path)
    dave.click("#open-btn")

    # then he sees his share, and Star's claim list shows it
    expect(dave.locator("#my-amount")).to_be_visible()
    got = fen_of(dave.locator("#my-amount .amount-number").inner_text())
    star.click("#celebrity-sent a.primary")
    expect(star.locator("#claims li[data-user]")).to_contain_text(yuan(got))


def test_a_transfer_accepted_by_the_friend_lands_in_their_wallet(phone: Any) -> None:
    # given Carol transfers ¥5.20 to Bob
    carol, bob = phone("carol"), phone("bob")
    bob.click("[data-tab=wallet]")
    expect(bob.locator("#balance")).to_contain_text("¥")
    before = fen_of(bob.locator("#balance").inner_text())
    carol.goto("/app/x/transfers")
    carol.select_option("#transfer-to", label="Bob 小明")
    carol.fill("#amount", "5.20")
    carol.fill("#note", "e2e rent")
    carol.click("#send-btn")
    expect(carol.locator("#transfers li", has_text="e2e rent")).to_be_visible()

    # when Bob accepts it
    bob.goto("/app/x/transfers")
    row = bob.locator("#transfers li", has_text="e2e rent")
    row.get_by_role("button", name="Accept").click()

    # then it is accepted and his balance grew by exactly 520 fen
    expect(row).to_contain_text("accepted")
    bob.click("[data-tab=wallet]")
    expect(bob.locator("#balance")).to_have_text(yuan(before + 520))
