"""Finding a Gala shake event in the browser without knowing its number: the list, a tap, the shake button."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

from tests.e2e.server import call, token_of


def test_a_live_event_is_listed_on_the_shake_page_and_a_tap_reaches_its_shake_button(phone: Any, base_url: str) -> None:
    # given a Gala round on now, scheduled by ACME (a verified enterprise in the demo data) under a name of its own
    name = f"发现 {uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    event = call(base_url, "POST", "/v1/shake/events", token_of(base_url, "acme"), {
        "name": name,
        "rounds": [{"starts_at": (now - timedelta(minutes=1)).isoformat(),
                    "ends_at": (now + timedelta(hours=1)).isoformat()}],
    })  # fmt: skip

    # when Carol opens the shake page with no event number
    carol = phone("carol")
    carol.goto("/app/x/shake")

    # then she sees the event in the list, marked live
    row = carol.locator("#shake-events a.row", has_text=name)
    expect(row).to_have_attribute("data-live", "true")
    expect(row).to_contain_text("Live")
    expect(carol.locator("#event-id-form")).to_be_visible()

    # and a tap takes her to its page, where the shake button is ready
    row.click()
    expect(carol).to_have_url(f"{base_url}/app/x/shake?event={event['id']}")
    expect(carol.locator(".gala h2")).to_have_text(name)
    expect(carol.locator("#shake-btn")).to_be_enabled()
