"""The 更多 page offers each business tool only to who can use it: enterprises, admins, merchants."""

from __future__ import annotations

from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

from tests.e2e.server import call, token_of

BUSINESS = ["dashboard", "new-campaign", "new-event", "new-pool", "merchant", "redeem"]


def tools_of(page: Any) -> list[str]:
    page.click("[data-tab=more]")
    expect(page.locator("#features [data-feature=report]")).to_be_visible()
    shown = page.locator("#features [data-feature]").evaluate_all("els => els.map(e => e.dataset.feature)")
    return [f for f in BUSINESS if f in shown]


def test_an_ordinary_user_sees_no_business_tools_an_enterprise_and_an_admin_see_theirs(
    phone: Any, base_url: str
) -> None:
    assert tools_of(phone("bob")) == []
    assert tools_of(phone("alice")) == ["new-event"]  # the demo admin schedules shake events
    assert tools_of(phone("acme")) == BUSINESS  # a verified enterprise with a demo shop
    # and whoever registers a merchant gets its tools, redeem included
    shop = {"name": "小红的店", "lat": 39.9, "lng": 116.4}
    call(base_url, "POST", "/v1/merchants", token_of(base_url, "carol"), shop)
    assert tools_of(phone("carol")) == ["merchant", "redeem"]
