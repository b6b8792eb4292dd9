"""A campaign's owner in the browser: ACME adds budget to a running campaign and ends it now from its figures page."""

from __future__ import annotations

import urllib.error
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.server import call, token_of, yuan

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

PASSWORD = "hongbao123"


def balance(base_url: str, token: str) -> int:
    value: int = call(base_url, "GET", "/v1/wallet", token)["balance_fen"]
    return value


def test_acme_adds_budget_to_a_campaign_and_ends_it_now_from_the_page(phone: Any, base_url: str) -> None:
    # given ACME's link campaign of ¥10 in ¥1 prizes (made over the API), one of which a person claimed
    acme_token = token_of(base_url, "acme")
    now = datetime.now(UTC)
    name = f"ACME 加码 {uuid.uuid4().hex[:4]}"
    body = {
        "channel": "link", "name": name, "starts_at": now.isoformat(), "ends_at": (now + timedelta(days=1)).isoformat(),
        "budget_fen": 1_000, "prizes": [{"kind": "cash", "amount_fen": 100}],
    }  # fmt: skip
    campaign = call(base_url, "POST", "/v1/campaigns", acme_token, body)
    cid = campaign["id"]
    person = f"fan_{uuid.uuid4().hex[:8]}"
    call(base_url, "POST", "/v1/users", body={"username": person, "password": PASSWORD})
    person_token = token_of(base_url, person)
    call(base_url, "POST", f"/v1/campaigns/{cid}/claim", person_token, {"token": campaign["link_token"]})
    before = balance(base_url, acme_token)

    # when ACME opens its campaigns and the figures of this one
    acme = phone("acme")
    acme.goto("/app/x/campaign")
    acme.click(f"[data-figures='{cid}']")
    expect(acme.locator("#dash-budget")).to_have_text(yuan(1_000))
    expect(acme.locator("#dash-remaining")).to_have_text(yuan(900))

    # then an amount that is not one is refused on the page, before the server is asked
    acme.fill("#dash-topup", "5.555")
    acme.click("#dash-topup-btn")
    expect(acme.locator("#dash-topup-error")).to_be_visible()
    assert balance(base_url, acme_token) == before

    # when it adds ¥5.50 to the budget
    acme.fill("#dash-topup", "5.50")
    acme.click("#dash-topup-btn")
    # then the figures show the larger budget, and the money left ACME's wallet
    expect(acme.locator("#dash-budget")).to_have_text(yuan(1_550))
    expect(acme.locator("#dash-remaining")).to_have_text(yuan(1_450))
    assert balance(base_url, acme_token) == before - 550

    # when it taps "End now", is asked, and cancels: nothing happens
    acme.click("#dash-end")
    expect(acme.locator(".confirm-q")).to_contain_text(name)
    acme.click("[data-cancel]")
    expect(acme.locator("#dash-manage")).to_be_visible()
    # when it taps "End now" and confirms
    acme.click("#dash-end")
    acme.click("[data-confirm]")
    # then the campaign is over, the ¥14.50 not paid came back at once, and the controls are gone
    expect(acme.locator("#dash-status")).to_contain_text(f"{yuan(1_450)} returned")
    expect(acme.locator("#dash-returned")).to_have_text(yuan(1_450))
    expect(acme.locator("#dash-manage")).to_have_count(0)
    assert balance(base_url, acme_token) == before - 550 + 1_450
    # and its list says it ended, and a claim now is refused
    acme.goto("/app/x/campaign")
    expect(acme.locator(f"[data-mine='{cid}']")).to_contain_text("ended")
    with pytest.raises(urllib.error.HTTPError) as refused:
        call(base_url, "POST", f"/v1/campaigns/{cid}/claim", person_token, {"token": campaign["link_token"]})
    assert refused.value.code == 422
