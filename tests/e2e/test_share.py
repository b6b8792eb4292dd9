"""The share sheet in the browser: the sender picks a platform; the link it copies opens that landing page."""

from __future__ import annotations

import re
import uuid
from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

from hongbao.domain.money import format_fen
from tests.e2e.server import call, token_of

WECHAT_LINK = re.compile(r"^https?://[^/]+/s/[A-Za-z0-9_-]{16,32}\?platform=wechat$")


def sender_at_packet(phone: Any, base_url: str, phrase: str, greeting: str) -> tuple[Any, dict[str, Any]]:
    """Alice's new password packet (2 × ¥1.00), and her phone on its page with the clipboard allowed."""
    packet = call(base_url, "POST", "/v1/packets/password", token_of(base_url, "alice"), {
        "phrase": f"{phrase}{uuid.uuid4().hex[:6]}", "split": "equal", "shares_count": 2, "amount_each_fen": 100,
        "greeting": greeting,
    })
    alice = phone("alice")
    alice.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    alice.goto(f"/app/packet/{packet['id']}?view=detail")
    return alice, packet


def test_the_sender_shares_a_password_packet_to_wechat_and_the_copied_link_opens_its_landing_page(
    phone: Any, base_url: str
) -> None:
    # given Alice has sent a password packet and looks at it in the app, with the clipboard allowed
    alice_token = token_of(base_url, "alice")
    alice, packet = sender_at_packet(phone, base_url, "年年有余", "分享快乐")

    # when she opens the share sheet and picks WeChat
    alice.click("#share-btn")
    sheet = alice.locator("#share-sheet")
    expect(sheet).to_be_visible()
    sheet.locator("[data-platform=wechat]").click()

    # then the link it shows carries the platform, the clipboard holds it, and the card can be saved
    field = sheet.locator("#share-url")
    expect(field).to_have_value(WECHAT_LINK)
    url = field.input_value()
    expect(sheet.locator("#share-status")).to_contain_text("WeChat")
    assert alice.evaluate("navigator.clipboard.readText()") == url
    expect(sheet.locator("#share-card-download")).to_have_attribute("download", f"hongbao-{packet['id']}.png")

    # and whoever opens the link lands on the packet's page, which names WeChat
    visitor = alice.context.new_page()
    visitor.goto(url)
    expect(visitor.locator("main")).to_contain_text("shared on WeChat")
    expect(visitor.locator("main")).to_contain_text("分享快乐")
    # its script writes a claimed amount from integer fen exactly as the server does (never fen / 100)
    for fen in (1, 99, 100, 123_456, 100_000_000, 9_007_199_254_540_993, -5):
        assert visitor.evaluate(f"yuan({fen})") == format_fen(fen), fen

    # and the packet's figures count one share and one view on WeChat
    figures = call(base_url, "GET", f"/v1/packets/{packet['id']}/figures", alice_token)
    assert figures["shares"]["by_platform"]["wechat"] == 1
    assert figures["views"]["by_platform"]["wechat"] == 1


def test_a_logged_in_friend_opens_a_shared_link_without_logging_in_and_sees_the_claim_list(
    phone: Any, base_url: str
) -> None:
    # given Alice's password packet shared to QQ, and Bob logged in to the app on his phone
    phrase = f"大吉大利{uuid.uuid4().hex[:6]}"
    alice_token = token_of(base_url, "alice")
    packet = call(base_url, "POST", "/v1/packets/password", alice_token, {
        "phrase": phrase, "split": "equal", "shares_count": 3, "amount_each_fen": 88, "greeting": "落地页",
    })
    link = call(base_url, "POST", f"/v1/packets/{packet['id']}/shares", alice_token, {"platform": "qq"})
    bob = phone("bob")
    # when he opens the link: the page knows him (no username or password to type), and he types the phrase
    bob.goto(link["url"])
    page = bob.locator("main")
    expect(page.locator("#as")).to_contain_text("Bob")
    expect(page.locator("input[name=password]")).to_have_count(0)
    # and the app link reads well on red (gold, not the browser's dark blue) and leads into the app, not hongbao://
    app_link = page.locator("#in-app")
    assert app_link.evaluate("a => getComputedStyle(a).color") == "rgb(246, 199, 94)"
    assert app_link.get_attribute("href").startswith("/app/")
    expect(page.locator("a[href^='hongbao:']")).to_have_count(0)
    # a wrong phrase is refused in both languages, as the app words it
    page.locator("input[name=secret]").fill("不对")
    page.locator("button").click()
    expect(page.locator("#result")).to_contain_text("口令或数字不对")
    page.locator("input[name=secret]").fill(phrase)
    page.locator("button").click()
    # then he gets his share, sees the claim list with his name, and the link now leads to the packet in the app
    expect(page.locator("#result")).to_contain_text("¥0.88")
    expect(page.locator("#claims")).to_contain_text("Bob")
    expect(app_link).to_have_attribute("href", f"/app/packet/{packet['id']}?view=detail")


def test_the_share_sheet_offers_a_message_to_copy_and_the_links_qr_code(phone: Any, base_url: str) -> None:
    alice, _ = sender_at_packet(phone, base_url, "万事如意", "分享文字")
    alice.click("#share-btn")
    sheet = alice.locator("#share-sheet")
    sheet.locator("[data-platform=weibo]").click()
    expect(sheet.locator("#share-url")).to_have_value(re.compile(r"platform=weibo$"))
    sheet.locator("#share-copy-text").click()
    expect(sheet.locator("#share-status")).to_contain_text("Weibo")
    copied = alice.evaluate("navigator.clipboard.readText()")
    assert "分享文字" in copied and copied.endswith(sheet.locator("#share-url").input_value())
    expect(sheet.locator("#share-qr img")).to_be_visible()


def test_a_link_opened_inside_the_app_counts_as_an_app_claim_and_one_from_the_landing_page_as_web(
    phone: Any, base_url: str
) -> None:
    # given Alice's password packet with the phrase in its WeChat link
    alice_token = token_of(base_url, "alice")
    packet = call(base_url, "POST", "/v1/packets/password", alice_token, {
        "phrase": f"如意{uuid.uuid4().hex[:6]}", "split": "equal", "shares_count": 3, "amount_each_fen": 10,
    })
    link = call(base_url, "POST", f"/v1/packets/{packet['id']}/shares", alice_token,
                {"platform": "wechat", "embed_secret": True})
    token = link["url"].split("/s/")[1].split("?")[0]
    # when Carol opens it in the app, and Dave on the landing page
    carol = phone("carol")
    carol.goto(f"/app/x/share?t={token}&platform=wechat")
    carol.click("#claim-btn")
    expect(carol.locator("#my-amount")).to_be_visible()
    dave = phone("dave")
    dave.goto(link["url"])
    dave.locator("main button").click()
    expect(dave.locator("#claims")).to_contain_text("Dave")
    # then the figures count one claim on each channel, both from WeChat
    claims = call(base_url, "GET", f"/v1/packets/{packet['id']}/figures", alice_token)["claims"]
    assert claims["by_channel"] == {"app": 1, "web": 1}
    assert claims["by_platform"]["wechat"] == 2
