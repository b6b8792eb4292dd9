"""The Gala shake page in the browser: a round on now, a sponsor's pool, a shake that wins cash."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

from tests.e2e.server import call, fen_of, token_of, yuan

CLOCK = re.compile(r"^\d+:\d\d(:\d\d)?$")  # a countdown such as 59:58


def gala_with_a_sure_win(base_url: str) -> int:
    """ACME (a verified enterprise in the demo data) schedules a round on now and funds a pool of ¥0.88 prizes."""
    acme = token_of(base_url, "acme")
    now = datetime.now(UTC)
    event = call(base_url, "POST", "/v1/shake/events", acme, {
        "name": "春晚 e2e",
        "rounds": [{"starts_at": (now - timedelta(minutes=1)).isoformat(),
                    "ends_at": (now + timedelta(hours=1)).isoformat()}],
        "win_permille": 1000,
        "wins_per_user_max": 3,
    })  # fmt: skip
    call(base_url, "POST", f"/v1/shake/events/{event['id']}/pools", acme, {
        "name": "ACME 爱克米", "budget_fen": 880, "prizes": [{"kind": "cash", "amount_fen": 88, "weight": 1}],
    })  # fmt: skip
    event_id: int = event["id"]
    return event_id


def test_a_shake_in_an_open_round_wins_cash_and_shows_it(phone: Any, base_url: str) -> None:
    # given a Gala round on now with a sponsor's pool where every shake wins
    event_id = gala_with_a_sure_win(base_url)
    bob = phone("bob")
    bob.click("[data-tab=wallet]")
    expect(bob.locator("#balance")).to_contain_text("¥")
    before = fen_of(bob.locator("#balance").inner_text())

    # when Bob opens the Gala page and shakes
    bob.goto(f"/app/x/shake?event={event_id}")
    expect(bob.locator("#countdown")).to_have_text(CLOCK)
    bob.click("#shake-btn")

    # then he sees his ¥0.88 win, and his wallet holds it
    expect(bob.locator("#shake-won")).to_contain_text("¥0.88")
    expect(bob.locator("#wins li")).to_have_count(1)
    # and the page's socket is up: the live line counts the packets left (¥8.80 in ¥0.88 prizes, one won)
    expect(bob.locator("#shake-live")).to_contain_text("9")
    # when he shakes again (over the socket now)
    bob.click("#shake-btn")
    expect(bob.locator("#wins li")).to_have_count(2)
    expect(bob.locator("#shake-live")).to_contain_text("8")
    bob.click("[data-tab=wallet]")
    expect(bob.locator("#balance")).to_have_text(yuan(before + 2 * 88))
