"""Sessions as a payment app keeps them: logged in on this device, in every tab, until logout or expiry."""

from __future__ import annotations

import re
from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None


def test_a_new_tab_is_logged_in_and_a_logout_in_one_tab_logs_out_every_tab(phone: Any) -> None:
    # given Bob logged in on his phone
    first = phone("bob")
    # when he opens the app in a new tab
    second = first.context.new_page()
    second.goto("/app/wallet")
    # then it is his wallet, with no second login
    expect(second.locator("#balance")).to_contain_text("¥")
    assert "/app/login" not in second.url
    # and when he logs out in the new tab, the first tab is logged out too
    second.click("[data-tab=more]")
    second.click("#logout")
    expect(second.locator("#login-error")).to_be_attached()
    expect(first).to_have_url(re.compile(r"/app/login"))
    # and a token the server revoked is not used again: a fresh tab asks to log in
    third = first.context.new_page()
    third.goto("/app/wallet")
    expect(third).to_have_url(re.compile(r"/app/login"))


def test_an_expired_session_asks_to_log_in_again(phone: Any) -> None:
    # given Carol's session, which the device knows has expired
    carol = phone("carol")
    carol.evaluate("localStorage.setItem('hongbao.token_expires_at', '2000-01-01T00:00:00+00:00')")
    # when she opens the app again
    carol.goto("/app/wallet")
    # then she is asked to log in, and the stale token is gone from the device
    expect(carol).to_have_url(re.compile(r"/app/login"))
    assert carol.evaluate("localStorage.getItem('hongbao.token')") is None
