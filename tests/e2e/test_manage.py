"""The business pages in the browser: an enterprise creates a campaign a follower claims; a merchant adds an offer
and redeems a customer's coupon at the till with the redeem code the customer's page shows; refusals are shown inline.

Each test makes its own accounts (ACME is the demo enterprise; alice only verifies a new account, as an admin).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.e2e.server import PHONE, call, token_of

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips with the reason (fails under CI=true)
    expect = None

PASSWORD = "hongbao123"


def register(base_url: str, prefix: str) -> tuple[str, int]:
    """A new account over the API: (username, id)."""
    username = f"{prefix}_{uuid.uuid4().hex[:8]}"
    user = call(
        base_url, "POST", "/v1/users", body={"username": username, "password": PASSWORD, "display_name": prefix}
    )
    return username, int(user["id"])


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


def test_an_enterprise_creates_a_followers_campaign_on_its_page_and_a_follower_claims_it(
    browser: Any, phone: Any, base_url: str
) -> None:
    # given a new person who follows ACME (the demo's verified enterprise)
    fan, _ = register(base_url, "fan")
    fan_token = token_of(base_url, fan)
    acme_id = call(base_url, "GET", "/v1/users?username=acme", fan_token)["id"]
    call(base_url, "POST", f"/v1/users/{acme_id}/follow", fan_token)
    name = f"ACME 新春 {uuid.uuid4().hex[:4]}"

    # when ACME fills in the new-campaign page: followers only, ¥8.88 prizes, a ¥88.80 budget
    acme = phone("acme")
    acme.click("[data-tab=more]")
    acme.click("[data-feature=new-campaign]")
    acme.fill("#c-name", name)
    acme.fill("#c-cover", "恭喜发财")
    acme.click("label:has(#c-channel-followers)")
    acme.fill("#prizes .prize-amount", "8.88")
    acme.fill("#c-budget", "88.80")
    acme.fill("#c-per-user", "1")
    acme.click("#c-create")

    # then the page shows the campaign's link and a link to its figures
    created = acme.locator("#c-created")
    expect(created).to_contain_text(name)
    campaign_id = created.get_attribute("data-campaign")
    expect(acme.locator("#share-link")).to_have_value(re.compile(rf"/app/x/campaign\?id={campaign_id}$"))
    expect(acme.locator("#c-dashboard")).to_have_attribute("href", f"/app/x/dashboard?id={campaign_id}")

    # when the follower opens the link and claims
    page = log_in(browser, base_url, fan)
    try:
        page.goto(f"/app/x/campaign?id={campaign_id}")
        expect(page.locator("#campaign-name")).to_have_text(name)
        page.click("#campaign-claim")
        # then they win ¥8.88 and the opened envelope offers no second 拆; come back, and the per-person cap
        # refuses a second claim
        expect(page.locator("#campaign-won")).to_contain_text("¥8.88")
        expect(page.locator("#campaign-claim")).to_be_hidden()
        page.reload()
        page.click("#campaign-claim")
        expect(page.locator("#campaign-error")).to_be_visible()
    finally:
        page.context.close()

    # and ACME's figures show the one claim
    acme.click("#c-dashboard")
    expect(acme.locator("#dash-paid")).to_have_text("¥8.88")
    expect(acme.locator("#dash-claimers")).to_have_text("1")


def test_the_new_campaign_page_checks_amounts_and_shows_the_refusal_of_an_unverified_account(
    browser: Any, base_url: str
) -> None:
    # given a person who is not a verified enterprise, on the new-campaign page
    someone, _ = register(base_url, "someone")
    page = log_in(browser, base_url, someone)
    try:
        page.goto("/app/x/new-campaign")
        expect(page.locator("#not-verified-note")).to_be_visible()
        page.fill("#c-name", "Not a company")

        # when the prize amount has fractions of a fen: the page says so, before asking the server
        page.fill("#prizes .prize-amount", "8.888")
        page.fill("#c-budget", "100")
        page.click("#c-create")
        expect(page.locator("#c-error")).to_contain_text("at most two decimals")

        # when the amounts are right: the server's 403 is shown inline, in words
        page.fill("#prizes .prize-amount", "8.88")
        page.click("#c-create")
        expect(page.locator("#c-error")).to_contain_text("Only verified enterprise accounts")
        expect(page.locator("#c-error")).to_have_attribute("data-code", "not_verified")
        expect(page.locator("#c-created")).to_have_count(0)
    finally:
        page.context.close()


def test_a_merchant_adds_an_offer_gives_it_as_a_prize_and_redeems_the_customers_coupon_once(
    browser: Any, base_url: str
) -> None:
    # given a new shopkeeper whom the admin (alice) verified as an enterprise, and a customer
    shop, shop_id = register(base_url, "shop")
    call(base_url, "POST", f"/v1/admin/users/{shop_id}/verify", token_of(base_url, "alice"), {"as": "enterprise"})
    customer, _ = register(base_url, "customer")
    shop_page = log_in(browser, base_url, shop)
    customer_page = log_in(browser, base_url, customer)
    try:
        # when the shopkeeper registers a merchant by hand and adds a ¥20 offer of 5
        shop_page.click("[data-tab=more]")
        shop_page.click("[data-feature=merchant]")
        expect(shop_page.locator("#offer-form")).to_be_hidden()
        shop_page.fill("#m-name", "全聚德 Quanjude")
        shop_page.fill("#m-lat", "39.9087")
        shop_page.fill("#m-lng", "116.3975")
        shop_page.click("#m-register")
        expect(shop_page.locator("[data-merchant]")).to_contain_text("全聚德 Quanjude")
        shop_page.fill("#o-title", "烤鸭 ¥20 off")
        shop_page.fill("#o-face", "20")
        shop_page.fill("#o-stock", "5")
        shop_page.click("#o-add")
        offer = shop_page.locator("[data-offer]")
        expect(offer).to_contain_text("烤鸭 ¥20 off")
        expect(offer).to_contain_text("issued 0/5")

        # and makes it the prize of a link campaign on the new-campaign page (no cash: no budget)
        shop_page.goto("/app/x/new-campaign")
        shop_page.fill("#c-name", "烤鸭节")
        shop_page.select_option("#prizes .prize-kind", "coupon")
        expect(shop_page.locator("#prizes .prize-offer")).to_contain_text("烤鸭 ¥20 off")
        shop_page.click("#c-create")
        link = shop_page.locator("#share-link")
        expect(link).to_have_value(re.compile(r"/app/x/campaign\?id=\d+&token=[\w-]+$"))
        path = re.sub(r"^https?://[^/]+", "", link.input_value())

        # when the customer follows the link, claims, and opens their coupons
        customer_page.goto(path)
        customer_page.click("#campaign-claim")
        expect(customer_page.locator("#campaign-won")).to_be_visible()
        customer_page.goto("/app/x/coupons")
        number = customer_page.locator("#coupons .coupon-id")
        expect(number).to_have_count(1)
        coupon_id = number.inner_text()
        assert coupon_id.isdigit()
        # with its redeem code beside the number, grouped in fours, and spelled out for a screen reader
        shown = customer_page.locator(f"#coupons [data-redeem-code='{coupon_id}']")
        expect(shown).to_have_text(re.compile(r"^\d{4} \d{4}$"))
        code = shown.inner_text()
        expect(shown).to_have_attribute("aria-label", "Redeem code: " + " ".join(code.replace(" ", "")))

        # then the shopkeeper types the number alone: the page asks for the code, and a made-up one is refused
        shop_page.goto("/app/x/merchant")
        shop_page.click("#m-redeem")
        shop_page.fill("#rd-number", f"No. {coupon_id}")
        shop_page.click("#rd-btn")
        expect(shop_page.locator("#rd-error")).to_contain_text("8 digits")
        expect(shop_page.locator("#rd-code")).to_have_attribute("aria-invalid", "true")
        wrong = f"{(int(code.replace(' ', '')) + 1) % 10**8:08d}"
        shop_page.fill("#rd-code", wrong)
        shop_page.click("#rd-btn")
        expect(shop_page.locator("#rd-error")).to_have_attribute("data-code", "wrong_code")
        expect(shop_page.locator("#rd-error")).to_contain_text("Wrong redeem code")
        expect(shop_page.locator("#rd-done")).to_have_count(0)

        # and with the code the customer's coupons page shows (typed as read out, with a dash) it is redeemed
        shop_page.fill("#rd-code", code.replace(" ", "-"))
        shop_page.click("#rd-btn")
        expect(shop_page.locator("#rd-done")).to_contain_text(coupon_id)
        expect(shop_page.locator("#rd-error")).to_be_hidden()

        # and a second time is refused inline
        shop_page.fill("#rd-number", coupon_id)
        shop_page.fill("#rd-code", code)
        shop_page.click("#rd-btn")
        expect(shop_page.locator("#rd-error")).to_have_attribute("data-code", "coupon_redeemed")
        expect(shop_page.locator("#rd-error")).to_contain_text("already redeemed")
        expect(shop_page.locator("#rd-done")).to_have_count(0)

        # and the offer's counts and the customer's coupon both show it used
        shop_page.goto("/app/x/merchant")
        expect(shop_page.locator("[data-offer]")).to_contain_text("issued 1/5 · redeemed 1")
        customer_page.reload()
        expect(customer_page.locator(f"[data-coupon='{coupon_id}']")).to_contain_text("used")
    finally:
        shop_page.context.close()
        customer_page.context.close()


def test_the_till_page_says_so_when_too_many_wrong_codes_were_typed(browser: Any, base_url: str) -> None:
    # given a cashier who has typed ten made-up redeem codes (each refused before any coupon is read)
    cashier, _ = register(base_url, "cashier")
    page = log_in(browser, base_url, cashier)
    error = page.locator("#rd-error")
    try:
        page.goto("/app/x/redeem")
        page.fill("#rd-number", "1")
        for guess in range(10):
            page.fill("#rd-code", f"{guess:08d}")
            page.click("#rd-btn")  # hides the last refusal at once
            expect(error).to_be_visible()
            expect(error).to_have_attribute("data-code", "wrong_code")
        # when the eleventh is typed
        page.fill("#rd-code", "1234 5678")
        page.click("#rd-btn")
        # then the page says so inline, in the reader's language, and nothing was redeemed
        expect(error).to_have_attribute("data-code", "too_many_attempts")
        expect(error).to_contain_text("Too many wrong codes")
        expect(page.locator("#rd-done")).to_have_count(0)
    finally:
        page.context.close()


def test_an_enterprise_schedules_a_shake_event_funds_a_pool_on_the_pages_and_a_shake_wins_from_it(
    phone: Any, base_url: str
) -> None:
    # given ACME on the new-event page, whose first round starts now and lasts an hour
    name = f"春晚 {uuid.uuid4().hex[:4]}"
    acme = phone("acme")
    acme.click("[data-tab=more]")
    acme.click("[data-feature=new-event]")
    expect(acme.locator("#rounds .round-start")).to_have_count(1)

    # when it names the event, makes every shake win, and creates it
    acme.fill("#e-name", name)
    acme.fill("#e-win", "1000")
    acme.click("#e-create")
    expect(acme.locator("#e-created")).to_contain_text(name)
    event_id = acme.locator("#e-created").get_attribute("data-event")
    expect(acme.locator("#e-open")).to_have_attribute("href", f"/app/x/shake?event={event_id}")

    # and funds a pool of ¥0.66 prizes through the link to the pool page
    acme.click("#e-add-pool")
    expect(acme.locator("#p-event")).to_contain_text(name)
    acme.fill("#p-name", "ACME 爱克米")
    acme.fill("#prizes .prize-amount", "0.66")
    acme.fill("#p-budget", "6.60")
    acme.click("#p-create")
    expect(acme.locator("#p-created")).to_contain_text("¥6.60")

    # then a shake on the event's page wins from that pool
    acme.click("#p-open")
    acme.click("#shake-btn")
    expect(acme.locator("#shake-won")).to_contain_text("¥0.66")
