"""The Content-Security-Policy (api/security.py) in Chromium: the app and the share landing page break nothing.

Every page records `securitypolicyviolation` events from its first script on; a blocked script, style, image or
fetch shows up there (and as a console error), even where the page would still look right.
"""

from __future__ import annotations

import uuid
from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

from tests.e2e.server import DEMO_PASSWORD, call, token_of

RECORD = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));
"""


def watch(context: Any) -> list[str]:
    """Console errors that name the CSP, from every page of this context (violations are also read per page)."""
    context.add_init_script(RECORD)
    errors: list[str] = []
    context.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    return errors


def violations(page: Any) -> list[str]:
    found: list[str] = page.evaluate("window.__csp || []")
    return found


def test_the_app_s_pages_run_under_the_csp_without_a_violation(browser: Any, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US", base_url=base_url)
    try:
        errors = watch(context)
        page = context.new_page()
        page.goto("/app/login")
        page.click("button[data-username=alice]")
        page.wait_for_selector("#groups")
        for path in ("/app/wallet", "/app/more", "/app/x/shake", "/app/x/campaigns"):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            assert violations(page) == [], path
        assert errors == []
    finally:
        context.close()


def test_the_landing_page_s_inline_script_runs_and_claims_under_the_csp(browser: Any, base_url: str) -> None:
    # given a password packet's share link, with its phrase shown on the page
    alice = token_of(base_url, "alice")
    packet = call(base_url, "POST", "/v1/packets/password", alice, {
        "phrase": f"步步高升{uuid.uuid4().hex[:6]}", "split": "equal", "shares_count": 2, "amount_each_fen": 100,
        "greeting": "CSP",
    })
    link = call(base_url, "POST", f"/v1/packets/{packet['id']}/shares", alice, {"platform": "wechat"})
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    try:
        errors = watch(context)
        page = context.new_page()
        page.goto(link["url"])

        # when a visitor logs in through the page's form (its inline script) and opens the packet
        assert page.evaluate("yuan(123)") == "¥1.23"  # the inline script ran
        if page.locator("input[name=secret]").count():
            page.fill("input[name=secret]", packet.get("phrase", ""))
        page.fill("input[name=username]", "bob")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("#claim button")

        # then the claim went through its fetches, and nothing was blocked
        expect(page.locator("#result")).not_to_be_empty()
        assert page.locator("#result").inner_text() != "登录失败 · login failed"
        assert page.locator("img").evaluate("i => i.complete && i.naturalWidth > 0")  # the password card
        assert violations(page) == []
        assert errors == []
    finally:
        context.close()
