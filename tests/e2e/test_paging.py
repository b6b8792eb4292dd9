"""Paged lists in the browser: a page of transfers first, then "load more" brings the older ones."""

from __future__ import annotations

from typing import Any

from tests.e2e.server import call
from tests.e2e.test_social_manage import Person, befriend, log_in

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

PAGE = 20


def test_load_more_shows_the_older_transfers_once_the_first_page_is_full(browser: Any, base_url: str) -> None:
    # given a fresh Lin who received 23 transfers from her friend Mei
    mei, lin = Person(base_url, "mei"), Person(base_url, "lin")
    befriend(base_url, mei, lin)
    call(base_url, "POST", "/v1/wallet/top-ups", mei.token, {"amount_fen": 10_000})
    sent = [
        call(base_url, "POST", "/v1/transfers", mei.token, {"to_user_id": lin.id, "amount_fen": n})["id"]
        for n in range(1, PAGE + 4)
    ]
    newest_first = [str(tid) for tid in reversed(sent)]
    page = log_in(browser, base_url, lin)
    try:
        # when she opens her transfers: the newest page, and a way to more
        page.goto("/app/x/transfers")
        rows = page.locator("#transfers li[data-transfer]")
        expect(rows).to_have_count(PAGE)
        assert rows.evaluate_all("rows => rows.map(r => r.dataset.transfer)") == newest_first[:PAGE]
        more = page.get_by_role("button", name="Load more transfers")
        expect(more).to_be_visible()

        # then "load more" adds the three oldest below, once each, and goes away at the end
        more.click()
        expect(rows).to_have_count(PAGE + 3)
        assert rows.evaluate_all("rows => rows.map(r => r.dataset.transfer)") == newest_first
        expect(more).to_be_hidden()
    finally:
        page.context.close()
