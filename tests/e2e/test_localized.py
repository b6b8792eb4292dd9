"""The app speaks its user's language: refusals in Chinese (or English) with amounts in ¥, gone once an action
succeeds; the page's small Chinese text; the favicon."""

from __future__ import annotations

from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

from tests.e2e.server import CHROMIUM_ARGS, PHONE, call, token_of


def in_chinese(page: Any) -> Any:
    """Switch the app to Chinese (the language button), as a user would."""
    if page.evaluate("document.documentElement.lang") != "zh-CN":
        page.click("#lang")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    return page


def friend_id(base_url: str, username: str, friend: str) -> int:
    friends = call(base_url, "GET", "/v1/friends", token_of(base_url, username))["friends"]
    return int(next(f["id"] for f in friends if f["username"] == friend))


def test_a_packet_over_the_limit_is_refused_in_chinese_with_the_limit_in_yuan(phone: Any, base_url: str) -> None:
    # given Carol, in the Chinese app, sending Alice a personal packet
    carol = in_chinese(phone("carol"))
    carol.goto(f"/app/send/friend/{friend_id(base_url, 'carol', 'alice')}")
    # when she puts ¥300 in it
    carol.fill("#amount", "300")
    carol.click("#send-btn")
    # then the refusal is Chinese, in yuan, with no English and no fen
    error = carol.locator("#send-error")
    expect(error).to_have_text("单个红包最多 ¥200.00")
    # and in English it says the same
    carol.click("#lang")
    expect(carol.locator("#send-btn")).not_to_contain_text("塞钱")  # the page is drawn again in English
    carol.fill("#amount", "300")
    carol.click("#send-btn")
    expect(carol.locator("#send-error")).to_have_text("A red packet is at most ¥200.00")


def test_a_refusal_goes_once_the_next_action_succeeds(phone: Any) -> None:
    # given Dave on his wallet, in Chinese, whose top-up of ¥60,000 was refused
    dave = in_chinese(phone("dave"))
    dave.click("[data-tab=wallet]")
    dave.fill("#topup-amount", "60000")
    dave.click("#topup-btn")
    refused = dave.locator("#topup-error")
    expect(refused).to_have_text("单笔充值最多 ¥50,000.00")
    # when he then withdraws ¥0.01, which goes through
    dave.fill("#withdraw-amount", "0.01")
    dave.click("#withdraw-btn")
    # then the old refusal is gone
    expect(refused).to_be_hidden()


def test_a_wrong_phrase_and_a_wrong_password_are_refused_in_chinese(phone: Any, browser: Any, base_url: str) -> None:
    # given Bob in the Chinese app, typing a phrase no packet has
    bob = in_chinese(phone("bob"))
    bob.goto("/app/x/claim-password")
    bob.fill("#phrase", "没有这个口令")
    bob.click("#claim-btn")
    expect(bob.locator("#claim-error")).to_have_text("没有红包使用这个口令")
    # and someone logging in with a wrong password
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=base_url)
    try:
        page = context.new_page()
        page.goto("/app/login")
        page.fill("#username", "alice")
        page.fill("#password", "not-her-password")
        page.locator("#password").press("Enter")
        expect(page.locator("#login-error")).to_have_text("用户名或密码错误")
    finally:
        context.close()


def test_the_favicon_answers_on_every_page(browser: Any, base_url: str) -> None:
    assert CHROMIUM_ARGS  # the same Chromium as the rest
    context = browser.new_context(base_url=base_url)
    try:
        reply = context.request.get("/favicon.ico")
        assert reply.status == 200 and reply.headers["content-type"].startswith("image/")
    finally:
        context.close()


def test_chinese_labels_take_a_full_width_colon_and_a_redeemed_coupon_says_its_number_in_chinese(phone: Any) -> None:
    # given the Chinese app
    page = in_chinese(phone("bob"))
    # then "best luck: Carol" is written as Chinese writes it, and so is a redeemed coupon
    words = page.evaluate("""async () => {
        const i18n = await import("/static/js/i18n.js");
        await import("/static/js/views/x/redeem.js");
        return [i18n.labelled(i18n.t("best_luck"), "Carol"), i18n.t("rd_done", { id: 1 })];
    }""")
    assert words == ["手气最佳：Carol", "券号 1 已核销"]
