"""Friends, groups and figures in the browser: a request accepted on another phone, a group, the fairness chart."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.server import PHONE, call, token_of

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

PASSWORD = "hongbao123"


def register(base_url: str, prefix: str) -> str:
    username = f"{prefix}_{uuid.uuid4().hex[:8]}"
    call(base_url, "POST", "/v1/users", body={"username": username, "password": PASSWORD, "display_name": prefix})
    return username


def log_in(browser: Any, base_url: str, username: str) -> Any:
    context = browser.new_context(viewport=PHONE, locale="en-US", base_url=base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/app/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_selector("#groups")
    return page


def test_friend_request_accepted_on_another_phone_then_a_group_is_made_and_grown(browser: Any, base_url: str) -> None:
    # given two new people, each on their own phone, and a third who is already Mei's friend
    mei, lin, zhao = register(base_url, "mei"), register(base_url, "lin"), register(base_url, "zhao")
    mei_page, lin_page = log_in(browser, base_url, mei), log_in(browser, base_url, lin)
    mei_token, zhao_token = token_of(base_url, mei), token_of(base_url, zhao)
    mei_id = call(base_url, "GET", "/v1/me", mei_token)["id"]
    zhao_id = call(base_url, "GET", "/v1/me", zhao_token)["id"]
    call(base_url, "POST", "/v1/friends/requests", zhao_token, {"user_id": mei_id})
    call(base_url, "POST", f"/v1/friends/requests/{zhao_id}/accept", mei_token)
    try:
        # when Mei asks Lin by username from the friends page
        mei_page.click("[data-tab=more]")
        mei_page.click("[data-feature=friends]")
        mei_page.fill("#friend-username", lin)
        mei_page.click("#friend-request")
        expect(mei_page.locator("#toast")).to_have_text("Friend request sent")

        # then Lin sees the request and accepts it, and each is in the other's friend list
        lin_page.goto("/app/x/friends")
        lin_page.click("#friend-requests button[data-accept]")
        expect(lin_page.locator("#friend-list li[data-friend]")).to_have_count(1)
        expect(lin_page.locator("#friend-requests li[data-request]")).to_have_count(0)
        mei_page.reload()
        expect(mei_page.locator("#friend-list")).to_contain_text("lin")

        # when Mei makes a group with Lin
        mei_page.goto("/app/x/groups")
        mei_page.fill("#group-name", "春节聚会")
        mei_page.check(f"#group-members input[data-member={lin}]")
        mei_page.click("#create-group")

        # then the group lists both, and Lin's home shows it
        group = mei_page.locator("#group-list li[data-group]")
        expect(group).to_have_count(1)
        expect(group).to_contain_text("春节聚会 (2)")
        lin_page.goto("/app")
        expect(lin_page.locator("#groups")).to_contain_text("春节聚会")

        # when Mei adds Zhao, her other friend, to the group
        group.locator("select").select_option(str(zhao_id))
        group.locator("button[data-add]").click()

        # then the group has three members
        expect(group).to_contain_text("春节聚会 (3)")
    finally:
        mei_page.context.close()
        lin_page.context.close()


def test_fairness_chart_draws_one_bar_per_grab_position(browser: Any, base_url: str) -> None:
    # given someone on the fairness page
    page = log_in(browser, base_url, register(base_url, "fair"))
    try:
        page.click("[data-tab=more]")
        page.click("[data-feature=fairness]")

        # when they simulate 7-share packets of ¥10
        page.fill("#fair-total", "10.00")
        page.fill("#fair-shares", "7")
        page.fill("#fair-runs", "500")
        page.click("#fair-run")

        # then both charts are inline SVG with 7 bars, the means with ± whiskers
        expect(page.locator("svg#fair-mean-chart rect.chart-bar")).to_have_count(7)
        expect(page.locator("svg#fair-best-chart rect.chart-bar")).to_have_count(7)
        expect(page.locator("svg#fair-mean-chart line.chart-err")).to_have_count(7)

        # when they ask for more shares than allowed, the refusal is shown inline
        page.fill("#fair-shares", "101")
        page.click("#fair-run")
        expect(page.locator("#fair-error")).to_be_visible()
    finally:
        page.context.close()


def test_yearly_report_shows_what_you_received_and_a_chart_of_each_month(browser: Any, base_url: str) -> None:
    # given Mei received a ¥6.66 packet from her friend Lin
    mei, lin = register(base_url, "mei"), register(base_url, "lin")
    mei_token, lin_token = token_of(base_url, mei), token_of(base_url, lin)
    mei_id, lin_id = (call(base_url, "GET", "/v1/me", tok)["id"] for tok in (mei_token, lin_token))
    call(base_url, "POST", "/v1/friends/requests", lin_token, {"user_id": mei_id})
    call(base_url, "POST", f"/v1/friends/requests/{lin_id}/accept", mei_token)
    call(base_url, "POST", "/v1/wallet/top-ups", lin_token, {"amount_fen": 1000})
    body = {"kind": "personal", "recipient_id": mei_id, "amount_fen": 666}
    packet = call(base_url, "POST", "/v1/packets", lin_token, body)
    call(base_url, "POST", f"/v1/packets/{packet['id']}/open", mei_token)
    page = log_in(browser, base_url, mei)
    try:
        # when she opens her report
        page.click("[data-tab=more]")
        page.click("[data-feature=report]")

        # then it shows the amount, the luckiest packet, and 12 months of sent and received bars
        expect(page.locator("#report-received")).to_have_text("¥6.66")
        expect(page.locator("#report-luckiest")).to_contain_text("¥6.66")
        expect(page.locator("svg#report-chart rect.chart-bar")).to_have_count(24)
    finally:
        page.context.close()


def test_campaign_dashboard_charts_budget_burn_and_claims_by_day_for_its_owner(phone: Any, base_url: str) -> None:
    # given ACME (a verified company) runs a link campaign with ¥8.88 prizes and one person claimed
    acme = token_of(base_url, "acme")
    call(base_url, "POST", "/v1/wallet/top-ups", acme, {"amount_fen": 8880})
    now = datetime.now(UTC)
    campaign = call(base_url, "POST", "/v1/campaigns", acme, {
        "channel": "link", "name": f"新春 {uuid.uuid4().hex[:4]}", "ends_at": (now + timedelta(days=3)).isoformat(),
        "budget_fen": 8880, "prizes": [{"kind": "cash", "amount_fen": 888, "weight": 1}],
    })  # fmt: skip
    claimer = token_of(base_url, register(base_url, "fan"))
    call(base_url, "POST", f"/v1/campaigns/{campaign['id']}/claim", claimer, {"token": campaign["link_token"]})

    # when ACME opens the dashboard and picks the campaign
    page = phone("acme")
    page.click("[data-tab=more]")
    page.click("[data-feature=dashboard]")
    page.click(f"[data-campaign='{campaign['id']}']")

    # then the figures and both charts show the one claim of today
    expect(page.locator("#dash-paid")).to_have_text("¥8.88")
    expect(page.locator("#dash-claimers")).to_have_text("1")
    expect(page.locator("svg#dash-burn-chart rect.chart-bar")).to_have_count(1)
    expect(page.locator("svg#dash-claims-chart rect.chart-bar")).to_have_count(1)
