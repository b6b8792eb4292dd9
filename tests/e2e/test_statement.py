"""The wallet's statement says what happened: 红包 from whom, 转账 to whom, with date, time and a link."""

from __future__ import annotations

import re
from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

from tests.e2e.server import call, token_of
from tests.e2e.test_localized import friend_id, in_chinese


def test_the_statement_names_the_kind_and_the_other_person_and_leads_to_the_packet(phone: Any, base_url: str) -> None:
    # given Alice sent Dave a personal packet he opened, and a transfer he accepted
    alice_token, dave_token = token_of(base_url, "alice"), token_of(base_url, "dave")
    dave_id = friend_id(base_url, "alice", "dave")
    packet = call(base_url, "POST", "/v1/packets", alice_token,
                  {"kind": "personal", "recipient_id": dave_id, "amount_fen": 188, "greeting": "statement"})
    call(base_url, "POST", f"/v1/packets/{packet['id']}/open", dave_token)
    paid = call(base_url, "POST", "/v1/transfers", alice_token, {"to_user_id": dave_id, "amount_fen": 520})
    call(base_url, "POST", f"/v1/transfers/{paid['id']}/accept", dave_token)
    # when Dave looks at his wallet in Chinese
    dave = in_chinese(phone("dave"))
    dave.click("[data-tab=wallet]")
    rows = dave.locator("#statement li")
    # then the newest entries say 转账 and 红包 from Alice, with date and time
    expect(rows.nth(0)).to_contain_text("转账 · 来自Alice")
    expect(rows.nth(0)).to_contain_text("+¥5.20")
    expect(rows.nth(1)).to_contain_text("红包 · 来自Alice")
    assert re.search(r"\d{1,2}月\d{1,2}日 \d\d:\d\d", rows.nth(1).inner_text()), rows.nth(1).inner_text()
    # and the packet's entry leads to the packet
    rows.nth(1).locator("a").click()
    expect(dave.locator("#claims")).to_contain_text("Dave")
    assert f"/app/packet/{packet['id']}" in dave.url
